"""Build the whole report into a folder: load, compute, lay out, draw, write; timed stage by stage."""
from __future__ import annotations

import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterator
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from report import FORMATS, export, html, pictures
from report.data import History, load
from report.figures import Network, RoundFigures, fairness, growth, reasons, round_figures
from report.layout import positions
from trials.store import all_views, arms_by_person


@dataclass(frozen=True)
class Options:
    names: bool = False                  # show names (else pseudonymous ids only): not for publishing
    orgs: bool = True                    # name organisations (else "organisation A", ...)
    formats: tuple[str, ...] = FORMATS   # of export/
    full_rounds: int = 6                 # rounds drawn in full; older rounds are summarised
    title: str = "Coffee Roulette"
    tz: ZoneInfo = ZoneInfo("Europe/London")
    links: bool = True                   # link the page to open/ and export/ (off for a page sent on its own)


@dataclass
class Built:
    index: Path
    files: list[Path]
    people: int
    rounds: int
    timings: dict[str, float] = field(default_factory=dict)
    history: History | None = None
    figures: list[RoundFigures] = field(default_factory=list)
    reasons: dict[int, Counter[str]] = field(default_factory=dict)


class Stopwatch:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.timings[stage] = self.timings.get(stage, 0.0) + time.perf_counter() - start


def labels_for(history: History, names: bool) -> dict[int, str]:
    """What the page calls each person: their pseudonymous id, or with `names` their name (never if forgotten)."""
    if not names:
        return {pid: p.alias for pid, p in history.people.items()}
    return {pid: p.alias if p.forgotten else (p.name or p.email) for pid, p in history.people.items()}


def stable_layout(history: History, network: Network) -> dict[int, tuple[float, float]]:
    """Positions from the cumulative met network of all rounds, for everyone ever introduced."""
    introduced = network.nodes[max(network.nodes)] if network.nodes else set()
    degree: Counter[int] = Counter()
    for edges in network.edges.values():
        for a, b in edges:
            degree[a] += 1
            degree[b] += 1
    people = [(pid, p.org) for pid, p in history.people.items() if pid in introduced]
    return positions(people, degree)


def build_report(session: Session, out: Path, options: Options, now: datetime) -> Built:
    clock = Stopwatch()
    with clock("load"):
        history = load(session)
        trials = all_views(session, now)
        arms = arms_by_person(session)
    with clock("figures"):
        figures, network = round_figures(history)
        months = growth(history, now, options.tz)
        why, fair = reasons(history), fairness(history, figures)
    with clock("layout"):
        points = stable_layout(history, network)
    with clock("pictures"):
        labels = labels_for(history, options.names)
        colour, legend = pictures.org_legend(history, set(points), options.orgs)
        numbers = [f.number for f in figures]
        drawn = html.Drawn(
            rounds=pictures.round_pictures(history, figures, points, colour, labels,
                                           pictures.latest(numbers, options.full_rounds)),
            cumulative=pictures.cumulative_pictures(network, points, colour, labels,
                                                    pictures.milestones(numbers, options.full_rounds)),
            outcomes=pictures.outcome_bars(figures), growth=pictures.growth_picture(months), legend=legend)
    out.mkdir(parents=True, exist_ok=True)
    with clock("exports"):
        files = export.write_open_data(out / "open", history, figures, months, options.orgs, options.title)
        files.append(export.write_csv(out / "open" / "trials.csv", export.trial_rows(history, arms),
                                      ["id", "trial", "arm"]))
        files += export.write_exports(out / "export", {
            "participants": export.participant_rows(history, options.names, options.orgs),
            "groups": export.group_rows(history), "outcomes": export.outcome_rows(history, options.names),
            "figures": export.figure_rows(figures), "growth": export.growth_rows(months),
        }, options.formats)
    with clock("page"):
        page = html.render(html.page_context(history, figures, months, why, fair, drawn, labels, options, now,
                                             [f.relative_to(out).as_posix() for f in files], trials))
        index = out / "index.html"
        index.write_text(page, encoding="utf-8")
    return Built(index, [index, *files], len(history.people), len(history.rounds), clock.timings,
                 history, figures, why)
