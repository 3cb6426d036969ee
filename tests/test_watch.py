"""`poll --watch`: mail is handled within seconds of arriving, without waiting for cron."""
from __future__ import annotations

import signal
import subprocess
import sys
import time

from inbound.watch import watch
from tests.app import Service
from tests.harness.dovecot import Dovecot
from tests.mail import incoming


def test_watch_answers_a_join_within_seconds(service: Service) -> None:
    watcher = subprocess.Popen([sys.executable, "-m", "cli", "--config", str(service.path), "poll", "--watch",
                                "--idle-seconds", "30"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(1.5)
        assert service.smtp.messages == []
        started = time.monotonic()
        service.imap.deliver(incoming("ann@a.org", "JOIN"))
        confirmation = service.smtp.wait_for(1, timeout=15)[0]
        assert time.monotonic() - started < 10, "IDLE woke the watcher; it did not wait for the 30 s timeout"
        assert confirmation.rcpt_tos == ["ann@a.org"]
    finally:
        watcher.send_signal(signal.SIGINT)
        output, _ = watcher.communicate(timeout=15)
    assert "stopped" in output and "1 seen, 1 handled" in output


def test_poll_without_watch_runs_once(service: Service) -> None:
    service.imap.deliver(incoming("bob@b.org", "JOIN"))
    started = time.monotonic()
    result = service.cli("poll", "--idle-seconds", "60")
    assert result.exit_code == 0 and "1 seen, 1 handled" in result.output
    assert time.monotonic() - started < 10


def test_the_watcher_waits_on_one_connection(service: Service, imap_server: Dovecot) -> None:
    """Three ticks with two waits between them: one login for each tick, and one for both waits
    (and one for the test's own delivery). Dovecot writes its log a moment after each login."""
    def logins() -> int:
        with open(imap_server.log_path) as log:
            return sum(1 for line in log if f"Login: user=<{service.imap.user}>" in line)

    before = logins()
    service.imap.deliver(incoming("ann@a.org", "JOIN"))
    watch(service.engine, service.settings, idle_seconds=1, report=lambda _: None, rounds=3)
    time.sleep(0.5)
    assert logins() - before == 1 + 3 + 1
    assert [m.rcpt_tos for m in service.smtp.messages] == [["ann@a.org"]]
