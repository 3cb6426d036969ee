"""A realistic example context for every email: for the rendered examples in docs/emails and the
test that every template renders (StrictUndefined turns a missing variable into a failure)."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

SAM = SimpleNamespace(name="Sam Jones", email="sam.jones@leeds.gov.uk", role="Policy officer",
                      organisation="Leeds City Council", bio="Working on adult social care data.",
                      video="https://meet.example/sam", phone="", links="")
KIM = SimpleNamespace(name="Kim Lee", email="kim.lee@nhs.net", role="Service designer", organisation="NHS England",
                      bio="", video="", phone="0113 496 0000", links="https://blog.example/kim")
ALEX = SimpleNamespace(name="Alex Evans", email="alex.evans@cabinetoffice.gov.uk", role="Analyst",
                       organisation="Cabinet Office", bio="", video="", phone="", links="")
GROUP = {"members": [SAM, KIM], "names": "Sam Jones and Kim Lee", "greet": "Sam and Kim", "deadline": "Friday 1 January", "round_no": 3}
OFFER = {"options": ["Tue 8 Dec, 10:00–10:30 (London time)", "Thu 10 Dec, 14:00–14:30 (London time)",
                     "Tue 15 Dec, 10:30–11:00 (London time)"], "numbers": "1, 2 or 3", "minutes": 30, "host_name": "Kim",
         "meeting": {"mode": "online", "place": "", "link": "https://meet.example/sam"},
         "starter": "What is one thing your team does that others should copy?"}
PROFILE = ["Name: Sam Jones", "Call me: Sam (from your name)", "Organisation: Leeds City Council", "Role: Policy officer", "Phone: (not given)",
           "Video: https://meet.example/sam", "Links: (not given)", "Bio: Working on adult social care data.",
           "Available: Tue, Thu mornings; Fri 2-4pm (we read: Tue, Thu until 12:00; Fri 14:00–16:00)", "Meet: in person",
           "Where: Leeds", "Time zone: (not given: Europe/London)"]
UNREAD = SimpleNamespace(field="Available", wrote="whenever suits", why='we could not read "whenever"',
                         example="Available: Tue, Thu mornings; Fri 2-4pm")

EXAMPLES: dict[str, dict[str, Any]] = {
    "participant/confirm": {"expires_days": 7},
    "participant/welcome": {},
    "participant/already_member": {},
    "participant/confirm_needed": {},
    "participant/confirm_command": {"command": "PAUSE", "quoted": "until 1 March"},
    "participant/help": {},
    "participant/not_understood": {},
    "participant/not_a_member": {"command": "MET", "no_group_yet": False},
    "group/intro": {**GROUP, **OFFER},
    "group/intro (trio)": {**GROUP, **OFFER, "members": [SAM, KIM, ALEX], "names": "Sam Jones, Kim Lee and Alex Evans",
                            "greet": "Sam, Kim and Alex", "numbers": "1 or 2", "options": OFFER["options"][:2],
                            "meeting": {"mode": "in_person", "place": "Leeds", "link": ""}, "starter": ""},
    "group/intro (no time fits)": {**GROUP, **OFFER, "options": [], "numbers": "",
                                   "meeting": {"mode": "online", "place": "", "link": ""}},
    "group/nudge": {**GROUP, **OFFER, "options": OFFER["options"][1:], "numbers": "1 or 2"},
    "group/checkin": GROUP,
    "participant/outcome_thanks": {"met": True, "reason": "", "others": "Kim Lee"},
    "participant/outcome_thanks (not met)": {"met": False, "reason": "we were both on leave", "others": "Kim Lee"},
    "participant/sit_out": {"reason": "odd", "next_round": "1 February"},
    "participant/skipping": {"when": "1 February"},
    "participant/paused": {"when": "1 March 2027"},
    "participant/pause_unclear": {"words": "for a bit"},
    "participant/resumed": {"when": "1 February"},
    "participant/left": {},
    "participant/still_in": {},
    "participant/paused_silent": {},
    "participant/profile": {"lines": PROFILE, "updated": ["availability", "place", "role"], "problems": []},
    "participant/profile (a line we could not read)": {"lines": PROFILE, "updated": [], "problems": [UNREAD]},
    "participant/share_thanks": {},
    "participant/mydata": {
        "profile": PROFILE, "status": "active", "email": SAM.email, "joined": "23 November 2026",
        "confirmed": "23 November 2026", "campaign": "localgovcamp", "state": ["Sitting out the next round (SKIP)"],
        "history": ["Round 1: Kim Lee (met)"], "reports": ["Round 1, 2 December 2026: MET"],
        "sat_out": ["Round 2: you asked to skip it"], "shares": ["2 December 2026: https://blog.example/what-we-learned"],
        "pending": [], "audit": ["23 Nov 2026 09:12: confirmed (pending to active), by email"],
        "received": ['23 Nov 2026 09:12: "Re: Please confirm" from sam@leeds.gov.uk: joined'],
        "sent": ['23 Nov 2026 09:00: "Please confirm you\'d like to join Coffee Roulette" (sent)'],
    },
    "participant/forget_confirm": {},
    "participant/forgotten": {},
    "participant/invitation": {"method": "REQUEST", "update": False, "left": "", "others": "Kim Lee", "short": "Tue 24 Nov 11:00",
                               "when": "Tuesday 24 November, 11:00-11:30 (Europe/London)", "where": "https://meet.example/sam"},
    "participant/invitation (moved)": {"method": "REQUEST", "update": True, "left": "", "others": "Kim Lee",
                                       "short": "Thu 26 Nov 10:00",
                                       "when": "Thursday 26 November, 10:00-10:30 (Europe/London)", "where": "https://meet.example/sam"},
    "participant/invitation (cancelled)": {"method": "CANCEL", "update": False, "left": "", "others": "Kim Lee",
                                           "short": "Thu 26 Nov 10:00",
                                           "when": "Thursday 26 November, 10:00-10:30 (Europe/London)", "where": ""},
    "participant/invitation (a member left)": {"method": "REQUEST", "update": True, "left": "Alex Murray", "others": "Kim Lee",
                                               "short": "Tue 24 Nov 11:00", "where": "https://meet.example/sam",
                                               "when": "Tuesday 24 November, 11:00-11:30 (Europe/London)"},
    "participant/invitation (the other member left)": {"method": "CANCEL", "update": False, "left": "Kim Lee", "others": "you",
                                                       "short": "Tue 24 Nov 11:00", "where": "",
                                                       "when": "Tuesday 24 November, 11:00-11:30 (Europe/London)"},
    "participant/uninvited": {"method": "CANCEL", "update": False, "left": "Alex Murray", "others": "you",
                              "short": "Tue 24 Nov 11:00", "where": "",
                              "when": "Tuesday 24 November, 11:00-11:30 (Europe/London)"},
    "group/options": {"greet": "Sam and Kim", "why": "Kim Lee can't make Thursday 26 November, 10:00-10:30 (Europe/London), "
                      "so that meeting is off.", "numbers": "1, 2 or 3", "minutes": 30, "options": [
                          "Mon 30 Nov, 09:00–09:30 (London time)", "Tue 1 Dec, 09:00–09:30 (London time)",
                          "Wed 2 Dec, 09:00–09:30 (London time)"]},
    "participant/booking_problem": {"problem": "no_such_option", "asked": "4", "count": 3, "numbers": "", "when": ""},
    "participant/booking_problem (round closed)": {"problem": "closed", "asked": "2", "count": 3, "numbers": "", "when": ""},
    "organiser/bounce_notice": {"person": SAM, "bounces": 3},
    "organiser/digest": {
        "round": SimpleNamespace(number=5, groups=42, trios=1, met=27, not_met=8, no_report=7, new_connections=31),
        "rate": "64%", "reasons": [("busy", 4), ("away (leave, illness)", 3), ("no reply", 2), ("rescheduled", 1), ("no reason given", 1)],
        "moved": SimpleNamespace(joined=6, left=1), "active": 88, "paused": 5, "connected": "91%",
        "next": SimpleNamespace(number=6, groups=45), "attachment": "network-report-round-5.html",
        "booking": ["Groups that booked a time met 81% of the time (22 of 27); those that did not, 33% (5 of 15).",
                    "Among groups that did not book, the reason most given for not meeting: busy (4)."],
    },
    "participant/trial_started": {"what": "meeting every month against every two months",
                                  "what_short": "how often rounds come", "arm_label": "Two-monthly rounds"},
    "participant/no_trials": {},
    "organiser/status": {"lines": [
        "participants: 88 active, 5 paused, 2 pending", "outbox: 0 waiting, 1 failed", "quarantine: 0 messages",
        '  failed (last tried 2026-12-01 10:02 GMT) to gone@x.example, "Your coffee match": 550 5.1.1 no such user',
        "    check the address with the person, or pause them (`unmentoring participants pause EMAIL`)",
        "  a failed email is not tried again (the reason is the receiving server's)",
        "answers to people not taking part: 0 in the last hour, at most 30 (service.stranger_answers_per_hour)",
        "next: round 6: nudge groups that have not reported at 2026-12-08T09:00+00:00",
    ]},
    "organiser/report": {"attachment": "network-report-2026-12-02.html", "rounds": 5, "people": 95},
    "organiser/organiser_help": {"command": "STATUS"},
    "organiser/organiser_help (asked for HELP)": {"command": ""},
}


def template_of(example: str) -> str:
    return example.split(" (")[0]


def context_of(example: str) -> dict[str, Any]:
    base = {"service_name": "Coffee Roulette", "organiser": "organiser@example.org", "name": "Sam",
            "full_name": "Sam Jones"}
    return {**base, **EXAMPLES[example]}
