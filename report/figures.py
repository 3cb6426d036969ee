"""Per-round figures, growth by month, reasons and fairness, computed from a History (pure: no I/O, no clock)."""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import networkx as nx

from report.data import MET, NO_REPORT, NOT_MET, Group, History

REASON_GROUPS = ("away", "busy", "no reply", "rescheduled", "other", "")   # "" = no reason given
STATUSES = ("pending", "active", "paused", "left", "suspended")


@dataclass(frozen=True, slots=True)
class RoundFigures:
    number: int
    is_open: bool
    groups: int
    people: int
    met: int
    not_met: int
    no_report: int
    meet_rate: float | None            # met / groups
    new_connections: int               # pairs meeting for the first time
    components: int                    # of the cumulative met network (everyone introduced so far)
    largest_share: float | None        # people in its largest component / everyone introduced so far
    cross_org_share: float | None      # pairs introduced this round across organisations (both known)
    avg_connections: float | None      # distinct people met, per person introduced so far
    repeats: int                       # pairs introduced this round that had been introduced before
    trios: int
    sat_out: int


@dataclass(frozen=True, slots=True)
class Month:
    month: str                         # YYYY-MM
    signups: int
    status: dict[str, int]             # at the end of the month (or now, for the current one)


@dataclass
class Network:
    """The cumulative met network after each round: who had been introduced, and who had met whom."""

    nodes: dict[int, set[int]] = field(default_factory=dict)                 # round -> people introduced so far
    edges: dict[int, list[tuple[int, int]]] = field(default_factory=dict)    # round -> pairs first met then


def by_round(history: History) -> dict[int, list[Group]]:
    groups: dict[int, list[Group]] = {r.number: [] for r in history.rounds}
    for g in history.groups:
        groups.setdefault(g.round_no, []).append(g)
    return groups


def round_figures(history: History) -> tuple[list[RoundFigures], Network]:
    """Each round's figures, and the cumulative met network they are read from (grown round by round)."""
    graph: nx.Graph = nx.Graph()
    introduced: set[tuple[int, int]] = set()
    network = Network()
    rounds = {r.number: r for r in history.rounds}
    sat_out = Counter(s.round_no for s in history.sit_outs)
    figures = []
    for number, groups in sorted(by_round(history).items()):
        pairs = [pair for g in groups for pair in g.pairs]
        graph.add_nodes_from(m for g in groups for m in g.members)
        new = list(dict.fromkeys(p for g in groups if g.outcome == MET for p in g.pairs if not graph.has_edge(*p)))
        graph.add_edges_from(new)
        network.nodes[number], network.edges[number] = set(graph.nodes), new
        figures.append(_one_round(number, rounds[number].is_open if number in rounds else False, groups, pairs,
                                  new, graph, history, sum(p in introduced for p in pairs), sat_out[number]))
        introduced.update(pairs)
    return figures, network


def _one_round(number: int, is_open: bool, groups: list[Group], pairs: list[tuple[int, int]],
               new: list[tuple[int, int]], graph: nx.Graph, history: History, repeats: int,
               sat_out: int) -> RoundFigures:
    outcomes = Counter(g.outcome for g in groups)
    orgs = [(history.people[a].org, history.people[b].org) for a, b in pairs]
    known = [a != b for a, b in orgs if a and b]
    components = list(nx.connected_components(graph))
    n = graph.number_of_nodes()
    return RoundFigures(
        number=number, is_open=is_open, groups=len(groups), people=sum(len(g.members) for g in groups),
        met=outcomes[MET], not_met=outcomes[NOT_MET], no_report=outcomes[NO_REPORT],
        meet_rate=_ratio(outcomes[MET], len(groups)), new_connections=len(new), components=len(components),
        largest_share=_ratio(max((len(c) for c in components), default=0), n),
        cross_org_share=_ratio(sum(known), len(known)), avg_connections=_ratio(2 * graph.number_of_edges(), n),
        repeats=repeats, trios=sum(len(g.members) == 3 for g in groups), sat_out=sat_out,
    )


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def growth(history: History, now: datetime, tz: ZoneInfo) -> list[Month]:
    """Sign-ups per month, and how many people were in each status at the end of each month."""
    if not history.people:
        return []
    first = min(p.joined for p in history.people.values()).astimezone(tz)
    months = _months(first, now.astimezone(tz))
    signups = Counter(p.joined.astimezone(tz).strftime("%Y-%m") for p in history.people.values())
    timelines = _timelines(history)
    result = []
    for label, end in months:
        at = min(end, now)
        counts = Counter(_status_at(timelines[pid], p.status, p.joined, at) for pid, p in history.people.items())
        counts.pop(None, None)
        result.append(Month(label, signups[label], {s: counts.get(s, 0) for s in STATUSES}))
    return result


def _months(first: datetime, last: datetime) -> list[tuple[str, datetime]]:
    """(YYYY-MM, the instant the month ends) from `first`'s month to `last`'s."""
    out = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        nyear, nmonth = (year + 1, 1) if month == 12 else (year, month + 1)
        end = datetime(nyear, nmonth, 1, tzinfo=first.tzinfo) - timedelta(microseconds=1)
        out.append((f"{year:04d}-{month:02d}", end))
        year, month = nyear, nmonth
    return out


def _timelines(history: History) -> dict[int, list[tuple[datetime, str, str]]]:
    lines: dict[int, list[tuple[datetime, str, str]]] = defaultdict(list)
    for c in history.changes:
        lines[c.person].append((c.at, c.old, c.new))
    return lines


def _status_at(events: list[tuple[datetime, str, str]], current: str, joined: datetime, at: datetime) -> str | None:
    """Someone's status at `at` from their audited changes (no audit at all: their status now)."""
    if joined > at:
        return None
    if not events:
        return current
    status = events[0][1] if events[0][1] in STATUSES else "pending"
    for when, _old, new in events:
        if when > at:
            break
        status = new
    return status


def reasons(history: History) -> dict[int, Counter[str]]:
    """Per round: how many groups did not meet, by the reason group of their deciding report."""
    counts: dict[int, Counter[str]] = {r.number: Counter() for r in history.rounds}
    for g in history.groups:
        if g.outcome == NOT_MET:
            counts.setdefault(g.round_no, Counter())[g.reason_group] += 1
    return counts


@dataclass(frozen=True, slots=True)
class Fairness:
    number: int
    seed: int
    trios: list[tuple[tuple[int, ...], int | None]]   # (members, the extra one), usually at most one
    sat_out: list[tuple[int, str]]  # (person, odd/skip)
    repeats: int
    same_org: int


def fairness(history: History, figures: list[RoundFigures]) -> list[Fairness]:
    groups = by_round(history)
    repeats = {f.number: f.repeats for f in figures}
    sat: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for s in history.sit_outs:
        sat[s.round_no].append((s.person, s.reason))
    result = []
    for r in history.rounds:
        trios = [g for g in groups.get(r.number, []) if len(g.members) == 3]
        same = sum(1 for g in groups.get(r.number, []) for a, b in g.pairs
                   if history.people[a].org and history.people[a].org == history.people[b].org)
        result.append(Fairness(r.number, r.seed, [(g.members, g.odd_one) for g in trios], sat[r.number],
                               repeats.get(r.number, 0), same))
    return result
