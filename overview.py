"""What `unmentoring status` says: its figures and their lines of text, for the terminal and for the
organiser's STATUS email (read-only)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from config import Settings
from mailer.headers import clean_header_text
from models.summary import status_figures
from rounds.views import next_step
from wording import plural

FAILURE_ADVICE = {
    "pending": "they never confirmed their address, so nothing else goes to it: nothing to do",
    "left": "they have left, so nothing else goes to them: nothing to do",
    "suspended": "their introductions are suspended after bounces: if they give a working address, "
                 "`unmentoring participants resume EMAIL`",
    "paused": "they are paused: check the address with them before `unmentoring participants resume EMAIL`",
    "active": "check the address with the person, or pause them (`unmentoring participants pause EMAIL`)",
}


def figures(session: Session, settings: Settings, now: datetime) -> dict[str, Any]:
    found = status_figures(session, now)
    found["stranger_answers_per_hour"] = settings.service.stranger_answers_per_hour
    found["next"] = next_step(session, settings)
    return found


def lines(figures: dict[str, Any], settings: Settings) -> list[str]:
    tz = settings.tz
    people = ", ".join(f"{n} {s}" for s, n in sorted(figures["participants"].items())) or "none yet"
    out = [f"participants: {people}",
           f"outbox: {figures['outbox_queued']} waiting, {figures['outbox_failed']} failed",
           f"quarantine: {plural(figures['quarantined'], 'message')}"]
    out += ["  " + quarantine_line(item, tz) for item in figures["quarantine_latest"]]
    if figures["quarantined"]:
        out.append(f"  they are in the IMAP folder {settings.imap.quarantine}: read them there and act by hand, "
                   "or once the cause is fixed: unmentoring quarantine retry ID")
    for item in figures["failed_latest"]:
        subject, reason = clean_header_text(item["subject"]), clean_header_text(item["reason"])
        out.append(f"  failed (last tried {local(item['last_tried'], tz)}) to {item['to']}, \"{subject}\": {reason}")
        out.append(f"    {failure_advice(item)}")
    if figures["outbox_failed"]:
        out.append("  a failed email is not tried again (the reason is the receiving server's)")
    out.append(stranger_line(figures, tz))
    if figures["capped"]:
        out.append(f"held back only by the daily answer cap: {plural(figures['capped'], 'message')} that passed every "
                   "robot check; if they are from software, not people, please report it so unmentoring learns to "
                   "spot them")
    out += ["  " + quarantine_line(item, tz) for item in figures["capped_latest"]]
    out.append(f"next: {figures['next']['what']}" + (f" at {figures['next']['at']}" if figures["next"]["at"] else ""))
    return out


def failure_advice(item: dict[str, Any]) -> str:
    """What to do about one failed email, for the state its recipient is in (a group's email: each address)."""
    if item["status"] is None:
        return "check each address with its owner (a group's email, or one to someone not taking part)"
    return FAILURE_ADVICE.get(item["status"], FAILURE_ADVICE["active"])


def stranger_line(figures: dict[str, Any], tz: Any) -> str:
    """The hourly cap on answers to people not taking part: how much of it is used, and how often it held mail back."""
    line = (f"answers to people not taking part: {figures['stranger_answers_last_hour']} in the last hour, "
            f"at most {figures['stranger_answers_per_hour']} (service.stranger_answers_per_hour)")
    if figures["held_back"]:
        line += (f"; {plural(figures['held_back'], 'message')} held back by it, the latest at "
                 f"{local(figures['held_back_latest'], tz)}, are in quarantine")
    return line


def local(stamp: str, tz: Any) -> str:
    return datetime.fromisoformat(stamp).astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")


def quarantine_line(item: dict[str, Any], tz: Any) -> str:
    """One line per message; what strangers wrote loses control characters (escape sequences)."""
    sender, subject, reason = (clean_header_text(item[k]) for k in ("from", "subject", "reason"))
    return f"#{item['id']} {local(item['at'], tz)} from {sender or '(no sender)'}, \"{subject}\": {reason}"
