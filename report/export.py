"""Machine-readable exports (CSV, JSON) and the anonymised open data (GraphML and CSV): rows from a History."""
from __future__ import annotations

import csv
import json
from collections import defaultdict
from dataclasses import asdict
from pathlib import Path
from typing import Any

import networkx as nx

from report.data import History, Person
from report.figures import STATUSES, Month, RoundFigures

OPEN_README = """\
Open data from the {title} network report, anonymised: it can be published as-is.

People are pseudonymous ids (p0001, ... numbered by join date); no names, no
email addresses.{orgs} People who asked to be forgotten appear only as their id.

network.graphml  one node per person ever introduced, one edge per pair ever
                 introduced: introduced (times), met (times the pair's group
                 reported meeting), first_round, first_met_round (0: never met)
groups.csv       every group of every round: members, size, outcome (met, not
                 met, no report), reason_group of a NOT MET, round_open
growth.csv       per month: sign-ups, and people in each status at its end
figures.csv      the per-round figures shown in the report (definitions there)
trials.csv       each person's arm in each randomised trial (id, trial, arm)
"""


def _date(value: Any) -> str:
    return value.date().isoformat() if value is not None else ""


def organisation(person: Person, orgs: bool) -> str:
    return person.org_label if orgs and not person.forgotten else ""


def participant_rows(history: History, names: bool, orgs: bool) -> list[dict[str, Any]]:
    """Everyone, by pseudonymous id; names and addresses only with `names`; forgotten people only as ids."""
    rows = []
    for p in history.people.values():
        row: dict[str, Any] = {"id": p.alias, "status": p.status}
        if names:
            row |= {"name": "" if p.forgotten else p.name, "email": "" if p.forgotten else p.email}
        if orgs:
            row["organisation"] = organisation(p, orgs)
        row |= {"campaign": "" if p.forgotten else p.campaign, "joined": "" if p.forgotten else _date(p.joined),
                "confirmed": "" if p.forgotten else _date(p.confirmed)}
        rows.append(row)
    return rows


def trial_rows(history: History, arms: dict[int, list[tuple[str, str]]]) -> list[dict[str, Any]]:
    """Each person's arm in each trial, by pseudonymous id (people forgotten since are left out)."""
    return [{"id": p.alias, "trial": name, "arm": arm} for pid, p in history.people.items() if not p.forgotten
            for name, arm in arms.get(pid, [])]


def group_labels(history: History) -> dict[int, str]:
    """Match id -> r<round>-g<n>, numbered within the round (stable, and no database ids leak)."""
    counters: dict[int, int] = defaultdict(int)
    labels = {}
    for g in history.groups:
        counters[g.round_no] += 1
        labels[g.id] = f"r{g.round_no}-g{counters[g.round_no]}"
    return labels


def group_rows(history: History) -> list[dict[str, Any]]:
    labels, open_rounds = group_labels(history), {r.number for r in history.rounds if r.is_open}
    return [{"round": g.round_no, "group": labels[g.id], "size": len(g.members),
             "members": " ".join(history.people[m].alias for m in g.members), "outcome": g.outcome,
             "reason_group": g.reason_group, "round_open": g.round_no in open_rounds} for g in history.groups]


def outcome_rows(history: History, names: bool) -> list[dict[str, Any]]:
    """Every report received (the latest per group decides); the free-text reason only with `names`."""
    labels = group_labels(history)
    round_of = {g.id: g.round_no for g in history.groups}
    rows = []
    for r in history.reports:
        row: dict[str, Any] = {"round": round_of.get(r.match_id), "group": labels.get(r.match_id, ""),
                               "reporter": history.people[r.person].alias if r.person in history.people else "",
                               "met": r.met, "reason_group": "" if r.met else r.reason_group,
                               "reported_at": r.at.isoformat(timespec="minutes")}
        if names:
            row["reason"] = r.reason
        rows.append(row)
    return rows


def figure_rows(figures: list[RoundFigures]) -> list[dict[str, Any]]:
    return [{k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(f).items()} for f in figures]


def growth_rows(months: list[Month]) -> list[dict[str, Any]]:
    return [{"month": m.month, "signups": m.signups, **{s: m.status[s] for s in STATUSES}} for m in months]


def write_csv(path: Path, rows: list[dict[str, Any]], columns: list[str] | None = None) -> Path:
    columns = columns or (list(rows[0]) if rows else [])
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=columns)
        writer.writeheader()
        writer.writerows({key: spreadsheet_safe(value) for key, value in row.items()} for row in rows)
    return path


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula (a participant can name themselves
    "=HYPERLINK(...)") gets a leading apostrophe, as OWASP advises for CSV exports."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def write_json(path: Path, rows: list[dict[str, Any]]) -> Path:
    """A JSON array, one row per line (readable, diffable, and fast: the C encoder runs without indent)."""
    lines = ",\n".join(json.dumps(row, ensure_ascii=False) for row in rows)
    path.write_text(f"[\n{lines}\n]\n" if rows else "[]\n", encoding="utf-8")
    return path


def write_exports(out: Path, tables: dict[str, list[dict[str, Any]]], formats: tuple[str, ...]) -> list[Path]:
    """export/<name>.<format> for each table and format."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, rows in tables.items():
        if "csv" in formats:
            written.append(write_csv(out / f"{name}.csv", rows))
        if "json" in formats:
            written.append(write_json(out / f"{name}.json", rows))
    return written


def network_graph(history: History, orgs: bool) -> nx.Graph:
    """Everyone ever introduced and every pair ever introduced, by pseudonymous id only."""
    graph: nx.Graph = nx.Graph()
    for g in history.groups:
        for m in g.members:
            p = history.people[m]
            if p.alias not in graph:
                attrs = {} if p.forgotten else {"joined": p.joined.strftime("%Y-%m"), "status": p.status}
                if orgs and not p.forgotten:
                    attrs["organisation"] = p.org_label
                graph.add_node(p.alias, **attrs)
        for a, b in g.pairs:
            u, v = history.people[a].alias, history.people[b].alias
            data = graph.get_edge_data(u, v) or {"introduced": 0, "met": 0, "first_round": g.round_no,
                                                   "first_met_round": 0}
            data["introduced"] += 1
            if g.outcome == "met":
                data["met"] += 1
                data["first_met_round"] = data["first_met_round"] or g.round_no
            graph.add_edge(u, v, **data)
    return graph


def write_open_data(out: Path, history: History, figures: list[RoundFigures], months: list[Month],
                    orgs: bool, title: str) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    nx.write_graphml(network_graph(history, orgs), out / "network.graphml")
    note = " Organisations are named." if orgs else " Organisations are left out."
    (out / "README.txt").write_text(OPEN_README.format(title=title, orgs=note), encoding="utf-8")
    return [out / "network.graphml", out / "README.txt",
            write_csv(out / "groups.csv", group_rows(history),
                      ["round", "group", "size", "members", "outcome", "reason_group", "round_open"]),
            write_csv(out / "growth.csv", growth_rows(months), ["month", "signups", *STATUSES]),
            write_csv(out / "figures.csv", figure_rows(figures), list(RoundFigures.__dataclass_fields__))]

