"""A made-up community for the demo: people, their organisations, and how each writes email (pure)."""
from __future__ import annotations

import random
from dataclasses import dataclass

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
                             keen=rng.uniform(0.5, 0.95), joins_round=joins))
    return people


def _ascii(text: str) -> str:
    return text.replace("ë", "e").replace("â", "a").replace("ê", "e")
