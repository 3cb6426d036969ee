"""The demo's calendar: each simulated day people read what the service sent and act, then `tick` runs.

People behave like a real network: most confirm, groups chat in their thread,
about two thirds meet and say so in their own words, some say why not, some
stay silent until the check-in, one is out of the office, one address is dead.
"""
from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage

from demo.community import Person
from demo.replies import auto_reply, bounce, fresh, reply

MET_WORDS = ["MET", "Yes, we met! Great conversation about sharing data between teams.", "We had a great chat over Teams.",
             "met - thanks for the introduction", "MET. Really useful, we're going to stay in touch."]
NOT_MET_WORDS = ["NOT MET - we were both on leave", "not met, they never replied", "NOT MET - too busy with budget season",
                 "Sadly we didn't manage to meet, we've rescheduled for next month"]
CHATTER = ["Hi both, lovely to be introduced! Does Tuesday at 2pm work for a Teams call?",
           "Hello! I'm free most mornings next week, shall we grab a virtual coffee?",
           "Great to meet you (virtually). Thursday 11am?"]
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

    def day_of(self, when: datetime) -> int:
        return (when - self.start).days

    def later(self, today: int, raw: bytes, lo: int = 0, hi: int = 2) -> None:
        """Send `raw` lo..hi days from now; today's mail is already in, so at the earliest tomorrow."""
        self.outbox[today + max(1, self.rng.randint(lo, hi))].append(raw)


GROUP_KINDS = ("intro", "nudge", "checkin")


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


def _intro(world: World, people: list[Person], msg: EmailMessage, today: int, when: datetime, token: str) -> None:
    keen = sum(p.keen for p in people) / len(people)
    first = world.rng.choice(people)
    world.later(today, reply(first, msg, world.rng.choice(CHATTER), when), 0, 3)
    fate = world.rng.random()
    reporter = world.rng.choice(people)
    if fate < keen * 0.85:
        world.later(today, reply(reporter, msg, world.rng.choice(MET_WORDS), when), 5, 20)
        world.said_outcome.add(token)
        if world.rng.random() < 0.25:
            world.later(today, fresh(reporter, "SHARE", world.rng.choice(SHARES)[6:], when + timedelta(days=21),
                                     to=_personal(msg, reporter)), 21, 22)
    elif fate < keen:
        world.later(today, reply(reporter, msg, world.rng.choice(NOT_MET_WORDS), when), 8, 22)
        world.said_outcome.add(token)
    if world.rng.random() < 0.05:
        quitter = world.rng.choice(people)
        world.later(today, fresh(quitter, "PAUSE 2", "", when, to=_personal(msg, quitter)), 2, 6)


def _checkin(world: World, people: list[Person], msg: EmailMessage, today: int, when: datetime, token: str) -> None:
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


REACTIONS = {"confirm": _confirm, "intro": _intro, "checkin": _checkin, "still_in": _still_in}
