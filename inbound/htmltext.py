"""HTML-only mail to plain text, dropping the quoted part mail clients wrap around earlier messages."""
from __future__ import annotations

import html
import re
from html.parser import HTMLParser

BLOCK_TAGS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "table", "ul", "ol", "hr", "pre"}
SKIP_TAGS = {"style", "script", "head", "title"}
QUOTE_MARKERS = ("gmail_quote", "divrplyfwdmsg", "moz-cite-prefix", "yahoo_quoted", "appendonsend")
# Outlook puts the quoted message after these markers, as siblings rather than inside them.
REST_IS_QUOTED = ("divrplyfwdmsg", "appendonsend")


class _TextCollector(HTMLParser):
    """Text outside quoted blocks, split into what comes before the first quote and what comes after."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.before: list[str] = []
        self.after: list[str] = []
        self.skip_depth = 0
        self.quote_tag = ""
        self.quote_depth = 0
        self.seen_quote = False
        self.rest_quoted = False

    @property
    def _out(self) -> list[str] | None:
        if self.rest_quoted or self.quote_depth:
            return None
        return self.after if self.seen_quote else self.before

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.quote_depth:
            self.quote_depth += tag == self.quote_tag
            return
        marker = _quote_marker(tag, attrs)
        if marker:
            self.seen_quote, self.rest_quoted = True, self.rest_quoted or marker in REST_IS_QUOTED
            self.quote_tag, self.quote_depth = tag, 1
            return
        self.skip_depth += tag in SKIP_TAGS
        self._block(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.quote_depth:
            self.quote_depth -= tag == self.quote_tag
            return
        if tag in SKIP_TAGS and self.skip_depth:
            self.skip_depth -= 1
        self._block(tag)

    def handle_data(self, data: str) -> None:
        out = self._out
        if out is not None and not self.skip_depth:
            out.append(data)

    def _block(self, tag: str) -> None:
        out = self._out
        if out is not None and tag in BLOCK_TAGS:
            out.append("\n")


def _quote_marker(tag: str, attrs: list[tuple[str, str | None]]) -> str:
    """Which quote marker this element carries ("" for none)."""
    values = {name: (value or "").lower() for name, value in attrs}
    if tag == "blockquote" and values.get("type") == "cite":
        return "cite"
    marker = f"{values.get('class', '')} {values.get('id', '')}"
    return next((m for m in QUOTE_MARKERS if m in marker), "")


def html_to_text(markup: str) -> str:
    """The sender's words as text lines: what comes before the first quoted block or, when nothing does
    (bottom-posting, as Thunderbird users often do), what comes after it."""
    collector = _TextCollector()
    try:
        collector.feed(markup)
        collector.close()
    except Exception:
        return html.unescape(re.sub(r"<[^>]+>", " ", markup))
    before = _lines(collector.before)
    return before if before else _lines(collector.after)


def _lines(parts: list[str]) -> str:
    lines = (" ".join(line.split()) for line in "".join(parts).splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
