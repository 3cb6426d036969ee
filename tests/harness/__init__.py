"""Real servers on loopback for tests, demos and benches.

`dovecot.Dovecot` (IMAP), `postgres.Postgres` (the newest PostgreSQL installed) and
`smtpsink.SmtpSink` (aiosmtpd) each start with `.start()` or `with`, and stop
with `.stop()`. `fixtures` wraps them for pytest. This module holds what they
share: picking a free port, making a work dir, dropping root for servers
that refuse to run as root, and tying a server's life to the test run's.
"""

from __future__ import annotations

import ctypes
import os
import pwd
import shutil
import socket
import tempfile
from typing import Any, Callable

PR_SET_PDEATHSIG = 1


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on `host` that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def is_root() -> bool:
    return os.geteuid() == 0


def make_workdir(prefix: str, owner: str | None = None) -> str:
    """A fresh short-path temp dir (unix sockets allow ~108 chars), owned by
    `owner` when running as root."""
    path = tempfile.mkdtemp(prefix=prefix)
    if owner is not None and is_root():
        entry = pwd.getpwnam(owner)
        os.chown(path, entry.pw_uid, entry.pw_gid)
    return path


def run_as(user: str) -> dict[str, Any]:
    """`subprocess.Popen` keyword arguments that run the child as `user`
    (with its primary group only) when we are root, and as ourselves otherwise."""
    if not is_root():
        return {}
    entry = pwd.getpwnam(user)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def dies_with_parent(signal_number: int) -> Callable[[], None] | None:
    """A `preexec_fn` asking Linux to send the child `signal_number` when the process that started it
    ends, however it ends (a time limit's SIGTERM, SIGKILL, a crash): a server started in its own
    session, for a clean shutdown, would otherwise outlive an interrupted test run. `Popen` runs it
    after dropping root, which matters: a change of user clears the request. None where there is no prctl."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, int(signal_number), 0, 0, 0)
        if os.getppid() != parent:   # the parent ended before the request was in place
            os.kill(os.getpid(), signal_number)
    return preexec


def server_env() -> dict[str, str]:
    """The environment for a server we test against: ours without a shifted clock (libfaketime,
    which `make test-future` puts on our code), since the real servers keep real time."""
    return {k: v for k, v in os.environ.items() if k != "LD_PRELOAD" and not k.startswith("FAKETIME")}


def remove_tree(path: str | None) -> None:
    if path:
        shutil.rmtree(path, ignore_errors=True)
