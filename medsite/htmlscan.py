"""A small, fast scanner of built HTML: tags with attributes and line numbers, text by element.

Checks run over every page of the built site (disclaimer, links, ids), so this avoids a full
DOM: one regular expression walks the tags; the contents of script and style are skipped.
"""
from __future__ import annotations

import functools
import html as htmllib
import re
from dataclasses import dataclass

VOID = frozenset("area base br col embed hr img input link meta source track wbr".split())
# End tags and start tags are separate alternatives so that `match.lastindex` tells them apart:
# 2 for an end tag (groups 1 name, 2 attribute text), 4 for a start tag (groups 3 name, 4 attribute
# text), None for comments, declarations and processing instructions. Possessive quantifiers:
# each character can be read only one way, so they find the same matches without backtracking.
_NAME_AND_ATTRS = r"""([A-Za-z][A-Za-z0-9:-]*+)((?:[^>"']++|"[^"]*+"|'[^']*+')*+)>"""
TOKEN = re.compile(r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<![^>]*>|<\?.*?>"
                   rf"|</{_NAME_AND_ATTRS}|<{_NAME_AND_ATTRS}", re.S)
END_TAG, START_TAG = 2, 4  # values of `match.lastindex`
_ATTR = re.compile(r"""([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""")
_RAW_TEXT = {"script": re.compile(r"</script\s*>", re.I), "style": re.compile(r"</style\s*>", re.I)}
RAW_TEXT = frozenset(_RAW_TEXT)  # elements whose content is text, not tags


def raw_text_end(html: str, name: str, position: int) -> int:
    """Where the content of the raw-text element `name`, starting at `position`, ends: its end tag."""
    end = _RAW_TEXT[name].search(html, position)
    return end.start() if end else len(html)


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
    for name, double_quoted, single_quoted, bare in _ATTR.findall(text):
        name = name.lower()
        if name in attrs:
            continue
        value = double_quoted or single_quoted or bare
        attrs[name] = htmllib.unescape(value) if "&" in value else value
    return attrs


def iter_tags(html: str):
    """Yield every start and end tag in document order (script and style bodies skipped)."""
    for name, raw_attrs, start, end, closing in iter_raw_tags(html):
        yield Tag(name, {} if closing else parse_attrs(raw_attrs), start, end, closing,
                  raw_attrs.rstrip().endswith("/"))


def iter_raw_tags(html: str):
    """The tags of `iter_tags` as (name, attribute text, start, end, closing), attributes unparsed:
    cheaper for a scan of every page that needs few of them."""
    position = 0
    while True:
        # One `finditer` per stretch between raw-text elements, restarted at their end tag.
        for match in TOKEN.finditer(html, position):
            kind = match.lastindex
            if kind is None:
                continue
            name, attrs = match.group(kind - 1, kind)
            name = name.lower()
            yield name, attrs, match.start(), match.end(), kind == END_TAG
            if kind == START_TAG and name in RAW_TEXT:
                position = raw_text_end(html, name, match.end())
                break
        else:
            return


# Start tags that have attributes, and the start of raw-text elements (whose content is skipped).
# Possessive quantifiers let the engine pass over attribute text without backtracking.
_ATTRIBUTED_TAG = re.compile(
    r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<![^>]*>|<\?.*?>"
    r"|<(?:(?P<raw>(?i:script|style)\b)|(?P<tag>[A-Za-z][A-Za-z0-9:-]*(?=\s)))"
    r"(?P<attrs>(?:[^>\"']++|\"[^\"]*+\"|'[^']*+')*+)>",
    re.S)


def iter_start_tags(html: str, attributes: frozenset[str]):
    """Yield the start tags having any of `attributes`, as `iter_tags` would, in document order.

    Several times faster than filtering `iter_tags` on whole pages: tags without attributes and
    end tags never reach Python. The link checker runs this over every page of the site.
    """
    mentions = _mentions(attributes)
    skip_until = 0
    for match in _ATTRIBUTED_TAG.finditer(html):
        if match.start() < skip_until:
            continue
        raw, name, raw_attrs = match.group("raw", "tag", "attrs")
        if raw is not None:
            name = raw.lower()
            end = _RAW_TEXT[name].search(html, match.end())
            skip_until = end.start() if end else len(html)
        elif name is None:
            continue
        if not mentions.search(raw_attrs.lower()):
            continue
        attrs = parse_attrs(raw_attrs)
        if not attributes.isdisjoint(attrs):
            yield Tag(name.lower(), attrs, match.start(), match.end(), False, raw_attrs.rstrip().endswith("/"))


@functools.lru_cache(maxsize=16)
def _mentions(attributes: frozenset[str]) -> re.Pattern:
    names = "|".join(sorted(map(re.escape, attributes)))
    return re.compile(rf"""[\s"'/](?:{names})(?:[\s=/>]|$)""")  # searched in lower-cased text


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
