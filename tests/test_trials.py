"""Trials through the real service: plan, start, tell people, NO TRIALS, FORGET, status and stop (both databases)."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone

from sqlalchemy import select

from models import Assignment, Experiment, Match, Participant, Round, SitOut, Status
from tests.app import Service
from tests.mail import incoming, reply_to
from tests.test_digest import member
from tests.test_rounds import at, run

JOINED = datetime(2026, 3, 2, 10, tzinfo=timezone.utc)


def add_people(service: Service, n: int) -> None:
    with service.session() as s, s.begin():
        s.add_all(Participant(email=f"p{i}@org{i % 4}.example", name=f"Person {i}", status=Status.ACTIVE,
                              organisation=f"Org {i % 4}", reply_token=f"tok{i:04d}", confirmed_at=JOINED)
                  for i in range(n))


def arms(service: Service) -> dict[int | None, str]:
    with service.session() as s:
        return {pid: arm for pid, arm in s.execute(select(Assignment.participant_id, Assignment.arm))}


def test_a_trial_is_refused_when_its_arms_are_too_small_to_say_anything(service: Service) -> None:
    add_people(service, 20)
    assert service.cli("experiment", "plan", "options", "--arms", "options,no-options", "--rounds", "6").exit_code == 0
    result = service.cli("experiment", "start", "options")
    assert result.exit_code == 1
    assert "each arm needs at least 32 to see a 20-point difference in meet rate over 6 rounds" in result.output
    assert "the arms would have options 10, no-options 10" in result.output
    assert arms(service) == {}, "nothing assigned"
    wrong = service.cli("experiment", "plan", "mixed", "--arms", "monthly,trios")
    assert wrong.exit_code == 1 and "cadence: monthly, two-monthly" in wrong.output


def test_start_assigns_everyone_evenly_tells_them_and_refuses_a_second_on_the_same_thing(service: Service) -> None:
    add_people(service, 40)
    service.cli("experiment", "plan", "book-2027", "--arms", "options,no-options", "--rounds", "12")
    result = service.cli("experiment", "start", "book-2027", "--seed", "11")
    assert result.exit_code == 0, result.output
    assert "started from round 1: options 20 people, no-options 20 people (seed 11)" in result.output
    assigned = arms(service)
    assert len(assigned) == 40 and Counter(assigned.values()) == {"options": 20, "no-options": 20}
    for org in range(4):
        in_org = Counter(arm for pid, arm in assigned.items() if pid is not None and (pid - 1) % 4 == org)
        assert in_org["options"] == in_org["no-options"] == 5, "each organisation split evenly"

    service.tick()
    told = service.smtp.wait_for(40)
    assert {c.rcpt_tos[0] for c in told} == {f"p{i}@org{i % 4}.example" for i in range(40)}
    body = told[0].message.get_body(("plain",)).get_content()
    assert "tests the scheme, not you" in body and "Reply NO TRIALS" in body
    assert ("Yours: times to book." in body) or ("Yours: no times offered." in body)

    service.cli("experiment", "plan", "again", "--arms", "no-options,options", "--rounds", "12")
    clash = service.cli("experiment", "start", "again")
    assert clash.exit_code == 1 and "trial 'book-2027' already compares" in clash.output
    service.tick()
    trial_mail = [c for c in service.smtp.messages if "is trying something" in c.message["Subject"]]
    assert len(trial_mail) == 40, "nobody is told twice"


def test_no_trials_and_forget_leave_the_analysis_but_keep_the_arm_sizes(service: Service) -> None:
    add_people(service, 40)
    service.cli("experiment", "plan", "starters", "--arms", "starters,no-starters", "--rounds", "12")
    refused = service.cli("experiment", "start", "starters", "--seed", "3")
    assert refused.exit_code == 1 and "set meetings.starters (one per line) first" in refused.output
    service.set("meetings", "starters", "What surprised you this year?")
    assert service.cli("experiment", "start", "starters", "--seed", "3").exit_code == 0
    service.imap.deliver(incoming("Person 1 <p1@org1.example>", "NO TRIALS", to="coffee+tok0001@example.org"))
    service.tick()
    with service.session() as s:
        person = s.scalar(select(Participant).where(Participant.email == "p1@org1.example"))
        row = s.scalar(select(Assignment).where(Assignment.participant_id == person.id))
        assert person.no_trials and row.left_at is not None and person.status == Status.ACTIVE
    subjects = [c.message["Subject"] for c in service.smtp.messages if c.rcpt_tos == ["p1@org1.example"]]
    assert "You're out of trials" in subjects

    service.imap.deliver(incoming("Person 2 <p2@org2.example>", "FORGET", to="coffee+tok0002@example.org"))
    service.tick()
    [confirm] = [c.message for c in service.smtp.messages
                 if c.message["Subject"] == "Confirm: erase everything we hold about you"]
    service.imap.deliver(incoming("Person 2 <p2@org2.example>", "Re: confirm", "CONFIRM",
                                  to=confirm["Reply-To"].addresses[0].addr_spec))
    service.tick()
    assigned = arms(service)
    assert None in assigned and len(assigned) == 40, "the forgotten person's arm is kept, without them"
    status = service.cli("experiment", "status", "starters")
    assert "A conversation starter: 20 people" in status.output and "No starter: 20 people" in status.output


def test_status_and_stop_keep_the_result_and_say_it_stopped_early(service: Service) -> None:
    add_people(service, 40)
    service.cli("experiment", "plan", "size", "--arms", "pairs,trios", "--rounds", "24")
    service.cli("experiment", "start", "size", "--seed", "9")
    status = service.cli("experiment", "status")
    assert "size: meeting in pairs against in small groups (running; 0 rounds of 24 done)" in status.output
    assert "Too early to tell" in status.output
    stopped = service.cli("experiment", "stop", "size")
    assert stopped.exit_code == 0 and "stopped" in stopped.output and "early" in stopped.output
    with service.session() as s:
        trial = s.scalar(select(Experiment))
        assert trial.stopped_early and trial.result.startswith("Too early to tell")
    again = service.cli("experiment", "stop", "size")
    assert again.exit_code == 1 and "has stopped already" in again.output


def test_the_report_and_status_show_each_arm_and_the_open_data_carries_the_arm(service: Service, tmp_path) -> None:  # type: ignore[no-untyped-def]
    add_people(service, 40)
    service.cli("experiment", "plan", "book", "--arms", "options,no-options", "--rounds", "12")
    service.cli("experiment", "start", "book", "--seed", "5")
    assigned = arms(service)
    assert run(service, at("2026-12-01T10:00")) == ["round 1 opened: 20 groups"]
    intros = {c.message["Message-ID"]: c.message for c in service.smtp.messages if "meet" in c.message["Subject"]}
    with service.session() as s:
        members = {m.intro_message_id: [p.participant_id for p in m.members] for m in s.scalars(select(Match))}
    met_groups = 0
    for message_id, intro in intros.items():
        if any(assigned[p] == "options" for p in members[message_id][:1]):
            service.imap.deliver(reply_to(intro, member(intro), "MET - good chat"))
            met_groups += 1
    run(service, at("2026-12-03T10:00"))
    run(service, at("2027-01-04T10:00"))

    status = service.cli("experiment", "status", "book")
    expected = Counter(assigned[p] for mid, ps in members.items() if assigned[ps[0]] == "options" for p in ps)
    assert "Times to book: 20 people, " in status.output
    assert f"({expected['options']} of 20)" in status.output and f"({expected['no-options']} of 20)" in status.output
    assert "1 round of 12 done" in status.output

    result = service.cli("report", "--out", str(tmp_path / "r"))
    assert result.exit_code == 0, result.output
    page = (tmp_path / "r" / "index.html").read_text()
    section = page[page.index('id="trials"'):page.index('id="shares"')]
    assert "book: introductions that offer times to book against introductions that do not" in section
    assert "Assignment seed 5." in section and "Running: 1 round of 12 done." in section
    rows = (tmp_path / "r" / "open" / "trials.csv").read_text().splitlines()
    assert rows[0] == "id,trial,arm" and len(rows) == 41
    assert Counter(r.split(",")[2] for r in rows[1:]) == {"options": 20, "no-options": 20}
    assert "@" not in "".join(rows), "anonymous"
    assert met_groups > 0


def groups_of(service: Service, number: int) -> list[list[int]]:
    with service.session() as s:
        rnd = s.scalar(select(Round).where(Round.number == number))
        return [sorted(m.participant_id for m in match.members) for match in rnd.matches]


def test_cadence_arms_are_drawn_apart_and_two_monthly_people_rest_every_other_round(service: Service) -> None:
    add_people(service, 70)
    service.cli("experiment", "plan", "cadence", "--arms", "monthly,two-monthly", "--rounds", "24")
    assert service.cli("experiment", "start", "cadence", "--seed", "2").exit_code == 0
    assigned = arms(service)
    run(service, at("2026-12-01T10:00"))
    first = groups_of(service, 1)
    assert all(len({assigned[p] for p in group}) == 1 for group in first), "no group mixes the arms"
    assert sum(len(g) for g in first) == 70

    sent_before = len(service.smtp.messages)
    run(service, at("2027-01-04T10:00"))
    second = groups_of(service, 2)
    resting = {p for p, arm in assigned.items() if arm == "two-monthly"}
    assert {p for g in second for p in g} == set(assigned) - resting, "two-monthly people rest in round 2"
    with service.session() as s:
        reasons = Counter(s.scalars(select(SitOut.reason).join(Round).where(Round.number == 2)))
    assert reasons["trial"] == len(resting) == 35
    later = [c.message["Subject"] for c in service.smtp.messages[sent_before:]]
    assert not any("No introduction" in subject for subject in later), "their month off is not announced"
    run(service, at("2027-02-01T10:00"))
    assert {p for g in groups_of(service, 3) for p in g} == set(assigned), "everyone is back in round 3"


def test_a_group_size_trial_draws_trios_for_the_trios_arm_only(service: Service) -> None:
    add_people(service, 60)
    service.cli("experiment", "plan", "size", "--arms", "pairs,trios", "--rounds", "12")
    assert service.cli("experiment", "start", "size", "--seed", "4").exit_code == 0
    assigned = arms(service)
    run(service, at("2026-12-01T10:00"))
    sizes = {arm: Counter(len(g) for g in groups_of(service, 1) if assigned[g[0]] == arm) for arm in ("pairs", "trios")}
    assert sizes["pairs"] == {2: 15} and sizes["trios"] == {3: 10}


def test_each_copy_of_an_introduction_follows_its_readers_arm(service: Service) -> None:
    add_people(service, 40)
    service.set("meetings", "starters", "What surprised you at work this year?\\nWhat would you change first?")
    service.cli("experiment", "plan", "book", "--arms", "options,no-options", "--rounds", "12")
    started = service.cli("experiment", "start", "book", "--seed", "8")
    assert started.exit_code == 0, started.output
    assigned = arms(service)
    with service.session() as s:
        address = {p.email: p.id for p in s.scalars(select(Participant))}
    run(service, at("2026-12-01T10:00"))
    copies = [c for c in service.smtp.messages if "meet" in c.message["Subject"]]
    assert len(copies) == 40
    for copy in copies:
        body = copy.message.get_body(("plain",)).get_content()
        offered = "Times that suit you all" in body
        assert offered == (assigned[address[copy.rcpt_tos[0]]] == "options"), copy.rcpt_tos
        assert "Something to talk about" in body, "the starter is not what this trial varies"
