"""Property-based tests: any input to front-matter parsing, slugs and link rewriting gives a result or
a located problem, never an exception, and every URL made stays inside the output folder.
"""
from __future__ import annotations

import posixpath
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

from hypothesis import HealthCheck, example, given, settings, strategies as st

from medsite.content import SourceFile, article_url, parse_article, slugify, url_segment, url_to_file
from medsite.frontmatter import split_front_matter, load_yaml
from medsite.markdown import MarkdownRenderer, relative_url, resolve_placeholders, resolve_written_link
from medsite.problems import Problem, has_errors
from medsite.sanitize import ALLOWED_TAGS

fuzz = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SITE = "https://test.example"
SOURCE = SourceFile(Path("/site/content/topic/page.md"), "topic/page.md", "content/topic/page.md")

# Text that looks like what an editor types into front matter, mistakes included.
YAML_PIECES = st.sampled_from([
    "title", "summary", "kind", "last_reviewed", "slug", "topic", "order", "tags", "references", "draft",
    "reviewed_by", "next_review", "disclaimer", ":", ": ", "- ", "-", "\n", "\n  ", "\t", " ", "#", " #", "'", '"',
    "[", "]", "{", "}", ",", "&a", "*a", "!!int", "!!str", "!!binary", "!!python/object", "? ", "|", ">",
    "2026-11-01", "2026-13-40", "12", "-1", "0x1F", "1e999", "yes", "no", "~", "null", "faq", "page", "risks",
    "Heart: basics", "Update #2", "../x", "a/b", "\ufeff", "\r\n", "\r", "---", "...", "é", "中文", "\x00",
])
YAMLISH = st.lists(YAML_PIECES, max_size=40).map("".join) | st.text(max_size=200)
# Names of files and folders as they may appear in content/ (no '/' inside one name).
NAME = st.text(st.characters(blacklist_characters="/\x00", blacklist_categories=("Cs",)), min_size=1, max_size=20) \
    | st.sampled_from(["..", ".", "...", "index", "---", "a b", "Café", "中文", "a\\b", "%2e%2e", "%2f"])
REL = st.lists(NAME, min_size=1, max_size=4).map(lambda parts: "/".join(parts) + ".md")
PAGE_URL = st.builds(article_url, REL, st.none() | NAME) | st.sampled_from(["/", "/404.html", "/search/"])


class TagCollector(HTMLParser):
    """Every start tag with its attributes, as a browser's tokenizer sees them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.seen: list[tuple[str, list]] = []

    def handle_starttag(self, tag, attrs):
        self.seen.append((tag, attrs))


def assert_located(problems: list[Problem], path: str) -> None:
    for problem in problems:
        assert isinstance(problem, Problem) and problem.path == path and problem.line >= 0
        assert problem.severity in ("error", "warning") and problem.message


@fuzz
@given(YAMLISH)
@example("---\ntitle: [\n---\n")
@example("\ufeff---\r\ntitle: x\r\n---\r\nbody")
def test_splitting_front_matter_never_raises(text):
    split, problems = split_front_matter(text, "content/x.md")
    assert_located(problems, "content/x.md")
    if split is None:
        assert has_errors(problems)
    else:
        assert split.body_line >= 1 and "\r" not in split.body
        assert text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").endswith(split.body)


@fuzz
@given(YAMLISH, st.integers(min_value=1, max_value=500))
@example("a: !!int x", 2)
@example("!!int", 1)
@example("a: !!bool maybe", 1)
@example("a: " + "[" * 600 + "]" * 600, 2)
@example("a: &a [*a]\nb: 1\nb: 2", 2)
def test_loading_yaml_gives_data_or_located_errors(text, first_line):
    data, problems = load_yaml(text, "content/x.md", first_line)
    assert_located(problems, "content/x.md")
    assert all(problem.line >= first_line for problem in problems)
    if data is None and problems:
        assert has_errors(problems)


@fuzz
@given(st.one_of(YAMLISH, st.builds("---\n{}\n---\n{}".format, YAMLISH, st.text(max_size=50))))
@example("---\ntitle: T\nsummary: S\nkind: faq\nlast_reviewed: 2026-11-01\nslug: '..'\n---\n")
@example("---\ntitle: T\nsummary: S\nkind: faq\nlast_reviewed: 2026-11-01\nnext_review: 2026-11-01\n---\n")
def test_parsing_any_article_gives_an_article_or_errors(text):
    article, problems = parse_article(SOURCE, text)
    assert_located(problems, SOURCE.shown)
    if article is None:
        assert has_errors(problems)
    else:
        assert not has_errors(problems)
        assert article.meta.title.strip() and article.url.startswith("/")


def test_a_valid_article_parses_as_a_control_for_the_property_above():
    text = "---\ntitle: T\nsummary: S\nkind: faq\nlast_reviewed: 2026-11-01\n---\nBody.\n"
    article, problems = parse_article(SOURCE, text)
    assert problems == [] and article.url == "/topic/page/" and article.body == "Body.\n"


@fuzz
@given(st.text(max_size=80))
def test_a_slug_is_lowercase_ascii_words_joined_by_hyphens(text):
    slug = slugify(text)
    assert slug == "" or re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug)
    assert slugify(slug) == slug


@fuzz
@given(NAME)
def test_a_url_segment_cannot_climb_or_split(name):
    segment = url_segment(name)
    assert "/" not in segment and "\\" not in segment and "." not in segment and "%" not in segment


@fuzz
@given(REL, st.none() | NAME)
@example("../../etc/passwd.md", None)
@example("a/..md", None)
@example("topic/page.md", "../../x")
def test_an_article_url_stays_inside_the_output_folder(rel, slug):
    url = article_url(rel, slug)
    assert url.startswith("/") and url.endswith("/")
    assert ".." not in url and "//" not in url and "\\" not in url
    out = Path("/srv/site/_site")
    assert (out / url_to_file(url)).resolve().is_relative_to(out)


@fuzz
@given(PAGE_URL, PAGE_URL)
@example("/a/b/", "/a/b/")
@example("/404.html", "/topic/page/")
@example("/a/b/c/", "/")
def test_a_relative_url_leads_a_browser_to_the_intended_page(from_url, to_url):
    link = relative_url(from_url, to_url)
    assert not link.startswith("/") and "//" not in link
    assert urljoin(SITE + from_url, link) == SITE + to_url
    assert urljoin(SITE + "/base/path" + from_url, link) == SITE + "/base/path" + to_url


@fuzz
@given(st.text(max_size=60) | st.sampled_from(["//evil.example/x", "javascript:alert(1)", "/\\evil", "#fn:1",
                                                "../../../../etc/passwd", "risks.md#common%20effects", "?q=1"]),
       REL)
def test_resolving_a_written_link_gives_a_clean_content_path_or_none(href, page_rel):
    target, fragment = resolve_written_link(href, page_rel)
    assert isinstance(fragment, str)
    if target is None:
        return
    if target.startswith("/"):
        assert posixpath.normpath(target) == target.rstrip("/") or target == "/"
    else:
        assert posixpath.normpath(target) == target and not target.startswith("/")


@fuzz
@given(st.lists(st.tuples(REL.filter(lambda rel: "#" not in rel), st.text(alphabet="abc-", max_size=8)),
                min_size=1, max_size=5), PAGE_URL)
@example([("a&b/x<y>.md", ""), ('say "hi".md', "top")], "/")
def test_placeholders_become_links_a_browser_resolves_to_each_target(targets, page_url):
    # As the sanitizer's serializer writes them: '&' and '"' escaped inside the attribute.
    escaped = {rel: rel.replace("&", "&amp;").replace('"', "&quot;") for rel, _ in targets}
    html = "".join(f'<a href="medsite:{escaped[rel]}#{fragment}">x</a><img src="medsite:{escaped[rel]}">'
                   for rel, fragment in targets)
    urls = {rel: article_url(rel) for rel, _ in targets}

    resolved = resolve_placeholders(html, page_url, urls.get)

    assert "medsite:" not in resolved
    hrefs = re.findall(r'href="([^"]*)"', resolved)
    for (rel, fragment), href in zip(targets, hrefs):
        assert urljoin(SITE + page_url, href) == SITE + urls[rel] + ("#" + fragment if fragment else "")


@fuzz
@given(st.text(max_size=300) | st.lists(st.sampled_from([
    "<script>", "</script>", "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))", "<a href='", "'>",
    "\n", "\n\n", "<iframe>", "<style>", "*", "`", "<details>", "<summary>", "![i](data:text/html,x)", "[l](b.md)",
    "<div markdown=1>", "&#x6a;avascript:", "<svg onload=alert(1)>", "<!--", "-->", "[^1]", "[^1]: n", "!!! note\n    x",
]), max_size=30).map("".join))
def test_rendering_any_markdown_leaves_no_script_and_locates_every_removal(body):
    rendered = MarkdownRenderer().render(body, "topic/page.md", body_line=7)
    tags = TagCollector()
    tags.feed(rendered.html)
    for name, attrs in tags.seen:
        assert name in ALLOWED_TAGS, rendered.html
        for attribute, value in attrs:
            assert not attribute.startswith("on"), rendered.html
            url = re.sub(r"[\x00-\x20]", "", value or "").lower()
            assert not url.startswith(("javascript:", "vbscript:", "data:text")), rendered.html
    lines = body.count("\n") + 1
    assert all(7 <= removal.line < 7 + lines for removal in rendered.removed)
