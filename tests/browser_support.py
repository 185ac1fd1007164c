"""Shared helpers for tests that look at the real built site in a real browser.

- `launch_chromium(playwright)`: Debian's /usr/bin/chromium with the only flags we allow
  (never `playwright install`, no background traffic to other hosts).
- `serve_folder(folder)`: a quiet http.server on 127.0.0.1 in a thread, for the length of a `with`.
- `wait_until(page, expression)`: poll a JavaScript expression until it is true, within the
  page's Content-Security-Policy (Playwright's `wait_for_function` needs eval).
- `build_real_site(out, base_url)`: the real site from the project's config.yaml, built with the
  real command into `out`, optionally published at another base URL (the local server's, so that
  canonical links and absolute URLs point at the site under test).
"""
from __future__ import annotations

import contextlib
import functools
import http.server
import os
import socket
import threading
import time
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, run_cli

# Debian's Chromium; a machine without it (a GitHub runner has Google Chrome) names its browser here.
CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def launch_chromium(playwright):
    """The one way the tests start a browser."""
    return playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the signature http.server calls
        pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a browser closing a connection early (a closed page) is no test failure


@contextlib.contextmanager
def serve_folder(folder: Path, port: int = 0):
    """Serve `folder` (it may not exist yet: files are looked up per request) on 127.0.0.1.

    Yields the base URL, e.g. 'http://127.0.0.1:41234/'.
    """
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = _Server(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def build_real_site(out: Path, base_url: str | None = None) -> Path:
    """Build the project's own site (config.yaml, content/, templates/, static/) into `out`."""
    config = ROOT / "config.yaml"
    if base_url is not None:
        data = yaml.safe_load(config.read_text(encoding="utf-8"))
        data["base_url"] = base_url
        for key, default in (("content_dir", "content"), ("templates_dir", "templates"), ("static_dir", "static")):
            data[key] = str((ROOT / data.get(key, default)).resolve())
        config = out.parent / f"{out.name}-config.yaml"
        config.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    result = run_cli("build", "--config", str(config), "--out", str(out))
    assert result.returncode == 0, f"the real site does not build:\n{result.stdout}{result.stderr}"
    return out


@contextlib.contextmanager
def served_real_site(folder: Path):
    """The real site built for, and served at, a local address: yields (built folder, base URL).

    Built with the server's own URL as `base_url`, so canonical links and absolute addresses
    point at the site under test rather than at the published one.
    """
    site = folder / "site"
    with serve_folder(site, free_port()) as base_url:
        build_real_site(site, base_url)
        yield site, base_url


def page_urls(site: Path) -> list[str]:
    """Site paths of every built HTML page, e.g. '/', '/ketamine-lozenges/risks/', '/404.html'."""
    urls = []
    for path in sorted(site.rglob("*.html")):
        rel = path.relative_to(site).as_posix()
        urls.append("/" + rel[:-len("index.html")] if rel.endswith("index.html") else "/" + rel)
    return urls


def wait_until(page, expression: str, timeout: float = 10) -> None:
    """Poll `expression` in the page until it is true.

    Not `page.wait_for_function`: it evaluates strings with eval, which the page's policy forbids.
    """
    from playwright.sync_api import Error

    deadline = time.monotonic() + timeout
    while True:
        try:
            if page.evaluate(f"() => {{ try {{ return !!({expression}); }} catch (e) {{ return false; }} }}"):
                return
        except Error:  # the page is reloading under us
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"still false after {timeout} s: {expression}\npage text: {page.inner_text('body')[:500]}")
        time.sleep(0.02)
