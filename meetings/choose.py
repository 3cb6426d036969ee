"""Who hosts a group and which conversation starter it gets (pure; the round's seed breaks ties)."""
from __future__ import annotations

import random
from collections.abc import Collection, Mapping, Sequence

MAX_STARTER_CHARS = 500


def choose_host(members: Sequence[int], hosted: Mapping[int, int], seed: int) -> int:
    """The member who has hosted least so far; among equals, one drawn with the round's seed."""
    order = sorted(members)
    random.Random(seed).shuffle(order)
    return min(order, key=lambda person: hosted.get(person, 0))


def starter_lines(text: str) -> list[str]:
    """The organiser's starters, one per line: blank lines and repeats dropped, each line bounded."""
    seen: dict[str, None] = {}
    for line in text.splitlines():
        cleaned = " ".join(line.split())[:MAX_STARTER_CHARS]
        if cleaned:
            seen.setdefault(cleaned, None)
    return list(seen)


def choose_starter(starters: Sequence[str], given_before: Collection[str], seed: int) -> str:
    """A starter none of the group was given before ("" when every one was): drawn with `seed`."""
    fresh = [s for s in starters if s not in given_before]
    return random.Random(seed).choice(fresh) if fresh else ""
