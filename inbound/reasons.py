"""Group the reasons people give with NOT MET (pure), so the report can count them.

Away (on leave, ill, out of office) is kept apart from busy: one is an absence
that passes, the other a sign the scheme asks too much time. The groups were
checked against the demo's reasons and every NOT MET in tests/corpus.
"""
from __future__ import annotations

import re

AWAY = (r"\bleave\b|holiday|vacation|\bsick|\bill\b|illness|unwell|off work|out of (the )?office|\baway\b|"
        r"annual leave|parental|maternity|paternity|bereave|hospital|\bPTO\b|\bOOO\b")
GROUPS = (
    ("no reply", r"no (reply|response|answer)|(didn'?t|did not|never) (repl|respond|answer|hear|(get|got) back)|"
                 r"heard nothing|ghost|not (replied|responded)|couldn'?t reach|unreachable"),
    ("rescheduled", r"re-?schedul|postpon|re-?arrang|moved|next (week|month)|later|another time|cancel+ed|booked|"
                    r"in the diary for|planned for"),
    ("away", AWAY),
    ("busy", r"busy|workload|no time|(enough|short of) time|find (a )?time|diary|diaries|calendar|swamped|"
             r"deadline|strike|training|snowed under|flat out|hectic"),
)
LABELS = {"away": "away (leave, illness)", "": "no reason given"}
"""How a group is named where people read it (the stored key stays short)."""


def reason_group(reason: str) -> str:
    """One of: away, busy, no reply, rescheduled, other (and "" when no reason was given)."""
    text = " ".join(reason.lower().split())
    if not text:
        return ""
    return next((name for name, pattern in GROUPS if re.search(pattern, text, re.IGNORECASE)), "other")


def label(group: str) -> str:
    return LABELS.get(group, group)
