"""The network report: pure figures and layout, then the whole report from a seeded history, read in real Chromium.

The whole-flow test seeds six months of history through the service's own code
(rounds drawn by `open_round`, organiser pauses and removals, FORGET's erasure,
silence pauses at close), builds the report with the CLI, and checks what a
reader sees against figures computed here, independently, from the database rows.
Set REPORT_SCREENSHOTS=docs/report to refresh the committed screenshots.
"""
from __future__ import annotations

import csv
import os
import random
import re
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

import networkx as nx
from sqlalchemy import select

from cli import main
from inbound.privacy import erase
from inbound.reasons import reason_group
from models import AuditEvent, Match, MatchMember, Outcome, Participant, Round, Share, SitOut, Status
from models.db import make_engine, sessions, upgrade
from report.build import Options, build_report
from report.command import report_command
from report.data import Group, History, Person, RoundInfo, ShareRow, SitOutRow, StatusChange
from report.figures import growth, round_figures
from report.html import linkify
from report.layout import positions
from report.svg import NO_REPORT_COLOUR, network
from rounds.admin import change_status
from rounds.lifecycle import open_round
from rounds.pair_index import refresh_match
from tests.app import TEST_START, Service
from tests.harness.browser import chromium

if "report" not in main.commands:   # until cli.py registers it
    main.add_command(report_command)

T0 = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
LONDON = ZoneInfo("Europe/London")


# --- pure parts -----------------------------------------------------------------------------------------------

def person(pid: int, org: str, joined: datetime = T0, status: str = "active", forgotten: bool = False) -> Person:
    return Person(pid, f"p{pid:04d}", f"Name {pid}", f"n{pid}@x.example", org, org, status, "", joined, None,
                  forgotten)


def tiny_history(changes: list[StatusChange] | None = None) -> History:
    people = {i: person(i, "a" if i <= 2 else "b") for i in (1, 2, 3, 4)}
    rounds = [RoundInfo(1, 11, T0, T0 + timedelta(days=30)), RoundInfo(2, 22, T0 + timedelta(days=30), None)]
    groups = [Group(1, 1, (1, 3), None, "met", ""), Group(2, 1, (2, 4), None, "no report", ""),
              Group(3, 2, (1, 4), None, "not met", "busy"), Group(4, 2, (2, 3), None, "met", ""),
              Group(5, 2, (1, 3), None, "met", "")]
    return History(people, rounds, groups, [], [SitOutRow(2, 4, "skip")], [ShareRow(2, 1, "x", T0)], changes or [])


def test_round_figures_on_a_hand_checked_history() -> None:
    figures, network_ = round_figures(tiny_history())
    first, second = figures
    assert (first.groups, first.met, first.no_report, first.new_connections) == (2, 1, 1, 1)
    assert (first.components, first.largest_share, first.avg_connections) == (3, 0.5, 0.5)
    assert first.cross_org_share == 1.0 and first.repeats == 0 and not first.is_open
    assert second.is_open and (second.met, second.not_met, second.new_connections) == (2, 1, 1), \
        "1-3 met again: not a new connection"
    assert (second.components, second.largest_share, second.avg_connections) == (2, 0.75, 1.0)
    assert second.repeats == 1 and second.sat_out == 1
    assert network_.edges == {1: [(1, 3)], 2: [(2, 3)]}


def test_growth_reads_statuses_from_the_audit_trail_and_forget_means_left() -> None:
    feb = T0 + timedelta(days=40)
    changes = [StatusChange(1, T0, "", "pending"), StatusChange(1, T0 + timedelta(hours=1), "pending", "active"),
               StatusChange(1, feb, "active", "paused"), StatusChange(2, T0, "", "active"),
               StatusChange(2, feb, "active", "left")]
    months = growth(tiny_history(changes), T0 + timedelta(days=70), ZoneInfo("UTC"))
    assert [m.month for m in months] == ["2026-01", "2026-02", "2026-03"]
    assert months[0].signups == 4 and months[1].signups == 0
    assert months[0].status["active"] == 4, "people with no audit trail count as their status now"
    assert (months[1].status["paused"], months[1].status["left"], months[1].status["active"]) == (1, 1, 2)


def test_layout_is_deterministic_and_keeps_organisations_together() -> None:
    people = [(i, "big" if i % 3 else "small") for i in range(300)]
    degree = {i: i % 7 for i in range(300)}
    first, second = positions(people, degree), positions(list(people), dict(degree))
    assert first == second
    assert all(0 <= x <= 1 and 0 <= y <= 1 for x, y in first.values())
    assert len({(round(x, 6), round(y, 6)) for x, y in first.values()}) == 300
    centre = {org: sum(first[i][0] for i, o in people if o == org) / sum(o == org for _i, o in people)
              for org in ("big", "small")}
    assert centre["big"] > 0.5 > centre["small"], "the largest organisation takes the first wedge, on the right"


def test_pictures_are_labelled_and_text_is_escaped() -> None:
    svg = network("x", "A <title>", "desc & more", {1: (0, 0), 2: (1, 1)}, {1: "#000", 2: "#111"},
                  [("met", [(1, 2)])], labels={1: "<b>", 2: "p2"})
    assert '<title id="x-t">A &lt;title&gt;</title><desc id="x-d">desc &amp; more</desc>' in svg
    assert 'aria-labelledby="x-t x-d"' in svg and "<b>" not in svg
    link = "https://e.org/a?b=1&amp;c=2"
    assert str(linkify("see <i>https://e.org/a?b=1&c=2</i>.")) == \
        f'see &lt;i&gt;<a href="{link}" rel="nofollow noopener">{link}</a>&lt;/i&gt;.'


def test_a_fresh_database_gives_a_report_that_says_so(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    upgrade(engine)
    with sessions(engine)() as session:
        built = build_report(session, tmp_path / "out", Options(), T0)
    engine.dispose()
    page = built.index.read_text()
    assert "No round yet." in page and "Nothing shared yet." in page and built.people == 0
    assert (tmp_path / "out" / "open" / "network.graphml").exists()
    assert (tmp_path / "out" / "export" / "participants.json").read_text().strip() == "[]"


# --- the whole report, from a seeded history ------------------------------------------------------------------

ORGS = ["Leeds City Council", "NHS Digital", "Cabinet Office", "HMRC", "Ordnance Survey", "Met Office"]
REASONS = ["we were both on leave", "no reply from them", "rescheduled to next month", "too busy this month",
           "a family thing", ""]


def seed_history(service: Service, rng: random.Random) -> None:
    """68 people over six monthly rounds (the last still open): met, not met, silent, paused, left, forgotten."""
    now = TEST_START.replace(microsecond=0)
    start = now - timedelta(days=200)
    joins = sorted([start + timedelta(days=rng.uniform(0, 28)) for _ in range(52)] +
                   [start + timedelta(days=rng.uniform(31, 150)) for _ in range(16)])
    settings = service.settings
    added = 0
    for number in range(1, 7):
        opened = start + timedelta(days=30 * number, hours=number)
        with service.session() as s, s.begin():
            while added < len(joins) and joins[added] < opened:
                join(s, added, joins[added], confirm=added % 17 != 5)
                added += 1
            if number == 4:
                s.scalar(select(Participant).where(Participant.email == "person7@ex7.example")).skip_next = True
            rnd = open_round(s, settings, opened, source="test", seed=1000 + number)
            s.flush()
            for match in rnd.matches:
                report_outcomes(s, match, opened, rng, still_open=number == 6)
                refresh_match(s, match.id)   # as a report by email does, so later draws see it
            changes(s, settings, number, opened + timedelta(days=12), rng)
    with service.session() as s, s.begin():
        while added < len(joins):
            join(s, added, joins[added], confirm=True)
            added += 1


def join(s: Any, i: int, at: datetime, confirm: bool) -> None:
    p = Participant(email=f"person{i}@ex{i}.example", name=f"Given{i} Family{i}", organisation=ORGS[i % 6],
                    status=Status.ACTIVE if confirm else Status.PENDING, reply_token=f"rt{i:04d}", created_at=at,
                    confirmed_at=at + timedelta(hours=3) if confirm else None, campaign="launch" if i % 4 else "")
    s.add(p)
    s.flush()
    s.add(AuditEvent(at=at, participant_id=p.id, action="joined", old_status="", new_status="pending", source="email"))
    if confirm:
        s.add(AuditEvent(at=at + timedelta(hours=3), participant_id=p.id, action="confirmed", old_status="pending",
                         new_status="active", source="email"))


def report_outcomes(s: Any, match: Match, opened: datetime, rng: random.Random, still_open: bool) -> None:
    roll = rng.random() * (1.6 if still_open else 1)
    first = match.members[0].participant_id
    when = opened + timedelta(days=rng.uniform(2, 15))
    if roll < 0.08:   # changed their mind: NOT MET, then MET (the latest counts)
        s.add(Outcome(match_id=match.id, participant_id=first, met=False, reason="postponed",
                      reason_group=reason_group("postponed"), reported_at=when - timedelta(days=1)))
    if roll < 0.55:
        s.add(Outcome(match_id=match.id, participant_id=first, met=True, reported_at=when))
        if rng.random() < 0.3:
            s.add(Share(round_id=match.round_id, participant_id=first, shared_at=when,
                        text=rng.choice(["https://example.org/slides <b>great</b>", "a book: The Mom Test"])))
    elif roll < 0.8:
        why = rng.choice(REASONS)
        s.add(Outcome(match_id=match.id, participant_id=first, met=False, reason=why, reason_group=reason_group(why),
                      reported_at=when))


def changes(s: Any, settings: Any, number: int, at: datetime, rng: random.Random) -> None:
    active = sorted(s.scalars(select(Participant.email).where(Participant.status == Status.ACTIVE)))
    if number in (2, 4):
        for email in rng.sample(active, 3):
            change_status(s, settings, email, "pause", at)
    if number == 3:
        paused = sorted(s.scalars(select(Participant.email).where(Participant.status == Status.PAUSED)))
        change_status(s, settings, paused[0], "resume", at)
        for email in rng.sample(active, 2):
            change_status(s, settings, email, "remove", at)
    if number in (3, 5):   # FORGET, as inbound/privacy.forget records and erases it
        met_before = select(Outcome.participant_id).where(Outcome.met.is_(True))
        person_ = s.scalars(select(Participant).where(Participant.id.in_(met_before), Participant.email.like(
            "person%")).order_by(Participant.id).offset(number)).first()
        s.add(AuditEvent(at=at, participant_id=person_.id, action="forgotten", old_status=person_.status,
                         new_status=person_.status, source="email"))
        erase(s, person_)


# --- expected figures, straight from the rows --------------------------------------------------------------

def expected(service: Service) -> dict[str, Any]:
    with service.session() as s:
        people = {p.id: p for p in s.scalars(select(Participant))}
        rounds = {r.id: r for r in s.scalars(select(Round))}
        members: dict[int, list[int]] = defaultdict(list)
        for m in s.scalars(select(MatchMember)):
            members[m.match_id].append(m.participant_id)
        matches = list(s.scalars(select(Match)))
        outcomes = list(s.scalars(select(Outcome)))
        sat = Counter(rounds[so.round_id].number for so in s.scalars(select(SitOut)))
        audits = list(s.scalars(select(AuditEvent).where(AuditEvent.participant_id.is_not(None))))
        shares = [sh.text for sh in s.scalars(select(Share))]
    latest: dict[int, Outcome] = {}
    for o in outcomes:
        if o.match_id not in latest or (o.reported_at, o.id) > (latest[o.match_id].reported_at, latest[o.match_id].id):
            latest[o.match_id] = o
    result = {o: ("met" if latest[o].met else "not met") if o in latest else "no report" for o in members}
    by_round: dict[int, list[Match]] = defaultdict(list)
    for m in matches:
        by_round[rounds[m.round_id].number].append(m)
    rows, seen_pairs, met_pairs, nodes = [], set(), set(), set()
    reasons: Counter[str] = Counter()
    for number in sorted(by_round):
        pairs = [(a, b) for m in by_round[number] for a in members[m.id] for b in members[m.id] if a < b]
        repeats = sum(p in seen_pairs for p in pairs)
        seen_pairs |= set(pairs)
        nodes |= {pid for m in by_round[number] for pid in members[m.id]}
        new = {(a, b) for m in by_round[number] if result[m.id] == "met"
               for a in members[m.id] for b in members[m.id] if a < b} - met_pairs
        met_pairs |= new
        sizes = component_sizes(nodes, met_pairs)
        orgs = [(people[a].organisation, people[b].organisation) for a, b in pairs]
        known = [a != b for a, b in orgs if a and b]
        count = Counter(result[m.id] for m in by_round[number])
        reasons.update(latest[m.id].reason_group for m in by_round[number] if result[m.id] == "not met")
        is_open = next(r for r in rounds.values() if r.number == number).closed_at is None
        rows.append({
            "round": f"{number}" + (" (open)" if is_open else ""), "groups": str(len(by_round[number])),
            "people": str(sum(len(members[m.id]) for m in by_round[number])), "met": str(count["met"]),
            "not_met": str(count["not met"]), "no_report": str(count["no report"]),
            "meet_rate": f"{100 * count['met'] / len(by_round[number]):.1f}%", "new_connections": str(len(new)),
            "components": str(len(sizes)), "largest_share": f"{100 * max(sizes) / len(nodes):.1f}%",
            "cross_org_share": f"{100 * sum(known) / len(known):.1f}%",
            "avg_connections": f"{2 * len(met_pairs) / len(nodes):.2f}", "repeats": str(repeats),
            "trios": str(sum(len(members[m.id]) == 3 for m in by_round[number])), "sat_out": str(sat[number]),
        })
    return {"figures": rows, "growth": expected_growth(people, audits), "people": people, "reasons": reasons,
            "groups": len(matches), "seeds": {r.number: r.seed for r in rounds.values()}, "shares": shares,
            "introduced": nodes, "pairs": seen_pairs, "met_pairs": met_pairs, "outcomes": len(outcomes),
            "result": Counter(result.values())}


def component_sizes(nodes: set[int], edges: set[tuple[int, int]]) -> list[int]:
    parent = {n: n for n in nodes}

    def root(n: int) -> int:
        while parent[n] != n:
            n = parent[n]
        return n
    for a, b in edges:
        parent[root(a)] = root(b)
    return list(Counter(root(n) for n in nodes).values())


def expected_growth(people: dict[int, Participant], audits: list[AuditEvent]) -> list[list[str]]:
    now = TEST_START
    first = min(p.created_at for p in people.values()).astimezone(LONDON)
    year, month, rows = first.year, first.month, []
    while (year, month) <= (now.astimezone(LONDON).year, now.astimezone(LONDON).month):
        nxt = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=LONDON)
        at = min(nxt - timedelta(microseconds=1), now)
        counts: Counter[str] = Counter()
        for p in people.values():
            if p.created_at > at:
                continue
            mine = sorted((a for a in audits if a.participant_id == p.id and a.at <= at), key=lambda a: (a.at, a.id))
            last = mine[-1] if mine else None
            counts["pending" if last is None else "left" if last.action == "forgotten" else last.new_status] += 1
        signups = sum(p.created_at.astimezone(LONDON).strftime("%Y-%m") == f"{year:04d}-{month:02d}"
                      for p in people.values())
        rows.append([f"{year:04d}-{month:02d}", str(signups),
                     *(str(counts[s]) for s in ("pending", "active", "paused", "left", "suspended"))])
        year, month = nxt.year, nxt.month
    return rows


# --- the test --------------------------------------------------------------------------------------------------

def test_report_from_a_seeded_history_reads_right_in_chromium(service: Service, tmp_path: Path,
                                                              database_url: str) -> None:
    seed_history(service, random.Random(42))
    want = expected(service)
    people = want["people"]
    assert len(people) >= 60 and len(want["seeds"]) == 6
    statuses = Counter(p.status for p in people.values())
    forgotten = [p for p in people.values() if p.email.startswith("forgotten-")]
    assert statuses["paused"] and statuses["left"] and len(forgotten) == 2 and statuses["pending"]
    assert all(want["result"][k] for k in ("met", "not met", "no report"))

    out = tmp_path / "report"
    result = service.cli("report", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert f"{len(people)} people, 6 rounds" in result.output
    page = (out / "index.html").read_text()

    # anonymous by default: no names, no addresses, nothing fetched, no script
    for p in people.values():
        assert p.email not in page and (not p.name or p.name not in page)
    assert "<script" not in page.lower() and not re.search(r"""(src|href)=["']?(https?:)?//""", page.replace(
        'href="https://example.org/slides', ""))
    assert "&lt;b&gt;great&lt;/b&gt;" in page, "shared text is escaped"
    assert no_report_colours(page) == {NO_REPORT_COLOUR}, "no report: one colour in bars, lines and legends"

    with chromium() as browser:
        context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
        view = context.new_page()
        fetched: list[str] = []
        view.on("request", lambda r: fetched.append(r.url))
        view.goto((out / "index.html").as_uri())
        assert all(u.startswith("file://") for u in fetched), fetched

        headers = view.locator("#figures-table thead th").all_inner_texts()
        assert len(headers) == 15 and columns_in_view(view, "#figures-table") == headers, \
            "at 1280 px every column of the per-round table is in view, none behind a scroll bar"
        assert not view.locator("#figures-hint").is_visible()
        assert overflowing(view) == [] and dead_links(view) == []
        assert view.locator("#steps-drawn").inner_text() == \
            "The network after rounds 1–5 here, and after round 6 above: every round is drawn."
        assert [view.locator("#network figure").nth(i).get_attribute("id") for i in range(6)] == \
            ["cumulative-latest"] + [f"cumulative-{n}" for n in range(1, 6)]

        rows = view.locator("#figures-table tbody tr")
        assert rows.count() == 6
        for n, expected_row in enumerate(want["figures"]):
            cells = rows.nth(n).locator("[data-key]")
            got = {cells.nth(i).get_attribute("data-key"): cells.nth(i).inner_text() for i in range(cells.count())}
            assert got == expected_row, f"round {n + 1}"

        growth_rows = view.locator("#growth-table tbody tr")
        assert [growth_rows.nth(i).locator("th, td").all_inner_texts() for i in range(growth_rows.count())] == \
            want["growth"]
        assert view.locator("#growth svg polyline").count() == 3
        assert view.locator("#growth svg rect.signups").count() == len(want["growth"])

        summary = {k: view.locator(f'#summary [data-key="{k}"]').inner_text() for k in ("people", "rounds", "groups")}
        assert summary == {"people": str(len(people)), "rounds": "6", "groups": str(want["groups"])}
        total = view.locator("#reasons-table tfoot td").all_inner_texts()
        assert total[1:] == [str(want["reasons"][g]) for g in ("away", "busy", "no reply", "rescheduled", "other", "")] + \
            [str(want["result"]["not met"])]
        assert [int(t) for t in view.locator('#fairness-table [data-key="seed"]').all_inner_texts()] == \
            [want["seeds"][n] for n in range(1, 7)]

        # every picture is there, drawn, labelled, and shows the database's groups
        pictures = view.locator("svg")
        for i in range(pictures.count()):
            svg = pictures.nth(i)
            assert svg.locator("title").first.text_content() and svg.locator("desc").first.text_content()
            assert svg.get_attribute("role") == "img"
        rounds = view.locator("#rounds svg.network")
        assert rounds.count() == 6
        for n in range(6):
            box = rounds.nth(n).bounding_box()
            assert box and box["width"] > 200 and box["height"] > 200
            assert rounds.nth(n).locator("circle.dot").count() == len(want["introduced"])
        latest = view.locator("#round-6 svg")
        drawn = {k: segments(latest, k) for k in ("met", "not-met", "open", "no-report")}
        assert drawn["no-report"] == 0 and drawn["open"] > 0, "the open round's silent groups are grey"
        assert sum(drawn.values()) == count_pairs(service, 6)
        assert segments(view.locator("#cumulative-latest svg"), "met-earlier") + \
            segments(view.locator("#cumulative-latest svg"), "met-this-round") == len(want["met_pairs"])
        assert view.locator("#network svg.network").count() == 6

        phone = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
        narrow = phone.new_page()
        narrow.goto((out / "index.html").as_uri())
        assert len(columns_in_view(narrow, "#figures-table")) < 15
        assert narrow.locator("#figures-hint").is_visible(), "a phone is told the table scrolls sideways"
        assert "15 columns" in narrow.locator("#figures-hint").inner_text()
        assert overflowing(narrow) == [] and dead_links(narrow) == []
        heights = narrow.locator("#growth svg text").evaluate_all("ts => ts.map(t => t.getBoundingClientRect().height)")
        assert heights and min(heights) >= 11, f"the growth chart's text at 390 px: {min(heights):.1f} px tall"
        sampled = tmp_path / "sampled"
        assert service.cli("report", "--out", str(sampled), "--rounds-in-full", "4").exit_code == 0
        narrow.goto((sampled / "index.html").as_uri())
        assert narrow.locator("#network figure[id^='cumulative-']").evaluate_all("fs => fs.map(f => f.id)") == \
            ["cumulative-latest", "cumulative-1", "cumulative-3", "cumulative-4"]
        assert narrow.locator("#steps-drawn").inner_text() == (
            "The network after rounds 1, 3 and 4 here, and after round 6 above. Rounds 2 and 5 are not drawn, "
            "to keep the page short: the table above has their figures.")
        assert narrow.locator("#older-note").inner_text() == \
            "The latest 4 rounds are drawn; rounds 1 and 2 are summarised in the bars and table above."
        assert service.cli("report", "--out", str(tmp_path / "five"), "--rounds-in-full", "5").exit_code == 0
        narrow.goto((tmp_path / "five" / "index.html").as_uri())
        assert narrow.locator("#older-note").inner_text() == \
            "The latest 5 rounds are drawn; round 1 is summarised in the bars and table above."
        phone.close()

        shots = Path(os.environ.get("REPORT_SCREENSHOTS", tmp_path / "shots"))
        if database_url.startswith("sqlite"):
            screenshots(browser, view, out, shots)
        context.close()

    check_exports(out, want)
    named = service.cli("report", "--out", str(tmp_path / "named"), "--names", "--no-orgs", "--format", "csv")
    assert named.exit_code == 0 and "keep it private" in named.output
    named_page = (tmp_path / "named" / "index.html").read_text()
    assert any(p.name in named_page for p in people.values() if p.name)
    assert "Leeds City Council" not in named_page and "organisation A" in named_page
    assert not (tmp_path / "named" / "export" / "groups.json").exists()
    named_people = list(csv.DictReader((tmp_path / "named" / "export" / "participants.csv").open()))
    assert {r["email"] for r in named_people} >= {p.email for p in people.values() if p not in forgotten}
    assert all(not r["email"].startswith("forgotten-") for r in named_people)


def columns_in_view(page: Any, table: str) -> list[str]:
    """The headers of `table` whose whole column a reader sees without scrolling: inside the viewport and
    inside the box that scrolls the table."""
    box = page.locator(table).locator("xpath=..").bounding_box()
    right = min(page.viewport_size["width"], box["x"] + box["width"])
    heads = page.locator(f"{table} thead th")
    seen = []
    for i in range(heads.count()):
        head = heads.nth(i).bounding_box()
        if head["x"] >= max(0, box["x"]) - 0.5 and head["x"] + head["width"] <= right + 0.5:
            seen.append(heads.nth(i).inner_text())
    return seen


def no_report_colours(page: str) -> set[str]:
    """Every colour "no report" is drawn in: bars, their legend, network lines and the legend above them."""
    return {*re.findall(r'fill="(#\w+)"><title>[^<]*: \d+ no report</title>', page),
            *re.findall(r'fill="(#\w+)"/><text[^>]*>no report</text>', page),
            *re.findall(r'class="edge no-report"[^>]*stroke="(#\w+)"', page),
            *re.findall(r'class="stroke no-report" style="border-color:(#\w+)', page)}


OVERFLOWING = """els => els.flatMap(e => {
    const wide = document.documentElement.clientWidth, box = e.getBoundingClientRect();
    const scroller = e.parentElement.closest('.scroll');
    if (scroller) {
        const hint = scroller.previousElementSibling, around = scroller.getBoundingClientRect();
        const scrolls = scroller.scrollWidth > scroller.clientWidth + 1;
        const hinted = hint && hint.classList.contains('scroll-hint') && hint.offsetParent !== null;
        const fits = around.left >= -0.5 && around.right <= wide + 0.5;
        return (scrolls && !hinted) || !fits ? [e.id || e.tagName] : [];
    }
    const fits = e.scrollWidth <= e.clientWidth + 1 && box.left >= -0.5 && box.right <= wide + 0.5;
    return fits ? [] : [e.id || e.tagName];
})"""


def overflowing(page: Any) -> list[str]:
    """Tables and figures wider than their box or the page, unless inside a `.scroll` box that fits the page
    and, when it does scroll, is preceded by a visible hint saying so."""
    wide = page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    return page.locator("table, figure").evaluate_all(OVERFLOWING) + ([] if wide else ["the page scrolls sideways"])


def dead_links(page: Any) -> list[str]:
    """Links that lead nowhere: a local file that does not exist, or an #anchor with no element. Web links are
    only the ones people shared (checked to be only there), not followed."""
    links = page.locator("a[href]").evaluate_all(
        "as => as.map(a => [a.getAttribute('href'), a.href, !!a.closest('#shares')])")
    dead = []
    for raw, absolute, shared in links:
        if raw.startswith("#"):
            if not page.locator(f"[id='{raw[1:]}']").count():
                dead.append(raw)
        elif absolute.startswith("file://"):
            if not Path(unquote(urlsplit(absolute).path)).is_file():
                dead.append(raw)
        elif not (shared and absolute.startswith(("http://", "https://"))):
            dead.append(raw)
    return dead


def segments(svg: Any, style: str) -> int:
    paths = svg.locator(f"path.edge.{style}")
    return sum(len(re.findall("M", paths.nth(i).get_attribute("d") or "")) for i in range(paths.count()))


def count_pairs(service: Service, number: int) -> int:
    with service.session() as s:
        sizes = Counter(s.scalars(select(MatchMember.match_id).join(Match).join(Round).where(Round.number == number)))
    return sum(n * (n - 1) // 2 for n in sizes.values())


def check_exports(out: Path, want: dict[str, Any]) -> None:
    groups = list(csv.DictReader((out / "open" / "groups.csv").open()))
    assert len(groups) == want["groups"]
    assert Counter(g["outcome"] for g in groups) == want["result"]
    graph = nx.read_graphml(out / "open" / "network.graphml")
    assert graph.number_of_nodes() == len(want["introduced"]) and graph.number_of_edges() == len(want["pairs"])
    assert sum(1 for _u, _v, d in graph.edges(data=True) if d["met"] > 0) == len(want["met_pairs"])
    for path in (out / "open").iterdir():
        text = path.read_text()
        assert "@" not in text and "Given" not in text, path
    growth_csv = [list(r.values()) for r in csv.DictReader((out / "open" / "growth.csv").open())]
    assert growth_csv == want["growth"]
    participants = list(csv.DictReader((out / "export" / "participants.csv").open()))
    assert len(participants) == len(want["people"]) and "email" not in participants[0]
    assert (out / "export" / "outcomes.json").exists() and (out / "export" / "figures.csv").exists()
    assert len(list(csv.DictReader((out / "export" / "outcomes.csv").open()))) == want["outcomes"]


def screenshots(browser: Any, view: Any, out: Path, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    view.screenshot(path=str(folder / "laptop-top.png"))
    for section in ("rounds", "network", "growth", "reasons", "fairness"):
        view.locator(f"#{section}").screenshot(path=str(folder / f"laptop-{section}.png"))
    figures, table = view.locator("#figures").bounding_box(), view.locator("#figures-table").bounding_box()
    left = min(figures["x"], table["x"])
    view.screenshot(path=str(folder / "laptop-figures.png"), full_page=True, clip={   # the table is wider
        "x": left, "y": view.locator("#figures").evaluate("e => e.getBoundingClientRect().top + scrollY"),
        "height": figures["height"],
        "width": max(figures["x"] + figures["width"], table["x"] + table["width"]) - left})
    phone = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844},
                                device_scale_factor=2)
    page = phone.new_page()
    page.goto((out / "index.html").as_uri())
    page.screenshot(path=str(folder / "phone-top.png"))
    page.goto((out / "index.html").as_uri() + "#rounds")
    page.screenshot(path=str(folder / "phone-rounds.png"))
    phone.close()
    assert all(p.stat().st_size > 5000 for p in folder.glob("*.png"))


def test_names_that_look_like_formulas_do_not_run_in_a_spreadsheet(tmp_path: Path) -> None:
    from report.export import write_csv
    rows = [{"name": '=HYPERLINK("http://evil.example","Sam")', "organisation": "+44 NHS", "met": 3},
            {"name": "Kim - Lee", "organisation": "@home", "met": -1}]
    read = list(csv.DictReader(write_csv(tmp_path / "people.csv", rows).open()))
    assert [r["name"] for r in read] == ['\'=HYPERLINK("http://evil.example","Sam")', "Kim - Lee"]
    assert [r["organisation"] for r in read] == ["'+44 NHS", "'@home"]
    assert [r["met"] for r in read] == ["3", "-1"], "numbers stay numbers"
