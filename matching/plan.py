"""A solver's answer in index space, before ids and scores are attached."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Plan:
    """Pairs of positions; the odd person, if any; the pair it joins for a trio.

    ``host`` is one of ``pairs``; ``odd_one`` without a host sits out.
    ``cost`` is the encoded cost of every pair in the groups, trio included.
    """

    pairs: list[tuple[int, int]]
    odd_one: int | None
    host: tuple[int, int] | None
    cost: int
