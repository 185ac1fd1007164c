"""`python build.py new`: a draft article per kind that builds as it is, never over an existing file."""
from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import pytest

from conftest import run_cli
from medsite.content import SourceFile, parse_article


class Headings(HTMLParser):
    """The text of the h2 headings and the classes of the boxes in a built page's <main>."""

    def __init__(self):
        super().__init__()
        self.h2: list[str] = []
        self.boxes: list[str] = []
        self._in_h2 = False

    def handle_starttag(self, tag, attrs):
        classes = dict(attrs).get("class") or ""
        if tag == "h2":
            self._in_h2 = True
            self.h2.append("")
        if "admonition" in classes.split():
            self.boxes.append(classes)

    def handle_endtag(self, tag):
        if tag == "h2":
            self._in_h2 = False

    def handle_data(self, data):
        if self._in_h2:
            self.h2[-1] += data


def new(site, *args):
    return run_cli("new", *args, cwd=site)


def built_headings(site, url_path: str) -> Headings:
    parser = Headings()
    parser.feed((site / "_site" / url_path.strip("/") / "index.html").read_text(encoding="utf-8"))
    return parser


EXPECTED = {
    "overview": ["What is it?", "Who is this for?"],
    "mechanism": ["How does it work?"],
    "indications": ["Who might be offered it?", "How sure are we?", "What is still unknown?"],
    "risks": ["Common side effects", "Serious risks", "When to get medical help"],
    "treatment": ["Questions to ask your doctor", "When to get medical help"],
    "faq": ["TODO: a question, written as a reader would ask it?"],
    "page": ["TODO: first section heading"],
}


def test_every_kind_of_new_article_builds_as_a_draft_with_its_sections(make_site):
    site = make_site()
    for kind in EXPECTED:
        result = new(site, f"Living with {kind}", "--topic", "topic-a", "--kind", kind)
        assert result.returncode == 0, result.stderr

    built = run_cli("build", "--drafts", cwd=site)
    assert built.returncode == 0, built.stderr
    assert "error:" not in built.stderr
    for kind, headings in EXPECTED.items():
        page = built_headings(site, f"/topic-a/living-with-{kind}/")
        for heading in headings:
            assert heading in page.h2, (kind, page.h2)
    risks = built_headings(site, "/topic-a/living-with-risks/")
    assert any("urgent" in box for box in risks.boxes) and any("emergency" in box for box in risks.boxes)

    published = run_cli("build", cwd=site)
    assert published.returncode == 0, published.stderr
    assert not (site / "_site" / "topic-a" / "living-with-risks").exists()  # drafts stay out


def test_a_new_article_has_every_front_matter_field_filled_in_or_marked(make_site):
    site = make_site()
    result = new(site, "Bladder problems: what to watch for", "--topic", "topic-a", "--kind", "risks")
    assert result.returncode == 0, result.stderr
    path = site / "content" / "topic-a" / "bladder-problems-what-to-watch-for.md"
    source = SourceFile(path, "topic-a/bladder-problems-what-to-watch-for.md", "shown")
    article, problems = parse_article(source, path.read_text(encoding="utf-8"))
    assert problems == []
    meta = article.meta
    assert meta.title == "Bladder problems: what to watch for"
    assert meta.summary.startswith("TODO:")
    assert meta.kind == "risks"
    assert meta.last_reviewed == dt.date.today()
    assert meta.draft is True
    assert meta.order == 4  # after the three articles already in the series
    assert [reference.title for reference in meta.references] == [
        "TODO: the title of the paper, guideline or web page"]
    assert "# recheck: true" in path.read_text(encoding="utf-8")


def test_new_prints_the_file_and_the_preview_url(make_site):
    site = make_site()
    result = new(site, "How it feels", "--topic", "topic-a", "--kind", "faq")
    assert result.returncode == 0
    assert "Created content/topic-a/how-it-feels.md" in result.stdout
    assert "http://127.0.0.1:8000/topic-a/how-it-feels/" in result.stdout


def test_new_refuses_to_overwrite_an_existing_article(make_site):
    site = make_site()
    existing = site / "content" / "topic-a" / "first.md"
    before = existing.read_text(encoding="utf-8")
    result = new(site, "First", "--topic", "topic-a", "--kind", "overview")
    assert result.returncode == 1
    assert "content/topic-a/first.md: error: already exists" in result.stderr
    assert existing.read_text(encoding="utf-8") == before


@pytest.mark.parametrize("args, message", [
    (["Title", "--topic", "topic-a", "--kind", "risk"], "unknown kind 'risk'; choose one of: overview, mechanism, "
                                                        "indications, risks, treatment, faq, page"),
    (["Title", "--topic", "Topic A", "--kind", "risks"], "must be a folder-style name"),
    (["???", "--topic", "topic-a", "--kind", "risks"], "has no letters or digits"),
])
def test_bad_usage_exits_with_code_2_and_says_what_is_allowed(make_site, args, message):
    site = make_site()
    result = new(site, *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in (site / "content" / "topic-a").iterdir()) == ["first.md", "second.md", "third.md"]


def test_a_new_topic_folder_is_created_and_the_editor_is_told_to_name_it(make_site):
    site = make_site()
    result = new(site, "What are lozenges?", "--topic", "new-series", "--kind", "overview")
    assert result.returncode == 0, result.stderr
    assert (site / "content" / "new-series" / "what-are-lozenges.md").is_file()
    assert re.search(r"add the topic 'new-series' .* under 'topics:'", result.stdout)
