"""Poll the IMAP inbox: fetch without marking read, apply each message in its own transaction,
then file it (processed or quarantine). The only module that speaks IMAP.

Each message is applied in its own nested transaction (a SAVEPOINT), so a message that
fails is rolled back alone and quarantined (if even that fails, it is left in the inbox and
reported: one email never stops the run); a batch of them is committed together, then
moved. Order matters for crash safety: commit first, move second. A run killed before the
commit leaves the whole batch unapplied in the inbox; one killed between commit and move
leaves applied messages there, which the next run recognises by Message-ID and only files.
One commit per batch rather than per message is what makes the poller fast: a durable
commit costs more than applying a typical reply (docs/benchmarks.md).
"""
from __future__ import annotations

import logging
import socket
import ssl
from email import message_from_bytes
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Callable, Iterator

from imapclient import IMAPClient, SEEN
from imapclient.exceptions import IMAPClientError
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from config import ImapSettings, Settings
from models import Disposition, FolderState, InboundMessage, utcnow

if TYPE_CHECKING:  # the handlers and the parser: loaded once there is mail (issue 15)
    from inbound.apply import Result, Where
    from inbound.parse import Parsed

log = logging.getLogger(__name__)


@dataclass
class PollReport:
    seen: int = 0
    processed: int = 0
    quarantined: int = 0
    duplicates: int = 0
    unfetched: int = 0
    left: list[str] = field(default_factory=list)  # "uid N: why", for each message left in the inbox
    actions: dict[str, int] = field(default_factory=dict)

    def add(self, result: Result) -> None:
        self.seen += 1
        if result.left:
            return
        if result.duplicate:
            self.duplicates += 1
        elif result.disposition == Disposition.QUARANTINED:
            self.quarantined += 1
        else:
            self.processed += 1
            self.actions[result.action] = self.actions.get(result.action, 0) + 1


def connect(imap: ImapSettings) -> IMAPClient:
    context = ssl.create_default_context() if imap.tls != "none" else None
    client = IMAPClient(imap.host, imap.port, ssl=imap.tls == "implicit", ssl_context=context, timeout=60)
    if imap.tls == "starttls":
        client.starttls(context)
    client.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if imap.auth == "oauth2":
        client.oauth2_login(imap.user, imap.password)
    else:
        client.login(imap.user, imap.password)
    return client


def folder_path(client: IMAPClient, configured: str) -> str:
    """Our folder names use "/"; servers differ in their hierarchy delimiter (LIST "" "" tells it)."""
    listing = client.list_folders("", "")
    delimiter = listing[0][1] if listing and listing[0][1] else b"/"
    return configured.replace("/", delimiter.decode() if isinstance(delimiter, bytes) else delimiter)


def ensure_folder(client: IMAPClient, name: str) -> None:
    if not client.folder_exists(name):
        client.create_folder(name)


def poll(
    Session_: sessionmaker[Session],
    settings: Settings,
    now: Callable[[], datetime] = utcnow,
    connector: Callable[[ImapSettings], IMAPClient] = connect,
) -> PollReport:
    imap = settings.imap
    client = connector(imap)
    report = PollReport()
    try:
        targets = {d: folder_path(client, f) for d, f in
                   ((Disposition.PROCESSED, imap.processed), (Disposition.QUARANTINED, imap.quarantine))}
        for folder in targets.values():
            ensure_folder(client, folder)
        uidvalidity = int(client.select_folder(imap.inbox)[b"UIDVALIDITY"])
        for uids in _batches(sorted(client.search(["ALL"])), imap.batch_size):
            from inbound import apply, lookups

            fetched = _fetch(client, uids, imap.max_message_bytes, report)
            mails = {item.uid: _read(item) for item in fetched}
            with _one_commit(Session_) as each:
                lookups.load(each.session, [mail for mail in mails.values() if mail is not None], now())
                results = [(item.uid, _apply(each, settings, item, mails[item.uid],
                                             apply.Where(imap.inbox, uidvalidity, item.uid), now())) for item in fetched]
                _remember(each, imap.inbox, uidvalidity, max(uids))
            _file(client, _moves(results, report), targets)
    finally:
        _logout(client)
    return report


class Savepoints:
    """The batch's one session, handing out a savepoint at a time: each message is applied in its own
    and rolled back alone if it fails. What one message loaded is forgotten before the next, which
    sees only what the database holds (as a session of its own would, at a fraction of the cost)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    @contextmanager
    def begin(self) -> Iterator[Session]:
        try:
            with self.session.begin_nested():
                yield self.session
        except Exception:
            from inbound import lookups

            lookups.forget(self.session)  # what the batch looked up may have changed in the rolled-back part
            raise
        finally:
            self.session.expunge_all()


@contextmanager
def _one_commit(Session_: sessionmaker[Session]) -> Iterator[Savepoints]:
    """Savepoints inside one connection's transaction, committed when the block ends (rolled back,
    all of it, if the block raises). On PostgreSQL the connection holds a message's writes and
    savepoint commands back to share one round trip (models/held.py)."""
    from models.held import hold_back

    engine: Engine = Session_.kw["bind"]
    with engine.connect() as connection, connection.begin():
        hold_back(connection)
        with Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False) as session:
            yield Savepoints(session)
            session.commit()


def _batches(uids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(uids), size):
        yield uids[start:start + size]


@dataclass(frozen=True)
class Fetched:
    """One message of a batch: its bytes, or for one over the size limit only its header."""
    uid: int
    size: int
    raw: bytes
    oversized: bool


def _fetch(client: IMAPClient, batch: list[int], limit: int, report: PollReport) -> list[Fetched]:
    """All IMAP reading for a batch, before its transaction opens: on SQLite that transaction holds
    the write lock, and the organiser's commands should not wait for a download.

    A message the server lists but does not return (deleted meanwhile by another client, or a
    server fault) stays in the inbox for the next run, counted in `unfetched` and logged.
    """
    sizes = {uid: int(data.get(b"RFC822.SIZE", 0)) for uid, data in client.fetch(batch, ["RFC822.SIZE"]).items()}
    small = [uid for uid in batch if uid in sizes and sizes[uid] <= limit]
    large = [uid for uid in batch if uid in sizes and sizes[uid] > limit]
    bodies = client.fetch(small, ["BODY.PEEK[]"]) if small else {}
    heads = client.fetch(large, ["BODY.PEEK[HEADER]"]) if large else {}
    fetched = []
    for uid in small + large:
        raw = bodies.get(uid, {}).get(b"BODY[]") or heads.get(uid, {}).get(b"BODY[HEADER]")
        if raw:
            fetched.append(Fetched(uid, sizes[uid], raw, oversized=uid in heads))
        else:
            report.unfetched += 1
            log.warning("uid %s: listed by the server but not returned; left in the inbox for the next run", uid)
    return sorted(fetched, key=lambda item: item.uid)


def _read(item: Fetched) -> Parsed | None:
    """The message parsed, before its batch's transaction opens (None: `_apply` meets the problem again)."""
    from inbound.parse import parse
    if item.oversized:
        return None
    try:
        return parse(item.raw)
    except Exception:
        return None


def _apply(savepoints: Savepoints, settings: Settings, item: Fetched, mail: Parsed | None, where: Where,
           now: datetime) -> Result:
    """Act on one message; one that cannot be acted on is set aside (quarantined, or at worst left)."""
    if item.oversized:
        return _set_aside(savepoints, item.raw, where, now,
                          f"too large: {item.size} bytes (limit {settings.imap.max_message_bytes})")
    try:
        return _apply_one(savepoints, settings, item.raw, mail, where, now)
    except Exception as error:
        log.error("uid %s: handling failed: %r", where.uid, error)
        return _set_aside(savepoints, item.raw, where, now, "handling failed, a fault in unmentoring (please report "
                          f"it, and retry once upgraded): {type(error).__name__}: {error}")


def _moves(results: list[tuple[int, Result]], report: PollReport) -> dict[str, list[int]]:
    """Where each committed message goes; counted and logged only now, once it is committed."""
    moves: dict[str, list[int]] = {Disposition.PROCESSED: [], Disposition.QUARANTINED: []}
    for uid, result in results:
        report.add(result)
        log.info("uid %s: %s %s %s", uid, result.disposition, result.action, result.reason)
        if result.left:
            report.left.append(f"uid {uid}: {result.reason}")
        else:
            moves[result.disposition].append(uid)
    return moves


def _apply_one(savepoints: Savepoints, settings: Settings, raw: bytes, mail: Parsed | None, where: Where,
               now: datetime) -> Result:
    """Apply in one (nested) transaction, rolled back alone if it raises.

    An IntegrityError usually means a concurrent run recorded the same message
    first: trying once more then finds it and reports a duplicate.
    """
    try:
        return _transaction(savepoints, settings, raw, mail, where, now)
    except IntegrityError:
        return _transaction(savepoints, settings, raw, mail, where, now)


def _set_aside(savepoints: Savepoints, raw: bytes, where: Where, now: datetime, reason: str) -> Result:
    """Quarantine with the reason, and the sender and subject the organiser knows it by; if the database
    refuses that, with nothing read from the email; if it refuses even that, leave it in the inbox, reported,
    for the next run. Whatever this one message holds, the rest of the run goes on."""
    from inbound.apply import Result, quarantine
    attempts: list[Callable[[Session], Result]] = [
        lambda session: quarantine(session, raw, where, now, reason, key=_key(raw)),
        lambda session: quarantine(session, raw, where, now, "could not be recorded in full (a fault in "
                                   "unmentoring, please report it): open it in the quarantine folder", minimal=True),
    ]
    for attempt in attempts:
        try:
            with savepoints.begin() as session:
                return attempt(session)
        except Exception as exc:
            log.error("uid %s: could not be quarantined: %r", where.uid, exc)
            error = exc
    return Result("", "left", f"not even quarantine could record it ({type(error).__name__}); "
                  "left in the inbox for the next run", left=True)


def _key(raw: bytes) -> str:
    """The message's dedupe key (its Message-ID when it has one), so a failed message is recorded
    like every other and a redelivered copy of it is recognised; "" (a hash of the bytes) if unparseable."""
    from inbound.parse import dedupe_key
    try:
        return dedupe_key(message_from_bytes(raw), raw)
    except Exception:
        return ""


def _transaction(savepoints: Savepoints, settings: Settings, raw: bytes, mail: Parsed | None, where: Where,
                 now: datetime) -> Result:
    from inbound.apply import apply_message
    with savepoints.begin() as session:
        return apply_message(session, settings, raw, where, now, mail)


def _file(client: IMAPClient, moves: dict[str, list[int]], targets: dict[str, str]) -> None:
    """Handled mail is filed read, quarantined mail unread: a person who opens the mailbox sees at a
    glance what is left for them to look at (the flags travel with MOVE and COPY)."""
    for disposition, uids in moves.items():
        if uids:
            if disposition == Disposition.PROCESSED:
                client.add_flags(uids, [SEEN])
            else:
                client.remove_flags(uids, [SEEN])
            _move(client, uids, targets[disposition])


def _move(client: IMAPClient, uids: list[int], folder: str) -> None:
    if client.has_capability("MOVE"):
        client.move(uids, folder)
        return
    client.copy(uids, folder)
    client.delete_messages(uids)
    if client.has_capability("UIDPLUS"):
        client.uid_expunge(uids)
    else:
        client.expunge()


def _remember(savepoints: Savepoints, folder: str, uidvalidity: int, last_uid: int) -> None:
    with savepoints.begin() as session:
        state = session.get(FolderState, folder)
        if state is None:
            session.add(FolderState(folder=folder, uidvalidity=uidvalidity, last_uid=last_uid))
        elif state.uidvalidity != uidvalidity:
            log.warning("%s: UIDVALIDITY changed; Message-IDs keep us from acting twice", folder)
            state.uidvalidity, state.last_uid = uidvalidity, last_uid
        else:
            state.last_uid = max(state.last_uid, last_uid)


def _logout(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:
        client.shutdown()


def release(Session_: sessionmaker[Session], settings: Settings, ids: list[int],
            connector: Callable[[ImapSettings], IMAPClient] = connect) -> dict[int, str]:
    """Put quarantined messages back in the inbox for the next run to act on (the organiser has
    fixed what stopped them): what happened to each id, in words.

    Moved first, forgotten second: a run killed in between leaves a message in the inbox that
    is still recorded, which the next poll files back into quarantine (nothing lost, retry again).
    """
    with Session_() as session:
        records = {i: session.get(InboundMessage, i) for i in ids}
    outcome: dict[int, str] = {}
    wanted: dict[int, str] = {}
    for i, record in records.items():
        if record is None or record.disposition != Disposition.QUARANTINED:
            outcome[i] = "not in quarantine (see `unmentoring quarantine list`)"
        elif not record.message_id.startswith("<"):
            outcome[i] = "it has no Message-ID to find it by: forward it from the quarantine folder to yourself and act by hand"
        else:
            wanted[i] = record.message_id
    if wanted:
        outcome |= _move_back(Session_, settings, wanted, connector)
    return outcome


def _move_back(Session_: sessionmaker[Session], settings: Settings, wanted: dict[int, str],
               connector: Callable[[ImapSettings], IMAPClient]) -> dict[int, str]:
    """Each message moved, then its record forgotten, one at a time: a failure stops only its own."""
    imap = settings.imap
    client = connector(imap)
    outcome = {}
    try:
        inbox = folder_path(client, imap.inbox)
        client.select_folder(folder_path(client, imap.quarantine))
        found = _by_message_id(client)
        for i, message_id in wanted.items():
            if message_id not in found:
                outcome[i] = f"not found in the IMAP folder {imap.quarantine}: was it moved or deleted by hand?"
                continue
            try:
                _move(client, found[message_id], inbox)
            except IMAPClientError as exc:
                outcome[i] = f"the IMAP server would not move it ({exc}); it is still in quarantine"
                continue
            with Session_.begin() as session:
                session.delete(session.get(InboundMessage, i))
            outcome[i] = "back in the inbox: the next run acts on it"
    finally:
        _logout(client)
    return outcome


def _by_message_id(client: IMAPClient) -> dict[str, list[int]]:
    """The selected folder's messages by the key they were recorded under, compared exactly (IMAP's
    SEARCH HEADER matches any substring, in any case)."""
    found: dict[str, list[int]] = {}
    for batch in _batches(sorted(client.search(["ALL"])), 500):
        for uid, data in client.fetch(batch, ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"]).items():
            header = data.get(b"BODY[HEADER.FIELDS (MESSAGE-ID)]", b"")
            found.setdefault(_key(header), []).append(uid)
    return found
