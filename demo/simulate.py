"""The demo's calendar: each simulated day people read what the service sent and act, then `tick` runs.

People behave like a real network: most confirm, most say when and how they like to
meet in answer to the welcome, and groups have habits. Some book one of the offered
times at once ("2") and accept the calendar invitation; some book, then decline it from
their calendar and book again from the fresh times; some only chat in their thread; some
stay silent until the check-in. Groups that booked meet more often, as they do in life.
About two thirds meet and say so in their own words, some say why not, one person is out
of the office, one address is dead. Once round 1 has opened the organiser starts a trial of
monthly against two-monthly rounds, and the two-monthly arm meets more often (TWO_MONTHLY_LIFT).
"""
from __future__ import annotations

import random
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.message import EmailMessage

from demo.community import Person
from demo.replies import auto_reply, bounce, calendar_answer, fresh, invitation_event, reply

MET_WORDS = ["MET", "Yes, we met! Great conversation about sharing data between teams.", "We had a great chat over Teams.",
             "met - thanks for the introduction", "MET. Really useful, we're going to stay in touch."]
NOT_MET_WORDS = ["NOT MET - we were both on leave", "not met, they never replied", "NOT MET - too busy with budget season",
                 "Sadly we didn't manage to meet, we've rescheduled for next month"]
CHATTER = ["Hi both, lovely to be introduced! Does Tuesday at 2pm work for a Teams call?",
           "Hello! I'm free most mornings next week, shall we grab a virtual coffee?",
           "Great to meet you (virtually). Thursday 11am?"]
BOOKINGS = ["{n}", "Option {n} works", "BOOK {n}", "{n} works for me, see you then!", "Option {n} please"]
# What a group does with the times offered, and how often: book at once, book then decline and rebook,
# only chat, say nothing.
ACCEPTS = 0.35  # the share of invitations accepted from a calendar
TWO_MONTHLY_LIFT = 0.3  # the effect the demo's trial should find: people who meet every other month meet more often
HABITS = {"book": 0.45, "decline": 0.12, "chat": 0.28, "silent": 0.15}
SHARES = ["SHARE We found we're both mapping the same discharge data. Notes: https://example.org/discharge-notes",
          "SHARE Useful tip: the ONS open geography portal saved me days. https://example.org/geo",
          "SHARE Learned how Cardiff runs its resident panels; might try it here."]


@dataclass
class World:
    """Everyone in the simulation and the emails they will send, by day."""

    people: dict[str, Person]
    rng: random.Random
    start: datetime
    out_of_office: str
    dead: str
    outbox: dict[int, list[bytes]] = field(default_factory=lambda: defaultdict(list))
    said_outcome: set[str] = field(default_factory=set)
    paused: set[str] = field(default_factory=set)
    answered: set[str] = field(default_factory=set)  # group emails (by Message-ID) their members have seen
    habits: dict[str, str] = field(default_factory=dict)  # each group's habit (HABITS), by token
    booker: dict[str, str] = field(default_factory=dict)  # who booked for the group, by token
    fates: dict[str, bool] = field(default_factory=dict)  # booked groups: whether they will meet, told when asked
    declined: set[str] = field(default_factory=set)  # groups that have declined once (and rebook)
    arms: dict[str, str] = field(default_factory=dict)  # each person's arm in the organiser's cadence trial
    trial: str | None = None  # None: not started yet; "": running; else why it was refused

    def day_of(self, when: datetime) -> int:
        return (when - self.start).days

    def later(self, today: int, raw: bytes, lo: int = 0, hi: int = 2) -> None:
        """Send `raw` lo..hi days from now; today's mail is already in, so at the earliest tomorrow."""
        self.outbox[today + max(1, self.rng.randint(lo, hi))].append(raw)


GROUP_KINDS = ("intro", "nudge", "checkin", "options")


def kind_of(msg: EmailMessage) -> tuple[str, str]:
    """(kind, token) from our Message-ID <kind.token.random@domain>."""
    left = str(msg["Message-ID"]).strip("<>").split("@")[0].split(".")
    return (left[0], left[1]) if len(left) == 3 else ("", "")


def react(world: World, recipients: list[str], msg: EmailMessage, today: int, when: datetime) -> None:
    """Each mailbox's robots answer the copy it got; a group answers its email once, whoever's copy came
    first (every member gets a copy of their own, addressed to them all)."""
    kind, token = kind_of(msg)
    if world.dead in recipients:
        world.later(today, bounce(world.dead, msg, when), 0, 0)
    if world.out_of_office in recipients and kind in GROUP_KINDS:
        world.later(today, auto_reply(world.people[world.out_of_office], msg, when), 0, 0)
    if kind in GROUP_KINDS:
        if msg["Message-ID"] in world.answered:
            return
        world.answered.add(msg["Message-ID"])
        recipients = [a.addr_spec for a in msg["To"].addresses]
    people = [world.people[r] for r in recipients if r in world.people]
    live = [p for p in people if p.email != world.dead]
    if not live:
        return
    handler = REACTIONS.get(kind)
    if handler:
        handler(world, live, msg, today, when, token)


def _confirm(world: World, people: list[Person], msg: EmailMessage, today: int, when: datetime, token: str) -> None:
    person = people[0]
    if world.rng.random() < 0.95:
        world.later(today, reply(person, msg, world.rng.choice(["CONFIRM", "Confirm", "confirm - thanks!"]), when,
                                 reply_all=False), 0, 2)


def _welcome(world: World, people: list[Person], msg: EmailMessage, today: int, when: datetime, token: str) -> None:
    person = people[0]
    if person.says:
        world.later(today, reply(person, msg, person.says, when, reply_all=False), 0, 3)


def _intro(world: World, people: list[Person], msg: EmailMessage, today: int, when: datetime, token: str) -> None:
    keen = sum(p.keen for p in people) / len(people)
    options = offered(msg, when)
    habits = HABITS if options else {"chat": HABITS["chat"], "silent": HABITS["silent"]}
    habit = world.habits[token] = world.rng.choices(list(habits), weights=list(habits.values()))[0]
    lift = TWO_MONTHLY_LIFT if any(world.arms.get(p.email) == "two-monthly" for p in people) else 0.0
    if habit in ("book", "decline"):
        _book(world, world.rng.choice(people), msg, options, today, when, token)
        world.fates[token] = world.rng.random() < min(0.97, keen * 0.85 + 0.2 + lift)
    else:
        if habit == "chat":
            world.later(today, reply(world.rng.choice(people), msg, world.rng.choice(CHATTER), when), 0, 3)
        meets = min(0.97, keen * (0.7 if habit == "chat" else 0.45) + lift)
        _report_later(world, people, msg, today, when, token, meets, max(keen, meets))
    if world.rng.random() < 0.05:
        quitter = world.rng.choice(people)
        world.later(today, fresh(quitter, "PAUSE 2", "", when, to=_personal(msg, quitter)), 2, 6)


def _report_later(world: World, people: list[Person], msg: EmailMessage, today: int, when: datetime, token: str,
                  meets: float, reports: float) -> None:
    """A group without a booking: they meet with chance `meets` and say so unasked, or say why not."""
    fate = world.rng.random()
    reporter = world.rng.choice(people)
    if fate < meets:
        world.later(today, reply(reporter, msg, world.rng.choice(MET_WORDS), when), 5, 20)
        world.said_outcome.add(token)
        _maybe_share(world, reporter, msg, today, when)
    elif fate < reports:
        world.later(today, reply(reporter, msg, world.rng.choice(NOT_MET_WORDS), when), 8, 22)
        world.said_outcome.add(token)


def _maybe_share(world: World, person: Person, msg: EmailMessage, today: int, when: datetime) -> None:
    if world.rng.random() < 0.25:
        world.later(today, fresh(person, "SHARE", world.rng.choice(SHARES)[6:], when + timedelta(days=21),
                                 to=_personal(msg, person)), 21, 22)


def _book(world: World, person: Person, msg: EmailMessage, options: list[date], today: int, when: datetime,
          token: str) -> None:
    """`person` picks ("2", "Option 2 works", ...) one of the `options` still ahead on the day they answer."""
    world.booker[token] = person.email
    delay = world.rng.randint(0, 1)
    answered = (when + timedelta(days=max(1, delay))).date()
    ahead = [n for n, day in enumerate(options, 1) if day > answered] or list(range(1, len(options) + 1))
    text = world.rng.choice(BOOKINGS).format(n=world.rng.choice(ahead))
    world.later(today, reply(person, msg, text, when), delay, delay)


def offered(msg: EmailMessage, when: datetime) -> list[date]:
    """The day of each numbered time our email offers: "1. Tue 8 Dec, 10:00–10:30 (London time)" in an
    introduction or a nudge, "- 1: Friday 4 December, 14:00-14:30 (Europe/London)" with fresh times."""
    text = msg.get_body(("plain",)).get_content()
    days = []
    for day, month in re.findall(r"^(?:- )?[1-9][.:] \w+ (\d{1,2}) (\w{3})\w*, ", text, re.MULTILINE):
        found = datetime.strptime(f"{day} {month} {when.year}", "%d %b %Y").date()
        days.append(found.replace(year=found.year + 1) if found < when.date() - timedelta(days=180) else found)
    return days


def _invitation(world: World, people: list[Person], msg: EmailMessage, today: int, when: datetime, token: str) -> None:
    """A member's own copy of an invitation: in a group that declines, the first member other than the
    booker declines it once; otherwise some click Accept (calendar answers are best effort)."""
    person = people[0]
    if invitation_event(msg) is None:
        return
    if world.habits.get(token) == "decline" and token not in world.declined and person.email != world.booker[token]:
        world.declined.add(token)
        partstat = "DECLINED"
    elif world.rng.random() < ACCEPTS:
        partstat = "ACCEPTED"
    else:
        return
    answer = calendar_answer(person, msg, partstat, when)
    if answer is not None:
        world.later(today, answer, 0, 1)


def _options(world: World, people: list[Person], msg: EmailMessage, today: int, when: datetime, token: str) -> None:
    """Fresh times after a decline: the group books one of them."""
    options = offered(msg, when)
    if options and world.habits.get(token) == "decline":
        _book(world, world.rng.choice(people), msg, options, today, when, token)


def _checkin(world: World, people: list[Person], msg: EmailMessage, today: int, when: datetime, token: str) -> None:
    """Asked "Did you meet?": a booked group answers (the working day after its meeting); others often do not."""
    if token in world.fates and token not in world.said_outcome:
        world.said_outcome.add(token)
        met = world.fates[token]
        reporter = world.rng.choice(people)
        world.later(today, reply(reporter, msg, world.rng.choice(MET_WORDS if met else NOT_MET_WORDS), when), 0, 2)
        if met:
            _maybe_share(world, reporter, msg, today, when)
        return
    if token in world.said_outcome or world.rng.random() < 0.4:
        return
    world.said_outcome.add(token)
    answer = world.rng.choice(["Yes, finally!", "yes", "No - diaries just didn't line up", "no, sorry"])
    world.later(today, reply(world.rng.choice(people), msg, answer, when), 0, 3)


def _still_in(world: World, people: list[Person], msg: EmailMessage, today: int, when: datetime, token: str) -> None:
    if world.rng.random() < 0.7:
        world.later(today, reply(people[0], msg, "Yes, still in! Sorry, busy few months.", when, reply_all=False), 0, 3)


def _personal(msg: EmailMessage, person: Person) -> str:
    """The service's address with the person's token, as in the Reply-To of their own emails."""
    return str(msg["Reply-To"].addresses[0].addr_spec)


REACTIONS = {"confirm": _confirm, "welcome": _welcome, "intro": _intro, "checkin": _checkin, "still_in": _still_in,
             "invitation": _invitation, "options": _options}
