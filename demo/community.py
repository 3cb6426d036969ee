"""A made-up community for the demo: people, their organisations, how each writes email, and when and how
they like to meet (pure)."""
from __future__ import annotations

import random
from dataclasses import dataclass

TOWNS = {"Leeds City Council": "Leeds", "NHS England": "Leeds", "Cardiff Council": "Cardiff",
         "Manchester City Council": "Manchester", "Bristol City Council": "Bristol", "Scottish Government": "Edinburgh",
         "Office for National Statistics": "Newport", "Kent County Council": "Maidstone"}  # others: London
AVAILABLE = ["Tue, Thu mornings", "Mon-Wed afternoons", "weekdays 10-12", "Fri 2-4pm; Wed mornings", "lunchtime",
             "Mon, Tue, Wed mornings; Thu afternoons", "weekdays after 2", "Mon-Thu before 11am", "weekdays"]
MODES = ["online", "online", "either", "either", "in person"]
ZONES = ["UK", "UK", "UK", "Europe/Dublin", "CET"]
IN_WORDS = ["Mornings are best, I'm in {town}", "Afternoons suit me, online please",
            "Happy to meet in person, I'm in {town}", "Tuesdays and Thursdays work best for me", "Any afternoon, online"]
ORGANISATIONS = [
    ("Leeds City Council", "leeds.gov.uk"), ("NHS England", "nhs.net"), ("Cabinet Office", "cabinetoffice.gov.uk"),
    ("Cardiff Council", "cardiff.gov.uk"), ("Manchester City Council", "manchester.gov.uk"),
    ("Department for Education", "education.gov.uk"), ("HM Revenue & Customs", "hmrc.gov.uk"),
    ("Bristol City Council", "bristol.gov.uk"), ("Scottish Government", "gov.scot"),
    ("Office for National Statistics", "ons.gov.uk"), ("Kent County Council", "kent.gov.uk"),
    ("Local Government Association", "local.gov.uk"),
]
FIRST = ["Priya", "Tom", "Aisha", "Gareth", "Mei", "Sam", "Kim", "Alex", "Fatima", "Owen", "Zoë", "Rory", "Amara",
         "Niamh", "Tariq", "Eilidh", "Jonah", "Leah", "Kwame", "Siân", "Marta", "Dev", "Ruth", "Callum"]
LAST = ["Shah", "Evans", "Bello", "Price", "Lin", "Jones", "Lee", "Okafor", "Hughes", "Murray", "Novak", "Ali",
        "Campbell", "Reid", "Patel", "Byrne", "Kowalski", "Mensah", "Davies", "Ahmed"]
ROLES = ["Policy officer", "Service designer", "Data analyst", "Social worker", "Product manager", "Researcher",
         "Team leader", "Developer", "Programme manager", "Commissioner"]
STYLES = ("gmail", "outlook", "html", "mobile")


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    organisation: str
    role: str
    style: str
    keen: float
    joins_round: int
    says: str = ""  # what they answer the welcome's "when and how" with: PROFILE lines, plain words, or nothing


def community(size: int, rounds: int, rng: random.Random) -> list[Person]:
    """`size` people; about two thirds join before the first round, the rest during the first rounds."""
    people: list[Person] = []
    taken: set[str] = set()
    weights = [6, 5, 4, 3, 3, 2, 2, 2, 1, 1, 1, 1]
    for index in range(size):
        org, domain = rng.choices(ORGANISATIONS, weights=weights)[0]
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{_ascii(first)}.{_ascii(last)}@{domain}".lower()
        while email in taken:
            email = email.replace("@", f"{rng.randint(2, 9)}@", 1)
        taken.add(email)
        joins = 0 if index < size * 2 // 3 or rounds < 2 else rng.randint(1, min(3, rounds - 1))
        people.append(Person(f"{first} {last}", email, org, rng.choice(ROLES), rng.choice(STYLES),
                             keen=rng.uniform(0.5, 0.95), joins_round=joins, says=meeting_words(org, rng)))
    return people


def meeting_words(organisation: str, rng: random.Random) -> str:
    """Over half give the welcome's four lines (not always all of them), a fifth say it in plain words,
    and the rest never say."""
    town, kind = TOWNS.get(organisation, "London"), rng.random()
    if kind < 0.25:
        return ""
    if kind < 0.45:
        return rng.choice(IN_WORDS).format(town=town)
    mode = rng.choice(MODES)
    lines = [f"Available: {rng.choice(AVAILABLE)}", f"Meet: {mode}"]
    if mode != "online" or rng.random() < 0.3:
        lines.append(f"Where: {town}")
    if rng.random() < 0.4:
        lines.append(f"Time zone: {rng.choice(ZONES)}")
    return "\n".join(lines)


def _ascii(text: str) -> str:
    return text.replace("ë", "e").replace("â", "a").replace("ê", "e")
