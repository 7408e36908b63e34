"""The text of a stored event, as the analyser reads it. Pure.

Where text lives (the shared facts of issue 17): ``properties.text`` (a chat line, an SMS, a
call transcript), an e-mail's ``subject`` and ``text`` (the body, which may be HTML) and a
survey's ``comment``. Anything else there (a number, a list, a text that is all blanks) is
no text: the event is not analysed. What is read is bounded (``max_chars``), HTML is reduced
to its words, and characters UTF-8 cannot carry (a lone surrogate) become "?", so no
message can make the analyser or the database choke.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from html.parser import HTMLParser
from typing import Any

FIELDS = ("subject", "text", "comment")  # in reading order
_TAG = re.compile(r"<\s*/?\s*[a-zA-Z][^>]*>")
_SPACE = re.compile(r"[ \t\r\f\v]+")
_LINES = re.compile(r"\n\s*\n+")
_SKIPPED = frozenset({"script", "style", "head", "title"})
_BREAKS = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "blockquote"})


def has_text(properties: Any) -> bool:
    """Whether an event carries something to read (cheap: ingest asks it of every event)."""
    if not isinstance(properties, Mapping):
        return False
    return any(isinstance(properties.get(f), str) and not properties[f].isspace()
               and properties[f] != "" for f in FIELDS)


def text_of(properties: Any, max_chars: int) -> str | None:
    """The words to analyse, at most ``max_chars`` of them, or None when there are none."""
    if not isinstance(properties, Mapping):
        return None
    parts = []
    for name in FIELDS:
        value = properties.get(name)
        if isinstance(value, str) and value.strip():
            # a generous cut before parsing: markup may be most of an HTML body
            raw = value[:max_chars * 4]
            parts.append(plain(raw) if looks_like_html(raw) else raw.strip())
    text = _clean("\n".join(p for p in parts if p))
    return text[:max_chars] if text else None


def looks_like_html(text: str) -> bool:
    return "<" in text and _TAG.search(text) is not None


class _Words(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self._skip += 1
        elif tag in _BREAKS:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED and self._skip:
            self._skip -= 1
        elif tag in _BREAKS:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.out.append(data)


def plain(html: str) -> str:
    """The readable words of an HTML body (scripts, styles and markup left out)."""
    parser = _Words()
    parser.feed(html)
    parser.close()
    text = _SPACE.sub(" ", "".join(parser.out))
    return _LINES.sub("\n", "\n".join(line.strip() for line in text.split("\n"))).strip()


def _clean(text: str) -> str:
    """Only characters UTF-8 can carry (PostgreSQL refuses the rest), no NULs."""
    # encode() with "replace" turns a lone surrogate into "?"
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "").strip()
