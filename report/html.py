"""Write the page: a jinja2 template (report/templates/) filled from the computed figures and drawn pictures."""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from inbound.reasons import label
from report import svg
from report.data import History
from report.evidence import evidence
from report.figures import REASON_GROUPS, STATUSES, Fairness, Month, RoundFigures
from report.pictures import LegendItem, Picture
from wording import noun, plural

if TYPE_CHECKING:
    from report.build import Options

TEMPLATES = Path(__file__).resolve().parent / "templates"
_URL = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:!?)\]]")
REASON_LABELS = {g: label(g) for g in REASON_GROUPS}


@dataclass(frozen=True)
class Drawn:
    rounds: list[Picture]
    cumulative: list[Picture]
    outcomes: str
    growth: str
    legend: list[LegendItem]


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), undefined=StrictUndefined,
                      autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)
    env.filters["pct"] = pct
    env.filters["linkify"] = linkify
    env.filters["noun"] = noun
    return env


def render(context: dict[str, Any]) -> str:
    return environment().get_template("report.html.j2").render(**context)


def pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def dec(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def linkify(text: str) -> Markup:
    """Escape a participant's text, turning http(s) URLs into links (followed only if the reader clicks)."""
    out, last = [], 0
    for m in _URL.finditer(text):
        out += [escape(text[last:m.start()]), Markup('<a href="{0}" rel="nofollow noopener">{0}</a>').format(m[0])]
        last = m.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


def numbers_text(numbers: list[int]) -> str:
    """[1] → "round 1"; [2, 5, 7] → "rounds 2, 5 and 7"; runs of three or more as ranges: "rounds 1–4 and 6"."""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    parts = [f"{r[0]}–{r[-1]}" if len(r) >= 3 else ", ".join(map(str, r)) for r in runs]
    parts = [p for part in parts for p in part.split(", ")]
    if len(parts) == 1:
        return f"round {parts[0]}" if len(numbers) == 1 else f"rounds {parts[0]}"
    return f"rounds {', '.join(parts[:-1])} and {parts[-1]}"


def steps_note(all_rounds: list[int], drawn: list[int]) -> str:
    """Which rounds "Step by step" draws (the latest is the large picture above it), and which it leaves out."""
    if len(drawn) < 2:
        return ""
    left_out = [n for n in all_rounds if n not in drawn]
    text = f"The network after {numbers_text(drawn[:-1])} here, and after round {drawn[-1]} above"
    if not left_out:
        return f"{text}: every round is drawn."
    verb = "is" if len(left_out) == 1 else "are"
    return (f"{text}. {numbers_text(left_out).capitalize()} {verb} not drawn, to keep the page short: "
            f"the table above has {'its' if len(left_out) == 1 else 'their'} figures.")


def older_note(drawn: int, older: list[int]) -> str:
    """Which rounds are left to the bars and table: "round 1 is summarised", "rounds 1–3 are summarised"."""
    if not older:
        return ""
    shown = "Only the latest round is drawn" if drawn == 1 else f"The latest {plural(drawn, 'round')} are drawn"
    verb = "is" if len(older) == 1 else "are"
    return f"{shown}; {numbers_text(older)} {verb} summarised in the bars and table above."


def figure_row(f: RoundFigures) -> dict[str, str]:
    return {
        "round": f"{f.number}" + (" (open)" if f.is_open else ""), "groups": str(f.groups), "people": str(f.people),
        "met": str(f.met), "not_met": str(f.not_met), "no_report": str(f.no_report), "meet_rate": pct(f.meet_rate),
        "new_connections": str(f.new_connections), "components": str(f.components),
        "largest_share": pct(f.largest_share), "cross_org_share": pct(f.cross_org_share),
        "avg_connections": dec(f.avg_connections), "repeats": str(f.repeats), "trios": str(f.trios),
        "sat_out": str(f.sat_out),
    }


def reason_rows(why: dict[int, Counter[str]]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    rows = [{"round": str(n), "counts": [c[g] for g in REASON_GROUPS], "total": sum(c.values())}
            for n, c in sorted(why.items())]
    total: Counter[str] = sum(why.values(), Counter())
    all_groups = sum(total.values())
    bars = [{"label": REASON_LABELS[g], "count": total[g], "share": pct(total[g] / all_groups if all_groups else None),
             "width": round(100 * total[g] / all_groups, 1) if all_groups else 0} for g in REASON_GROUPS]
    return rows, {"counts": [total[g] for g in REASON_GROUPS], "total": all_groups, "bars": bars}


def share_sections(history: History, labels: dict[int, str], names: bool) -> list[dict[str, Any]]:
    by_round: dict[int | None, list[dict[str, Any]]] = defaultdict(list)
    for s in history.shares:
        who = labels.get(s.person, "") if names and s.person is not None else ""
        by_round[s.round_no].append({"text": s.text, "who": who})
    ordered = sorted(by_round, key=lambda n: (n is None, -(n or 0)))
    return [{"title": f"Round {n}" if n is not None else "Not tied to a round", "entries": by_round[n]}
            for n in ordered]


def fairness_rows(fair: list[Fairness], history: History, labels: dict[int, str], tz: tzinfo) -> list[dict[str, Any]]:
    opened = {r.number: r.opened_at.astimezone(tz) for r in history.rounds}
    rows = []
    for f in fair:
        trios = [" + ".join(labels[m] + (" (extra)" if m == extra else "") for m in members)
                 for members, extra in f.trios]
        rows.append({"number": f.number, "seed": f.seed, "opened": opened[f.number].date().isoformat(),
                     "trio": "; ".join(trios) or "none", "repeats": f.repeats, "same_org": f.same_org,
                     "sat_out": "; ".join(f"{labels[p]} ({'odd number' if r == 'odd' else 'asked to skip'})"
                                          for p, r in f.sat_out) or "nobody"})
    return rows


def evidence_facets(history: History) -> list[dict[str, Any]]:
    """The "why not" comparisons, as the page shows them: rate, interval and reasons in words."""
    return [{"title": f.title, "parts": [{
        "label": p.label, "groups": p.groups, "met": p.met,
        "rate": f"{p.rate:.0%}", "low": f"{p.low:.0%}", "high": f"{p.high:.0%}",
        "reasons": ", ".join(f"{REASON_LABELS.get(g, label(g))} {c}" for g, c in p.reasons) or "-",
    } for p in f.parts]} for f in evidence(history)]


def trial_section(view: Any) -> dict[str, Any]:
    """One trial as the page shows it: its arms, the difference and the plain sentence."""
    e, d = view.experiment, view.difference
    state = (f"stopped early, after {plural(view.rounds_done, 'round')} of {e.rounds}" if e.stopped_early else
             f"finished after {plural(view.rounds_done, 'round')}" if e.stopped_at else
             f"running: {plural(view.rounds_done, 'round')} of {e.rounds} done")
    return {"name": e.name, "what": view.variable.what, "state": state, "seed": e.seed, "sentence": view.sentence,
            "difference": "" if d is None else f"{d.estimate * 100:+.0f} points (95 % interval {d.low * 100:+.0f} to "
                                               f"{d.high * 100:+.0f})",
            "arms": [{"label": a.label, "people": a.people, "groups": a.groups, "rate": f"{a.rate:.0%}",
                      "met": f"{a.met} of {a.seen}", "connections": f"{a.connections_per_month:.2f}",
                      "paused": a.paused, "left": a.left} for a in view.arms]}


def summary(history: History, figures: list[RoundFigures]) -> dict[str, Any]:
    now = Counter(p.status for p in history.people.values())
    groups = sum(f.groups for f in figures)
    met = sum(f.met for f in figures)
    return {"people": len(history.people), "status": [(s, now[s]) for s in STATUSES if now[s]],
            "rounds": len(figures), "groups": groups, "meet_rate": pct(met / groups if groups else None),
            "connections": sum(f.new_connections for f in figures)}


def page_context(history: History, figures: list[RoundFigures], months: list[Month], why: dict[int, Counter[str]],
                 fair: list[Fairness], drawn: Drawn, labels: dict[int, str], options: "Options", now: datetime,
                 files: list[str], trials: Sequence[Any] = ()) -> dict[str, Any]:
    in_full = {p.number for p in drawn.rounds}
    reasons, reasons_total = reason_rows(why)
    return {
        "title": options.title, "generated": now.astimezone(options.tz).strftime("%-d %B %Y, %H:%M"),
        "names": options.names, "orgs": options.orgs, "full_rounds": options.full_rounds,
        "summary": summary(history, figures), "figures": [figure_row(f) for f in figures],
        "drawn": drawn, "older_note": older_note(len(in_full), [f.number for f in figures if f.number not in in_full]),
        "steps_note": steps_note([f.number for f in figures], [p.number for p in drawn.cumulative]),
        "months": months, "statuses": STATUSES,
        "reason_labels": [REASON_LABELS[g] for g in REASON_GROUPS], "reasons": reasons, "reasons_total": reasons_total,
        "shares": share_sections(history, labels, options.names), "evidence": evidence_facets(history),
        "trials": [trial_section(v) for v in trials],
        "fairness": fairness_rows(fair, history, labels, options.tz),
        "files": files, "links": options.links, "no_report_colour": svg.NO_REPORT_COLOUR,
    }
