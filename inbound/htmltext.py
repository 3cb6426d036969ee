"""HTML-only mail to plain text, dropping the quoted part mail clients wrap around earlier messages."""
from __future__ import annotations

import html
import re
from html.parser import HTMLParser

BLOCK_TAGS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "table", "ul", "ol", "hr"}
SKIP_TAGS = {"style", "script", "head", "title"}
QUOTE_MARKERS = ("gmail_quote", "divrplyfwdmsg", "moz-cite-prefix", "yahoo_quoted", "appendonsend")


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_depth = 0
        self.quoted = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.quoted:
            return
        if _is_quote(tag, attrs):
            self.quoted = True
            return
        if tag in SKIP_TAGS:
            self.skip_depth += 1
        if tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIP_TAGS and self.skip_depth:
            self.skip_depth -= 1
        if tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip_depth and not self.quoted:
            self.parts.append(data)


def _is_quote(tag: str, attrs: list[tuple[str, str | None]]) -> bool:
    values = {name: (value or "").lower() for name, value in attrs}
    if tag == "blockquote" and values.get("type") == "cite":
        return True
    marker = f"{values.get('class', '')} {values.get('id', '')}"
    return any(m in marker for m in QUOTE_MARKERS)


def html_to_text(markup: str) -> str:
    """Everything before the first quoted block, as text lines."""
    collector = _TextCollector()
    try:
        collector.feed(markup)
        collector.close()
    except Exception:
        return html.unescape(re.sub(r"<[^>]+>", " ", markup))
    lines = (" ".join(line.split()) for line in "".join(collector.parts).splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
