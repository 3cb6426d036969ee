"""Our code never asks a database for the time: every time is our own clock's, passed in.

`make test-future` relies on it: it reruns the tests with our clock five years ahead on SQLite
only, because the PostgreSQL server keeps real time and, asked for none, would see the same
dates as SQLite does. A server-side clock (now(), CURRENT_TIMESTAMP, a server default) would
make a PostgreSQL-only date bug possible that neither run can catch."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CODE = ["inbound", "mailer", "models", "rounds", "meetings", "matching", "migrations", "trials", "report"]
SERVER_CLOCK = re.compile(r"(\bfunc\.(now|current_timestamp|current_date|localtimestamp|clock_timestamp)\b|"
                          r"CURRENT_(TIMESTAMP|DATE|TIME)\b|\bnow\(\)\s*['\"]|['\"][^'\"]*\bnow\(\)|"
                          r"\b(julianday|strftime|datetime|date)\(\s*['\"]now['\"])", re.IGNORECASE)


def our_sources() -> list[Path]:
    files = [path for folder in CODE if (ROOT / folder).is_dir() for path in (ROOT / folder).rglob("*.py")]
    return files + sorted(ROOT.glob("*.py"))


def test_no_code_of_ours_reads_the_database_servers_clock() -> None:
    sources = our_sources()
    assert len(sources) > 50, "the scan found our code"
    found = [f"{path.relative_to(ROOT)}:{n}: {line.strip()}" for path in sources
             for n, line in enumerate(path.read_text().splitlines(), 1) if SERVER_CLOCK.search(line)]
    assert found == []


def test_the_scan_sees_a_server_clock_where_there_is_one() -> None:
    for line in ['select(func.now())', 'server_default=sa.text("CURRENT_TIMESTAMP")',
                 "text(\"WHERE created_at > now() - interval '1 hour'\")", "SELECT datetime('now')"]:
        assert SERVER_CLOCK.search(line), line
    for line in ["now = clock.now()", "app.now()", "def now() -> datetime:", "created_at=now"]:
        assert not SERVER_CLOCK.search(line), line
