"""Write every email the service sends to docs/emails: text, HTML and a 360 px-wide screenshot.

    .venv/bin/python scripts/render_emails.py
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mailer.examples import EXAMPLES, context_of, template_of  # noqa: E402
from mailer.render import render  # noqa: E402
from tests.harness.browser import chromium  # noqa: E402

OUT = ROOT / "docs" / "emails"


def slug(example: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", example.lower()).strip("-")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 360, "height": 640})
        for example in EXAMPLES:
            rendered = render(template_of(example), context_of(example))
            name = slug(example)
            (OUT / f"{name}.txt").write_text(f"Subject: {rendered.subject}\n\n{rendered.text}")
            (OUT / f"{name}.html").write_text(rendered.html)
            page.set_content(rendered.html)
            page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
            rows.append(f"| {example} | {rendered.subject} | [text]({name}.txt) · [html]({name}.html) · "
                        f"[phone]({name}.png) |")
    index = ["# Every email, as sent", "",
             "Made by `scripts/render_emails.py` from `mailer/examples.py`; screenshots by headless Chromium "
             "at 360 px wide (a small phone). An answer to a message in a group's thread takes the thread's "
             "subject, `Re: <the introduction's subject>`, instead of the one shown here.", "", "| email | subject | files |", "|---|---|---|", *rows, ""]
    (OUT / "README.md").write_text("\n".join(index))
    print(f"{len(rows)} emails written to {OUT}")


if __name__ == "__main__":
    main()
