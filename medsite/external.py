"""`check --external`: links to other websites, checked politely and remembered for a while.

Other sites are slow, rate-limited and sometimes unreachable, so this is opt-in and never the only
signal: one request at a time per host with a short pause between, a bounded pool across hosts,
HEAD first (GET when a server refuses HEAD), retries with back-off for 429, 5xx and time-outs, and
a cache file beside the config so a second run within the time-to-live asks nobody.

What counts: 404, 410 and an unknown host are errors; a redirect, 429, 5xx, 401/403, other 4xx and
time-outs are warnings. When the first requests all fail to connect, the machine is taken to be
offline: one warning, not one failure per link.
"""
from __future__ import annotations

import errno
import http.client
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from .problems import ERROR, WARNING, Problem, warning

USER_AGENT = "medsite-linkcheck/0.1"
CACHE_FILE = Path(".medsite-cache") / "external-links.json"  # beside the config
_REDIRECTS = (301, 302, 303, 307, 308)
_MAX_REDIRECTS = 5
_UNREACHABLE = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.ECONNREFUSED}


@dataclass(frozen=True)
class ExternalOptions:
    timeout: float = 10.0  # seconds per request
    retries: int = 2  # further attempts after a 429, 5xx, time-out or dropped connection
    backoff: float = 1.0  # seconds before the first retry; doubles each time
    max_wait: float = 30.0  # the longest Retry-After honoured
    workers: int = 8  # hosts checked at once
    host_delay: float = 0.5  # seconds between two requests to the same host
    cache_days: float = 7.0  # how long a good (or redirected) result is trusted
    offline_after: int = 3  # this many connection failures before any success: offline


@dataclass(frozen=True)
class Outcome:
    """The verdict on one URL: severity None when it is fine."""

    severity: str | None
    message: str
    cacheable: bool = False  # stable enough to remember (fine, redirected)
    unreachable: bool = False  # no connection could be made (DNS, network, refused)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Surface 3xx as responses, so redirects are reported and HEAD stays HEAD."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class _Offline(Exception):
    pass


class ExternalChecker:
    """Check URLs on other sites; `check` plugs into `links.check_output`."""

    def __init__(self, cache_path: Path, options: ExternalOptions = ExternalOptions(),
                 report_at: str = "config.yaml"):
        self.cache_path = cache_path
        self.options = options
        self.report_at = report_at  # where the one 'offline' warning is reported: the config file
        self._opener = urllib.request.build_opener(_NoRedirects)
        self._lock = threading.Lock()
        self._successes = 0
        self._connection_failures: list[str] = []
        self._offline = threading.Event()

    def check(self, links: dict[str, list]) -> tuple[list, list[Problem]]:
        """(broken links, other problems) for {url: [FoundLink where it is]}."""
        from .links import Broken
        outcomes, offline = self.check_urls(list(links))
        broken = [Broken(link, url, outcome.message, outcome.severity)
                  for url, outcome in outcomes.items() if outcome.severity for link in links[url]]
        problems = [warning(self.report_at, 0, offline)] if offline else []
        return broken, problems

    def check_urls(self, urls: list[str]) -> tuple[dict[str, Outcome], str | None]:
        """The outcome of each URL, and why the rest went unchecked when the machine is offline."""
        cache = self._load_cache()
        by_host: dict[str, list[str]] = defaultdict(list)
        for url in urls:
            if url not in cache:
                by_host[urlsplit(url).netloc.lower()].append(url)
        fresh: dict[str, Outcome] = {}
        if by_host:
            with ThreadPoolExecutor(max_workers=min(self.options.workers, len(by_host))) as pool:
                for found in pool.map(self._check_host, by_host.values()):
                    fresh.update(found)
        offline = self._offline_message(fresh)
        if offline:
            fresh = {url: o for url, o in fresh.items() if not o.unreachable}
        self._save_cache(fresh)
        return {**{url: cache[url] for url in urls if url in cache}, **fresh}, offline

    def _offline_message(self, fresh: dict[str, Outcome]) -> str | None:
        """Why nothing could be checked, when no request got an answer and all failed to connect."""
        failures = self._connection_failures
        if self._successes or not failures:
            return None
        if not self._offline.is_set() and not all(o.unreachable for o in fresh.values()):
            return None
        return (f"external links not checked: no network connection ({len(failures)} request(s) could not "
                f"connect, for example {failures[0]}); run again when online")

    def _check_host(self, urls: list[str]) -> dict[str, Outcome]:
        """One host's URLs, one at a time, with a pause between requests."""
        found = {}
        for index, url in enumerate(urls):
            if self._offline.is_set():
                break
            if index:
                time.sleep(self.options.host_delay)
            try:
                found[url] = self.check_url(url)
            except _Offline:
                break
        return found

    def check_url(self, url: str) -> Outcome:
        """Follow redirects by hand (to report them) and judge where they end."""
        current, hops = url, 0
        while True:
            status, location, failure = self._fetch(current)
            if failure is not None:
                return failure
            if status in _REDIRECTS and location and hops < _MAX_REDIRECTS:
                current, hops = urljoin(current, location), hops + 1
                continue
            outcome = judge_status(status)
            if hops and outcome.severity is None:
                return Outcome(WARNING, f"redirects to {current}; link there directly", cacheable=True)
            if hops:
                return Outcome(outcome.severity, f"redirects to {current}, which answers {outcome.message}")
            return outcome

    def _fetch(self, url: str) -> tuple[int, str, Outcome | None]:
        """(status, Location, None), or (0, '', failure); retries what may pass on a second try."""
        options = self.options
        for attempt in range(options.retries + 1):
            wait = options.backoff * 2 ** attempt
            try:
                status, location, retry_after = self._request(url, "HEAD")
                if status >= 400 and status != 429:
                    # Many servers answer HEAD wrongly (405, 403, even 404): ask again with GET.
                    status, location, retry_after = self._request(url, "GET")
            except TimeoutError:
                failure = Outcome(WARNING, f"no answer within {options.timeout:g} s")
            except urllib.error.URLError as exc:
                failure = self._connection_failure(url, exc.reason)
                if failure.unreachable:
                    return 0, "", failure
            except (OSError, http.client.HTTPException) as exc:
                failure = Outcome(WARNING, f"connection failed: {_describe(exc)}")
            else:
                self._succeeded()
                if status != 429 and status < 500:
                    return status, location, None
                failure = judge_status(status)
                wait = retry_after if retry_after is not None else wait
            if attempt == options.retries or wait > options.max_wait:
                break
            time.sleep(wait)
        return 0, "", failure

    def _request(self, url: str, method: str) -> tuple[int, str, float | None]:
        request = urllib.request.Request(url, method=method, headers={"User-Agent": USER_AGENT, "Accept": "*/*"})
        try:
            with self._opener.open(request, timeout=self.options.timeout) as response:
                return response.status, "", None
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, exc.headers.get("Location", ""), _seconds(exc.headers.get("Retry-After"))

    def _connection_failure(self, url: str, reason) -> Outcome:
        """A request that got no answer; enough of them before any answer means the machine is offline."""
        host = urlsplit(url).hostname
        if isinstance(reason, socket.gaierror):
            outcome = Outcome(ERROR, f"no such host '{host}' (the site may be gone)", unreachable=True)
        elif isinstance(reason, TimeoutError):
            outcome = Outcome(WARNING, f"no connection to {host} within {self.options.timeout:g} s",
                              unreachable=True)
        elif getattr(reason, "errno", None) in _UNREACHABLE:
            outcome = Outcome(WARNING, f"cannot connect to {host}: {_describe(reason)}", unreachable=True)
        else:
            return Outcome(WARNING, f"connection failed: {_describe(reason)}")  # e.g. reset: worth a retry
        with self._lock:
            self._connection_failures.append(f"{host}: {_describe(reason)}")
            if not self._successes and len(self._connection_failures) >= self.options.offline_after:
                self._offline.set()
        if self._offline.is_set():
            raise _Offline()
        return outcome

    def _succeeded(self) -> None:
        with self._lock:
            self._successes += 1

    # The cache: {url: {"checked": epoch seconds, severity, message}} of stable outcomes only.

    def _load_cache(self) -> dict[str, Outcome]:
        """The remembered outcomes still within their time-to-live."""
        now, ttl = time.time(), self.options.cache_days * 86400
        cache = {}
        for url, entry in self._cache_entries().items():
            try:
                if now - float(entry["checked"]) < ttl:
                    cache[url] = Outcome(entry["severity"], entry["message"], cacheable=True)
            except (KeyError, TypeError, ValueError):
                continue  # an entry from another version, or edited by hand: check again
        return cache

    def _cache_entries(self) -> dict:
        try:
            data = json.loads(self.cache_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        entries = data.get("links") if isinstance(data, dict) else None
        return entries if isinstance(entries, dict) else {}

    def _save_cache(self, fresh: dict[str, Outcome]) -> None:
        entries = self._cache_entries()
        now = time.time()
        for url, outcome in fresh.items():
            if outcome.cacheable:
                entries[url] = {"checked": now, "severity": outcome.severity, "message": outcome.message}
        try:
            self.cache_path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.cache_path.with_suffix(".tmp")
            temporary.write_text(json.dumps({"version": 1, "links": entries}, indent=1, sort_keys=True),
                                 encoding="utf-8")
            temporary.replace(self.cache_path)
        except OSError:
            pass  # the cache only saves time; a read-only checkout still gets its results


def judge_status(status: int) -> Outcome:
    """The verdict on a final HTTP status (after redirects and retries)."""
    if 200 <= status < 300:
        return Outcome(None, f"{status}", cacheable=True)
    if status in (404, 410):
        return Outcome(ERROR, f"{status} {'Not Found' if status == 404 else 'Gone'}")
    if status == 429:
        return Outcome(WARNING, "429 Too Many Requests (rate limited; try again later)")
    if status in (401, 403):
        return Outcome(WARNING, f"{status}: the site refuses automatic checks; open the link in a browser")
    if status >= 500:
        return Outcome(WARNING, f"{status}: the site has a server error; try again later")
    return Outcome(WARNING, f"answers {status}")


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None  # an HTTP date; the usual back-off is used instead


def _describe(reason) -> str:
    if isinstance(reason, socket.gaierror):
        return "host name not found"
    return getattr(reason, "strerror", None) or str(reason) or type(reason).__name__
