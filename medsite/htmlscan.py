"""A small, fast scanner of built HTML: tags with attributes and line numbers, text by element.

Checks run over every page of the built site (disclaimer, links, ids), so this avoids a full
DOM: one regular expression walks the tags; the contents of script and style are skipped.
"""
from __future__ import annotations

import html as htmllib
import re
from dataclasses import dataclass

VOID = frozenset("area base br col embed hr img input link meta source track wbr".split())
_TOKEN = re.compile(
    r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<![^>]*>|<\?.*?>"
    r"|<(?P<end>/)?(?P<tag>[A-Za-z][A-Za-z0-9:-]*)(?P<attrs>(?:[^>\"']|\"[^\"]*\"|'[^']*')*)>",
    re.S)
_ATTR = re.compile(r"""([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""")
_RAW_TEXT = {"script": re.compile(r"</script\s*>", re.I), "style": re.compile(r"</style\s*>", re.I)}


@dataclass(frozen=True)
class Tag:
    name: str
    attrs: dict
    start: int  # offset of '<'
    end: int  # offset after '>'
    closing: bool
    self_closing: bool


def parse_attrs(text: str) -> dict:
    attrs = {}
    for match in _ATTR.finditer(text):
        name = match.group(1).lower()
        if name in attrs:
            continue
        value = next((g for g in match.group(2, 3, 4) if g is not None), "")
        attrs[name] = htmllib.unescape(value)
    return attrs


def iter_tags(html: str):
    """Yield every start and end tag in document order (script and style bodies skipped)."""
    position = 0
    while True:
        match = _TOKEN.search(html, position)
        if match is None:
            return
        position = match.end()
        name = match.group("tag")
        if name is None:
            continue
        name = name.lower()
        raw_attrs = match.group("attrs") or ""
        closing = bool(match.group("end"))
        tag = Tag(name, {} if closing else parse_attrs(raw_attrs), match.start(), match.end(), closing,
                  raw_attrs.rstrip().endswith("/"))
        yield tag
        if not closing and name in _RAW_TEXT:
            end = _RAW_TEXT[name].search(html, position)
            position = end.start() if end else len(html)


class LineIndex:
    """Offsets to 1-based line numbers."""

    def __init__(self, text: str):
        self._starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line(self, offset: int) -> int:
        import bisect
        return bisect.bisect_right(self._starts, offset)


def visible_text(fragment: str) -> str:
    """The text of an HTML fragment with tags dropped and white space folded."""
    text = re.sub(r"<!--.*?-->", " ", fragment, flags=re.S)
    text = re.sub(r"<(script|style|template)\b.*?</\1\s*>", " ", text, flags=re.S | re.I)
    text = re.sub(r"<[^>]+>", " ", text)
    return normalize_space(htmllib.unescape(text))


def normalize_space(text: str) -> str:
    return " ".join(text.split())
