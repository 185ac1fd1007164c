"""The shortcuts taken for speed in Markdown conversion give exactly what Python-Markdown gives, and
link placeholders resolve exactly as the first, slower way resolved them."""
from __future__ import annotations

import re
from html import escape, unescape
from pathlib import Path

from hypothesis import given, settings, strategies as st
from markdown.treeprocessors import InlineProcessor

from medsite.markdown import MarkdownRenderer, _GatedInlineProcessor, relative_url, resolve_placeholders

ROOT = Path(__file__).resolve().parent.parent


def ungated() -> MarkdownRenderer:
    renderer = MarkdownRenderer()
    md = renderer._md
    inline = next(item for item in md.treeprocessors._priority if item.name == "inline")
    md.treeprocessors.register(InlineProcessor(md), "inline", inline.priority)
    return renderer


GATED, PLAIN = MarkdownRenderer(), ungated()

TRICKY = [
    "plain words only", "a *b* c", "a _b_ c", "snake_case_word", "2 * 3 * 4", "`code` and ``two``",
    "back\\slash \\*not em\\*", "[link](a.md) and ![img](i.png)", "[ref][r]\n\n[r]: /x/", "[^1]\n\n[^1]: note",
    "<https://example.org> <me@example.org>", "line  \nbreak", "a &amp; b &copy; &#169;", "x < y > z",
    "<span>raw</span> text", "*[HTML]: Hyper Text\n\nHTML here", "| a | b |\n| - | - |\n| 1 | *2* |",
    "!!! note \"Title\"\n    body *em*", "# Heading *x* {#id}", "1. one\n2. two\n\n- a\n- b  \n  c",
    "Ünïcödé ✓ text — dashes", "tail\\", "   ", "",
]


def test_gate_is_in_use():
    assert type(GATED._md.treeprocessors["inline"]) is _GatedInlineProcessor
    assert type(PLAIN._md.treeprocessors["inline"]) is InlineProcessor


def test_same_html_for_tricky_text():
    for text in TRICKY:
        assert GATED.render(text, "t/a.md") == PLAIN.render(text, "t/a.md"), text


def test_same_html_for_the_real_articles():
    articles = sorted((ROOT / "content").rglob("*.md"))
    assert len(articles) > 5
    for path in articles:
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(ROOT / "content").as_posix()
        assert GATED.render(text, rel) == PLAIN.render(text, rel), rel


MARKDOWN_BITS = st.sampled_from(["*", "_", "`", "[", "]", "(", ")", "!", "<", ">", "&", ";", "#", "\\", "  \n",
                                 "\n", "\n\n", "- ", "1. ", "|", "word", " ", "a.md", "http://x.org", "@", "^",
                                 ":", "{#i}", "    ", "~", "'", '"', "é"])


@settings(max_examples=400, deadline=None)
@given(st.lists(MARKDOWN_BITS, max_size=40).map("".join))
def test_same_html_for_any_text(text):
    assert GATED.render(text, "t/a.md") == PLAIN.render(text, "t/a.md")


# --- resolving link placeholders: searched from their literal start ----------------------------

_REFERENCE_PLACEHOLDER = re.compile(r'(href|src)="medsite:([^"#]*)(#[^"]*)?"')


def reference_resolve(html: str, page_url: str, url_of_target) -> str:
    """resolve_placeholders as first written: one regular expression from the attribute's name."""
    def replace(match):
        attribute, target, fragment = match.group(1), unescape(match.group(2)), match.group(3) or ""
        url = url_of_target(target) or (target if target.startswith("/") else "/" + target)
        return f'{attribute}="{escape(relative_url(page_url, url))}{fragment}"'
    return _REFERENCE_PLACEHOLDER.sub(replace, html)


PLACEHOLDER_CASES = [
    '<a href="medsite:topic/a.md">', '<a data-href="medsite:x.md">', '<img src="medsite:a&amp;b.png">',
    '<a href="medsite:">', '<a title="=&quot;medsite:x">', 'x="medsite:y"', '<a href="medsite:/about/#top">',
    '<a href="medsite:../up.md#f&amp;g">', 'href="medsite:a"href="medsite:b"', '<a href = "medsite:x.md">',
    '<a HREF="medsite:x.md">', '="medsite:', '<a href="medsite:x.md#">', 'src="medsite:gone.png"',
]


def test_placeholders_resolve_as_the_reference_resolves_them():
    def url_of(target):
        return None if "gone" in target or "x" in target else "/t/" + target.strip("/") + "/"

    bodies = [GATED.render(path.read_text(encoding="utf-8"), path.relative_to(ROOT / "content").as_posix()).html
              for path in sorted((ROOT / "content").rglob("*.md"))]
    assert sum("medsite:" in body for body in bodies) > 5
    for html in PLACEHOLDER_CASES + bodies + ["".join(PLACEHOLDER_CASES)]:
        for page_url in ("/", "/a/b/", "/a/b/print/", "/404.html"):
            assert resolve_placeholders(html, page_url, url_of) == reference_resolve(html, page_url, url_of), html


PLACEHOLDER_BITS = st.sampled_from(['="medsite:', "href", "src", '"', "#", "&amp;", "<a ", ">", "x.md", "gone",
                                    "/", "a", " ", "="])


@settings(max_examples=400, deadline=None)
@given(st.lists(PLACEHOLDER_BITS, max_size=30).map("".join))
def test_placeholders_in_any_text_resolve_as_the_reference_resolves_them(html):
    def url_of(target):
        return None if "gone" in target else "/t/" + target.strip("/") + "/"

    assert resolve_placeholders(html, "/a/b/", url_of) == reference_resolve(html, "/a/b/", url_of)
