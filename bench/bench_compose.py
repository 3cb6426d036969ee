"""Composing an email: `mailer.compose.compose` against the standard library's `EmailMessage`
building the same email (the test oracle in tests/test_compose.py), in the same run.

    .venv/bin/python bench/bench_compose.py            # 5,000 emails of each kind
    .venv/bin/python bench/bench_compose.py --emails 1000

Three kinds, rendered from the real templates: a JOIN confirmation to one person (ASCII
name), an introduction to a group of three (one non-ASCII name, so encoded words), and the
same introduction answering an Outlook-length Message-ID. No servers are needed.
"""
from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mailer.compose import Envelope, address, compose  # noqa: E402
from mailer.examples import EXAMPLES  # noqa: E402
from mailer.render import Rendered, render  # noqa: E402
from tests.test_compose import oracle  # noqa: E402

OUTLOOK_ID = "<PH0PR11MB5642E2A1B94F2C8D1D0B8C43A4E39@PH0PR11MB5642.namprd11.prod.outlook.com>"
PEOPLE = [("sam.okafor@leeds.gov.example", "Sam Okafor"), ("zoe@nhs-trust.example", "Zoë Ñúñez"),
          ("kim@cabinet-office.example", "Kim O'Neill")]


def kinds() -> dict[str, tuple[Rendered, Envelope]]:
    now = datetime(2026, 11, 23, 9, 30, tzinfo=timezone.utc)
    base = {"service_name": "Coffee Roulette", "organiser": "organiser@example.org"}
    welcome = render("participant/confirm", {**base, "name": "Sam Okafor", **EXAMPLES["participant/confirm"]}, None)
    intro = render("group/intro", {**base, **EXAMPLES["group/intro (trio)"]}, None)

    def envelope(to: list[tuple[str, str]], thread: str | None = None) -> Envelope:
        return Envelope(sender=address("coffee@example.org", "Coffee Roulette"), to=[address(e, n) for e, n in to],
                        reply_to=[address("coffee+t7x9q2@example.org", "Coffee Roulette")] + [address(e) for e, _ in to[1:]],
                        message_id="<intro.t7x9q2.5f1e2d3c4b5a@example.org>", date=now, loop_id="example.org",
                        unsubscribe="coffee+t7x9q2@example.org", in_reply_to=thread, references=[thread] if thread else [])

    return {"confirm (1 person)": (welcome, envelope(PEOPLE[:1])), "intro (3, non-ASCII name)": (intro, envelope(PEOPLE)),
            "intro answering Outlook": (intro, envelope(PEOPLE, OUTLOOK_ID))}


def per_email(build: Callable[[Rendered, Envelope], bytes], rendered: Rendered, env: Envelope, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        build(rendered, env)
    return (time.perf_counter() - start) / n * 1000


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--emails", type=int, default=5_000)
    n = parser.parse_args(argv).emails
    print(f"{'email':<28} {'EmailMessage ms':>15} {'ours ms':>8} {'faster':>7}")
    for label, (rendered, env) in kinds().items():
        theirs, ours = per_email(oracle, rendered, env, n), per_email(compose, rendered, env, n)
        print(f"{label:<28} {theirs:>15.3f} {ours:>8.3f} {theirs / ours:>6.0f}x")


if __name__ == "__main__":
    main()
