"""`serve`: build the site, serve it on 127.0.0.1, rebuild on every change and reload the open tabs.

livereload (on tornado) serves the pages, injects its reload script before `</head>` and tells the
open tabs to reload over its websocket. The rest is ours, to avoid its faults:
- watching: livereload polls every 0.8 s and drops reloads that come within 3 s of the last one.
  A thread here polls the sources, waits until they are quiet for 100 ms, runs ONE build, and
  only when that build has finished tells the tabs to reload;
- files: a small WSGI app serves only files inside the output folder (no `..`, no symlink out),
  never answers 304, sends `Cache-Control: no-store`, answers missing paths with the site's
  404 page, and while the last build failed answers every page with the build's errors.
The pages' Content-Security-Policy forbids inline scripts; the preview build allows exactly
livereload's script (by its hash), and only the preview build.
"""
from __future__ import annotations

import base64
import errno
import hashlib
import html
import ipaddress
import logging
import mimetypes
import os
import re
import socket
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import quote

import livereload
from livereload.handlers import LiveReloadHandler
from tornado.ioloop import IOLoop

from .build import BuildOptions, Builder
from .cli import EXIT_OK, EXIT_PROBLEMS, configure, report
from .config import SiteConfig, display_path, load_config
from .content import is_ignored_name
from .problems import Problem, error, has_errors, sort_problems
from .render import CONTENT_SECURITY_POLICY

POLL_SECONDS = 0.05  # how often the sources are scanned for a change
QUIET_SECONDS = 0.1  # a burst of saves (an editor's write-and-rename, a git checkout) ends in one build
NO_STORE = ("Cache-Control", "no-store")  # a reload must never show a cached page


# -- Watching the sources ------------------------------------------------------------------

Snapshot = dict[str, tuple[int, int, int]]  # path -> (mtime in ns, size, inode)


def watched_paths(config: SiteConfig) -> list[Path]:
    """What a change in rebuilds: the content, templates and static folders and the config file."""
    return [config.content_path, config.templates_path, config.static_path, config.config_path]


def snapshot(roots: list[Path]) -> Snapshot:
    """The state of every file under `roots`, skipping dotfiles and editors' temporary files.

    Folders are scanned, not single files, so a file created, moved or deleted (an editor's
    save by write-then-rename) is a change like any other.
    """
    found: Snapshot = {}
    for root in roots:
        if root.is_file():
            _record(found, str(root))
        for folder, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if not is_ignored_name(d)]
            for name in files:
                if not is_ignored_name(name):
                    _record(found, os.path.join(folder, name))
    return found


def _record(found: Snapshot, path: str) -> None:
    try:
        stat = os.stat(path)
    except OSError:  # deleted between listing and stat: the next scan sees it gone
        return
    found[path] = (stat.st_mtime_ns, stat.st_size, stat.st_ino)


def changed_paths(before: Snapshot, after: Snapshot) -> list[str]:
    return sorted(path for path in before.keys() | after.keys() if before.get(path) != after.get(path))


class SourceWatcher(threading.Thread):
    """Polls the sources; after each burst of changes has been quiet for a while, calls `on_change` once."""

    def __init__(self, roots: Callable[[], list[Path]], on_change: Callable[[list[str]], None],
                 poll: float = POLL_SECONDS, quiet: float = QUIET_SECONDS):
        super().__init__(name="medsite-watcher", daemon=True)
        self.roots, self.on_change, self.poll, self.quiet = roots, on_change, poll, quiet
        self.stopping = threading.Event()
        # Taken now, before the first build, so a save made during that build is not missed.
        self.before = snapshot(roots())

    def run(self) -> None:
        before = self.before
        while not self.stopping.wait(self.poll):
            settled = self._settle(snapshot(self.roots()), before)
            if settled is None or settled == before:
                continue
            changed = changed_paths(before, settled)
            # The next scan compares with the sources this build read, so a save made
            # during the build triggers another one.
            before = settled
            self.on_change(changed)

    def _settle(self, current: Snapshot, before: Snapshot) -> Snapshot | None:
        """Wait until nothing has changed for `quiet` seconds; None when stopping.

        The quiet time counts from the newest change's modification time, not from when a scan
        noticed it, so the scan interval does not add to the wait.
        """
        if current == before:
            return current
        now = time.time()
        stamps = [current[path][0] / 1e9 for path in changed_paths(before, current) if path in current]
        last_change = min(now, max(stamps, default=now))  # a clock skewed into the future waits no longer
        while time.time() - last_change < self.quiet:
            if self.stopping.wait(self.poll / 2):
                return None
            latest = snapshot(self.roots())
            if latest != current:
                current, last_change = latest, time.time()
        return current

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=30)  # let a running build finish its swap


# -- Serving the output folder ---------------------------------------------------------------

@dataclass(frozen=True)
class Response:
    status: str
    headers: list[tuple[str, str]]
    body: bytes


def locate(root: Path, request_path: str) -> Path | str | None:
    """The file under `root` a request names; a redirect target (str) for a folder without its
    trailing slash; None when it names nothing inside `root`.

    `request_path` is already percent-decoded (WSGI's PATH_INFO), so `%2e%2e` and `%2f` arrive here
    as `..` and `/` and are refused like the plain ones.
    """
    try:
        path = request_path.encode("latin-1").decode("utf-8")  # WSGI carries bytes as latin-1
    except UnicodeError:
        return None
    if "\\" in path or "\0" in path:
        return None
    parts = [part for part in path.split("/") if part not in ("", ".")]
    if ".." in parts:
        return None
    try:  # a name too long or a loop of links is simply not there
        root = root.resolve()
        target = root.joinpath(*parts)
        if target.is_dir():
            if not path.endswith("/"):
                return "/" + "".join(part + "/" for part in parts)
            target = target / "index.html"
        real = target.resolve()  # a symbolic link is followed, then must still be inside `root`
        return real if real.is_relative_to(root) and real.is_file() else None
    except OSError:
        return None


def is_page_request(request_path: str) -> bool:
    """A request for a page (`/a/`, `/a`, `/a.html`), not for a stylesheet, image or script."""
    last = request_path.rsplit("/", 1)[-1]
    return "." not in last or last.endswith((".html", ".htm"))


def file_response(status: str, path: Path) -> Response:
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind in ("application/javascript", "application/json", "image/svg+xml"):
        kind += "; charset=utf-8"
    return Response(status, [("Content-Type", kind)], path.read_bytes())


def text_response(status: str, text: str, kind: str = "text/plain") -> Response:
    return Response(status, [("Content-Type", f"{kind}; charset=utf-8")], text.encode("utf-8"))


def error_page(problems: list[Problem], policy: str) -> str:
    """The page shown instead of every page while the sources have errors (the same lines as the terminal)."""
    lines = "\n".join(f"<li><code>{html.escape(str(problem))}</code></li>" for problem in sort_problems(problems))
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{html.escape(policy)}">
<title>Build failed | medsite preview</title>
<link rel="stylesheet" href="/css/site.css">
</head>
<body>
<main id="main" class="wrap">
<h1>The site could not be rebuilt</h1>
<p>Each line below names a file, the line in it, and what is wrong. Fix it and save:
this page reloads by itself. The site you saw last is kept until the build works again.</p>
<ol class="build-errors">
{lines}
</ol>
</main>
</body>
</html>
"""


class Preview:
    """What the server shows: the output folder, or the errors of the last build when it failed."""

    def __init__(self, config: SiteConfig, policy: str):
        self.config = config
        self.policy = policy
        self.problems: list[Problem] = []  # of the last build, when it failed
        self.builder: Builder | None = None  # kept between builds: its caches stay warm

    def respond(self, method: str, request_path: str) -> Response:
        if method not in ("GET", "HEAD"):
            response = text_response("405 Method Not Allowed", "Only GET and HEAD are allowed.\n")
            return Response(response.status, response.headers + [("Allow", "GET, HEAD")], response.body)
        problems = self.problems
        if problems and is_page_request(request_path):
            return text_response("500 Internal Server Error", error_page(problems, self.policy), "text/html")
        root = self.config.output_path
        found = locate(root, request_path)
        if isinstance(found, str):
            return Response("302 Found", [("Location", quote(found)), ("Content-Type", "text/plain")], b"")
        try:
            if found is not None:
                return file_response("200 OK", found)
            return file_response("404 Not Found", root / "404.html")
        except OSError:  # no 404 page, or the file went between finding and reading it
            return text_response("404 Not Found", "Not found.\n")

    def wsgi(self, environ, start_response):
        response = self.respond(environ["REQUEST_METHOD"], environ["PATH_INFO"])
        start_response(response.status, response.headers + [NO_STORE, ("X-Content-Type-Options", "nosniff")])
        # livereload's WSGI bridge writes whatever body it gets, which tornado refuses for HEAD.
        return [b"" if environ["REQUEST_METHOD"] == "HEAD" else response.body]

    def rebuild(self, changed: list[str]) -> None:
        """Build again from the sources as they are now (the config file included)."""
        started = time.perf_counter()
        config, problems = load_config(self.config.config_path)
        if config is not None:
            if self.builder is None or config != self.config:
                self.builder = Builder(config, BuildOptions(drafts=True, content_security_policy=self.policy, quick=True))
            self.config = config
            problems += run_build(self.builder)
        self.problems = problems if has_errors(problems) else []
        report(problems)
        cause = ""
        if changed:
            shown = ", ".join(display_path(Path(path)) for path in changed[:3])
            cause = f" after a change to {shown}" + (" and more" if len(changed) > 3 else "")
        if self.problems:
            print(f"Build failed{cause}: the browser shows these errors until you fix them and save.",
                  file=sys.stderr)
        else:
            print(f"Built in {time.perf_counter() - started:.2f} s{cause}", file=sys.stderr)


def run_build(builder: Builder) -> list[Problem]:
    """One preview build; its problems (an unexpected failure becomes one too, and the server lives on)."""
    try:
        return builder.build().problems
    except Exception as exc:  # noqa: BLE001 - a bug in medsite must not stop the preview
        return [error(display_path(builder.config.config_path), 0, "internal error while building: "
                                                                   f"{type(exc).__name__}: {exc} (a bug in medsite)")]


# -- livereload, behind this one seam ---------------------------------------------------------

class _LivereloadServer(livereload.Server):
    """livereload's server, keeping the script it injects so the preview's policy can allow it."""

    injected_script = b""

    def get_web_handlers(self, script):
        self.injected_script = script
        return super().get_web_handlers(script)


def preview_policy(policy: str, injected_script: bytes, host: str, port: int) -> str:
    """`policy` widened for livereload: its inline script (by hash) and its websocket."""
    match = re.search(rb"<script[^>]*>(.*?)</script>", injected_script, re.S)
    if match is None:
        raise RuntimeError(f"livereload injects an unexpected script: {injected_script[:80]!r}")
    digest = base64.b64encode(hashlib.sha256(match.group(1)).digest()).decode("ascii")
    extra = {"script-src": f"'sha256-{digest}'", "connect-src": f"ws://{_url_host(host)}:{port}"}
    directives = []
    for directive in policy.split(";"):
        name = directive.split()[0]
        directives.append(f"{directive.strip()} {extra[name]}" if name in extra else directive.strip())
    return "; ".join(directives)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def listen(preview: Preview, host: str, port: int) -> _LivereloadServer:
    """Start listening (not yet serving); raises OSError when the address cannot be used."""
    server = _LivereloadServer(app=preview.wsgi)
    # debug=False: tornado's debug mode restarts the process whenever a Python file changes.
    server.application(port, host, debug=False)
    logging.getLogger("tornado.access").disabled = True  # one line per request drowns the build messages
    return server


def reload_tabs(loop: IOLoop) -> None:
    """Tell every open tab to reload now (livereload's own reload waits out its 3 s throttle)."""
    loop.add_callback(LiveReloadHandler.reload_waiters, "*")


def command(args) -> int:
    config = configure(args)
    if config is None:
        return EXIT_PROBLEMS
    preview = Preview(config, CONTENT_SECURITY_POLICY)
    host, port = args.host, args.port
    try:
        port = port or _free_port(host)
        server = listen(preview, host, port)
    except OSError as exc:
        reason = ("the port is already in use (is another preview running?); stop it or pass --port N"
                  if exc.errno == errno.EADDRINUSE else exc.strerror or str(exc))
        print(f"medsite: cannot serve at http://{_url_host(host)}:{port}/: {reason}", file=sys.stderr)
        return EXIT_PROBLEMS
    loop = IOLoop.current()

    def on_change(changed: list[str]) -> None:
        preview.rebuild(changed)
        reload_tabs(loop)

    watcher = SourceWatcher(lambda: watched_paths(preview.config), on_change)
    try:
        # The policy names the script livereload injects, known only once it listens.
        preview.policy = preview_policy(CONTENT_SECURITY_POLICY, server.injected_script, host, port)
        preview.rebuild([])
        watcher.start()
        print(f"Serving {config.title} at http://{_url_host(host)}:{port}/ (drafts included). Saving a file "
              "rebuilds the site and reloads the page. Press Ctrl-C to stop.", file=sys.stderr)
        if not _is_loopback(host):
            print(f"Note: --host {host} lets other computers on the network see this preview.", file=sys.stderr)
        loop.start()
    except KeyboardInterrupt:
        # A second Ctrl-C while threads wind down would only print a traceback.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        print("\nStopped.", file=sys.stderr)
    finally:
        if watcher.is_alive():
            watcher.stop()
    return EXIT_OK
