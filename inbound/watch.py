"""`unmentoring poll --watch`: stay connected and handle mail within seconds of it arriving (IMAP IDLE).

Each wake-up runs a full tick (poll, round steps, send) under the usual run lock,
so a watcher and cron can run side by side without doing anything twice. The
waiting is done on one connection kept open between ticks (opened again only
after it fails); each tick reads the inbox on a connection of its own.
"""
from __future__ import annotations

import logging
import signal
from datetime import datetime
from types import FrameType
from typing import Callable

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError
from sqlalchemy import Engine

from config import Settings
from inbound.poller import connect
from mailer.oauth import TokenError, with_access_tokens
from models import utcnow
from runlock import Busy
from tick import TickReport, tick

log = logging.getLogger(__name__)


class Waiter:
    """IMAP IDLE on the inbox, on a connection that stays open from one wait to the next."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.client: IMAPClient | None = None

    def wait(self, seconds: int) -> bool:
        """Block until the inbox reports new mail (True) or `seconds` pass (False)."""
        try:
            client = self._connected()
            if client.search(["ALL"]):
                return True
            client.idle()
            responses = client.idle_check(timeout=seconds)
            client.idle_done()
        except BaseException:
            self.close()
            raise
        return any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses)

    def _connected(self) -> IMAPClient:
        """The open connection, its view of the inbox brought up to date (NOOP brings the removals
        the last tick made); or a new one."""
        if self.client is not None:
            self.client.noop()
            return self.client
        self.client = connect(with_access_tokens(self.settings).imap)
        self.client.select_folder(self.settings.imap.inbox, readonly=True)
        return self.client

    def close(self) -> None:
        client, self.client = self.client, None
        if client is None:
            return
        try:
            client.logout()
        except (IMAPClientError, OSError):
            client.shutdown()


class Stopper:
    """SIGINT/SIGTERM stop the watcher between ticks, never in the middle of one."""

    def __init__(self) -> None:
        self.busy = False
        self.requested = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.requested = True
        if not self.busy:
            raise KeyboardInterrupt

    def install(self) -> None:
        signal.signal(signal.SIGINT, self)
        signal.signal(signal.SIGTERM, self)


def watch(engine: Engine, settings: Settings, idle_seconds: int, report: Callable[[TickReport], None],
          rounds: int | None = None, now: Callable[[], datetime] = utcnow) -> None:
    """Tick, then wait for mail (or `idle_seconds`), forever or for `rounds` ticks.
    Raises KeyboardInterrupt when asked to stop."""
    stopper = Stopper()
    if rounds is None:
        stopper.install()
    waiter = Waiter(settings)
    try:
        _loop(lambda: tick(engine, settings, now=now), idle_seconds, report, rounds, stopper, waiter)
    finally:
        waiter.close()


def _loop(run: Callable[[], TickReport], idle_seconds: int, report: Callable[[TickReport], None],
          rounds: int | None, stopper: Stopper, waiter: Waiter) -> None:
    done = 0
    while True:
        stopper.busy = True
        try:
            report(run())
        except Busy as exc:
            log.info("%s; waiting", exc)
        stopper.busy = False
        done += 1
        if stopper.requested:
            raise KeyboardInterrupt
        if rounds is not None and done >= rounds:
            return
        try:
            waiter.wait(idle_seconds)
        except (IMAPClientError, OSError, TokenError) as exc:
            log.warning("IMAP wait failed (%s); trying again after the next tick", exc)
