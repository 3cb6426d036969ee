"""Render an email's subject, plain text and HTML from one template (pure: no I/O but reading templates).

Each template defines a ``subject`` block and a ``body`` block written as plain
text. The HTML part is derived from that same text, escaped, so the two parts can
never say different things and nothing a participant typed becomes markup.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from markupsafe import Markup, escape

from templates import TEMPLATE_DIR
from wording import plural

if TYPE_CHECKING:
    from jinja2 import Environment

CUT_LINE = "## Please reply above this line ##"
_URL = re.compile(r"(https?://[^\s<>\"]+[^\s<>\".,;:!?)])")
_COMMAND = re.compile(r"\b(JOIN|CONFIRM|MET|NOT MET|SKIP|PAUSE|RESUME|LEAVE|PROFILE|SHARE|HELP|FORGET|MYDATA|BOOK|RESCHEDULE)\b")


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@lru_cache(maxsize=8)
def environment(override_dir: str | None = None) -> Environment:
    """Templates from the organiser's folder first (if configured), then ours. jinja2 is loaded here,
    for the first email a run writes, not by every run that imports this module (issue 15)."""
    from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined

    loaders = [FileSystemLoader(override_dir)] if override_dir else []
    loaders.append(FileSystemLoader(str(TEMPLATE_DIR)))
    env = Environment(
        loader=ChoiceLoader(loaders),
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["plural"] = plural
    return env


def render(name: str, context: dict[str, Any], override_dir: str | None = None) -> Rendered:
    env = environment(override_dir)
    template = env.get_template(f"{name}.j2")
    ctx = template.new_context(context)
    subject = " ".join("".join(template.blocks["subject"](ctx)).split())
    body = _tidy("".join(template.blocks["body"](ctx)))
    text = f"{CUT_LINE}\n\n{body}"
    html = env.get_template("layout.html.j2").render(subject=subject, body=text_to_html(body), cut_line=CUT_LINE)
    return Rendered(subject=subject, text=text, html=html)


SIGNATURE_SEPARATOR = "-- "


def _tidy(text: str) -> str:
    """Trailing spaces go, except the one in the "-- " line, by which mail clients know the footer
    (and leave it out when quoting a reply)."""
    lines = [line if line == SIGNATURE_SEPARATOR else line.rstrip() for line in text.strip("\n").splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


def text_to_html(text: str) -> Markup:
    """Paragraphs become <p>, runs of "- " lines become lists, links and commands are marked up."""
    blocks = [block for block in re.split(r"\n\s*\n", text.strip()) if block.strip()]
    return Markup("\n".join(_block_to_html(block.splitlines()) for block in blocks))


def _block_to_html(lines: list[str]) -> str:
    if all(line.startswith("- ") for line in lines):
        items = "".join(f"<li>{_inline(line[2:])}</li>" for line in lines)
        return f'<ul style="padding-left:1.2em;margin:0 0 1em">{items}</ul>'
    return f'<p style="margin:0 0 1em">{"<br>".join(_inline(line) for line in lines)}</p>'


def _inline(line: str) -> str:
    html = str(escape(line))
    html = _URL.sub(r'<a href="\1">\1</a>', html)
    return _COMMAND.sub(r"<strong>\1</strong>", html)
