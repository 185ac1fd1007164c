"""Markdown to HTML: one configured Python-Markdown instance, internal links made portable.

Links an editor writes to other content (`risks.md#common`, `../glossary.md`, `images/a.png`,
`/about/`) are rewritten to `medsite:` placeholders holding the target's site path. The body HTML
then depends only on the article's own text, so it can be cached; `resolve_placeholders` turns
the placeholders into relative URLs once every page's URL is known.
"""
from __future__ import annotations

import posixpath
import re
import xml.etree.ElementTree as etree
from html import escape, unescape
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import markdown
from markdown.extensions import Extension
from markdown.extensions.toc import TocExtension, TocTreeprocessor
from markdown.treeprocessors import InlineProcessor, Treeprocessor
from markdown.util import AtomicString

from .sanitize import Removal, sanitize_body

EXTENSIONS = ["tables", "toc", "footnotes", "attr_list", "admonition", "abbr", "sane_lists"]
EXTENSION_CONFIGS = {"toc": {"permalink": False}, "footnotes": {"BACKLINK_TITLE": "Back to the text"}}
PLACEHOLDER = "medsite:"


@dataclass(frozen=True)
class Heading:
    level: int
    id: str
    text: str


@dataclass(frozen=True)
class SourceLink:
    """A link or image source as the editor wrote it, and where it points in the content tree."""

    written: str  # exactly as in the Markdown
    line: int  # file line
    target: str | None  # content path ('a/b.md', 'img/x.png') or site path ('/about/'); None if external
    fragment: str  # decoded '#...' part without '#', or ''
    is_image: bool = False


@dataclass(frozen=True)
class RenderedBody:
    html: str  # with medsite: placeholders for internal links
    headings: tuple[Heading, ...]
    links: tuple[SourceLink, ...]
    removed: tuple[Removal, ...] = ()  # what the sanitizer took out, to warn about


def is_external(href: str) -> bool:
    try:
        parts = urlsplit(href)
    except ValueError:  # a host with an unclosed '[' ('http://x.org['): other sites' business, left as written
        return True
    return bool(parts.scheme or parts.netloc)


def resolve_written_link(href: str, page_rel: str) -> tuple[str | None, str]:
    """Map a written href to (content or site path, fragment); (None, '') for external or anchors."""
    if not href or href.startswith("#") or is_external(href):
        return None, ""
    parts = urlsplit(href)
    path = unquote(parts.path)
    fragment = unquote(parts.fragment)
    if path.startswith("/"):
        return posixpath.normpath(path) + ("/" if path.endswith("/") and path != "/" else ""), fragment
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(page_rel), path))
    return joined, fragment


class _LinkCollector(Treeprocessor):
    def __init__(self, md, owner: "MarkdownRenderer"):
        super().__init__(md)
        self.owner = owner

    def run(self, root):
        for element in root.iter():
            attribute = "href" if element.tag == "a" else "src" if element.tag == "img" else None
            if attribute is None or attribute not in element.attrib:
                continue
            written = element.get(attribute)
            if written.startswith(("#fnref:", "#fn:")):
                continue
            target, fragment = resolve_written_link(written, self.owner.current_rel)
            self.owner.found.append((written, target, fragment, element.tag == "img"))
            if target is None:
                continue
            if target.startswith("../") or target == "..":
                continue  # leaves the content folder: reported by the site stage
            suffix = "#" + urlsplit(written).fragment if urlsplit(written).fragment else ""
            element.set(attribute, PLACEHOLDER + target + suffix)


# Each inline pattern of Python-Markdown (and of EXTENSIONS), with what every text it can match holds.
_INLINE_NEEDLES = {"backtick": ("`",), "escape": ("\\",), "footnote": ("[",), "reference": ("[",), "link": ("[",),
                   "image_link": ("[",), "image_reference": ("[",), "short_reference": ("[",),
                   "short_image_ref": ("[",), "autolink": ("<",), "automail": ("<",), "linebreak": ("  \n",),
                   "html": ("<",), "entity": ("&",), "em_strong": ("*", "_")}
_ALL_INLINE_NEEDLES = frozenset(needle for needles in _INLINE_NEEDLES.values() for needle in needles)

# Block processors, each with what every block it takes holds: a block holding none of these is
# declined at once, as the processor's own test (mostly a regular expression) would decline it.
# (The admonition's are '!!!' and an indent: see _ShortcutsExtension.)
_BLOCK_NEEDLES = {
    "table": ("|",),
    "hashheader": ("#",),
    "setextheader": ("\n=", "\n-"),  # the underline is the second line
    "hr": ("-", "_", "*"),
    "quote": (">",),
    "footnote": ("[^",),  # it takes every block, and gives back one without a definition
    "abbr": ("*[",),  # likewise
    "reference": ("[",),  # likewise
}

# Processors that can change only a text holding one of these (as written): other texts skip them.
_TEXT_NEEDLES = {
    ("preprocessors", "html_block"): ("<", "&"),  # raw HTML, and entities (it rewrites `&#65` as `&#65;`)
    ("treeprocessors", "attr_list"): ("{",),
    ("treeprocessors", "unescape"): ("\\",),  # it restores what backslash escapes stood for
}


class _Markdown(markdown.Markdown):
    """Python-Markdown, keeping the text being converted (for the shortcuts), and looking block-level
    tags up in a set (the stock search of a list ran several times for every element)."""

    source = ""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._block_level_tags = frozenset(self.block_level_elements)  # as the extensions left them

    def is_block_level(self, tag) -> bool:
        return isinstance(tag, str) and tag.lower().rstrip("/") in self._block_level_tags

    def convert(self, source: str) -> str:
        self.source = source
        return super().convert(source)


class _GatedInlineProcessor(InlineProcessor):
    """Python-Markdown's inline processor, which tries every inline pattern on every piece of text
    (a third of all Markdown time). A pattern whose needles the text lacks cannot match it, and is
    not tried: trying it would leave the text as it is."""

    def __init__(self, md):
        super().__init__(md)
        patterns = list(md.inlinePatterns)  # in the order they are tried, which iterating sorts them in
        names = [item.name for item in md.inlinePatterns._priority]
        self._patterns = [(pattern, frozenset(_INLINE_NEEDLES[name])) for pattern, name in zip(patterns, names)]

    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:  # noqa: N802,N803 - overrides
        if isinstance(data, AtomicString):
            return data
        # A match is replaced by a placeholder, which holds no needle nor joins two pieces of one:
        # the needles found here stay a superset of those in the text.
        present = {needle for needle in _ALL_INLINE_NEEDLES if needle in data}
        for index in range(patternIndex, len(self._patterns) if present else 0):
            pattern, needles = self._patterns[index]
            if present.isdisjoint(needles):
                continue
            matched, start = True, 0
            while matched:  # as the stock loop: after a match, the same pattern is tried on what follows
                data, matched, start = self._InlineProcessor__applyPattern(pattern, data, index, start)
        return data


class _TocTreeprocessor(TocTreeprocessor):
    """The toc extension's tree processor, building the table of contents only for a text with the
    marker it replaces (half of toc's time). medsite uses the heading ids and toc_tokens, not md.toc."""

    def _text_has_marker(self) -> bool:
        return bool(self.marker) and self.marker in self.md.source

    def build_toc_div(self, toc_list):
        return super().build_toc_div(toc_list) if self._text_has_marker() else etree.Element("div")

    def replace_marker(self, root, elem):
        if self._text_has_marker():
            super().replace_marker(root, elem)


def _decline_blocks_without(processor, needles: tuple[str, ...]) -> None:
    """Have a block processor decline a block holding none of `needles` without testing it."""
    test = processor.test

    def test_with_needles(parent, block: str) -> bool:
        for needle in needles:
            if needle in block:
                return test(parent, block)
        return False

    processor.test = test_with_needles


def _skip_texts_without(md: _Markdown, processor, needles: tuple[str, ...]) -> None:
    """Have a pre- or tree processor pass its input on as it is for a text holding none of `needles`."""
    run = processor.run

    def run_with_needles(data):
        return run(data) if any(needle in md.source for needle in needles) else data

    processor.run = run_with_needles


class _ShortcutsExtension(Extension):
    """Shortcuts past work that cannot change a given text; each gives exactly what Python-Markdown
    gives (tests/test_markdown_speed.py)."""

    def extendMarkdown(self, md):
        # An admonition's first block starts with '!!!'; the blocks continuing it are indented.
        admonition_needles = ("!!!", " " * md.tab_length)
        for name, needles in {**_BLOCK_NEEDLES, "admonition": admonition_needles}.items():
            _decline_blocks_without(md.parser.blockprocessors[name], needles)
        for (registry, name), needles in _TEXT_NEEDLES.items():
            _skip_texts_without(md, getattr(md, registry)[name], needles)
        toc_extension = next(extension for extension in md.registeredExtensions if isinstance(extension, TocExtension))
        _replace(md.treeprocessors, "toc", _TocTreeprocessor(md, toc_extension.getConfigs()))
        # Gated only while every pattern is one whose needles are known (another one turns it off).
        names = {item.name for item in md.inlinePatterns._priority}
        if names <= _INLINE_NEEDLES.keys() and all(hasattr(InlineProcessor, f"_InlineProcessor__{method}")
                                                   for method in ("handleInline", "applyPattern")):
            _replace(md.treeprocessors, "inline", _GatedInlineProcessor(md))


def _replace(registry, name: str, processor) -> None:
    """Register `processor` in place of the one named `name`, at its priority."""
    registry.register(processor, name, next(item.priority for item in registry._priority if item.name == name))


class _LinkExtension(Extension):
    """Collects links and images, and makes those to content placeholders."""

    def __init__(self, owner: "MarkdownRenderer"):
        super().__init__()
        self.owner = owner

    def extendMarkdown(self, md):
        md.treeprocessors.register(_LinkCollector(md, self.owner), "medsite_links", 1)


class MarkdownRenderer:
    """Converts article bodies; one Python-Markdown instance reused (building one costs ~ms)."""

    def __init__(self):
        self.current_rel = ""
        self.found: list[tuple[str, str | None, str, bool]] = []
        self._md = _Markdown(extensions=EXTENSIONS + [_LinkExtension(self), _ShortcutsExtension()],
                             extension_configs=EXTENSION_CONFIGS, output_format="html")

    def render(self, body: str, page_rel: str, body_line: int = 1) -> RenderedBody:
        self.current_rel = page_rel
        self.found = []
        self._md.reset()
        html, removed = sanitize_body(self._md.convert(body), body, body_line)
        headings = tuple(_flatten(self._md.toc_tokens))
        links = tuple(_locate(self.found, body, body_line))
        return RenderedBody(html, headings, links, removed)


def _flatten(tokens) -> list[Heading]:
    out = []
    for token in tokens:
        out.append(Heading(token["level"], token["id"], token["name"]))
        out.extend(_flatten(token["children"]))
    return out


def _locate(found, body: str, body_line: int):
    """Give each link the file line it was written on (Python-Markdown keeps no positions)."""
    lines = body.split("\n")
    searched_from: dict[str, int] = {}
    for written, target, fragment, is_image in found:
        start = searched_from.get(written, 0)
        index = next((i for i in range(start, len(lines)) if _mentions(lines[i], written)), None)
        if index is None:  # written with entities or across lines: fall back to the first mention
            index = next((i for i, text in enumerate(lines) if _loose(written) in _loose(text)), 0)
        else:
            searched_from[written] = index + 1
        yield SourceLink(written, body_line + index, target, fragment, is_image)


def _mentions(line: str, written: str) -> bool:
    """Whether `line` has `written` as a whole link target (`](a.md#b)`, `<a.md>`, `href="a.md"`), so
    that 'a.md#b' is not found inside 'a.md#bc' nor '/x/' inside '../x/'; an empty target is `]()`.
    (Plain string search: a regular expression per link cost a sixth of all Markdown time.)"""
    if not written:
        return re.search(r"\]\(\s*\)", line) is not None
    start = line.find(written)
    while start != -1:
        before = line[start - 1] if start else ""
        end = start + len(written)
        after = line[end] if end < len(line) else ""
        if ((not before or before.isspace() or before in "(<\"'=")
                and (not after or after.isspace() or after in ")>\"'")):
            return True
        start = line.find(written, start + 1)
    return False


def _loose(text: str) -> str:
    return re.sub(r"\s+", "", unquote(text))


_PLACEHOLDER_VALUE = re.compile(r'="medsite:([^"#]*)(#[^"]*)?"')


def resolve_placeholders(html: str, page_url: str, url_of_target) -> str:
    """Replace each medsite: placeholder (an href or src attribute's value) with a URL relative to
    `page_url`.

    `url_of_target(target)` returns the site URL of a content or site path, or None when it
    does not exist (the link is then left pointing at the site path, and reported elsewhere).
    """
    # Found by plain string search, then matched where found: every body of every page comes
    # through here, and a regular expression searching from the attribute's name took 10x longer.
    parts, done = [], 0
    to_page = relative_urls_from(page_url)
    start = html.find('="medsite:')
    while start != -1:
        match = _PLACEHOLDER_VALUE.match(html, start)
        if match is None or not html.endswith(("href", "src"), 0, start):
            start = html.find('="medsite:', start + 1)
            continue
        # The target is as it stands in the HTML attribute: `a&amp;b.md` names the file a&b.md.
        target, fragment = unescape(match.group(1)), match.group(2) or ""
        url = url_of_target(target) or (target if target.startswith("/") else "/" + target)
        parts += [html[done:start], f'="{escape(to_page(url))}{fragment}"']
        done = match.end()
        start = html.find('="medsite:', done)
    return "".join(parts) + html[done:] if parts else html


def relative_url(from_url: str, to_url: str) -> str:
    """A relative URL from page `from_url` to `to_url` (both site paths), as a browser resolves it."""
    return relative_urls_from(from_url)(to_url)


def relative_urls_from(from_url: str):
    """relative_url from the page `from_url`, as a function of the target: the page's folder is
    split once, as a page asks for many (its body's links, the template's `url()`)."""
    base = from_url if from_url.endswith("/") else posixpath.dirname(from_url) + "/"
    base_has_dots = "/." in base or "//" in base
    start = [part for part in base.split("/") if part]

    def relative_url_to(to_url: str) -> str:
        if not to_url.startswith("/"):
            return to_url
        if base_has_dots or "/." in to_url or "//" in to_url:
            relative = posixpath.relpath(to_url, base)  # dot segments: let posixpath normalise them
        else:  # the same result, several times faster (called for every link of every page)
            target = [part for part in to_url.split("/") if part]
            common = 0
            for a, b in zip(start, target):
                if a != b:
                    break
                common += 1
            relative = "/".join([".."] * (len(start) - common) + target[common:]) or "."
        if to_url.endswith("/") and not relative.endswith("/"):
            relative += "/"
        return relative
    return relative_url_to
