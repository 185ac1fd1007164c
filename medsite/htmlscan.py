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
# Start and end tags alone, groups "/" (an end tag) or "", the name, the attribute text: where a text
# holds nothing but tags and text, it finds what TOKEN finds (lint splits pages by it).
TAG = re.compile(r"<(/?)" + _NAME_AND_ATTRS)
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


# The parts of the scan of start tags that look for attributes (`start_tag_matches`). Possessive
# quantifiers let the engine pass over attribute text without backtracking.
_NOT_TAGS = r"!--.*?-->|!\[CDATA\[.*?\]\]>|![^>]*>|\?.*?>"  # after "<": comments, CDATA, declarations, PIs
_ATTRIBUTE_TEXT = r"""(?:[^>"']++|"[^"]*+"|'[^']*+')*+"""


def start_tag_matches(html: str, attributes: frozenset[str], read: frozenset[str] | None = None):
    """The match of each start tag that may have one of `attributes`, in document order, for
    `matched_attributes` to read. Several times faster than filtering `iter_tags` on whole pages:
    tags without attributes and end tags never reach Python.

    With `read` (more attribute names), the attributes read may leave out those in neither
    `attributes` nor `read`: then a tag whose attributes are all `name` or `name="value"`, in lower
    case, at most two of them in `attributes` or `read`, is read by the regular expression alone,
    as `parse_attrs` would read it. What `matched_attributes` finds depends on the text of the
    match alone: a scan of many pages (the link checker's) can keep it by that text for the tags
    their templates repeat.
    """
    skip_until = 0  # the end of the raw text (script, style) being skipped
    for match in _start_tag_pattern(attributes, read).finditer(html):
        kind = match.lastgroup
        if kind is None or kind == "plain":  # no tag, or one without the attributes sought
            continue
        if match.start() < skip_until:
            continue
        if kind == "raw_attrs":
            skip_until = raw_text_end(html, match.group("raw").lower(), match.end())
        yield match


def matched_attributes(match: re.Match, attributes: frozenset[str]) -> tuple[str, dict | None]:
    """The name (in lower case) and attributes of a tag of `start_tag_matches`; None for the
    attributes when it has none of `attributes`."""
    kind = match.lastgroup
    if kind == "value" or kind == "value2":  # read by the pattern
        name, first, value, second, value2 = match.group("plain", "attribute", "value", "attribute2", "value2")
        attrs = {first: htmllib.unescape(value) if "&" in value else value}
        if second is not None and second not in attrs:
            attrs[second] = htmllib.unescape(value2) if "&" in value2 else value2
    else:
        name, raw_attrs = match.group(match.lastindex - 1, match.lastindex)
        if not _mentions(attributes).search(raw_attrs.lower()):
            return name.lower(), None
        attrs = parse_attrs(raw_attrs)
    return name.lower(), None if attributes.isdisjoint(attrs) else attrs


@functools.lru_cache(maxsize=16)
def _start_tag_pattern(attributes: frozenset[str], read: frozenset[str] | None) -> re.Pattern:
    """Start tags that have attributes (`tag`, `attrs`), and the start of raw-text elements (`raw`,
    `raw_attrs`), whose content is skipped; comments and the like, to pass over.

    With `read`, first `plain`: a tag of `name` and `name="value"` attributes, at most two of them
    named in `attributes` or `read` (`attribute`, `value`, `attribute2`, `value2`), which
    `parse_attrs` would read the same way. Those two are matched in lower case, and the other
    names have no capitals (nor the Kelvin sign, whose lower case is k): so none of them is a
    name sought in another case. Any other tag is left to `parse_attrs`.
    """
    alternatives = [rf"(?P<raw>(?ai:script|style)\b)(?P<raw_attrs>{_ATTRIBUTE_TEXT})>"]
    if read is not None:
        named = "|".join(sorted(map(re.escape, attributes | read), reverse=True))  # srcset before src
        other = rf"""(?:\s++(?!(?:{named})(?![^\s"'>/=]))[^\s"'>/=A-Z\u212a]++(?:="[^"]*+")?)*+"""
        alternatives.append(
            rf"(?P<plain>[A-Za-z][A-Za-z0-9:-]*+)(?=\s){other}"
            rf"""(?:\s++(?P<attribute>{named})="(?P<value>[^"]*+)"{other}"""
            rf"""(?:\s++(?P<attribute2>{named})="(?P<value2>[^"]*+)"{other})?)?"""
            r"[\s/]*+>")
    alternatives.append(rf"(?P<tag>[A-Za-z][A-Za-z0-9:-]*+)(?=\s)(?P<attrs>{_ATTRIBUTE_TEXT})>")
    alternatives.append(_NOT_TAGS)  # none starts like a tag: their order does not matter
    # The lookahead turns away end tags at once, before any alternative is tried.
    return re.compile("<(?=[A-Za-z!?])(?:" + "|".join(alternatives) + ")", re.S)


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


_COMMENT = re.compile(r"<!--.*?-->", re.S)
_UNSEEN_ELEMENT = re.compile(r"<(script|style|template)\b.*?</\1\s*>", re.S | re.I)
_ANY_TAG = re.compile(r"<[^>]+>")


def visible_text(fragment: str) -> str:
    """The text of an HTML fragment with tags dropped and white space folded."""
    text = _COMMENT.sub(" ", fragment)
    text = _UNSEEN_ELEMENT.sub(" ", text)
    text = _ANY_TAG.sub(" ", text)
    return normalize_space(htmllib.unescape(text))


def normalize_space(text: str) -> str:
    return " ".join(text.split())
