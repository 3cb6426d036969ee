"""The report's pictures as SVG text (pure): network pictures, outcome bars, the growth chart.

No scripts, no external fonts (system font stack only), nothing fetched. Every
picture carries a <title> and <desc> and is labelled for screen readers; the
numbers it shows are also in an HTML table next to it.
"""
from __future__ import annotations

from collections import Counter
from math import ceil, log10, sqrt
from typing import Iterable, Sequence
from xml.sax.saxutils import escape

FONT = 'font-family="system-ui, -apple-system, \'Segoe UI\', Roboto, sans-serif"'
ORG_COLOURS = ("#4e79a7", "#f28e2b", "#b07aa1", "#76b7b2", "#edc948", "#9c755f", "#ff9da7", "#1f3b73", "#8c6d31")
OTHER_ORG, UNKNOWN_ORG, IDLE = "#a0a7b0", "#cfd4da", "#e1e5e9"
SIZE, MARGIN = 1000, 14
DENSE_EDGES = 600        # lines of one style beyond this many are drawn fainter, so dense pictures stay legible
INDIVIDUAL_LIMIT = 400   # up to this many dots, each is its own <circle> with a <title> (hover shows who)

NO_REPORT_COLOUR = "#7b3294"   # one purple for "no report": bars, network lines (dashed) and both legends
# outcome -> (colour, dash pattern, opacity, width factor)
EDGE_STYLES = {
    "met": ("#1a9850", "", 0.9, 1.0),
    "not met": ("#d73027", "", 0.9, 1.0),
    "no report": (NO_REPORT_COLOUR, "10 8", 0.9, 1.0),
    "open": ("#8a8f96", "3 6", 0.9, 1.0),
    "met earlier": ("#1a9850", "", 0.35, 0.8),
    "met this round": ("#00592e", "", 0.95, 1.0),
}
OUTCOME_COLOURS = {"met": "#1a9850", "not met": "#d73027", "no report": NO_REPORT_COLOUR, "open": "#c4c8cd"}


def org_colours(sizes: Counter[str]) -> dict[str, str]:
    """A colour per organisation key: the nine largest get their own, the rest share one; unknown is pale."""
    ranked = sorted((o for o in sizes if o), key=lambda o: (-sizes[o], o))
    colours = {o: ORG_COLOURS[n] if n < len(ORG_COLOURS) else OTHER_ORG for n, o in enumerate(ranked)}
    colours[""] = UNKNOWN_ORG
    return colours


def _open(uid: str, width: int, height: int, title: str, desc: str, css_class: str) -> str:
    """Charts are drawn at their natural size at most (so text stays text-sized); networks fill their box."""
    size = f' style="max-width: {width}px"' if css_class == "chart" else ""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="{css_class}"{size} '
            f'role="img" aria-labelledby="{uid}-t {uid}-d" {FONT}>'
            f'<title id="{uid}-t">{escape(title)}</title><desc id="{uid}-d">{escape(desc)}</desc>')


def _xy(point: tuple[float, float]) -> tuple[int, int]:
    span = SIZE - 2 * MARGIN
    return round(MARGIN + point[0] * span), round(MARGIN + point[1] * span)


def dot_radius(n: int) -> float:
    spacing = 0.9 * SIZE / sqrt(max(n, 1))
    return round(min(13.0, max(1.4, 0.28 * spacing)), 1)


def network(uid: str, title: str, desc: str, points: dict[int, tuple[float, float]], colour: dict[int, str],
            edges: Sequence[tuple[str, Sequence[tuple[int, int]]]], active: set[int] | None = None,
            labels: dict[int, str] | None = None) -> str:
    """People as dots at fixed points (coloured if `active`, pale if not), groups as lines styled by outcome."""
    r = dot_radius(len(points))
    width = max(0.6, round(r * 0.45, 1))
    parts = [_open(uid, SIZE, SIZE, title, desc, "network")]
    for style, pairs in edges:
        parts.append(_edges(style, pairs, points, width))
    idle = [p for p in points if active is not None and p not in active]
    shown = [p for p in points if active is None or p in active]
    parts.append(_dots(idle, points, {p: IDLE for p in idle}, r * 0.6, labels))
    parts.append(_dots(shown, points, colour, r, labels))
    parts.append("</svg>")
    return "".join(parts)


def _edges(style: str, pairs: Sequence[tuple[int, int]], points: dict[int, tuple[float, float]], width: float) -> str:
    if not pairs:
        return ""
    colour, dash, opacity, factor = EDGE_STYLES[style]
    d = []
    for a, b in pairs:
        (x1, y1), (x2, y2) = _xy(points[a]), _xy(points[b])
        d.append(f"M{x1} {y1}L{x2} {y2}")
    dashed = f' stroke-dasharray="{dash}"' if dash else ""
    opacity = round(max(0.06, opacity * min(1.0, sqrt(DENSE_EDGES / len(pairs)))), 3)
    return (f'<path class="edge {style.replace(" ", "-")}" d="{"".join(d)}" fill="none" stroke="{colour}" '
            f'stroke-width="{round(width * factor, 2)}" stroke-opacity="{opacity}" stroke-linecap="round"{dashed}/>')


def _dots(ids: list[int], points: dict[int, tuple[float, float]], colour: dict[int, str], r: float,
          labels: dict[int, str] | None) -> str:
    if labels is not None and len(points) <= INDIVIDUAL_LIMIT:
        out = []
        for pid in ids:
            x, y = _xy(points[pid])
            out.append(f'<circle class="dot" cx="{x}" cy="{y}" r="{r:.1f}" fill="{colour[pid]}" stroke="#fff" '
                       f'stroke-width="{r / 5:.1f}"><title>{escape(labels[pid])}</title></circle>')
        return "".join(out)
    by_colour: dict[str, list[str]] = {}
    for pid in ids:
        x, y = _xy(points[pid])
        by_colour.setdefault(colour[pid], []).append(f"M{x} {y}h0")
    return "".join(f'<path class="dots" d="{"".join(d)}" stroke="{c}" stroke-width="{2 * r:.1f}" '
                   f'stroke-linecap="round"/>' for c, d in by_colour.items())


def axis_step(value: float) -> int:
    """A round step (1, 2 or 5 × 10^k) giving at most five gridlines up to value."""
    target = max(value, 1) / 5
    base = 10 ** int(log10(target)) if target >= 1 else 1
    return next(m * base for m in (1, 2, 5, 10, 20) if m * base >= target)


def axis_top(value: float) -> int:
    step = axis_step(value)
    return step * max(1, ceil(value / step))


def _y_axis(top: float, x0: int, x1: int, y0: int, height: int, font: int = 12) -> list[str]:
    out = []
    step = axis_step(top)
    for k in range(int(top // step) + 1):
        value = k * step
        y = y0 - height * value / top
        out.append(f'<line x1="{x0}" x2="{x1}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e6ea"/>'
                   f'<text x="{x0 - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="{font}" fill="#555">'
                   f'{value:g}</text>')
    return out


def _legend(items: Iterable[tuple[str, str, str]], x: int, y: int, font: int = 12) -> str:
    """items: (label, colour, kind: bar|line)."""
    out, cx = [], x
    for label, colour, kind in items:
        mark = (f'<rect x="{cx}" y="{y - 9}" width="12" height="10" fill="{colour}"/>' if kind == "bar" else
                f'<line x1="{cx}" x2="{cx + 14}" y1="{y - 4}" y2="{y - 4}" stroke="{colour}" stroke-width="3"/>')
        out.append(f'{mark}<text x="{cx + 18}" y="{y}" font-size="{font}" fill="#333">{escape(label)}</text>')
        cx += 26 + round(font * 0.6 * len(label))
    return "".join(out)


def stacked_bars(uid: str, title: str, desc: str, labels: list[str], stacks: list[list[tuple[str, int]]]) -> str:
    """One bar per label, its segments (key, value) stacked from the bottom in OUTCOME_COLOURS."""
    band = 34
    x0, y0, plot_h = 46, 210, 170
    width = max(360, x0 + band * len(labels) + 10)
    top = axis_top(max((sum(v for _k, v in s) for s in stacks), default=1))
    parts = [_open(uid, width, 262, title, desc, "chart"), *_y_axis(top, x0, width - 10, y0, plot_h)]
    for n, (label, stack) in enumerate(zip(labels, stacks)):
        x, base = x0 + n * band + 5, float(y0)
        for key, value in stack:
            h = plot_h * value / top
            if value:
                parts.append(f'<rect x="{x}" y="{base - h:.1f}" width="{band - 10}" height="{h:.1f}" '
                             f'fill="{OUTCOME_COLOURS[key]}"><title>{escape(f"{label}: {value} {key}")}</title></rect>')
            base -= h
        parts.append(f'<text x="{x + (band - 10) / 2:.1f}" y="{y0 + 16}" text-anchor="middle" font-size="12" '
                     f'fill="#333">{escape(label)}</text>')
    parts.append(_legend([(k, c, "bar") for k, c in OUTCOME_COLOURS.items()], x0, 252))
    parts.append("</svg>")
    return "".join(parts)


GROWTH_LINES = (("active", "#2b6cb0"), ("paused", "#dd8452"), ("left", "#6b6f76"))
SIGNUP_COLOUR = "#b9d3ee"
GROWTH_PLOT, GROWTH_FONT = 350, 13   # kept narrow, so on a 390 px phone the chart shrinks little and its text reads at ~11 px


def growth_chart(uid: str, title: str, desc: str, months: list[str], signups: list[int],
                 lines: dict[str, list[int]]) -> str:
    """Sign-ups per month as bars; active, paused and left at each month's end as lines."""
    x0, y0, plot_h = 52, 230, 190
    band = max(4.0, min(60.0, GROWTH_PLOT / max(len(months), 1)))
    width = int(x0 + band * len(months) + 16)
    top = axis_top(max([*signups, *(v for vs in lines.values() for v in vs)], default=1))
    parts = [_open(uid, max(width, 420), 290, title, desc, "chart"), *_y_axis(top, x0, width - 10, y0, plot_h, GROWTH_FONT)]
    every = max(1, ceil(GROWTH_FONT * 5 / band))
    for n, (month, count) in enumerate(zip(months, signups)):
        x, h = x0 + n * band, plot_h * count / top
        parts.append(f'<rect class="signups" x="{x + band * 0.15:.1f}" y="{y0 - h:.1f}" width="{band * 0.7:.1f}" '
                     f'height="{h:.1f}" fill="{SIGNUP_COLOUR}"><title>{month}: {count} sign-ups</title></rect>')
        if n % every == 0:
            parts.append(f'<text x="{x + band / 2:.1f}" y="{y0 + 16}" text-anchor="middle" font-size="{GROWTH_FONT}" '
                         f'fill="#333">{month}</text>')
    for key, colour in GROWTH_LINES:
        values = lines[key]
        pts = " ".join(f"{x0 + (n + 0.5) * band:.1f},{y0 - plot_h * v / top:.1f}" for n, v in enumerate(values))
        parts.append(f'<polyline class="line {key}" points="{pts}" fill="none" stroke="{colour}" stroke-width="2.5" '
                     f'stroke-linejoin="round"/>')
        for n, v in enumerate(values):
            parts.append(f'<circle cx="{x0 + (n + 0.5) * band:.1f}" cy="{y0 - plot_h * v / top:.1f}" r="3" '
                         f'fill="{colour}"><title>{months[n]}: {v} {key}</title></circle>')
    legend = [("sign-ups", SIGNUP_COLOUR, "bar"), *((k, c, "line") for k, c in GROWTH_LINES)]
    parts.append(_legend(legend, x0, 280, GROWTH_FONT))
    parts.append("</svg>")
    return "".join(parts)
