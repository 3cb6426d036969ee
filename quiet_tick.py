"""The quiet tick: when nothing is due and no mail came in, say so in a few milliseconds.

Cron starts `unmentoring tick` every few minutes, and most runs find nothing to do. The last
full run wrote until when nothing could fall due (models/quiet.py, rounds/next_due.py); any
write since has cleared that. So a run may stop early when, read with the standard library
and the database driver alone:

- the database's schema is the code's, and the quiet row holds a time still to come, written
  under these same settings (the settings file, the UNMENTORING_* variables, the schema);
- no email waits in the outbox; and
- the inbox is empty.

Any doubt (an error, OAuth2 sign-in, a folder name that needs encoding) means a full run,
which then reports whatever is wrong in its own words. Nothing is written here.
"""
from __future__ import annotations

import hashlib
import os
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from clock import ENV_CLOCK
from config import ENV_PREFIX, ImapSettings, Settings
from database_url import libpq_url, sqlite_file
from schema_head import head_revision

IMAP_SECONDS = 20
HERE = Path(__file__).resolve().parent
SCHEDULING_CODE = ("rounds/next_due.py", "rounds/lifecycle.py", "rounds/schedule.py", "rounds/closed_days.py",
                   "config.py", "quiet_tick.py")
"""The code that decides when a step falls due: once it is upgraded, the next run is a full one."""
PENDING = "SELECT 1 FROM outbox WHERE status IN ('queued', 'sending') AND next_try_at <= '{}' LIMIT 1"
STAMP = "%Y-%m-%d %H:%M:%S.%f"
"""How SQLAlchemy stores a UTC datetime in SQLite, so that text compares as time does; PostgreSQL reads
the same text as a timestamp. It is written from our own clock, never from outside input."""


def settings_key(settings: Settings, env: dict[str, str] | None = None) -> str:
    """What the settings, the schema and the scheduling code were when the quiet time was worked out:
    if any changes, it is stale."""
    env = dict(os.environ) if env is None else env
    digest = hashlib.sha256()
    source = settings.source
    digest.update(source.read_bytes() if source is not None and source.is_file() else b"")
    for name in sorted(n for n in env if n.startswith(ENV_PREFIX) and n != ENV_CLOCK):
        digest.update(f"\0{name}={env[name]}".encode("utf-8", "surrogateescape"))
    digest.update(f"\0{head_revision()}".encode())
    for module in SCHEDULING_CODE:
        digest.update(f"\0{(HERE / module).stat().st_mtime_ns}".encode())
    return digest.hexdigest()


def nothing_to_do(settings: Settings, now: datetime) -> bool:
    """Whether a full tick now would find nothing to do (see the module's docstring); False when unsure."""
    if settings.imap.auth != "password":
        return False
    try:
        return _database_quiet(settings, now) and _inbox_empty(settings.imap)
    except Exception:  # noqa: BLE001 - any doubt: the full tick runs and says what is wrong
        return False


def _database_quiet(settings: Settings, now: datetime) -> bool:
    url = settings.database_url
    path = sqlite_file(url)
    with closing(_connect_sqlite(path) if path is not None else _connect_postgres(url)) as conn:
        if [row[0] for row in conn.execute("SELECT version_num FROM alembic_version").fetchall()] != [head_revision()]:
            return False
        row = conn.execute("SELECT until_at, checked_at, settings_key FROM quiet WHERE id = 1").fetchone()
        if row is None or None in row:
            return False
        until_at, checked_at, key = int(row[0]), int(row[1]), row[2]
        if not checked_at <= now.timestamp() < until_at or key != settings_key(settings):
            return False
        stamp = now.astimezone(timezone.utc).strftime(STAMP)
        return conn.execute(PENDING.format(stamp)).fetchone() is None


def _connect_sqlite(path: Path) -> Any:
    import sqlite3

    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True, timeout=5)


def _connect_postgres(url: str) -> Any:
    """libpq directly when it loads (a few ms), else psycopg (150-200 ms to import): see libpq_read.py."""
    from libpq_read import Connection, LibpqError

    address = libpq_url(url) or ""
    try:
        return Connection(address)
    except LibpqError:
        import psycopg

        return psycopg.connect(address, connect_timeout=10, autocommit=True)


def _inbox_empty(imap: ImapSettings) -> bool:
    import imaplib
    import ssl

    folder = _quoted(imap.inbox)
    if folder is None:
        return False
    context = ssl.create_default_context() if imap.tls != "none" else None
    if imap.tls == "implicit":
        client: imaplib.IMAP4 = imaplib.IMAP4_SSL(imap.host, imap.port, ssl_context=context, timeout=IMAP_SECONDS)
    else:
        client = imaplib.IMAP4(imap.host, imap.port, timeout=IMAP_SECONDS)
        if imap.tls == "starttls":
            client.starttls(context)
    try:
        client.login(imap.user, imap.password)
        status, data = client.select(folder, readonly=True)
        return status == "OK" and data[0] is not None and int(data[0]) == 0
    finally:
        try:
            client.logout()
        except (OSError, imaplib.IMAP4.error):
            pass


def _quoted(folder: str) -> str | None:
    """The folder as an IMAP quoted string; None for a name that needs IMAP's UTF-7 (IMAPClient does that)."""
    if not folder.isascii() or not folder.isprintable():
        return None
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'
