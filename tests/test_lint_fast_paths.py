"""The quick tests that let a content check skip a page skip only pages the check finds nothing on.

- Keyword runs: `_may_have_runs` is true of every text with a run in a line; the check finds the
  same runs with it as without it, on pages with code, inline code and table rows.
- Headings: a line that makes a heading of a level other than 2 is one the quick test finds, and the
  check finds the same with it as without it.
"""
from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import medsite.lint
from medsite.content import SourceFile, parse_article
from medsite.lint import (_HEADING, _LEVEL_NOT_TWO, _SETEXT_UNDERLINE, _may_have_runs, _runs,
                          _words_of, check_headings, check_keyword_runs, source_lines)


def article_of(body: str):
    article, _ = parse_article(SourceFile("/x/t/a.md", "t/a.md", "content/t/a.md"),
                               "---\ntitle: T\nsummary: S\nkind: overview\nlast_reviewed: 2026-01-01\n---\n" + body)
    return article


# --- keyword runs ----------------------------------------------------------------------------------

RUN_TEXT = st.lists(st.lists(st.sampled_from(["pain", "Pain", "relief", "buy", "now", "a", "b", ">>", "don't", "é"]),
                             max_size=30).map(" ".join), max_size=6).map("\n".join)


@settings(max_examples=300, deadline=None)
@given(RUN_TEXT)
@example("pain pain pain")
@example("a b a b a b")
@example("buy now >> buy now >> buy now")
@example("w1 w2 w3 w4 w5 w6 w7 w8 " * 3)
@example("pain pain\npain")
def test_a_text_with_a_run_in_a_line_may_have_runs(text):
    if any(_runs(_words_of(line)) for line in text.split("\n")):
        assert _may_have_runs(text)


MARKDOWN = st.lists(st.sampled_from(["pain", "relief", "buy", "now", " ", " ", "\n", "\n\n", ".", "| ", "|", "`x`", "`",
                                     "~~~", "```", "[pain](a)", "![pain](b)", "\t", "\u00a0", "# ", "- ", "1. ", ">>"]),
                    max_size=60).map("".join)


@settings(max_examples=1000, deadline=None)
@given(MARKDOWN)
@example("pain pain pain")
@example("| pain pain pain\npain relief")
@example("  | a a a\n`x` | b b b")
@example("~~~\npain pain pain\n~~~\nnow now now")
@example("[pain](a) [pain](b) [pain](c)")
def test_keyword_runs_are_those_found_without_the_quick_test(body):
    article = article_of(body)
    found = check_keyword_runs(article, source_lines(article))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(medsite.lint, "_may_have_runs", lambda text: True)
        assert check_keyword_runs(article, source_lines(article)) == found


# --- headings ----------------------------------------------------------------------------------------

@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet=" #=-\tab\u00a0", max_size=12))
@example("# x")
@example("##")
@example("## #")
@example("### x")
@example("   ===")
def test_a_heading_of_a_level_other_than_two_is_on_a_line_the_quick_test_finds(line):
    heading, underline = _HEADING.match(line), _SETEXT_UNDERLINE.match(line)
    if (heading and len(heading.group(1)) != 2) or (underline and underline.group(1).startswith("=")):
        assert _LEVEL_NOT_TWO.search("\n" + line)


HEADING_LINES = st.sampled_from(["# One", "## Two", "### Three", "###### Six", "##", "#", "Text", "", "===", "---",
                                 "  ## Two", "    # Four spaces", "~~~", "```", "- item", "## a # b #", "#x", "##x"])


@settings(max_examples=1000, deadline=None)
@given(st.lists(HEADING_LINES, max_size=12).map("\n".join))
def test_heading_findings_are_those_found_without_the_quick_test(body):
    article = article_of(body)
    found = check_headings(article, source_lines(article))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(medsite.lint, "_LEVEL_NOT_TWO", re.compile(""))  # finds something on every page
        assert check_headings(article, source_lines(article)) == found
