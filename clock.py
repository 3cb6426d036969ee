"""The service's clock: the system's, or one started at a given instant (UNMENTORING_CLOCK).

Every part of the service takes "now" as an argument; this module is the one place that
decides where the CLI's "now" comes from. Tests, the demo and a dry run set
``UNMENTORING_CLOCK`` to an ISO 8601 instant (``2026-11-20T09:00:00Z``): the clock starts
there and runs at the real rate, so backoffs and leases still pass, while nothing depends
on the date the command happens to run.
"""
from __future__ import annotations

import os
import time
from datetime import datetime, timedelta, timezone
from typing import Callable, Mapping

ENV_CLOCK = "UNMENTORING_CLOCK"

Clock = Callable[[], datetime]


class ClockError(ValueError):
    pass


def system() -> datetime:
    return datetime.now(timezone.utc)


def parse_instant(text: str) -> datetime:
    """An aware UTC instant from ISO 8601; a time with no zone is taken as UTC."""
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ClockError(f"{ENV_CLOCK}={text!r} is not a date and time: write it like 2026-11-20T09:00:00Z") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc)


def started_at(start: datetime) -> Clock:
    """A clock that reads `start` now and then runs forward at the real rate."""
    origin = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - origin)


def from_env(env: Mapping[str, str] | None = None) -> Clock:
    """The system clock, unless UNMENTORING_CLOCK names the instant to start from."""
    text = (os.environ if env is None else env).get(ENV_CLOCK, "").strip()
    return started_at(parse_instant(text)) if text else system
