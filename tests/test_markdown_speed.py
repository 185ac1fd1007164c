"""The shortcuts taken for speed in Markdown conversion give exactly what Python-Markdown gives."""
from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings, strategies as st
from markdown.treeprocessors import InlineProcessor

from medsite.markdown import MarkdownRenderer, _GatedInlineProcessor

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
