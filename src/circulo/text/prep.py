"""Turning whatever arrives into text an analyser can read, within bounds. Pure.

- Lone surrogates (a ``str`` built from broken UTF-16, or decoded with ``surrogateescape``)
  become U+FFFD, so nothing downstream (redaction, detection, JSON encoding) can fail on them.
- HTML bodies (e-mails) become their visible text with the standard library's ``html.parser``:
  ``<script>``/``<style>`` dropped, block elements as line breaks, entities decoded. At most
  ``MAX_HTML_CHARS`` of markup are parsed.
- At most ``MAX_CHARS`` characters are analysed (the first ones: the request is usually at
  the start of a message; quoted history and signatures come after). ``Prepared.truncated``
  says when text was cut.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from html.parser import HTMLParser

log = logging.getLogger(__name__)
MAX_CHARS = 20_000  # characters analysed
MAX_HTML_CHARS = 200_000  # markup parsed before the cut (tags weigh more than their text)

_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_HTML = re.compile(r"<(?:p|br|div|html|body|span|table|tr|td|a|b|i|u|strong|em|ul|ol|li|font|"
                   r"h[1-6]|blockquote|head|meta|style|img|center)\b[^>]{0,500}>",
                   re.IGNORECASE)
_BLOCKS = frozenset({"p", "br", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6",
                     "blockquote", "table", "ul", "ol", "hr"})
_HIDDEN = frozenset({"script", "style", "head", "title"})
_SPACES = re.compile(r"[ \t\u00a0]+")
_LINES = re.compile(r"\s*\n\s*")


@dataclass(frozen=True, slots=True)
class Prepared:
    text: str  # what is analysed (and redacted)
    truncated: bool  # the input had more than MAX_CHARS characters (after HTML)
    html: bool  # the input was read as HTML


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """The visible text of an HTML fragment or document (bounded, never raises)."""
    parser = _Visible()
    try:
        parser.feed(markup[:MAX_HTML_CHARS])
        parser.close()
    except Exception:  # html.parser is lenient; a failure keeps what was read so far
        log.warning("HTML body not fully parsed", exc_info=True)
    text = _SPACES.sub(" ", "".join(parser.parts))
    return _LINES.sub("\n", text).strip()


def looks_like_html(text: str) -> bool:
    return _HTML.search(text, 0, MAX_HTML_CHARS) is not None


def prepare(text: str) -> Prepared:
    """``text`` made safe and bounded for analysis."""
    if _SURROGATE.search(text):
        # pairs written as two surrogates become their character; a lone one becomes U+FFFD
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    text = _CONTROL.sub(" ", text)
    html = looks_like_html(text)
    if html:
        text = html_to_text(text)
    truncated = len(text) > MAX_CHARS
    return Prepared(text[:MAX_CHARS], truncated, html)


def fold(text: str) -> str:
    """Lower case without accents: "Límite" and "limite" read alike (customers often leave
    accents out). "ñ" is kept: "año" and "ano" are different words. Apostrophes become
    spaces: "don't" and "don’t" both read "don t"."""
    text = text.lower().replace("ñ", "\0").replace("'", " ").replace("’", " ")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("\0", "ñ")
