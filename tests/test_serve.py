"""The preview server: live rebuilds, the error page, safe file serving, and a clean start and stop.

Most tests start the real `python build.py serve` on a free port and talk to it over HTTP with a
raw socket or http.client, which send the path exactly as written (no client-side clean-up).
"""
from __future__ import annotations

import base64
import hashlib
import html
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from browser_support import free_port
from conftest import ROOT
from medsite.content import is_ignored_name
from medsite.render import CONTENT_SECURITY_POLICY
from medsite.serve import SourceWatcher, changed_paths, is_page_request, locate, preview_policy, snapshot

ARTICLE = "content/topic-a/first.md"
PAGE = "/topic-a/first/"


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: str


@dataclass
class ServedSite:
    """A `python build.py serve` process previewing a site folder."""

    folder: Path
    port: int
    process: subprocess.Popen
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str, headers: dict[str, str] | None = None, method: str = "GET") -> Response:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.putrequest(method, path, skip_accept_encoding=True)
            for name, value in (headers or {}).items():
                connection.putheader(name, value)
            connection.endheaders()
            reply = connection.getresponse()
            return Response(reply.status, {k.lower(): v for k, v in reply.getheaders()},
                            reply.read().decode("utf-8", "replace"))
        finally:
            connection.close()

    def wait_for(self, path: str, predicate, timeout: float = 10) -> tuple[Response, float]:
        """Poll `path` until `predicate(response)`; return it and the seconds waited."""
        started = time.perf_counter()
        while True:
            response = self.get(path)
            if predicate(response):
                return response, time.perf_counter() - started
            if time.perf_counter() - started > timeout:
                pytest.fail(f"{path} did not change as expected within {timeout} s; last answer "
                            f"{response.status}: {response.body[:800]}\nserver log:\n{self.output()}")
            time.sleep(0.01)

    def edit(self, rel: str, old: str, new: str) -> None:
        path = self.folder / rel
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for_output(self, text: str, timeout: float = 10) -> str:
        """The server's terminal output once it shows `text` (printed just after each build)."""
        deadline = time.monotonic() + timeout
        while text not in self.output() and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.output()

    def stop(self) -> int:
        """Ctrl-C, as an editor would; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=30)


def start_server(folder: Path, *extra: str) -> ServedSite:
    port = free_port()
    log = folder.parent / f"serve-{port}.log"
    with log.open("w") as stream:
        process = subprocess.Popen([sys.executable, str(ROOT / "build.py"), "serve", "--port", str(port),
                                    "--config", str(folder / "config.yaml"), *extra],
                                   cwd=folder, stdout=stream, stderr=subprocess.STDOUT)
    served = ServedSite(folder, port, process, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode}:\n{served.output()}")
        try:
            served.get("/")
            return served
        except OSError:
            time.sleep(0.05)
    served.stop()
    pytest.fail(f"the server did not answer within 60 s:\n{served.output()}")


@pytest.fixture
def served(make_site):
    site = start_server(make_site())
    yield site
    site.stop()


def injected_script(page: str) -> str:
    match = re.search(r"<script[^>]*>((?:(?!<script).)*)</script>\s*</head>", page, re.S)
    assert match, "no livereload script before </head>"
    return match.group(1)


def page_policy(page: str) -> str:
    match = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)"', page)
    assert match, "no Content-Security-Policy meta tag"
    return match.group(1).replace("&#39;", "'").replace("&#x27;", "'")


# -- the editor's loop, over HTTP ---------------------------------------------------------------

def test_a_saved_edit_is_served_with_the_livereload_script_soon_after(served):
    before = served.get(PAGE)
    assert before.status == 200
    assert "livereload.js" in injected_script(before.body)
    assert "First article" in before.body

    served.edit(ARTICLE, "Read about", "Freshly edited sentence. Read about")
    after, waited = served.wait_for(PAGE, lambda r: "Freshly edited sentence" in r.body)
    print(f"\nsave -> new text served: {waited * 1000:.0f} ms (goal: under 500 ms)")
    assert waited < 3  # generous on a loaded 2-core machine; the 0.5 s goal is measured in bench/
    assert after.status == 200
    assert after.body.count("livereload.js") == 1
    assert "after a change to content/topic-a/first.md" in served.wait_for_output("after a change")


def test_the_preview_policy_allows_exactly_the_injected_script_and_a_later_build_restores_the_strict_one(served):
    page = served.get(PAGE).body
    digest = base64.b64encode(hashlib.sha256(injected_script(page).encode("utf-8")).digest()).decode()
    policy = page_policy(page)
    assert f"'sha256-{digest}'" in policy.split("script-src", 1)[1].split(";")[0]
    assert "unsafe-inline" not in policy
    assert f"ws://127.0.0.1:{served.port}" in policy

    served_page = served.folder / "_site" / "topic-a" / "first" / "index.html"
    assert page_policy(served_page.read_text(encoding="utf-8")) == policy  # _site holds the preview build
    assert served.stop() == 0
    published = subprocess.run([sys.executable, str(ROOT / "build.py"), "build"], cwd=served.folder,
                               capture_output=True, text=True, timeout=120)
    assert published.returncode == 0, published.stderr
    assert page_policy(served_page.read_text(encoding="utf-8")) == CONTENT_SECURITY_POLICY


@pytest.mark.parametrize("file, mistake, fix, expected", [
    (ARTICLE, "last_reviewed: 2026-11-01", "last_reviewed: someday",
     r"content/topic-a/first\.md:6: error: last_reviewed: expected a date"),
    ("content/topic-a/second.md", "(first.md)", "(frist.md)",
     r"content/topic-a/second\.md:14: error: link to &#x27;frist\.md&#x27;: no article"),
    ("templates/article.html", "{% block main %}", "{% block main %}{{ page.no_such_thing.x }}",
     r"templates/article\.html:\d+: error: undefined variable"),
], ids=["front matter", "internal link", "template"])
def test_a_mistake_shows_its_errors_in_the_browser_and_fixing_it_brings_the_page_back(served, file, mistake,
                                                                                      fix, expected):
    good_page = (served.folder / "_site" / "topic-a" / "first" / "index.html").read_text(encoding="utf-8")
    served.edit(file, mistake, fix)

    broken, _ = served.wait_for(PAGE, lambda r: r.status == 500)
    line = re.search(expected + r"[^\n<]*", broken.body)
    assert line, broken.body
    assert injected_script(broken.body)  # the error page reloads itself once the file is fixed
    other_page = served.get("/topic-a/third/")
    assert other_page.status == 500 and line.group() in other_page.body
    assert served.get("/css/site.css").status == 200  # the error page is styled by the last good site
    assert html.unescape(line.group()) in served.wait_for_output("Build failed")  # the same line in the terminal
    assert (served.folder / "_site" / "topic-a" / "first" / "index.html").read_text(encoding="utf-8") == good_page

    served.edit(file, fix, mistake)
    fixed, _ = served.wait_for(PAGE, lambda r: r.status == 200)
    assert "First article" in fixed.body and "error:" not in fixed.body


def test_a_change_to_the_config_file_rebuilds_the_site(served):
    served.edit("config.yaml", "title: Test Health Site", "title: Renamed Health Site")
    page, _ = served.wait_for(PAGE, lambda r: "Renamed Health Site" in r.body)
    assert page.status == 200


def test_draft_articles_are_previewed(served):
    (served.folder / "content/topic-a/draft-one.md").write_text(
        "---\ntitle: A draft\nsummary: Not yet published.\nkind: page\nlast_reviewed: 2026-11-01\n"
        "draft: true\n---\nDraft words here.\n", encoding="utf-8")
    page, _ = served.wait_for("/topic-a/draft-one/", lambda r: r.status == 200)
    assert "Draft words here." in page.body


# -- safe by default ------------------------------------------------------------------------------

def raw_get(port: int, target: str) -> tuple[int, str]:
    """Send the request line byte for byte, as an attacker would."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := connection.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode("utf-8", "replace")


ESCAPES = [
    "/../config.yaml", "/%2e%2e/config.yaml", "/..%2fconfig.yaml", "/%2e%2e%2fconfig.yaml",
    "/%2E%2E%2Fconfig.yaml", "/topic-a/../../config.yaml", "/..%5cconfig.yaml", "/..\\config.yaml",
    "/%5c..%5cconfig.yaml", "//etc/passwd", "/%2fetc%2fpasswd", "/../../../../etc/passwd",
    "/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/leak.txt", "/leak-folder/config.yaml",
]


def test_no_request_reads_a_file_outside_the_output_folder(served):
    output = served.folder / "_site"
    (output / "leak.txt").symlink_to(served.folder / "config.yaml")
    (output / "leak-folder").symlink_to(served.folder)
    for target in ESCAPES:
        status, body = raw_get(served.port, target)
        assert status in (400, 404), target
        assert "base_url" not in body and "root:" not in body, target
        assert "Page not found" in body or status == 400, target


def test_locate_refuses_every_escape_and_finds_pages_inside(tmp_path):
    root = tmp_path / "out"
    (root / "a").mkdir(parents=True)
    (root / "a" / "index.html").write_text("page")
    (root / "x.css").write_text("css")
    (tmp_path / "secret").write_text("secret")
    (root / "link").symlink_to(tmp_path / "secret")
    assert locate(root, "/a/") == (root / "a" / "index.html").resolve()
    assert locate(root, "/a") == "/a/"
    assert locate(root, "/./x.css") == (root / "x.css").resolve()
    for escape in ["/../secret", "/a/../../secret", "/..\\secret", "\\..\\secret", "/link", "/%2e%2e/secret",
                   "/a/\0", "/\xff", "/" + "a" * 300]:
        assert locate(root, escape) is None, escape


def test_a_missing_path_gets_the_sites_404_page_with_status_404(served):
    for path in ("/no-such-page/", "/topic-a/no-such-article/", "/missing.png"):
        response = served.get(path)
        assert response.status == 404
        assert "<h1>Page not found</h1>" in response.body


def test_responses_are_never_cached_nor_answered_with_304(served):
    for path in (PAGE, "/css/site.css", "/no-such-page/"):
        response = served.get(path, {"If-Modified-Since": "Wed, 01 Jan 2099 00:00:00 GMT", "If-None-Match": "*"})
        assert response.status != 304
        assert response.headers["cache-control"] == "no-store"
        assert "etag" not in response.headers and "last-modified" not in response.headers


def test_a_folder_without_its_slash_redirects_and_head_and_post_are_handled(served):
    redirect = served.get("/topic-a/first")
    assert redirect.status == 302 and redirect.headers["location"] == PAGE
    assert served.get(PAGE, method="HEAD").status == 200
    assert served.get(PAGE, method="POST").status == 405


def listening_addresses(port: int) -> set[str]:
    """Local addresses listening on `port`, from /proc/net/tcp (hex, little-endian IPv4)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, hex_port = local.split(":")
        if state == "0A" and int(hex_port, 16) == port:
            found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
    return found


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc/net/tcp")
def test_the_server_listens_on_loopback_only_by_default(served):
    assert listening_addresses(served.port) == {"127.0.0.1"}
    assert f"at http://127.0.0.1:{served.port}/" in served.output()


def test_a_port_in_use_gives_one_clear_line_and_exit_code_1(make_site):
    site = make_site()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run([sys.executable, str(ROOT / "build.py"), "serve", "--port", str(port)],
                                cwd=site, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"cannot serve at http://127.0.0.1:{port}/: the port is already in use" in result.stderr
    assert not (site / "_site").exists()  # it stops before building anything


def test_a_config_that_cannot_be_read_at_start_is_reported_and_exits_with_code_1(make_site):
    site = make_site({"config.yaml": "title: [unclosed\n"})
    result = subprocess.run([sys.executable, str(ROOT / "build.py"), "serve", "--port", str(free_port())],
                            cwd=site, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert re.search(r"^config\.yaml:\d+: error: ", result.stderr, re.M), result.stderr
    assert "Traceback" not in result.stderr


def test_ctrl_c_stops_the_server_cleanly_with_exit_code_0(served):
    assert served.get(PAGE).status == 200
    assert served.stop() == 0
    assert "Traceback" not in served.output()
    assert "Stopped." in served.output()


# -- watching ---------------------------------------------------------------------------------------

def test_snapshots_skip_editor_leftovers_and_see_creation_and_deletion(tmp_path):
    (tmp_path / "a.md").write_text("one")
    before = snapshot([tmp_path])
    for leftover in (".a.md.swp", "a.md~", "#a.md#", "4913", ".hidden"):
        assert is_ignored_name(leftover)
        (tmp_path / leftover).write_text("x")
    assert snapshot([tmp_path]) == before
    (tmp_path / "b.md").write_text("two")
    (tmp_path / "a.md").unlink()
    assert changed_paths(before, snapshot([tmp_path])) == [str(tmp_path / "a.md"), str(tmp_path / "b.md")]


def test_a_burst_of_saves_causes_one_build_after_the_quiet_period(tmp_path):
    calls: list[list[str]] = []
    done = threading.Event()
    watcher = SourceWatcher(lambda: [tmp_path], lambda changed: (calls.append(changed), done.set()),
                            poll=0.01, quiet=0.2)
    watcher.start()
    try:
        time.sleep(0.05)
        for number in range(8):  # an editor's write-to-temp-and-rename, repeated quickly
            temp = tmp_path / "page.md.tmp"
            temp.write_text(f"version {number}")
            os.replace(temp, tmp_path / "page.md")
            time.sleep(0.02)
        assert done.wait(5)
        time.sleep(0.4)
    finally:
        watcher.stop()
    assert calls == [[str(tmp_path / "page.md")]]


def test_page_requests_are_told_from_asset_requests():
    assert is_page_request("/") and is_page_request("/a/b") and is_page_request("/404.html")
    assert not is_page_request("/css/site.css") and not is_page_request("/img/a.png")


def test_the_preview_policy_adds_the_script_hash_and_websocket_to_the_strict_policy():
    script = b'<script type="text/javascript">alert(1)</script>'
    policy = preview_policy("default-src 'self'; script-src 'self'; connect-src 'self'", script, "::1", 9000)
    digest = base64.b64encode(hashlib.sha256(b"alert(1)").digest()).decode()
    assert policy == f"default-src 'self'; script-src 'self' 'sha256-{digest}'; connect-src 'self' ws://[::1]:9000"
