"""Write every email the service sends to docs/emails: text, HTML and a 360 px-wide screenshot.

    .venv/bin/python scripts/render_emails.py
"""
from __future__ import annotations

import re
import sys
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mailer.examples import EXAMPLES, context_of, template_of  # noqa: E402
from mailer.invite import REQUEST, Meeting, calendar_object  # noqa: E402
from mailer.render import render  # noqa: E402
from tests.harness.browser import chromium  # noqa: E402

OUT = ROOT / "docs" / "emails"
EXAMPLE_MEETING = Meeting(
    uid="meet-5f0c2a9e81d34b7a6c10@example.org", sequence=0, start=datetime(2026, 11, 24, 11, tzinfo=timezone.utc),
    minutes=30, summary="Coffee Roulette: Sam Jones and Kim Lee", location="https://meet.example/sam",
    description="Join: https://meet.example/sam\nTo move it, reply to the group's email with the number of another "
                "time offered, or RESCHEDULE for new times.",
    organizer=("coffee@example.org", "Coffee Roulette"),
    attendees=(("sam.jones@leeds.gov.uk", "Sam Jones"), ("kim.lee@nhs.net", "Kim Lee")))


def slug(example: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", example.lower()).strip("-")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 360, "height": 640})
        for example in EXAMPLES:
            rendered = render(template_of(example), context_of(example))
            name = slug(example)
            (OUT / f"{name}.txt").write_text(f"Subject: {rendered.subject}\n\n{rendered.text}")
            (OUT / f"{name}.html").write_text(rendered.html)
            page.set_content(rendered.html)
            page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
            rows.append(f"| {example} | {rendered.subject} | [text]({name}.txt) · [html]({name}.html) · "
                        f"[phone]({name}.png) |")
    (OUT / "participant-invitation.ics").write_bytes(calendar_object(EXAMPLE_MEETING, REQUEST, EXAMPLE_MEETING.start))
    index = ["# Every email, as sent", "",
             "Made by `scripts/render_emails.py` from `mailer/examples.py`; screenshots by headless Chromium "
             "at 360 px wide (a small phone). An answer to a message in a group's thread takes the thread's "
             "subject, `Re: <the introduction's subject>`, instead of the one shown here.", "",
             "A calendar invitation (`participant/invitation`) also carries the iCalendar object that mail "
             "clients show with Accept / Decline: [participant-invitation.ics](participant-invitation.ics) "
             "(a cancellation carries METHOD:CANCEL and STATUS:CANCELLED, an update the same UID with SEQUENCE 1, 2, ...; "
             "`participant/uninvited`, to a member who leaves a group whose meeting goes on, METHOD:CANCEL naming only "
             "them and no STATUS).", "", "| email | subject | files |", "|---|---|---|", *rows, ""]
    (OUT / "README.md").write_text("\n".join(index))
    print(f"{len(rows)} emails written to {OUT}")


if __name__ == "__main__":
    main()
