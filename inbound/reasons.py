"""Group the reasons people give with NOT MET (pure), so the report can count them."""
from __future__ import annotations

import re

GROUPS = (
    ("no reply", r"no (reply|response|answer)|(didn'?t|did not|never) (repl|respond|answer|hear|(get|got) back)|"
                 r"heard nothing|ghost|not (replied|responded)|couldn'?t reach|unreachable"),
    ("rescheduled", r"re-?schedul|postpon|re-?arrang|moved|next (week|month)|later|another time|cancel+ed|booked|"
                    r"in the diary for|planned for"),
    ("busy", r"busy|leave|holiday|vacation|sick|ill\b|illness|workload|no time|(enough|short of) time|find (a )?time|"
             r"diary|calendar|away|off work|out of (the )?office|swamped|deadline|strike|training"),
)


def reason_group(reason: str) -> str:
    """One of: busy, no reply, rescheduled, other (and "" when no reason was given)."""
    text = " ".join(reason.lower().split())
    if not text:
        return ""
    return next((name for name, pattern in GROUPS if re.search(pattern, text)), "other")
