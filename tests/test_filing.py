"""Handled mail is filed read and quarantined mail unread, so a person opening the mailbox sees what is
left for them (the flags read back from the real Dovecot; both databases)."""
from __future__ import annotations

from imapclient import SEEN

from tests.app import Service
from tests.mail import incoming


def flags_in(service: Service, folder: str) -> list[tuple[bytes, ...]]:
    with service.imap.client() as imap:
        imap.select_folder(folder, readonly=True)
        uids = sorted(imap.search("ALL"))
        return [imap.get_flags(uids)[uid] for uid in uids]


def test_handled_mail_is_filed_read_and_quarantined_mail_unread(service: Service) -> None:
    service.imap.deliver(incoming("sam@leeds.gov.uk", "JOIN"))
    unreadable = incoming("sam@leeds.gov.uk", "JOIN").replace(b"From: sam@leeds.gov.uk", b"From: not an address")
    with service.imap.client() as imap:
        imap.append("INBOX", unreadable, flags=[SEEN])  # someone glanced at it in the inbox before the run
    output = service.tick().output
    assert "inbox: 2 seen, 1 handled, 1 quarantined" in output

    assert [SEEN in flags for flags in flags_in(service, "unmentoring/processed")] == [True]
    assert [SEEN in flags for flags in flags_in(service, "unmentoring/quarantine")] == [False]
