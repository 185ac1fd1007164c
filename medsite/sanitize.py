"""Rendered Markdown through an HTML allow-list: content may format text, never run script.

Python-Markdown passes raw HTML through untouched and keeps links like `[x](javascript:...)`, so
the whole rendered body goes through nh3 (the Rust `ammonia` sanitizer), not just the raw blocks.
What it removed is found by comparing the tags before and after, and reported at the source line.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import nh3

from .htmlscan import iter_tags

ALLOWED_TAGS = frozenset("""
    a abbr b bdi bdo blockquote br caption cite code col colgroup dd del details dfn div dl dt em
    figcaption figure h1 h2 h3 h4 h5 h6 hr i img ins kbd li mark ol p pre q s samp small span strong
    sub summary sup table tbody td tfoot th thead time tr u ul var wbr
""".split())
ALLOWED_ATTRIBUTES = {
    "*": {"id", "class", "title", "lang", "dir"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "blockquote": {"cite"}, "q": {"cite"}, "del": {"cite", "datetime"}, "ins": {"cite", "datetime"},
    "time": {"datetime"},
    "details": {"open"},
    "ol": {"start", "reversed", "type"}, "li": {"value"},
    "col": {"span"}, "colgroup": {"span"},
    "th": {"colspan", "rowspan", "scope"}, "td": {"colspan", "rowspan"},
}
# `medsite:` is markdown.PLACEHOLDER: internal links stay placeholders until resolve_placeholders.
# Relative URLs (`../a/`, `#fn:1`) have no scheme and pass through.
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel", "medsite", "data"})
URL_ATTRIBUTES = frozenset({"href", "src", "cite"})
# Removed together with everything inside them, not just the tags.
DROPPED_WITH_CONTENT = frozenset({"script", "style", "iframe", "object", "noscript", "template", "textarea"})


@dataclass(frozen=True)
class Removal:
    """Something the sanitizer took out of an article, at the source line it came from."""

    line: int
    message: str  # e.g. "removed <script> from raw HTML"


# Python-Markdown's tables align columns with a style attribute, which the Content-Security-Policy
# would block (style attributes are inline styles): the site's CSS has these classes instead.
_TABLE_ALIGNMENT = re.compile(r'<(th|td) style="text-align: (left|center|right);">')


def _keep_data_images_only(tag: str, attribute: str, value: str) -> str | None:
    """A `data:` URL may only be an image shown by <img> (which runs no script); any other is dropped."""
    url = value.strip().lower()
    if attribute in URL_ATTRIBUTES and url.startswith("data:") and not (
            tag == "img" and attribute == "src" and url.startswith("data:image/")):
        return None
    return value


def clean_html(html: str) -> str:
    """The HTML with every tag, attribute and URL outside the allow-list removed."""
    return nh3.clean(html, tags=set(ALLOWED_TAGS), clean_content_tags=set(DROPPED_WITH_CONTENT),
                     attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
                     attribute_filter=_keep_data_images_only, strip_comments=True, link_rel=None,
                     url_schemes=set(URL_SCHEMES))


def sanitize_body(html: str, body: str, body_line: int) -> tuple[str, tuple[Removal, ...]]:
    """Clean rendered Markdown; say what was removed, at the line of `body` it was written on."""
    html = _TABLE_ALIGNMENT.sub(r'<\1 class="align-\2">', html)
    cleaned = clean_html(html)
    if cleaned == html:
        return html, ()
    finder = _LineFinder(body, body_line)
    removals = [Removal(finder.line_of(needle), message) for needle, message in _removed(html, cleaned)]
    return cleaned, tuple(removals)


def _removed(before: str, after: str) -> list[tuple[re.Pattern, str]]:
    """(pattern locating it in the source, message) for each tag, attribute or URL in `before` only."""
    old = [tag for tag in iter_tags(before) if not tag.closing]
    new = [tag for tag in iter_tags(after) if not tag.closing]
    found = []
    gone_tags = Counter(tag.name for tag in old) - Counter(tag.name for tag in new)
    for name, count in gone_tags.items():
        pattern = re.compile(rf"<\s*{re.escape(name)}\b", re.I)
        found += [(pattern, f"removed <{name}> from raw HTML")] * count
    kept = {tag.name for tag in new}

    def attribute_keys(tags):
        # URL values are compared too: an unsafe URL goes while the attribute name stays allowed.
        return Counter((tag.name, name, value if name in URL_ATTRIBUTES else None)
                       for tag in tags if tag.name in kept for name, value in tag.attrs.items())

    for (tag, name, value), count in (attribute_keys(old) - attribute_keys(new)).items():
        if value is None:
            pattern = re.compile(rf"\b{re.escape(name)}\b", re.I)
            message = f"removed the {name} attribute of <{tag}> from raw HTML"
        else:
            pattern = re.compile(re.escape(value.strip()) if value.strip() else rf"\b{name}\s*=", re.I)
            message = f"removed the unsafe URL '{_shown(value.strip())}' of <{tag} {name}>"
        found += [(pattern, message)] * count
    return found


def _shown(url: str, limit: int = 60) -> str:
    """A URL fit for a one-line message: control characters spelled out, long ones cut."""
    url = re.sub(r"[\x00-\x1f\x7f]", lambda match: f"\\x{ord(match.group()):02x}", url)
    return url if len(url) <= limit else url[:limit] + "..."


class _LineFinder:
    """Successive mentions of a pattern in the source, as file lines (Markdown keeps no positions)."""

    def __init__(self, body: str, body_line: int):
        self.body, self.body_line = body, body_line
        self.searched_from: dict[str, int] = {}

    def line_of(self, pattern: re.Pattern) -> int:
        start = self.searched_from.get(pattern.pattern, 0)
        match = pattern.search(self.body, start) or pattern.search(self.body)
        if match is None:  # written with entities, say: the body's first line is the best we know
            return self.body_line
        self.searched_from[pattern.pattern] = match.end()
        return self.body_line + self.body.count("\n", 0, match.start())
