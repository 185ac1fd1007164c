"""The fast footer check and tag scanner give the results of their former, simpler versions.

`page_footer_problem` walks the tag matches itself and `iter_raw_tags` uses `finditer` with
possessive quantifiers, both for speed. The reference copies below are the versions they
replaced; built pages, and those pages broken in the ways the disclaimer check must catch,
have to get identical answers from both.
"""
from __future__ import annotations

import random
import re

import pytest
from markupsafe import Markup

from conftest import new_site, run_cli
from medsite.disclaimer import Disclaimer, _is_hidden, page_footer_problem
from medsite.htmlscan import VOID, iter_raw_tags, iter_tags, normalize_space, visible_text

# --- reference copies (the replaced versions) ---

_OLD_TOKEN = re.compile(
    r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<![^>]*>|<\?.*?>"
    r"|<(?P<end>/)?(?P<tag>[A-Za-z][A-Za-z0-9:-]*)(?P<attrs>(?:[^>\"']|\"[^\"]*\"|'[^']*')*)>",
    re.S)
_OLD_RAW_TEXT = {"script": re.compile(r"</script\s*>", re.I), "style": re.compile(r"</style\s*>", re.I)}


def old_iter_raw_tags(html: str):
    position = 0
    while True:
        match = _OLD_TOKEN.search(html, position)
        if match is None:
            return
        position = match.end()
        name = match.group("tag")
        if name is None:
            continue
        name = name.lower()
        closing = match.group("end") is not None
        yield name, match.group("attrs") or "", match.start(), position, closing
        if not closing and name in _OLD_RAW_TEXT:
            end = _OLD_RAW_TEXT[name].search(html, position)
            position = end.start() if end else len(html)


def old_page_footer_problem(html: str, disclaimer: Disclaimer) -> str | None:
    stack: list[str] = []
    footers: list[str] = []
    hidden_depth: int | None = None
    collecting: list[str] | None = None
    footer_depth = 0
    last = 0
    for tag_name, raw_attrs, start, end, closing in old_iter_raw_tags(html):
        if collecting is not None and hidden_depth is None:
            collecting.append(html[last:start])
        last = end
        if closing:
            if tag_name not in stack:
                continue
            while stack:
                name = stack.pop()
                if hidden_depth is not None and len(stack) < hidden_depth:
                    hidden_depth = None
                if collecting is not None and len(stack) < footer_depth:
                    footers.append(" ".join(collecting))
                    collecting = None
                if name == tag_name:
                    break
            continue
        if tag_name in VOID or raw_attrs.rstrip().endswith("/"):
            continue
        if tag_name == "footer" and collecting is None and [s for s in stack if s != "html"] == ["body"]:
            if _is_hidden(raw_attrs) or hidden_depth is not None:
                return "the page footer is hidden"
            collecting, footer_depth = [], len(stack) + 1
        elif hidden_depth is None and (_is_hidden(raw_attrs) or tag_name in ("template", "noscript")):
            if tag_name in ("body", "html"):
                return "the page body is hidden"
            hidden_depth = len(stack) + 1
        stack.append(tag_name)
    if collecting is not None:
        footers.append(" ".join(collecting))
    if not footers:
        return "the page has no <footer> in its <body>, so it lacks the medical disclaimer"
    text = normalize_space(" ".join(visible_text(f) for f in footers))
    if disclaimer.text not in text:
        if disclaimer.text in normalize_space(visible_text(html)):
            return "the medical disclaimer is not inside the page footer (it was moved or hidden)"
        return "the page footer lacks the medical disclaimer (it was removed, emptied or changed)"
    return None


# --- pages: a built fixture site, then each page broken in many ways ---

@pytest.fixture(scope="module")
def built(tmp_path_factory):
    site = new_site(tmp_path_factory.mktemp("equivalence") / "site")
    result = run_cli("build", cwd=site)
    assert result.returncode == 0, result.stderr
    pages = [p.read_text(encoding="utf-8") for p in sorted((site / "_site").rglob("*.html"))]
    assert pages
    footer = re.search(r"<footer\b.*?</footer>", pages[0], re.S | re.I).group(0)
    text = visible_text(footer)
    assert text
    return pages, Disclaimer(Markup(footer), text, "content/_disclaimer.md")


def _footer(page: str) -> re.Match:
    return list(re.finditer(r"<footer\b.*?</footer>", page, re.S | re.I))[-1]


def _around_footer(page: str, before: str, after: str = "") -> str:
    m = _footer(page)
    return page[:m.start()] + before + m.group(0) + after + page[m.end():]


def _inside_footer(page: str, before: str, after: str = "") -> str:
    m = _footer(page)
    inner_start = page.index(">", m.start()) + 1
    inner_end = page.rindex("</", m.start(), m.end())
    return page[:inner_start] + before + page[inner_start:inner_end] + after + page[inner_end:]


def _retag_footer(page: str, start_tag: str, end_tag: str = "</footer>") -> str:
    m = _footer(page)
    inner = page[page.index(">", m.start()) + 1:page.rindex("</", m.start(), m.end())]
    return page[:m.start()] + start_tag + inner + end_tag + page[m.end():]


def _move_into_main(page: str) -> str:
    m = _footer(page)
    rest = page[:m.start()] + page[m.end():]
    return rest.replace("</main>", m.group(0) + "</main>", 1)


MUTATIONS = {
    "unchanged": lambda p: p,
    "footer removed": lambda p: p[:_footer(p).start()] + p[_footer(p).end():],
    "footer emptied": lambda p: _retag_footer(p, "<footer>"),
    "footer hidden": lambda p: _retag_footer(p, "<footer hidden>"),
    "footer HIDDEN uppercase": lambda p: _retag_footer(p, "<FOOTER HIDDEN>", "</FOOTER>"),
    "footer aria-hidden": lambda p: _retag_footer(p, '<footer aria-hidden="true">'),
    "footer inert": lambda p: _retag_footer(p, "<footer inert>"),
    "footer display none": lambda p: _retag_footer(p, "<footer style='display : none'>"),
    "footer opacity entity": lambda p: _retag_footer(p, "<footer style='opacity:&#48;'>"),
    "footer opacity 0.5": lambda p: _retag_footer(p, "<footer style='opacity:0.5'>"),
    "footer self-closing": lambda p: _retag_footer(p, "<footer/>", "</div>"),
    "footer uppercase": lambda p: _retag_footer(p, "<FOOTER>", "</FOOTER >"),
    "footer attr with >": lambda p: _retag_footer(p, "<footer data-x='a>b' title=\"c>d\">"),
    "footer unclosed": lambda p: _retag_footer(p, "<footer>", ""),
    "content in hidden div": lambda p: _inside_footer(p, "<div hidden>", "</div>"),
    "content in aria-hidden": lambda p: _inside_footer(p, "<div Aria-Hidden=TRUE>", "</div>"),
    "content in display none": lambda p: _inside_footer(p, "<div style='display:none'>", "</div>"),
    "content in visibility hidden": lambda p: _inside_footer(p, "<p style=\"visibility: hidden\">", "</p>"),
    "content in font-size 0": lambda p: _inside_footer(p, "<span style='font-size:0'>", "</span>"),
    "content in clip": lambda p: _inside_footer(p, "<span style='clip: rect(0 0 0 0)'>", "</span>"),
    "content in template": lambda p: _inside_footer(p, "<template>", "</template>"),
    "content in noscript": lambda p: _inside_footer(p, "<noscript>", "</noscript>"),
    "content in TEMPLATE": lambda p: _inside_footer(p, "<TEMPLATE>", "</TEMPLATE>"),
    "content commented": lambda p: _inside_footer(p, "<!--", "-->"),
    "content in unclosed hidden": lambda p: _inside_footer(p, "<div hidden>"),
    "footer in template": lambda p: _around_footer(p, "<template>", "</template>"),
    "footer in noscript": lambda p: _around_footer(p, "<noscript>", "</noscript>"),
    "footer in hidden div": lambda p: _around_footer(p, "<div hidden>", "</div>"),
    "footer in div": lambda p: _around_footer(p, "<div>", "</div>"),
    "footer after unclosed div": lambda p: _around_footer(p, "<div class=wrap>"),
    "stray end tags": lambda p: _around_footer(p, "</div></span></main></section>"),
    "stray end body": lambda p: _around_footer(p, "</body><p>", "</p>"),
    "footer commented": lambda p: _around_footer(p, "<!--", "-->"),
    "comment with footer": lambda p: _around_footer(p, "<!-- <footer>x</footer> -->"),
    "unclosed comment": lambda p: _around_footer(p, "<!-- "),
    "cdata and pi": lambda p: _around_footer(p, "<![CDATA[<footer>]]><?php echo '<footer>' ?><!DOCTYPE x>"),
    "footer moved into main": _move_into_main,
    "script with footer": lambda p: _around_footer(p, '<script>var s = "<footer>x</footer>";</script>'),
    "script comment crossing end": lambda p: _around_footer(p, "<script>var s = '<!--';</script >", "<!-- -->"),
    "script quote crossing end": lambda p: _around_footer(p, '<script>x = "<a title=\'</script>', "'>"),
    "SCRIPT uppercase": lambda p: _around_footer(p, "<SCRIPT type=module>if (a<b) {}</ScRiPt>"),
    "script unclosed": lambda p: _around_footer(p, "<script>"),
    "script self-closing": lambda p: _around_footer(p, "<script src=x.js />"),
    "style with end footer": lambda p: _inside_footer(p, "<style>p::after{content:'</footer>'}</style>"),
    "style unclosed": lambda p: _inside_footer(p, "<style>"),
    "self-closing div": lambda p: _around_footer(p, "<div/><span />"),
    "void elements": lambda p: _inside_footer(p, "<br><img src=x alt='>'><hr/><input hidden>"),
    "lone angle brackets": lambda p: _inside_footer(p, "a < b > c <1 </ <a href='x"),
    "unclosed quote": lambda p: _inside_footer(p, "<a href=\"x>"),
    "body hidden": lambda p: p.replace("<body", "<body hidden", 1),
    "html hidden": lambda p: p.replace("<html", "<html inert", 1),
    "second footer": lambda p: p.replace("</body>", "<footer>extra</footer></body>", 1),
    "all uppercase tags": lambda p: re.sub(r"</?[a-z]+", lambda m: m.group(0).upper(), p),
    "no body tag": lambda p: re.sub(r"</?body[^>]*>", "", p),
    "head unclosed div": lambda p: p.replace("</head>", "<div></head>", 1),
    "truncated in footer": lambda p: p[:_footer(p).end() - 12],
    "truncated mid-tag": lambda p: p[:_footer(p).start() + 4],
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_broken_pages_get_the_old_answer(built, name):
    pages, disclaimer = built
    for page in pages:
        html = MUTATIONS[name](page)
        assert page_footer_problem(html, disclaimer) == old_page_footer_problem(html, disclaimer), name
        assert list(iter_raw_tags(html)) == list(old_iter_raw_tags(html)), name


def test_the_mutations_cover_every_answer(built):
    pages, disclaimer = built
    answers = {page_footer_problem(MUTATIONS[name](pages[0]), disclaimer) for name in MUTATIONS}
    assert None in answers
    for reason in ("footer is hidden", "body is hidden", "no <footer>", "not inside", "lacks the medical"):
        assert any(a and reason in a for a in answers), reason


PIECES = ["<footer>", "</footer>", "<FOOTER hidden>", "<div>", "</div>", "<div hidden>",
          "<p style='display:none'>",
          "</p>", "<template>", "</template>", "<noscript>", "</NOSCRIPT>", "<!--", "-->", "<script>", "</script>",
          "<style>", "</STYLE >", "<br/>", "<span/>", "<a title='>'>", "</a>", "</body>", "<body>", "</html>",
          "<html>", "<![CDATA[", "]]>", "<?", "?>", "<!x>", "<", ">", "'", '"', " text ", "<main>", "</main>",
          "<footer inert>", "<div aria-hidden=true>"]


def test_random_splices_get_the_old_answer(built):
    pages, disclaimer = built
    rng = random.Random(20240601)
    for _ in range(1500):
        html = rng.choice(pages)
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(html) + 1)
            html = html[:at] + "".join(rng.choices(PIECES, k=rng.randint(1, 3))) + html[at:]
        assert page_footer_problem(html, disclaimer) == old_page_footer_problem(html, disclaimer), html
        assert list(iter_raw_tags(html)) == list(old_iter_raw_tags(html)), html


def test_iter_tags_still_reads_attributes(built):
    pages, _ = built
    tags = list(iter_tags(pages[0]))
    assert any(tag.name == "footer" for tag in tags)
    assert all(tag.attrs == {} for tag in tags if tag.closing)
