"""Which pictures the page shows and what they say (pure): network small multiples, outcome bars, growth."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from report import svg
from report.data import MET, NO_REPORT, NOT_MET, History
from report.figures import Month, Network, RoundFigures, by_round
from wording import plural


@dataclass(frozen=True)
class Picture:
    number: int
    caption: str
    svg: str


@dataclass(frozen=True)
class LegendItem:
    label: str
    colour: str
    count: int


def latest(numbers: list[int], n: int) -> list[int]:
    return numbers[-n:] if n > 0 else []


def milestones(numbers: list[int], n: int) -> list[int]:
    """Up to n rounds evenly spread over all of them, always ending with the latest."""
    if len(numbers) <= n:
        return list(numbers)
    if n <= 1:
        return numbers[-1:] if n == 1 else []
    return sorted({numbers[round((len(numbers) - 1) * i / (n - 1))] for i in range(n)})


def org_legend(history: History, introduced: set[int], orgs: bool) -> tuple[dict[int, str], list[LegendItem]]:
    """Each introduced person's colour, and the legend (organisation names only if `orgs`)."""
    sizes = Counter(history.people[p].org for p in introduced)
    colours = svg.org_colours(sizes)
    ranked = sorted((o for o in sizes if o), key=lambda o: (-sizes[o], o))
    label = {o: history.people[next(p for p in introduced if history.people[p].org == o)].org_label for o in ranked
             if colours[o] != svg.OTHER_ORG}
    items = [LegendItem(label[o] if orgs else f"organisation {chr(65 + n)}", colours[o], sizes[o])
             for n, o in enumerate(ranked) if colours[o] != svg.OTHER_ORG]
    others = sum(sizes[o] for o in ranked if colours[o] == svg.OTHER_ORG)
    if others:
        items.append(LegendItem(plural(len(ranked) - len(items), "other organisation"), svg.OTHER_ORG, others))
    if sizes[""]:
        items.append(LegendItem("not known (e.g. forgotten)", svg.UNKNOWN_ORG, sizes[""]))
    return {p: colours[history.people[p].org] for p in introduced}, items


def round_pictures(history: History, figures: list[RoundFigures], points: dict[int, tuple[float, float]],
                   colour: dict[int, str], labels: dict[int, str], numbers: list[int]) -> list[Picture]:
    groups, figs = by_round(history), {f.number: f for f in figures}
    pictures = []
    for number in numbers:
        f = figs[number]
        unreported = "open" if f.is_open else NO_REPORT
        edges = [(unreported, [p for g in groups[number] if g.outcome == NO_REPORT for p in g.pairs]),
                 (NOT_MET, [p for g in groups[number] if g.outcome == NOT_MET for p in g.pairs]),
                 (MET, [p for g in groups[number] if g.outcome == MET for p in g.pairs])]   # met drawn on top
        active = {m for g in groups[number] for m in g.members}
        state = "still open" if f.is_open else "closed"
        caption = (f"Round {number} ({state}): {plural(f.groups, 'group')}, {f.met} met, {f.not_met} not met, "
                   f"{f.no_report} {'not reported yet' if f.is_open else 'no report'}")
        desc = (f"{caption}. {plural(len(active), 'person')} in groups are coloured by organisation; everyone else ever "
                f"introduced is pale, in the same place as in every other picture.")
        pictures.append(Picture(number, caption, svg.network(
            f"round-{number}", f"Round {number}: who was introduced to whom", desc, points, colour, edges,
            active, labels)))
    return pictures


def cumulative_pictures(network: Network, points: dict[int, tuple[float, float]], colour: dict[int, str],
                        labels: dict[int, str], numbers: list[int]) -> list[Picture]:
    pictures = []
    for number in numbers:
        earlier = [e for k, edges in network.edges.items() if k < number for e in edges]
        new = network.edges[number]
        caption = f"Up to round {number}: {plural(len(earlier) + len(new), 'connection')} ({len(new)} new in round {number})"
        desc = (f"{caption}, among {plural(len(network.nodes[number]), 'person')} introduced so far (coloured); "
                f"people introduced later are pale.")
        pictures.append(Picture(number, caption, svg.network(
            f"cumulative-{number}", f"Everyone who has met, up to round {number}", desc, points, colour,
            [("met earlier", earlier), ("met this round", new)], network.nodes[number], labels)))
    return pictures


def outcome_bars(figures: list[RoundFigures]) -> str:
    stacks = [[(MET, f.met), (NOT_MET, f.not_met), (NO_REPORT, 0 if f.is_open else f.no_report),
               ("open", f.no_report if f.is_open else 0)] for f in figures]
    desc = "; ".join(f"round {f.number}: {f.met} met, {f.not_met} not met, {f.no_report} "
                     f"{'not reported yet' if f.is_open else 'no report'}" for f in figures)
    return svg.stacked_bars("outcomes", "Outcomes of the groups, round by round", desc or "no rounds yet",
                            [str(f.number) for f in figures], stacks)


def growth_picture(months: list[Month]) -> str:
    desc = "; ".join(f"{m.month}: {m.signups} sign-ups, {m.status['active']} active, {m.status['paused']} paused, "
                     f"{m.status['left']} left" for m in months)
    return svg.growth_chart("growth", "Sign-ups per month, and active, paused and left at each month's end",
                            desc or "nobody has joined yet", [m.month for m in months], [m.signups for m in months],
                            {k: [m.status[k] for m in months] for k, _c in svg.GROWTH_LINES})
