"""The content checks' fast paths give exactly what the plain way gives.

- The reading grade: `medsite.lint.flesch_kincaid_grade` against textstat's own function, on the
  real site's articles, the benchmark corpus and generated text. Every grade must be equal, not
  merely close: a page's warning depends on it.
- The findings cache is keyed without the date: rows cached on one day give, on any other day,
  exactly the findings (in the same order) and report of a fresh lint.
- The quick tests that skip most pages (`_may_contain`, `_run_candidates`) never skip a finding.
"""
from __future__ import annotations

import datetime as dt
import sys
import textwrap

import pytest
import textstat
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import medsite.lint
from conftest import ROOT
from medsite.build import BuildOptions, build
from medsite.config import load_config
from medsite.lint import (LONGEST_RUN_PHRASE, _may_contain, _phrase_pattern, _run_candidates,
                          flesch_kincaid_grade, lint_cache, lint_site, prose_text)
from medsite.markdown import MarkdownRenderer
from medsite.report import render_report

sys.path.insert(0, str(ROOT / "bench"))
from corpus import article_text, layout  # noqa: E402  (the benchmark's articles)

SOURCE_ARTICLE = ROOT.parent / "shared" / "source" / "ketamine-lozenges-source-article.txt"
TODAY = dt.date(2026, 11, 25)


def textstat_grade(text: str) -> float:
    return float(textstat.flesch_kincaid_grade(text))


def assert_same_grades(texts: list[str]) -> None:
    differing = [(text[:80], flesch_kincaid_grade(text), textstat_grade(text)) for text in texts
                 if flesch_kincaid_grade(text) != textstat_grade(text)]
    assert differing == []


def prose_of(markdown: str, name: str = "x.md") -> str:
    return prose_text(MarkdownRenderer().render(markdown, name).html)


# --- the reading grade ------------------------------------------------------------------------------

def test_grades_of_the_real_sites_articles_equal_textstats():
    sources = sorted((ROOT / "content").rglob("*.md"))
    assert sources
    texts = [path.read_text(encoding="utf-8") for path in sources]
    assert_same_grades(texts + [prose_of(text, path.name) for text, path in zip(texts, sources)])


@pytest.mark.skipif(not SOURCE_ARTICLE.exists(), reason="the shared source article is not here")
def test_grade_of_the_source_article_equals_textstats():
    text = SOURCE_ARTICLE.read_text(encoding="utf-8")
    assert_same_grades([text, *text.split("\n\n")])


def test_grades_of_the_benchmark_corpus_equal_textstats():
    places = layout(400)
    assert_same_grades([prose_of(article_text(index, places)) for index in range(len(places))])


# Words that take each of textstat's ways: in its pronouncing dictionary or not (then hyphenated),
# contractions kept or split by its apostrophe rule, capitals, digits, and non-ASCII letters whose
# lower case changes length ('İ') or folds oddly ('ſ', Kelvin 'K', 'ß').
WORDS = ["pain", "Ketamine", "lozenge", "NMDA", "don't", "DON'T", "can’t", "it's", "'quoted'",
         "rock'n'roll", "o'clock", "we'll", "they're", "you've", "I'd", "a", "I", "an", "anti-inflammatory",
         "e.g.", "25mg", "3.5", "1,000", "naïve", "İstanbul", "İdea", "İbuprofen", "ſome", "Kelvin", "straße", "ﬁne",
         "über", "x²", "pharmacokinetic", "supercalifragilistic", "zzzxq", "-", "—", "…", "(see", "below)", "&", "%"]
SEPARATORS = [" ", " ", " ", "  ", "\n", "\t", "\xa0", "\u2009", ". ", "! ", "? ", "?! ", "... ", ", ", "; ",
              ": ", " - ", ".", "!", "'", "’", "\"", "”"]


@st.composite
def prose(draw) -> str:
    parts = draw(st.lists(st.tuples(st.sampled_from(WORDS) | st.text(min_size=1, max_size=8),
                                    st.sampled_from(SEPARATORS)), max_size=60))
    return "".join(word + separator for word, separator in parts)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prose())
@example("")
@example("...")
@example("A b. C d e f! Ok?")
@example("DON'T STOP. Don'T stop. don’t stop")
@example("İdea is here now.")  # textstat counts the word as it lower-cases it, dot above and all
def test_grades_of_generated_text_equal_textstats(text):
    assert flesch_kincaid_grade(text) == textstat_grade(text)


# --- the date is not part of the cache ------------------------------------------------------------

@pytest.fixture
def checked_site(make_site):
    site = make_site(base="lint-clean")
    (site / "content/topic-a/risks.md").write_text(textwrap.dedent("""\
        ---
        title: Risks
        summary: The risks page of topic A.
        kind: risks
        order: 3
        last_reviewed: 2026-11-01
        references:
          - title: A study of topic A
            journal: Journal of Tests
            year: 2020
        ---
        Pharmacokinetic investigations demonstrate considerable interindividual variability in
        transmucosal bioavailability, necessitating individualized titration. Take 25 mg. TODO
        """), encoding="utf-8")
    return site


def test_rows_cached_on_one_day_give_any_other_days_findings_exactly(checked_site, monkeypatch):
    config, _ = load_config(checked_site / "config.yaml")
    site = build(config, BuildOptions(write=False)).site
    # From before last_reviewed (an error), through "due soon", to overdue a year on.
    days = [TODAY + dt.timedelta(days=offset) for offset in range(-60, 420, 3)]
    fresh = {today: lint_site(config, site, today) for today in days}
    lint_site(config, site, TODAY, lint_cache(config))

    def checked_again(*args):
        raise AssertionError("an article was checked again: its cached row should serve every day")

    monkeypatch.setattr(medsite.lint, "undated_row", checked_again)
    messages = set()
    for today in days:
        cached = lint_site(config, site, today, lint_cache(config))
        assert cached.as_dict() == fresh[today].as_dict()
        assert [row.findings for row in cached.articles] == [row.findings for row in fresh[today].articles]
        assert render_report(cached, config) == render_report(fresh[today], config)
        messages |= {problem.message for problem in cached.problems}
    for kind in ("is in the future", "review due soon", "review overdue", "reading grade", "dose amount"):
        assert any(kind in message for message in messages), kind


# --- quick tests that skip work -------------------------------------------------------------------

PHRASE_LETTERS = "abkisSKIl 'ſKİıµμ’/-"


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=PHRASE_LETTERS + "xyz.\n", max_size=40),
       st.lists(st.text(alphabet=PHRASE_LETTERS, min_size=1, max_size=5), min_size=1, max_size=4))
@example("Never BUY it", ["buy"])
@example("ſale", ["sale"])
@example("Kilo", ["kilo"])
def test_text_the_quick_test_rules_out_has_no_match(text, phrases):
    if not _may_contain(text, phrases):
        assert _phrase_pattern(phrases).search(text) is None


def test_the_quick_test_rules_out_the_usual_page():
    assert not _may_contain("Take it with food. Ask your pharmacist.", ["buy", "Leave a Reply"])
    assert _may_contain("Where to BUY it", ["buy"])


def runs_by_every_position(words: list[str]) -> list[int]:
    """`_run_candidates` the plain way: every position, every phrase length."""
    return sorted({index for size in range(1, LONGEST_RUN_PHRASE + 1)
                   for index, (a, b, c) in enumerate(zip(words, words[size:], words[2 * size:])) if a == b == c})


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(["pain", "relief", "buy", "now", "the"]), max_size=40))
@example(["pain"] * 3)
@example(["buy", "now"] * 3)
def test_run_candidates_are_those_of_every_position(words):
    assert _run_candidates(words) == runs_by_every_position(words)
