"""Every printed count reads right with 0, 1 and 2: one helper, and no count printed around it."""
from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from mailer.render import render
from wording import noun, plural

ROOT = Path(__file__).resolve().parent.parent
COUNTED = r"(groups?|pairs?|rounds?|connections?|people|persons?|messages?|emails?|organisations?|answers?|times|" \
          r"bounces?|members?|introductions?|days)"
PRINTED_IN = ["cli.py", "tick.py", "overview.py", "rounds", "report", "inbound", "demo", "mailer", "templates"]


def sources() -> list[Path]:
    found: list[Path] = []
    for name in PRINTED_IN:
        path = ROOT / name
        found += [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.suffix in (".py", ".j2"))
    return found


@pytest.mark.parametrize("word, many", [("group", "groups"), ("pair", "pairs"), ("round", "rounds"),
                                        ("connection", "connections"), ("person", "people"),
                                        ("other organisation", "other organisations"), ("message", "messages")])
def test_plural_says_0_1_and_2(word: str, many: str) -> None:
    assert [plural(n, word) for n in (0, 1, 2)] == [f"0 {many}", f"1 {word}", f"2 {many}"]
    assert [noun(n, word) for n in (0, 1, 2)] == [many, word, many]


def test_no_count_is_printed_without_the_helper() -> None:
    """A number put straight before a counted noun ("{n} groups", "{{ n }} rounds") reads "1 groups";
    "message(s)" dodges the question."""
    python = re.compile(r"\{[^{}\"']+\} " + COUNTED + r"\b")
    jinja = re.compile(r"\{\{[^{}]+\}\} " + COUNTED + r"\b")
    found = [f"{path.relative_to(ROOT)}:{n}: {line.strip()}" for path in sources()
             for n, line in enumerate(path.read_text().splitlines(), 1)
             if (jinja if path.suffix == ".j2" else python).search(line) or re.search(r"\w\(s\)", line)
             and "http(s)" not in line]
    assert found == []


@pytest.mark.parametrize("n", [0, 1, 2])
def test_the_digest_counts_read_right(n: int) -> None:
    figures = SimpleNamespace(number=1, groups=n, trios=0, met=n, not_met=0, no_report=0, new_connections=n)
    context = {"service_name": "Coffee Roulette", "organiser": "o@example.org", "name": "", "round": figures,
               "rate": "", "reasons": [], "moved": SimpleNamespace(joined=0, left=0), "active": 2, "paused": 0,
               "connected": "", "next": SimpleNamespace(number=2, groups=n), "attachment": "r.html"}
    digest = render("organiser/digest", context)
    assert digest.subject == f"Coffee Roulette: round 1 — {n} of {plural(n, 'group')} met"
    assert f"{plural(n, 'pair')} met for the first time" in digest.text
    assert f"Round 2 opened today with {plural(n, 'group')}." in digest.text
    notice = render("organiser/bounce_notice", {**context, "person": SimpleNamespace(name="", email="a@x.org"),
                                                "bounces": n})
    assert f"has bounced {plural(n, 'time')}," in notice.text
