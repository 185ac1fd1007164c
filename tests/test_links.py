"""The link checker of `build.py check`: every link in the built site, reported where it was written."""
from __future__ import annotations

import csv
import functools
import http.server
import io
import json
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import ROOT, installed_tool, run_cli
from medsite.build import BuildOptions, build
from medsite.config import load_config
from medsite.external import ExternalChecker, ExternalOptions
from medsite.htmlscan import Tag, iter_tags, matched_attributes, start_tag_matches
from medsite import links
from medsite.links import Resolver, check_output, find_broken, list_output, scan_html

HTML_FILES_OF_DEFECTS_SITE = 8  # index, glossary, topic index, three articles, search, 404


def insert_after(path: Path, marker: str, text: str) -> int:
    """Insert `text` as a new line after the first line containing `marker`; return its line number."""
    lines = path.read_text(encoding="utf-8").split("\n")
    index = next(i for i, line in enumerate(lines) if marker in line)
    lines.insert(index + 1, text)
    path.write_text("\n".join(lines), encoding="utf-8")
    return index + 2


def add_template_defects(site: Path) -> dict[str, int]:
    """Seed template links: a literal broken one, a bad same-page anchor, one built from an expression."""
    footer = insert_after(site / "templates/base.html", "<footer",
                          """  <p class="help"><a href="{{ url('/help/') }}">Help</a> <a href="#site-end">End</a></p>""")
    article = insert_after(site / "templates/article.html", "<article",
                           """  <a class="print-link" href="{{ url(page.url) }}print/">Print</a>""")
    return {"footer": footer, "article": article}


def build_and_check(site: Path):
    """Build the site into its output folder (links unchecked), then run the link checker on it."""
    config, problems = load_config(site / "config.yaml")
    assert config is not None, problems
    result = build(config, BuildOptions())
    assert result.written, [str(p) for p in result.problems]
    return check_output(config.output_path, config, result)


def expected_defects(lines: dict[str, int]) -> list[str]:
    pages = HTML_FILES_OF_DEFECTS_SITE
    first = "content/topic-a/first.md"
    return sorted([
        f"config.yaml:11: error: link to '/guide/' — no page at /guide/ (on {pages} pages, such as /)",
        "content/styles/print.css:3: error: url '../images/missing-logo.svg' — no file at /images/missing-logo.svg",
        f"{first}:25: error: link to '/no-such-page/' — no page at /no-such-page/",
        f"{first}:27: error: image '/images/never-committed.png' — no file at /images/never-committed.png",
        f"{first}:29: error: link to 'second.md#common-side-effect' — no heading with id 'common-side-effect' "
        "on /topic-a/second/ (did you mean '#common-side-effects'?)",
        f"{first}:31: error: link to '#nowhere' — no heading with id 'nowhere' on this page",
        f"{first}:33: error: link to '/downloads/' — /downloads/ is a folder with no index.html",
        f"{first}:33: error: link to '/downloads/Leaflet.pdf' — case mismatch: did you mean '/downloads/leaflet.pdf'?",
        f"{first}:35: error: link to '' — the address is empty",
        f"{first}:37: error: link to '../third/#no-such-answer' — no heading with id 'no-such-answer' on /topic-a/third/",
        "content/topic-a/second.md:11: error: link to '/references/missing-study/' — "
        "no page at /references/missing-study/",
        f"templates/base.html:{lines['footer']}: error: link to '/help/' — no page at /help/ "
        f"(on {pages} pages, such as /)",
        f"templates/base.html:{lines['footer']}: error: link to '#site-end' — no heading with id 'site-end' "
        f"on this page (on {pages} pages, such as /)",
    ] + [f"templates/article.html:{lines['article']}: error: link to '/topic-a/{name}/print/' — "
         f"no page at /topic-a/{name}/print/ (on /topic-a/{name}/)" for name in ("first", "second", "third")])


# --- the seeded defects: exactly the broken links, each at its source -------------------------------

def test_reports_every_seeded_defect_at_its_source_line_and_nothing_else(make_site, monkeypatch):
    site = make_site(base="links-defects")
    lines = add_template_defects(site)
    monkeypatch.chdir(site)
    report = build_and_check(site)
    assert sorted(str(p) for p in report.problems) == expected_defects(lines)
    assert report.pages == HTML_FILES_OF_DEFECTS_SITE


def test_check_command_fails_lists_the_broken_links_and_keeps_the_last_good_site(make_site):
    site = make_site(base="links-defects")
    lines = add_template_defects(site)
    (site / "_site").mkdir()
    (site / "_site" / "index.html").write_text("the last good site", encoding="utf-8")
    done = run_cli("check", cwd=site)
    assert done.returncode == 1, done.stderr
    for line in expected_defects(lines):
        assert line in done.stderr.splitlines()
    assert "Check failed; the previous site was left as it was." in done.stderr
    assert (site / "_site" / "index.html").read_text(encoding="utf-8") == "the last good site"


def test_check_json_lists_problems_pages_and_links(make_site):
    site = make_site(base="links-defects")
    add_template_defects(site)
    done = run_cli("check", "--format", "json", cwd=site)
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert set(report) == {"problems", "pages", "links"}
    assert report["pages"] == HTML_FILES_OF_DEFECTS_SITE
    assert report["links"] > 100
    missing = [p for p in report["problems"] if p["message"].startswith("link to '/no-such-page/'")]
    assert missing == [{"path": "content/topic-a/first.md", "line": 25, "severity": "error",
                        "message": "link to '/no-such-page/' — no page at /no-such-page/"}]


def test_a_clean_site_passes_the_check_and_is_published(make_site):
    site = make_site(base="lint-clean")
    done = run_cli("check", cwd=site)
    assert done.returncode == 0, done.stderr
    assert "error:" not in done.stderr
    assert (site / "_site" / "index.html").is_file()
    assert done.stdout.startswith("Checked ")


def test_renaming_a_linked_heading_fails_the_check_naming_the_linking_line(make_site):
    site = make_site({"content/index.md": """
        ---
        title: Welcome
        summary: A home page for the content checks.
        kind: page
        last_reviewed: 2026-11-01
        ---
        Start with [how it works](topic-a/mechanism.md).

        Then read [about the risks](topic-a/risks.md#about-this-page).
        """}, base="lint-clean")
    assert run_cli("check", cwd=site).returncode == 0
    risks = site / "content/topic-a/risks.md"
    risks.write_text(risks.read_text(encoding="utf-8").replace("## About this page", "## What this page covers"),
                     encoding="utf-8")
    done = run_cli("check", cwd=site)
    assert done.returncode == 1
    assert ("content/index.md:9: error: link to 'topic-a/risks.md#about-this-page' — no heading with id "
            "'about-this-page' on /topic-a/risks/ (did you mean '#what-this-page-covers'?)") in done.stderr


def test_sitemap_entries_and_copied_html_files_are_checked_at_their_own_lines(make_site, monkeypatch):
    site = make_site({"static/legal.html": """
        <!doctype html>
        <title>Legal</title>
        <p>Read the <a href="missing.pdf">terms</a> and go <a href="index.html">home</a>.</p>
        """})
    monkeypatch.chdir(site)
    config, _ = load_config(site / "config.yaml")
    result = build(config, BuildOptions())
    sitemap = site / "_site" / "sitemap.xml"
    sitemap.write_text(sitemap.read_text(encoding="utf-8").replace(
        "</urlset>", "<url><loc>https://test.example/gone/</loc></url>\n</urlset>"), encoding="utf-8")
    line = sitemap.read_text(encoding="utf-8").split("\n").index(
        "<url><loc>https://test.example/gone/</loc></url>") + 1
    report = check_output(config.output_path, config, result)
    assert sorted(str(p) for p in report.problems) == [
        f"_site/sitemap.xml:{line}: error: sitemap entry 'https://test.example/gone/' — no page at /gone/",
        "static/legal.html:3: error: link to 'missing.pdf' — no file at /missing.pdf",
    ]


# --- the real site ---------------------------------------------------------------------------------

def copy_project(folder: Path) -> Path:
    for name in ("content", "templates", "static"):
        shutil.copytree(ROOT / name, folder / name)
    shutil.copy(ROOT / "config.yaml", folder / "config.yaml")
    return folder


def test_the_real_site_passes_the_check(tmp_path):
    site = copy_project(tmp_path / "site")
    done = run_cli("check", cwd=site)
    assert done.returncode == 0, done.stderr
    assert "error:" not in done.stderr


def test_renaming_a_linked_heading_of_the_real_site_names_the_linking_line(tmp_path, monkeypatch):
    site = copy_project(tmp_path / "site")
    monkeypatch.chdir(site)
    config, _ = load_config(site / "config.yaml")
    result = build(config, BuildOptions(write=False))
    by_rel = {page.article.rel: page.article for page in result.site.pages if page.article}
    for page in result.site.pages:
        for link in page.body.links if page.body else ():
            target = by_rel.get(link.target or "")
            if not link.fragment or target is None or target is page.article:
                continue
            lines = target.source.path.read_text(encoding="utf-8").split("\n")
            heading = next((i for i, text in enumerate(lines) if text.startswith("#") and "{#" not in text
                            and link.fragment in text.lower().replace(" ", "-")), None)
            if heading is not None:
                break
        else:
            continue
        break
    else:
        pytest.skip("the real content has no link to a heading of another article yet")
    lines[heading] += " renamed"
    target.source.path.write_text("\n".join(lines), encoding="utf-8")
    done = run_cli("check", cwd=site)
    assert done.returncode == 1
    expected = (f"{page.article.shown}:{link.line}: error: link to '{link.written}' — no heading with id "
                f"'{link.fragment}' on {target.url}")
    assert any(line.startswith(expected) for line in done.stderr.splitlines()), done.stderr


# --- linkchecker, an independent checker, agrees on the broken pages and files ----------------------

class _NoListing(http.server.SimpleHTTPRequestHandler):
    """A static host like GitHub Pages: a folder without index.html is 404, not a listing."""

    def list_directory(self, path):
        self.send_error(404, "No index.html in this folder")

    def end_headers(self):
        self.send_header("LinkChecker", "welcome")  # lets linkchecker go beyond ~3 requests a second
        super().end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def serve_folder():
    servers = []

    def serve(folder: Path) -> str:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                 functools.partial(_NoListing, directory=str(folder)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


def test_linkchecker_finds_the_same_broken_pages_and_files(make_site, serve_folder, tmp_path, monkeypatch):
    site = make_site(base="links-defects")
    add_template_defects(site)
    insert_after(site / "templates/base.html", "<head",
                 """<link rel="stylesheet" href="{{ url('/styles/print.css') }}" media="print">""")
    monkeypatch.chdir(site)
    build_and_check(site)
    config, _ = load_config(site / "config.yaml")
    broken = find_broken(list_output(site / "_site"), Resolver(config.base_url)).broken
    # linkchecker reports pages and files; its anchor plugin ([AnchorCheck]) reported nothing here, so
    # fragments (and empty links, which it takes for the page itself) are compared by the tests above.
    ours = {item.target for item in broken if item.target and "#" not in item.target}
    assert len(ours) == 11  # the missing pages and files seeded in the fixture and templates
    root = serve_folder(site / "_site")
    settings = tmp_path / "linkcheckerrc"
    settings.write_text("[checking]\nmaxrequestspersecond=100\n[filtering]\nignore=^mailto:\n"
                        "[AnchorCheck]\n[output]\nstatus=0\n", encoding="utf-8")
    done = subprocess.run([installed_tool("linkchecker"), "-f", str(settings), "-o", "csv", "--no-warnings", root],
                          capture_output=True, text=True, timeout=300)
    rows = csv.DictReader(io.StringIO("\n".join(line for line in done.stdout.splitlines()
                                                 if not line.startswith("#"))), delimiter=";")
    theirs = {unquote(urlsplit(row["url"]).path) for row in rows if row["valid"] == "False"}
    assert theirs, done.stdout + done.stderr
    assert ours == theirs


# --- resolving like a browser, scanning like iter_tags ------------------------------------------------

SEGMENT = st.sampled_from(["a", "b", "..", ".", "", "c%20d", "index.html", "x.png"])


@given(folder=st.lists(st.sampled_from(["t", "u", "v"]), max_size=3),
       path=st.lists(SEGMENT, min_size=1, max_size=5).map("/".join),
       query=st.sampled_from(["", "?q=1"]), fragment=st.sampled_from(["", "#x", "#a%20b"]))
def test_relative_links_resolve_as_urljoin_resolves_them(folder, path, query, fragment):
    base = "https://example.org/site/"
    file = "/".join(folder + ["index.html"])
    value = path + query + fragment
    if not value or "//" in path or path.startswith("/"):
        return  # empty: reported as empty; '//' and '/': not relative paths
    target = Resolver(base).resolve(file, value)
    joined = urlsplit(urljoin(base + file, value))
    if not joined.path.startswith("/site/"):
        assert target.kind == "outside"
        return
    assert target.kind == "site"
    assert target.path == unquote(joined.path[len("/site/"):])
    assert target.fragment == fragment[1:]


def test_absolute_and_root_relative_links_resolve_against_the_base_url():
    resolver = Resolver("https://example.org/site/")
    assert resolver.resolve("a/index.html", "/site/b/") == ("site", "b/", "")
    assert resolver.resolve("a/index.html", "/other/") == ("outside", "https://example.org/other/", "")
    assert resolver.resolve("a/index.html", "https://EXAMPLE.org/site/c.png#x") == ("site", "c.png", "x")
    assert resolver.resolve("a/index.html", "https://else.example/p#x") == ("external", "https://else.example/p", "x")
    assert resolver.resolve("a/index.html", "//else.example/p") == ("external", "https://else.example/p", "")
    assert resolver.resolve("a/index.html", "mailto:x@example.org").kind == "other"
    assert resolver.resolve("a/index.html", "?page=2#top") == ("site", "a/index.html", "top")


def start_tags(html: str, attributes: frozenset[str], read: frozenset[str] | None = None) -> list[Tag]:
    """The start tags with any of `attributes`, as the link scan reads them (start_tag_matches)."""
    tags = []
    for match in start_tag_matches(html, attributes, read):
        name, attrs = matched_attributes(match, attributes)
        if attrs is not None:
            self_closing = html[match.start():match.end() - 1].rstrip().endswith("/")
            tags.append(Tag(name, attrs, match.start(), match.end(), False, self_closing))
    return tags


def test_the_fast_scan_finds_the_same_tags_as_iter_tags_on_every_built_page(make_site, monkeypatch):
    site = make_site(base="links-defects")
    monkeypatch.chdir(site)
    build_and_check(site)
    wanted = frozenset({"href", "src", "id", "name", "srcset", "action"})
    for page in (site / "_site").rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        expected = [t for t in iter_tags(html) if not t.closing and not wanted.isdisjoint(t.attrs)]
        assert start_tags(html, wanted) == expected, page


@given(st.lists(st.sampled_from([
    '<a href="x">', "</a>", "<p>", '<p class="c">', '<img src="i.png" alt="">', "<!-- <a href='no'> -->",
    "<script>var s = '<a href=\"no\">';</script>", '<style>a { color: red }</style>', "text > more",
    '<div id="d" title="a > b">', "<a\nhref='y'\n>", '<br/>', '<A HREF=Z>', "<a href>", '<input name="q">',
    '<link rel="preconnect" href="https://cdn.example">', '<SCRIPT src="s.js"></SCRIPT>']), max_size=12))
def test_the_fast_scan_agrees_with_iter_tags_on_any_mix_of_tags(parts):
    html = "".join(parts)
    wanted = frozenset({"href", "src", "id", "name"})
    expected = [t for t in iter_tags(html) if not t.closing and not wanted.isdisjoint(t.attrs)]
    assert start_tags(html, wanted) == expected


def test_scan_collects_ids_anchor_names_and_every_url_attribute():
    ids, links = scan_html('<h2 id="caf\u0065\u0301">x</h2><a id="new" name="old"></a><a href="a/">a</a>'
                           '<img src="i.png" srcset="i-2x.png 2x, i-3x.png 3x"><form action="/search/">'
                           '<link rel="dns-prefetch" href="//cdn.example"><a id="">', "p/index.html")
    assert ids == {"caf\u00e9", "new", "old"}
    assert [(link.tag, link.attribute, link.value) for link in links] == [
        ("a", "href", "a/"), ("img", "src", "i.png"), ("img", "srcset", "i-2x.png"),
        ("img", "srcset", "i-3x.png"), ("form", "action", "/search/")]


# --- external links: a local server stands in for the web ------------------------------------------

class _Web(http.server.BaseHTTPRequestHandler):
    """/ok 200; /moved 301 to /ok; /gone 404; /removed 410; /busy 429; /slow answers late;
    /no-head refuses HEAD (405) but answers GET."""

    requests: list[tuple[str, str]]
    in_flight = [0, 0]  # now, most at once

    def do_HEAD(self):
        self.answer(body=False)

    def do_GET(self):
        self.answer(body=True)

    def answer(self, body: bool):
        self.requests.append((self.command, self.path))
        path = self.path.split("?")[0]
        self.in_flight[0] += 1
        self.in_flight[1] = max(self.in_flight)
        time.sleep(1.0 if path == "/slow" else 0.02)
        self.in_flight[0] -= 1
        status, headers = {"/ok": (200, {}), "/moved": (301, {"Location": "/ok"}), "/gone": (404, {}),
                           "/removed": (410, {}), "/busy": (429, {"Retry-After": "0"}), "/slow": (200, {}),
                           "/no-head": (405 if self.command == "HEAD" else 200, {})}.get(path, (404, {}))
        self.send_response(status)
        for name, value in {**headers, "Content-Length": "2" if body else "0"}.items():
            self.send_header(name, value)
        self.end_headers()
        if body:
            self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def web():
    requests: list[tuple[str, str]] = []
    handler = type("Web", (_Web,), {"requests": requests, "in_flight": [0, 0]})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.requests, server.in_flight = requests, handler.in_flight
    yield server
    server.shutdown()
    server.server_close()


FAST = ExternalOptions(timeout=0.4, retries=1, backoff=0.01, host_delay=0.0, workers=4)


def external_checker(tmp_path: Path, options: ExternalOptions = FAST) -> ExternalChecker:
    return ExternalChecker(tmp_path / "cache" / "external-links.json", options)


def test_external_links_are_judged_by_status_redirect_and_time(web, tmp_path):
    base = f"http://127.0.0.1:{web.server_port}"
    urls = [f"{base}/{name}" for name in ("ok", "moved", "gone", "removed", "busy", "slow", "no-head")]
    outcomes, offline = external_checker(tmp_path).check_urls(urls + ["http://no-such-host.invalid/page"])
    verdicts = {url.rsplit("/", 1)[-1]: (o.severity, o.message) for url, o in outcomes.items()}
    assert offline is None
    assert verdicts == {
        "ok": (None, "200"),
        "moved": ("warning", f"redirects to {base}/ok; link there directly"),
        "gone": ("error", "404 Not Found"),
        "removed": ("error", "410 Gone"),
        "busy": ("warning", "429 Too Many Requests (rate limited; try again later)"),
        "slow": ("warning", "no answer within 0.4 s"),
        "no-head": (None, "200"),
        "page": ("error", "no such host 'no-such-host.invalid' (the site may be gone)"),
    }
    assert web.requests.count(("HEAD", "/busy")) == 2  # retried once
    assert ("GET", "/no-head") in web.requests  # HEAD refused, so GET


def test_external_results_are_cached_so_a_second_run_asks_nobody(web, tmp_path):
    urls = [f"http://127.0.0.1:{web.server_port}/{name}" for name in ("ok", "moved", "gone")]
    external_checker(tmp_path).check_urls(urls)
    asked = len(web.requests)
    outcomes, _ = external_checker(tmp_path).check_urls(urls)
    assert web.requests[asked:] == [("HEAD", "/gone"), ("GET", "/gone")]  # errors are re-checked
    assert outcomes[urls[1]].severity == "warning"
    cache = json.loads((tmp_path / "cache" / "external-links.json").read_text(encoding="utf-8"))
    assert set(cache["links"]) == set(urls[:2])
    expired = external_checker(tmp_path, ExternalOptions(**{**FAST.__dict__, "cache_days": 0}))
    expired.check_urls(urls[:1])
    assert web.requests[-1] == ("HEAD", "/ok")


def test_one_host_gets_one_request_at_a_time(web, tmp_path):
    urls = [f"http://127.0.0.1:{web.server_port}/ok?page={n}" for n in range(6)]
    outcomes, _ = external_checker(tmp_path).check_urls(urls)
    assert [o.severity for o in outcomes.values()] == [None] * 6
    assert web.in_flight[1] == 1


def test_without_a_network_one_warning_replaces_every_failure(tmp_path):
    closed = []
    for _ in range(5):  # ports that were just free, so nothing listens: connections are refused
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            closed.append(probe.getsockname()[1])
    urls = [f"http://127.0.0.1:{port}/page" for port in closed]
    outcomes, offline = external_checker(tmp_path).check_urls(urls)
    assert outcomes == {}
    assert offline.startswith("external links not checked: no network connection")


def test_check_external_reports_broken_external_links_at_their_source(make_site, web):
    base = f"http://127.0.0.1:{web.server_port}"
    site = make_site({"content/index.md": f"""
        ---
        title: Welcome
        summary: A home page for the content checks.
        kind: page
        last_reviewed: 2026-11-01
        ---
        Start with [how it works](topic-a/mechanism.md).

        See [a gone page]({base}/gone), [a moved page]({base}/moved) and [a good one]({base}/ok).
        """}, base="lint-clean")
    offline_check = run_cli("check", cwd=site)
    assert offline_check.returncode == 0, offline_check.stderr  # external links are opt-in
    done = run_cli("check", "--external", cwd=site)
    assert done.returncode == 1
    assert f"content/index.md:9: error: link to '{base}/gone' — 404 Not Found" in done.stderr
    assert (f"content/index.md:9: warning: link to '{base}/moved' — redirects to {base}/ok; "
            "link there directly") in done.stderr
    assert (site / ".medsite-cache" / "external-links.json").is_file()


def test_checking_in_several_processes_finds_exactly_what_one_process_finds(make_site, monkeypatch):
    site = make_site(base="links-defects")
    add_template_defects(site)
    monkeypatch.chdir(site)
    build_and_check(site)
    config, _ = load_config(site / "config.yaml")
    output, resolver = list_output(site / "_site"), Resolver(config.base_url)
    serial = find_broken(output, resolver, jobs=1)
    monkeypatch.setattr(links, "PARALLEL_FROM", 1)
    parallel = find_broken(output, resolver, jobs=2)
    assert sorted(parallel.broken, key=repr) == sorted(serial.broken, key=repr) and len(serial.broken) > 16
    assert parallel.ids == serial.ids and parallel.links == serial.links


def test_a_link_to_a_host_with_an_unclosed_bracket_is_an_error_at_its_line_not_a_crash(make_site):
    site = make_site(base="lint-clean")
    faq = site / "content/topic-a/faq.md"
    faq.write_text(faq.read_text(encoding="utf-8") + "\nSee [the page](//x[/a).\n", encoding="utf-8")
    line = len(faq.read_text(encoding="utf-8").split("\n")) - 1
    done = run_cli("check", cwd=site)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    assert f"content/topic-a/faq.md:{line}: error: link to '//x[/a' — not a valid address" in done.stderr.splitlines()
