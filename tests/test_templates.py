"""Every email renders from its template, escapes what people typed, and fits a phone screen."""
from __future__ import annotations

from pathlib import Path

import pytest

from mailer.examples import EXAMPLES, context_of, template_of
from mailer.render import render
from templates import TEMPLATE_DIR
from tests.harness.browser import chromium


def test_every_template_has_an_example() -> None:
    names = {str(p.relative_to(TEMPLATE_DIR))[:-3] for p in Path(TEMPLATE_DIR).rglob("*.j2")
             if not p.name.startswith("_") and p.name != "layout.html.j2"}
    assert names == {template_of(e) for e in EXAMPLES}


@pytest.mark.parametrize("example", list(EXAMPLES))
def test_renders_with_one_clear_subject_and_the_reply_marker(example: str) -> None:
    rendered = render(template_of(example), context_of(example))
    assert rendered.subject and "\n" not in rendered.subject and len(rendered.subject) < 90
    assert rendered.text.startswith("## Please reply above this line ##")
    assert "{{" not in rendered.text and "{%" not in rendered.text


def test_what_people_type_is_escaped_in_html() -> None:
    rendered = render("participant/welcome", {**context_of("participant/welcome"),
                                              "name": '<script>alert(1)</script> & "Sam"'})
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html


def test_every_email_fits_a_360px_phone_screen() -> None:
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 360, "height": 640})
        for example in EXAMPLES:
            page.set_content(render(template_of(example), context_of(example)).html)
            width = page.evaluate("document.documentElement.scrollWidth")
            font = page.evaluate("Math.min(...[...document.querySelectorAll('p')].slice(1).map(p => parseFloat(getComputedStyle(p).fontSize)))")
            assert width <= 360, f"{example} scrolls sideways on a phone ({width}px)"
            assert font >= 14, f"{example} text is too small to read on a phone"
