"""The newest migration's revision, read from the migration files without alembic or SQLAlchemy:
every command checks the database against it, and the quiet `tick` (quiet.py) does so in a few ms."""
from __future__ import annotations

import re
from pathlib import Path

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
REVISION_LINE = re.compile(r"^(revision|down_revision)\s*(?::[^=\n]*)?=\s*(?:'([^'\n]+)'|\"([^\"\n]+)\"|(None))\s*$",
                           re.MULTILINE)


def head_revision(versions: Path = MIGRATIONS / "versions") -> str | None:
    """The newest migration's revision, read from the `revision` and `down_revision` lines of the
    files; None unless they make exactly one head (a merge, a line we cannot read)."""
    revisions, parents = set(), set()
    for path in versions.glob("[!_]*.py"):
        found = {m.group(1): m.group(2) or m.group(3) for m in REVISION_LINE.finditer(path.read_text("utf-8"))}
        if set(found) != {"revision", "down_revision"} or found["revision"] is None:
            return None
        revisions.add(found["revision"])
        parents.add(found["down_revision"])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None
