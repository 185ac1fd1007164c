"""The generator end to end on small fixture sites: pages, URLs, links, series, drafts, errors."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from conftest import run_cli


class Html(HTMLParser):
    """Just enough of a DOM for assertions: links, ids, element texts by tag, and the footer."""

    def __init__(self, text: str):
        super().__init__()
        self.links: list[tuple[str, str]] = []  # (href, text)
        self.ids: set[str] = set()
        self.h1: list[str] = []
        self.rel: dict[str, str] = {}
        self._stack: list[str] = []
        self._open_link: list | None = None
        self._h1 = False
        self.text_by_class: dict[str, str] = {}
        self._class_stack: list[str | None] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and "href" in attrs:
            self._open_link = [attrs["href"], ""]
            if "rel" in attrs:
                self.rel[attrs["rel"]] = attrs["href"]
        if tag == "h1":
            self._h1 = True
            self.h1.append("")
        if tag not in ("br", "img", "meta", "link", "input", "hr"):
            self._class_stack.append(attrs.get("class"))

    def handle_endtag(self, tag):
        if tag == "a" and self._open_link:
            self.links.append(tuple(self._open_link))
            self._open_link = None
        if tag == "h1":
            self._h1 = False
        if self._class_stack and tag not in ("br", "img", "meta", "link", "input", "hr"):
            self._class_stack.pop()

    def handle_data(self, data):
        if self._open_link is not None:
            self._open_link[1] += data
        if self._h1:
            self.h1[-1] += data
        for cls in self._class_stack:
            if cls:
                for name in cls.split():
                    self.text_by_class[name] = self.text_by_class.get(name, "") + data


def page(site: Path, url: str) -> Html:
    file = site / "_site" / url.lstrip("/") / ("index.html" if url.endswith("/") else "")
    return Html(file.read_text(encoding="utf-8"))


def build_ok(site: Path, *args: str):
    result = run_cli("build", *args, cwd=site)
    assert result.returncode == 0, result.stderr
    return result


def test_builds_every_page_at_its_pretty_url(make_site):
    site = make_site()
    build_ok(site)
    out = site / "_site"
    for file in ["index.html", "glossary/index.html", "topic-a/index.html", "topic-a/first/index.html",
                 "topic-a/second/index.html", "topic-a/third/index.html", "404.html", "sitemap.xml",
                 "robots.txt", "css/site.css", "favicon.svg"]:
        assert (out / file).is_file(), file
    assert page(site, "/topic-a/first/").h1 == ["First article"]


def test_rewrites_markdown_links_to_relative_output_urls(make_site):
    site = make_site()
    build_ok(site)
    links = dict((text, href) for href, text in page(site, "/topic-a/first/").links)
    assert links["risks"] == "../second/#common-side-effects"
    assert links["pain signal"] == "../../glossary/#pain-signal"
    home_links = dict((text, href) for href, text in page(site, "/").links)
    assert home_links["the first article"] == "topic-a/first/"
    assert "common-side-effects" in page(site, "/topic-a/second/").ids


def test_orders_the_series_and_links_previous_and_next(make_site):
    site = make_site()
    build_ok(site)
    first, second, third = (page(site, f"/topic-a/{n}/") for n in ("first", "second", "third"))
    assert "prev" not in first.rel and first.rel["next"] == "../second/"
    assert second.rel == {"prev": "../first/", "next": "../third/"}
    assert third.rel["prev"] == "../second/" and "next" not in third.rel
    index = [text for href, text in page(site, "/topic-a/").links if href in ("../topic-a/first/", "first/",
                                                                                "second/", "third/")]
    assert index == ["First article", "Second article", "Third article"]


def test_order_field_beats_alphabetical_order(make_site):
    site = make_site()
    path = site / "content/topic-a/third.md"
    path.write_text(path.read_text().replace("order: 3", "order: 0"))
    build_ok(site)
    assert page(site, "/topic-a/third/").rel == {"next": "../first/"}


def test_leaves_drafts_out_unless_asked(make_site):
    site = make_site({"content/topic-a/draft.md": """
        ---
        title: Unfinished
        summary: Not ready.
        kind: treatment
        last_reviewed: 2026-11-01
        draft: true
        ---
        Work in progress.
        """})
    build_ok(site)
    assert not (site / "_site/topic-a/draft").exists()
    assert "topic-a/draft" not in (site / "_site/sitemap.xml").read_text()
    build_ok(site, "--drafts")
    assert (site / "_site/topic-a/draft/index.html").is_file()


def test_deleted_article_disappears_from_the_output(make_site):
    site = make_site()
    build_ok(site)
    assert (site / "_site/topic-a/third/index.html").exists()
    (site / "content/topic-a/third.md").unlink()
    build_ok(site)
    assert not (site / "_site/topic-a/third").exists()


def test_medical_pages_show_dates_notices_and_references(make_site):
    site = make_site()
    build_ok(site)
    html = (site / "_site/topic-a/second/index.html").read_text()
    parsed = page(site, "/topic-a/second/")
    assert "Not yet clinically reviewed" in parsed.text_by_class["review-status"]
    assert "regulatory notice for topic A" in parsed.text_by_class["regulatory"]
    assert "Another study" in parsed.text_by_class["references"]
    assert re.search(r"Page last reviewed: <time datetime=\"2026-11-01\">", html)
    assert re.search(r"Next review due: <time datetime=\"2027-11-01\">", html)


def test_reviewer_replaces_the_not_reviewed_notice(make_site):
    site = make_site()
    path = site / "content/topic-a/second.md"
    path.write_text(path.read_text().replace("order: 2", "order: 2\nreviewed_by: Dr A Example, MD"))
    build_ok(site)
    parsed = page(site, "/topic-a/second/")
    assert "review-status" not in parsed.text_by_class
    assert "Dr A Example, MD" in parsed.text_by_class["review-dates"]


def test_disclaimer_source_is_in_every_page_footer(make_site):
    site = make_site()
    build_ok(site)
    pages = list((site / "_site").rglob("*.html"))
    assert len(pages) >= 7
    for file in pages:
        footer = file.read_text().split("<footer", 1)[1]
        assert "This site gives general information only. It is not medical advice." in footer, file


def test_copies_static_files_and_content_assets(make_site):
    site = make_site({"content/topic-a/chart.txt": "data\n"})
    build_ok(site)
    assert (site / "_site/topic-a/chart.txt").read_text() == "data\n"
    assert (site / "_site/css/site.css").is_file()


def test_out_option_writes_elsewhere(make_site, tmp_path):
    site = make_site()
    target = tmp_path / "elsewhere"
    build_ok(site, "--out", str(target))
    assert (target / "index.html").is_file()
    assert not (site / "_site").exists()


def test_config_option_resolves_folders_beside_the_config_file(make_site, tmp_path):
    site = make_site()
    result = run_cli("build", "--config", str(site / "config.yaml"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (site / "_site/index.html").is_file()


def test_reports_several_mistakes_at_once_each_with_file_and_line(make_site):
    site = make_site({
        "content/topic-a/bad.md": """
            ---
            title: Bad one
            summary: Broken.
            kind: risk
            last_reveiwed: 2026-01-01
            ---
            text
            """,
        "content/topic-a/links.md": """
            ---
            title: Links
            summary: Broken links.
            kind: faq
            last_reviewed: 2026-01-01
            ---
            ## Q

            See [nothing](nowhere.md).
            """,
        "content/other.md": """
            ---
            title: Other
            summary: Broken.
            kind: page
            last_reviewed: 2026-01-01
            title: Again
            ---
            """,
    })
    result = run_cli("build", cwd=site)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert any(line.startswith("content/topic-a/bad.md:4: error: kind:") and "did you mean 'risks'" in line
               for line in lines), lines
    assert any(line.startswith("content/topic-a/bad.md:5: error: last_reveiwed: unknown key") for line in lines)
    assert any(line.startswith("content/topic-a/links.md:9: error: link to 'nowhere.md'") for line in lines)
    assert any(line.startswith("content/other.md:6: error: duplicate key 'title'") for line in lines)
    assert "Traceback" not in result.stderr


def test_failed_build_leaves_previous_site_untouched(make_site):
    site = make_site()
    build_ok(site)
    before = {p: p.read_bytes() for p in (site / "_site").rglob("*") if p.is_file()}
    (site / "content/topic-a/first.md").write_text("---\ntitle: [broken\n---\n")
    result = run_cli("build", cwd=site)
    assert result.returncode == 1
    after = {p: p.read_bytes() for p in (site / "_site").rglob("*") if p.is_file()}
    assert after == before
    # Only the build cache and the spare copy of the output (the one before, see output.py) stay.
    assert not [p for p in site.iterdir() if p.name.startswith(".medsite-")
                and p.name not in (".medsite-cache", ".medsite-_site.spare")]


def test_usage_errors_exit_2(make_site):
    site = make_site()
    assert run_cli(cwd=site).returncode == 2
    assert run_cli("build", "--jobs", "0", cwd=site).returncode == 2
    assert run_cli("frobnicate", cwd=site).returncode == 2


def test_missing_config_file_is_a_clear_error(tmp_path):
    result = run_cli("build", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("config.yaml: error: config file not found")


def test_404_page_links_from_the_site_root_so_it_works_at_any_missing_path(make_site):
    site = make_site()
    config = site / "config.yaml"
    config.write_text(config.read_text().replace("https://test.example/", "https://test.example/health/"))
    build_ok(site)
    html = (site / "_site/404.html").read_text()
    assert 'href="/health/css/site.css"' in html
    assert ('href="/health/"', "Go to the home page") in [(f'href="{h}"', t.strip()) for h, t in Html(html).links]


def test_footer_links_come_from_the_config_and_are_checked(make_site):
    site = make_site()
    config = site / "config.yaml"
    missing_line = len(config.read_text().splitlines()) + 4
    config.write_text(config.read_text() + "footer_links:\n  - title: Words we use\n    link: glossary.md\n"
                      "  - title: Missing\n    link: nowhere.md\nfeedback_url: mailto:editors@test.example\n")
    result = run_cli("build", cwd=site)
    assert result.returncode == 1
    assert (f"config.yaml:{missing_line}: error: footer_links[1].link: no article at content/nowhere.md"
            in result.stderr)
    config.write_text(config.read_text().replace("  - title: Missing\n    link: nowhere.md\n", ""))
    build_ok(site)
    footer = (site / "_site/topic-a/first/index.html").read_text().split("<footer", 1)[1]
    links = {text: href for href, text in Html("<footer" + footer).links}
    assert links["Words we use"] == "../../glossary/"
    assert links["Send feedback"] == "mailto:editors@test.example"


def test_a_site_built_in_several_processes_equals_one_built_in_one(make_site):
    """Enough articles that parsing, converting and rendering are shared among processes; with
    a warm cache after a front-matter edit of every article (parsed again, bodies from the cache)."""
    import shutil

    files = {f"content/topic-a/extra-{n:03d}.md": f"""
        ---
        title: Extra article {n}
        summary: Article {n} of many.
        kind: page
        order: {n + 10}
        last_reviewed: 2026-11-01
        draft: {"true" if n % 50 == 0 else "false"}
        ---
        ## Part {n}

        Text with a [link](second.md) and *emphasis*, a table:

        | a | b |
        | - | - |
        | {n} | x |
        """ for n in range(260)}
    site = make_site(files)

    def tree(folder: Path) -> dict[str, bytes]:
        return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}

    assert run_cli("build", "--no-cache", "--jobs", "1", "--out", str(site / "_one"), cwd=site).returncode == 0
    built = run_cli("build", "--jobs", "2", cwd=site)
    assert built.returncode == 0, built.stderr
    assert tree(site / "_site") == tree(site / "_one")
    for path in (site / "content/topic-a").glob("extra-*.md"):
        path.write_text(path.read_text(encoding="utf-8").replace("of many.", "of a great many."), encoding="utf-8")
    shutil.rmtree(site / "_one")
    assert run_cli("build", "--no-cache", "--jobs", "1", "--out", str(site / "_one"), cwd=site).returncode == 0
    assert run_cli("build", "--jobs", "2", cwd=site).returncode == 0
    assert tree(site / "_site") == tree(site / "_one")
