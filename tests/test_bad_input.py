"""Bad input: every broken source gives one clear, located error and leaves the last good site as it was.

Each case starts from the `minimal` fixture site after a good build, breaks one thing, builds again
and checks: exit 1, an error line starting with the exact `path:line:` (where the file has a line),
no traceback, and every file of the previous `_site/` unchanged, byte for byte.
The summary line CI prints ("bad-input suite: N cases, ...") comes from tests/conftest.py.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

from conftest import ROOT, new_site, run_cli

ARTICLE = """---
title: Broken article
summary: A page for a bad-input case.
kind: page
last_reviewed: 2026-11-01
---
Some text.
"""


def article(replace: str = "", add: str = "", body: str = "Some text.\n") -> str:
    """A good article with one front-matter line replaced (by key), lines added to the front matter, and `body`."""
    lines = ARTICLE.split("\n")[:-2]
    if replace:
        key = replace.split(":")[0] + ":"
        lines = [replace if line.startswith(key) else line for line in lines]
    if add:
        lines.insert(-1, add)
    return "\n".join(lines) + "\n" + body


@dataclass(frozen=True)
class BadInput:
    name: str
    expect: str  # the error line starts with this: "path:line: error: message start"
    files: dict[str, str | bytes] = field(default_factory=dict)
    remove: tuple[str, ...] = ()
    args: tuple[str, ...] = ()  # extra command-line arguments; "ABSOLUTE:x" is the site's x as an absolute path
    setup: Callable[[Path], None] | None = None


def symlink_outside(site: Path) -> None:
    secret = site.parent / "outside.md"
    secret.write_text(ARTICLE, encoding="utf-8")
    (site / "content" / "linked.md").symlink_to(secret)


def symlink_folder_outside(site: Path) -> None:
    outside = site.parent / "outside-folder"
    outside.mkdir()
    (outside / "page.md").write_text(ARTICLE, encoding="utf-8")
    (site / "content" / "linked").symlink_to(outside, target_is_directory=True)


BASE = ROOT / "templates" / "base.html"


def base_html(*changes: tuple[str, str]) -> dict[str, str]:
    """The real base.html with each (old, new) piece changed."""
    text = BASE.read_text(encoding="utf-8")
    for old, new in changes:
        assert old in text, f"base.html no longer contains {old!r}"
        text = text.replace(old, new, 1)
    return {"templates/base.html": text}


CASES = [
    # Front matter
    BadInput("YAML that does not parse", "content/broken.md:2: error: invalid YAML",
             {"content/broken.md": article(replace="title: Heart: the basics")}),
    BadInput("tab-indented YAML", "content/broken.md:7: error: invalid YAML: while scanning for the next token "
                                  "found character that cannot start any token (a tab: indent YAML with spaces)",
             {"content/broken.md": article(add="tags:\n\t- pain")}),
    BadInput("front matter that is a list, not a mapping",
             "content/broken.md:2: error: front matter must be a mapping of fields, got list",
             {"content/broken.md": "---\n- title\n- summary\n---\nText.\n"}),
    BadInput("front matter that is plain text", "content/broken.md:2: error: front matter must be a mapping",
             {"content/broken.md": "---\njust some words\n---\nText.\n"}),
    BadInput("no closing --- line", "content/broken.md:1: error: front matter starts with '---'",
             {"content/broken.md": ARTICLE.replace("---\nSome", "Some")}),
    BadInput("no front matter at all", "content/broken.md:1: error: no front matter",
             {"content/broken.md": "# Just a heading\n\nText.\n"}),
    BadInput("an empty file", "content/broken.md:1: error: no front matter", {"content/broken.md": ""}),
    BadInput("a list for title", "content/broken.md:2: error: title: expected text, got a list",
             {"content/broken.md": article(replace="title: [one, two]")}),
    BadInput("an empty title", "content/broken.md:2: error: title: must not be empty",
             {"content/broken.md": article(replace='title: ""')}),
    BadInput("a date that does not exist", "content/broken.md:5: error: invalid YAML: '2026-13-40' is not a real date",
             {"content/broken.md": article(replace="last_reviewed: 2026-13-40")}),
    BadInput("a date that is not a date", "content/broken.md:5: error: last_reviewed: expected a date",
             {"content/broken.md": article(replace="last_reviewed: last week")}),
    BadInput("an unknown kind", "content/broken.md:4: error: kind: expected one of",
             {"content/broken.md": article(replace="kind: recipe")}),
    BadInput("a required key missing", "content/broken.md:2: error: summary: missing required key",
             {"content/broken.md": ARTICLE.replace("summary: A page for a bad-input case.\n", "")}),
    BadInput("a typo in a front-matter key", "content/broken.md:6: error: sumary: unknown key (did you mean 'summary'?)",
             {"content/broken.md": article(add="sumary: again")}),
    BadInput("a key given twice", "content/broken.md:6: error: duplicate key 'title'",
             {"content/broken.md": article(add="title: Second title")}),
    BadInput("disclaimer: false in front matter",
             "content/broken.md:6: error: disclaimer: unknown key; the medical disclaimer is on every page",
             {"content/broken.md": article(add="disclaimer: false")}),
    BadInput("a whole number written as a word", "content/broken.md:6: error: order: expected a whole number",
             {"content/broken.md": article(add="order: two")}),
    BadInput("next_review before last_reviewed", "content/broken.md:6: error: next_review: must be after last_reviewed",
             {"content/broken.md": article(add="next_review: 2020-01-01")}),
    BadInput("a topic that is not a folder-style name", "content/broken.md:6: error: topic: 'Topic A' must be",
             {"content/broken.md": article(add="topic: Topic A")}),
    # Files
    BadInput("a file that is not UTF-8", "content/broken.md:7: error: not valid UTF-8 text (byte 0xe9)",
             {"content/broken.md": article(body="Caf\xe9 au lait.\n").encode("latin-1")}),
    BadInput("a 5 MB article", "content/broken.md: error: file is 5 MB; an article may be at most",
             {"content/broken.md": article(body="Words and more words.\n" * 240_000)}),
    BadInput("a symbolic link to a file outside content/",
             "content/linked.md: error: symbolic link points outside the content folder", setup=symlink_outside),
    BadInput("a symbolic link to a folder outside content/",
             "content/linked: error: symbolic link to a folder outside the content folder",
             setup=symlink_folder_outside),
    BadInput("a missing disclaimer file", "content/_disclaimer.md: error: the medical disclaimer source is missing",
             remove=("content/_disclaimer.md",)),
    BadInput("an empty disclaimer", "content/_disclaimer.md:1: error: the medical disclaimer is empty",
             {"content/_disclaimer.md": "\n\n"}),
    BadInput("a missing content folder", "config.yaml:1: error: content_dir: folder 'content' not found",
             remove=("content",)),
    # URLs and links
    BadInput("two articles with the same URL", "content/topic-a/zz-copy.md:6: error: two pages would be written at /topic-a/first/",
             {"content/topic-a/zz-copy.md": article(add="slug: first")}),
    BadInput("a slug with ../", "content/broken.md:6: error: slug: '../escape' must be one URL segment",
             {"content/broken.md": article(add="slug: ../escape")}),
    BadInput("a slug with /", "content/broken.md:6: error: slug: 'a/b' must be one URL segment",
             {"content/broken.md": article(add="slug: a/b")}),
    BadInput("a slug that is empty after cleaning", "content/broken.md:6: error: slug: '!!!' has no letters or digits",
             {"content/broken.md": article(add='slug: "!!!"')}),
    BadInput("a file name without letters or digits", "content/---.md: error: '---' has no letters or digits",
             {"content/---.md": ARTICLE}),
    BadInput("a link to a missing article", "content/broken.md:7: error: link to 'nowhere.md': no article at content/nowhere.md",
             {"content/broken.md": article(body="See [this](nowhere.md).\n")}),
    BadInput("a link out of the content folder", "content/broken.md:8: error: link to '../../etc/passwd' leaves the content folder",
             {"content/broken.md": article(body="Text.\n[x](../../etc/passwd)\n")}),
    BadInput("an image that is missing", "content/broken.md:7: error: image 'img/none.png': no file at content/img/none.png",
             {"content/broken.md": article(body="![A chart](img/none.png)\n")}),
    BadInput("--out that is the content folder itself", "config.yaml: error: --out: ",
             args=("--out", "ABSOLUTE:content")),
    BadInput("--out that is the project folder", "config.yaml: error: --out: ",
             args=("--out", "ABSOLUTE:.")),
    # Config
    BadInput("a config with wrong types", "config.yaml:1: error: title: expected text, got a list",
             {"config.yaml": "title: [a, b]\ntagline: t\nbase_url: https://test.example/\npublisher: p\n"}),
    BadInput("a config key that does not exist", "config.yaml:5: error: titel: unknown key (did you mean 'title'?)",
             {"config.yaml": "title: T\ntagline: t\nbase_url: https://test.example/\npublisher: p\ntitel: T\n"}),
    BadInput("a config that is not a mapping", "config.yaml:1: error: expected a mapping, got a list",
             {"config.yaml": "- title\n- tagline\n"}),
    BadInput("a config that does not parse", "config.yaml:3: error: invalid YAML: while parsing a flow sequence",
             {"config.yaml": "title: T\ntagline: [unclosed\nbase_url: https://test.example/\n"}),
    BadInput("a base_url that is not absolute", "config.yaml:3: error: base_url: must be an absolute http(s) URL",
             {"config.yaml": "title: T\ntagline: t\nbase_url: test.example\npublisher: p\n"}),
    BadInput("nav to a missing article", "config.yaml:6: error: nav[0].link: no article at content/missing.md",
             {"config.yaml": "title: T\ntagline: t\nbase_url: https://test.example/\npublisher: p\n"
                             "nav:\n  - title: Gone\n    link: missing.md\n"}),
    # Templates
    BadInput("a template with a syntax error", "templates/page.html:5: error: template syntax error",
             {"templates/page.html": '{% extends "base.html" %}\n{% block main %}\n{% if page.title %}\n'
                                     '<h1>{{ page.title }}</h1>\n{% endblock %}\n'}),
    BadInput("a template that includes itself", "templates/page.html:1: error: template includes or extends itself",
             {"templates/page.html": '{% extends "base.html" %}\n{% block main %}\n{% include "page.html" %}\n'
                                     '{% endblock %}\n'}),
    BadInput("a missing template", "templates/topic.html: error: template 'topic.html' not found",
             remove=("templates/topic.html",)),
    BadInput("a template using an undefined variable", "templates/page.html:3: error: undefined variable in template",
             {"templates/page.html": '{% extends "base.html" %}\n{% block main %}\n{{ page.subtitle }}\n'
                                     '{% endblock %}\n'}),
    BadInput("a base template without the disclaimer",
             "templates/page.html: error: the page footer lacks the medical disclaimer",
             base_html(("{{ disclaimer }}", ""))),
    BadInput("the disclaimer moved out of the footer",
             "templates/page.html: error: the medical disclaimer is not inside the page footer",
             base_html(("{{ disclaimer }}", ""), ("<main id=\"main\" class=\"wrap\">",
                                                   "<main id=\"main\" class=\"wrap\">{{ disclaimer }}"))),
    BadInput("a footer hidden with a style", "templates/page.html: error: the page footer is hidden",
             base_html(('<footer class="site-footer">', '<footer class="site-footer" style="display: none">'))),
    BadInput("a template that does not extend base.html",
             "templates/page.html: error: the page has no <footer> in its <body>",
             {"templates/page.html": "<!doctype html>\n<title>{{ page.title }}</title>\n<main>{{ page.body_html }}</main>\n"}),
    BadInput("a block override that drops the footer",
             "templates/page.html: error: the page has no <footer> in its <body>",
             {"templates/page.html": '{% extends "base.html" %}\n{% block main %}{{ page.body_html }}</main></body></html>'
                                     '<!--{% endblock %}\n'}),
    BadInput("a static file that would overwrite a page", "static/sitemap.xml: error: static file would overwrite",
             {"static/sitemap.xml": "<urlset/>\n"}),
]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.fixture(scope="module")
def good_site(tmp_path_factory) -> Path:
    """The minimal site after one good build (copied for each case)."""
    site = new_site(tmp_path_factory.mktemp("good") / "site")
    result = run_cli("build", cwd=site)
    assert result.returncode == 0, result.stderr
    return site


def break_site(site: Path, case: BadInput) -> list[str]:
    for name, data in case.files.items():
        path = site / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8")
    for name in case.remove:
        path = site / name
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    if case.setup:
        case.setup(site)
    return [str((site / arg.removeprefix("ABSOLUTE:")).resolve()) if arg.startswith("ABSOLUTE:") else arg
            for arg in case.args]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_a_broken_input_gives_a_located_error_and_keeps_the_previous_site(case, good_site, tmp_path):
    site = tmp_path / "site"
    shutil.copytree(good_site, site, symlinks=True)
    before = snapshot(site / "_site")
    assert before, "the good build wrote nothing"

    result = run_cli("build", *break_site(site, case), cwd=site)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert any(line.startswith(case.expect) for line in lines), \
        f"no line starts with {case.expect!r}:\n{result.stderr}"
    assert snapshot(site / "_site") == before


def test_the_suite_covers_at_least_thirty_distinct_cases():
    assert len({case.name for case in CASES}) == len(CASES) >= 30


# Inputs that must just work.

@pytest.mark.parametrize("encode", [
    pytest.param(lambda text: b"\xef\xbb\xbf" + text.encode("utf-8"), id="UTF-8 BOM"),
    pytest.param(lambda text: text.replace("\n", "\r\n").encode("utf-8"), id="CRLF line endings"),
    pytest.param(lambda text: b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"), id="BOM and CRLF"),
    pytest.param(lambda text: text.replace("\n", "\r").encode("utf-8"), id="old Mac CR line endings"),
])
def test_an_article_saved_with_a_bom_or_windows_line_endings_builds(encode, make_site):
    site = make_site()
    text = article(replace="title: Saved on Windows", add="tags: [pain, nerves]",
                   body="## A heading\n\nA paragraph with [a link](glossary.md).\n")
    (site / "content" / "windows.md").write_bytes(encode(text))
    (site / "config.yaml").write_bytes(encode((site / "config.yaml").read_text(encoding="utf-8")))
    (site / "content" / "_disclaimer.md").write_bytes(
        encode((site / "content" / "_disclaimer.md").read_text(encoding="utf-8")))

    result = run_cli("build", cwd=site)

    assert result.returncode == 0, result.stderr
    page = (site / "_site" / "windows" / "index.html").read_text(encoding="utf-8")
    assert "<h1>Saved on Windows</h1>" in page
    assert '<h2 id="a-heading">A heading</h2>' in page
    assert 'href="../glossary/"' in page
    assert "\ufeff" not in page and "\r" not in page
    assert "This site gives general information only." in page


def test_a_hash_in_an_unquoted_title_warns_at_its_line(make_site):
    site = make_site({"content/update.md": article(replace="title: Update #2 (new dosing leaflet)")})

    result = run_cli("build", cwd=site)

    assert result.returncode == 0, result.stderr
    assert "content/update.md:2: warning: title: YAML reads ' #' as the start of a comment, " \
           "so the value is 'Update'" in result.stderr
    assert "<h1>Update</h1>" in (site / "_site" / "update" / "index.html").read_text(encoding="utf-8")


def test_a_quoted_title_with_a_hash_builds_without_warning(make_site):
    site = make_site({"content/update.md": article(replace='title: "Update #2"')})

    result = run_cli("build", cwd=site)

    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr
    assert "<h1>Update #2</h1>" in (site / "_site" / "update" / "index.html").read_text(encoding="utf-8")


def test_a_build_after_fixing_the_input_replaces_the_site(good_site, tmp_path):
    site = tmp_path / "site"
    shutil.copytree(good_site, site, symlinks=True)
    (site / "content" / "broken.md").write_text(article(replace="title: Heart: basics"), encoding="utf-8")
    assert run_cli("build", cwd=site).returncode == 1
    assert not (site / "_site" / "broken").exists()

    (site / "content" / "broken.md").write_text(article(replace='title: "Heart: basics"'), encoding="utf-8")
    result = run_cli("build", cwd=site)

    assert result.returncode == 0, result.stderr
    assert "<h1>Heart: basics</h1>" in (site / "_site" / "broken" / "index.html").read_text(encoding="utf-8")


def test_every_problem_of_a_run_is_reported_together(good_site, tmp_path):
    site = tmp_path / "site"
    shutil.copytree(good_site, site, symlinks=True)
    (site / "content" / "one.md").write_text(article(replace="kind: recipe"), encoding="utf-8")
    (site / "content" / "two.md").write_text(article(add="sumary: x"), encoding="utf-8")

    result = run_cli("build", cwd=site)

    assert result.returncode == 1
    assert "content/one.md:4: error: kind:" in result.stderr
    assert "content/two.md:6: error: sumary:" in result.stderr
    assert "2 error(s)" in result.stderr
