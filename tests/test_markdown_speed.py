"""The shortcuts taken for speed in Markdown conversion give exactly what Python-Markdown gives, and
link placeholders resolve exactly as the first, slower way resolved them."""
from __future__ import annotations

import re
from html import escape, unescape
from pathlib import Path

import markdown
from hypothesis import given, settings, strategies as st

from medsite.markdown import (EXTENSION_CONFIGS, EXTENSIONS, MarkdownRenderer, _GatedInlineProcessor, _LinkExtension,
                              _TocTreeprocessor, relative_url, resolve_placeholders)

ROOT = Path(__file__).resolve().parent.parent


def stock_renderer() -> MarkdownRenderer:
    """A renderer on Python-Markdown as it comes: the same extensions and link collector, no shortcuts."""
    renderer = MarkdownRenderer()
    renderer._md = markdown.Markdown(extensions=EXTENSIONS + [_LinkExtension(renderer)],
                                     extension_configs=EXTENSION_CONFIGS, output_format="html")
    return renderer


# Each converts text after text, as a build does: state left by one text must not change the next.
FAST, STOCK = MarkdownRenderer(), stock_renderer()


def assert_same(text: str, rel: str = "t/a.md") -> None:
    assert FAST.render(text, rel) == STOCK.render(text, rel), text


def names(registry) -> list[str]:
    list(registry)  # sorts it
    return [item.name for item in registry._priority]


def test_shortcuts_are_in_use_and_processors_run_in_stock_order():
    fast, stock = FAST._md, STOCK._md
    assert type(fast.treeprocessors["inline"]) is _GatedInlineProcessor
    assert type(fast.treeprocessors["toc"]) is _TocTreeprocessor
    assert "test" in vars(fast.parser.blockprocessors["admonition"])
    assert "run" in vars(fast.treeprocessors["attr_list"])
    for registry in ("preprocessors", "treeprocessors", "inlinePatterns", "postprocessors"):
        assert names(getattr(fast, registry)) == names(getattr(stock, registry)), registry
    assert names(fast.parser.blockprocessors) == names(stock.parser.blockprocessors)


TRICKY = [
    "plain words only", "a *b* c", "a _b_ c", "snake_case_word", "2 * 3 * 4", "`code` and ``two``",
    "back\\slash \\*not em\\*", "[link](a.md) and ![img](i.png)", "[ref][r]\n\n[r]: /x/", "[^1]\n\n[^1]: note",
    "<https://example.org> <me@example.org>", "line  \nbreak", "a &amp; b &copy; &#169;", "x < y > z",
    "<span>raw</span> text", "*[HTML]: Hyper Text\n\nHTML here", "| a | b |\n| - | - |\n| 1 | *2* |",
    "!!! note \"Title\"\n    body *em*", "# Heading *x* {#id}", "1. one\n2. two\n\n- a\n- b  \n  c",
    "Ünïcödé ✓ text — dashes", "tail\\", "   ", "",
    # headings: duplicates, ids given, punctuation, markup, footnotes and entities in them
    "# Side effects\n\n## Side effects\n\n### Side effects\n\n## Side effects_1\n\n## Side effects",
    "## A {#side-effects}\n\n## Side effects\n\n## B {#x .c}\n\n## x", "## What's *new*? (2024) ##",
    "## Ärzte & Ünïcödé — “quotes”\n\n## 日本語\n\n## !!!", "## Note[^n]\n\n[^n]: a note",
    "## &amp; &#65 &copy;\n\n## `code` <b>bold</b>", "Title\n=====\n\nSub\n---\n\n## Title",
    "## a\n\n[TOC]\n\n### b\n\n## a", "[TOC]", "    [TOC]", "## [TOC]", "`[TOC]`", "\\[TOC]",
    "* HTML\n\n*[HTML]: Hyper\n*[CSS]: Style\n\nHTML and CSS\n\n## HTML",
    "a[^1] b[^2] a[^1]\n\n[^2]: two\n[^1]: one\n    more\n\n    still one",
    "| a |\n|---|\n| b |", "|a|b\n|-|-\nc|d", "a | b\n- | -\nc | d", "`|` | b\n--|--\n1|2",
    "!!! warning\n    one\n\n    two\n\n- item\n\n    !!! note\n        nested",
    "> quote\n> more\n\n> ## heading in quote", "***\n\n- - -\n\n___", "<div>\n*raw*\n</div>\n\nafter",
    "<!-- comment -->\n\ntext", "&#65 and &#x41 and &amp", "para {: .cls }\n\n- item {#li}", "text\n{: #pid }",
    "[x]: /y/ \"T\"\n\n[x] and [y]", "a\tb\n\tcode", "\\`not code\\` \\\\ back",
]


def test_same_html_for_tricky_text():
    for text in TRICKY:
        assert_same(text)


def test_same_html_for_the_real_articles_and_fixture_sites():
    articles = sorted((ROOT / "content").rglob("*.md")) + sorted((ROOT / "tests" / "sites").rglob("*.md"))
    assert len(articles) > 20
    for path in articles:
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(ROOT).as_posix()
        assert_same(text, rel)
        assert_same(text.split("\n---\n", 1)[-1], rel)  # the body alone, as built


MARKDOWN_BITS = st.sampled_from(["*", "_", "`", "[", "]", "(", ")", "!", "<", ">", "&", ";", "#", "\\", "  \n",
                                 "\n", "\n\n", "- ", "1. ", "|", "word", " ", "a.md", "http://x.org", "@", "^",
                                 ":", "{#i}", "    ", "~", "'", '"', "é", "{: .c}", "{", "}", "[TOC]", "[^1]",
                                 "[^1]: ", "*[", "!!! note", "!!!", "===", "---", "***", "> ", "\t", "&#65",
                                 "<div>", "</div>", "<!-- c -->", "# ", "## ", "Ab"])


@settings(max_examples=600, deadline=None)
@given(st.lists(MARKDOWN_BITS, max_size=40).map("".join))
def test_same_html_for_any_text(text):
    assert_same(text)


WORDS = st.sampled_from(["Side effects", "side effects", "Side-effects", "What's new?", "Ärzte", "日本語", "a_1",
                         "x", "*em*", "`code`", "&amp;", "&#65", "<b>b</b>", "HTML", "[link](a.md#b)", "![i](i.png)",
                         "note[^1]", "50%", "(brackets)", "dash — dash", "  ", "\\*", "[TOC]", "!!!"])
HEADING = st.builds(lambda level, words, attrs, closing: "#" * level + " " + " ".join(words) + attrs + closing,
                    st.integers(1, 6), st.lists(WORDS, min_size=1, max_size=3),
                    st.sampled_from(["", " {#side-effects}", " {#x_1}", " {: .c}", " {#a .b}", " {#}"]),
                    st.sampled_from(["", " ##"]))
SETEXT = st.builds(lambda words, line: " ".join(words) + "\n" + line, st.lists(WORDS, min_size=1, max_size=2),
                   st.sampled_from(["===", "---", "-"]))
PARAGRAPH = st.lists(WORDS, min_size=1, max_size=6).map(" ".join)
BLOCKS = st.one_of(
    HEADING, HEADING, SETEXT, PARAGRAPH,
    st.sampled_from(["[^1]: first note", "[^2]: second\n    continued", "*[HTML]: Hyper Text", "*[x]: ex",
                     "[TOC]", "| a | b |\n|---|:-:|\n| 1 | 2 |", "a | b\n--|--\nc | d",
                     "!!! note \"Title\"\n    body", "!!! warning", "    indented", "- a\n- b\n\n    c",
                     "1. one\n2. two", "> quoted", "***", "<div>raw</div>", "[r]: /r/", "text {: #t }"]),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(BLOCKS, max_size=12).map("\n\n".join))
def test_same_headings_and_html_for_any_document(text):
    assert_same(text)


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

    bodies = [FAST.render(path.read_text(encoding="utf-8"), path.relative_to(ROOT / "content").as_posix()).html
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
