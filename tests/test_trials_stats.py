"""Trials, the pure parts: stratified assignment, and intervals shown to be sound on simulated communities."""
from __future__ import annotations

import math
import random
from collections import Counter
from datetime import datetime, timedelta, timezone

from hypothesis import given, settings, strategies as st

from trials.analysis import Difference, Seen, difference, people_needed, rates, rounds_needed, verdict
from trials.assign import Member, assign, assign_late, stratum
from trials.simulate import Community, run_trial

NOW = datetime(2027, 1, 4, 9, tzinfo=timezone.utc)
SEEDS = 200


def binomial_range(n: int, p: float, tail: float = 0.001) -> tuple[int, int]:
    """The counts a Binomial(n, p) falls outside with probability under ``tail`` on each side."""
    pmf = [math.comb(n, k) * p ** k * (1 - p) ** (n - k) for k in range(n + 1)]
    low = next(k for k in range(n + 1) if sum(pmf[:k + 1]) > tail)
    high = next(k for k in range(n, -1, -1) if sum(pmf[k:]) > tail)
    return low, high


def calibration(rates_: tuple[float, float]) -> tuple[int, int]:
    """Over SEEDS simulated trials: how often the 95 % interval held the true effect, and called a difference."""
    community = Community(rates=rates_)
    held = called = 0
    for seed in range(SEEDS):
        diff = difference(run_trial(community, seed), "A", "B")
        assert diff is not None
        held += diff.low <= rates_[1] - rates_[0] <= diff.high
        called += diff.clear
    return held, called


def test_with_no_effect_a_difference_is_called_about_one_time_in_twenty() -> None:
    held, called = calibration((0.5, 0.5))
    low, high = binomial_range(SEEDS, 0.05)
    assert low <= called <= high, f"{called} of {SEEDS} trials with no effect reported a difference"
    assert SEEDS - called == held


def test_with_a_known_effect_the_interval_holds_it_95_times_in_100() -> None:
    held, called = calibration((0.45, 0.60))
    low, high = binomial_range(SEEDS, 0.95)
    assert low <= held <= high, f"the interval held the true effect in {held} of {SEEDS} trials"
    assert called > SEEDS / 2, "a 15-point effect in 120 people over 6 rounds is usually seen"


def test_ignoring_that_people_recur_would_give_intervals_too_narrow() -> None:
    """The reason for the clustered variance: the plain binomial interval misses far more often here."""
    community = Community(rates=(0.5, 0.5), readiness=0.35)
    plain_called = 0
    for seed in range(SEEDS):
        by_arm = rates(run_trial(community, seed))
        a, b = by_arm["A"], by_arm["B"]
        se = math.sqrt(a.value * (1 - a.value) / a.seen + b.value * (1 - b.value) / b.seen)
        plain_called += abs(b.value - a.value) > 1.96 * se
    assert plain_called > binomial_range(SEEDS, 0.05)[1]


def members(n: int, seed: int) -> list[Member]:
    rng = random.Random(seed)
    return [Member(i, f"org{rng.randrange(5)}", NOW - timedelta(days=rng.randrange(800))) for i in range(n)]


@settings(max_examples=50, deadline=None)
@given(st.integers(2, 300), st.integers(0, 10**6), st.sampled_from([("A", "B"), ("A", "B", "C")]))
def test_every_stratum_is_split_evenly_and_order_does_not_matter(n: int, seed: int, arms: tuple[str, ...]) -> None:
    people = members(n, seed)
    result = assign(people, arms, seed, NOW)
    assert result == assign(list(reversed(people)), arms, seed, NOW)
    strata: dict[tuple[str, int], Counter[str]] = {}
    for p in people:
        strata.setdefault(stratum(p, NOW), Counter())[result[p.id]] += 1
    for counts in strata.values():
        assert max(counts[a] for a in arms) - min(counts[a] for a in arms) <= 1
    overall = Counter(result.values())
    assert max(overall[a] for a in arms) - min(overall[a] for a in arms) <= len(strata)


def test_people_who_join_later_keep_the_arms_balanced() -> None:
    people = members(40, 1)
    assigned = {p.id: (arm, p.org) for p, arm in ((p, assign(people, ("A", "B"), 7, NOW)[p.id]) for p in people)}
    for i in range(40, 80):
        late = Member(i, "org9", NOW)
        assigned[i] = (assign_late(late, assigned, ("A", "B"), 7), "org9")
    newcomers = Counter(arm for arm, org in assigned.values() if org == "org9")
    assert newcomers["A"] == newcomers["B"] == 20


def test_the_sentence_says_what_to_do() -> None:
    labels = {"monthly": "Monthly rounds", "two-monthly": "Two-monthly rounds"}
    clear = Difference("monthly", "two-monthly", 0.14, 0.056)
    assert verdict(clear, 6, labels) == ("Two-monthly rounds met more often than Monthly rounds: "
                                         "+14 points, 95 % interval +3 to +25.")
    early = Difference("monthly", "two-monthly", 0.04, 0.07)
    assert rounds_needed(early, 3) == math.ceil(3 * (0.07 / (0.10 / 2.801585)) ** 2 - 3)
    assert verdict(early, 3, labels).startswith(f"Too early to tell: about {rounds_needed(early, 3)} more rounds")
    flat = Difference("monthly", "two-monthly", 0.01, 0.02)
    assert verdict(flat, 12, labels).startswith("No difference to speak of")
    assert verdict(None, 0, labels).startswith("Too early to tell")


def test_an_arm_with_nobody_seen_gives_no_difference() -> None:
    seen = [Seen(1, 1, "A", True), Seen(2, 1, "A", True)]
    assert difference(seen, "A", "B") is None


def test_people_needed_grows_as_the_difference_shrinks() -> None:
    assert people_needed(to_see=0.2, rounds=12) == 16
    assert people_needed(to_see=0.1, rounds=12) > 4 * people_needed(to_see=0.2, rounds=12) - 4


def test_a_round_sits_two_monthly_people_out_every_other_round_and_draws_arms_apart() -> None:
    from trials.rounds import round_trials

    arms = {1: {"cadence": "monthly"}, 2: {"cadence": "two-monthly"}, 3: {"cadence": "two-monthly", "options": "no-options"},
            4: {"options": "no-options"}, 5: {}}
    first = round_trials(range(1, 6), arms, {"cadence": 3, "options": 3}, 3)
    assert first.sitting_out == frozenset()
    assert first.parts == {(("cadence", "monthly"),): [1], (("cadence", "two-monthly"),): [2, 3], (): [4, 5]}
    assert first.no_options == {3, 4}
    second = round_trials(range(1, 6), arms, {"cadence": 3, "options": 3}, 4)
    assert second.sitting_out == {2, 3} and second.parts == {(("cadence", "monthly"),): [1], (): [4, 5]}
    assert round_trials(range(1, 6), arms, {"cadence": 3}, 5).sitting_out == frozenset()
    sizes = round_trials([1, 2], {1: {"group_size": "trios"}, 2: {"group_size": "pairs"}}, {"group_size": 1}, 1)
    assert sizes.group_size((("group_size", "trios"),), 2) == 3 and sizes.group_size((), 2) == 2
