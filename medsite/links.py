"""`check`: build the site, then check every link in the built output before it is published.

The checker reads the staged output folder as a browser would read the published site: every
href/src/srcset/action in every HTML page (template parts included), `url()` and `@import` in CSS,
and `<loc>` in sitemap.xml, each resolved against the URL of the file it is in. A broken link is
reported where a person can fix it: the article line it was written on, the template or config
line that produced it, or the static file that holds it.

list the output -> scan each file, resolve its links (or take both from the cache, by the file's
bytes) -> look up the targets and fragments across pages -> scan again only the files with a broken
link, to locate their sources -> problems

Decisions: a bare `#` and `#top` are fine (browsers scroll to the top, per the HTML standard);
a link to a folder without the trailing slash is fine when the folder has index.html (servers
redirect `x` to `x/`); query strings are ignored for files; fragments are checked on HTML pages
only; an id is matched after percent-decoding and NFC-normalising both sides.
"""
from __future__ import annotations

import datetime as dt
import difflib
import functools
import gc
import html as htmllib
import json
import multiprocessing
import os
import pickle
import posixpath
import re
import sys
import unicodedata
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, NamedTuple, TypeVar
from urllib.parse import unquote, urljoin, urlsplit

from .build import BuildOptions, BuildResult, build, can_fork
from .cache import CACHE_FOLDER, Store, code_version, digest
from .config import SiteConfig, display_path, load_config
from .content import url_to_file
from .htmlscan import LineIndex, iter_tags, matched_attributes, start_tag_matches
from .markdown import PLACEHOLDER, SourceLink
from .output import FileRecord, OutputFolder, digest_of, matches
from .problems import ERROR, WARNING, Problem, has_errors, sort_problems, warning

# The attributes of each element that hold a URL the browser follows or loads.
URL_ATTRIBUTES = {
    "a": ("href",), "area": ("href",), "link": ("href",), "form": ("action",),
    "img": ("src", "srcset"), "source": ("src", "srcset"), "script": ("src",), "iframe": ("src",),
    "video": ("src", "poster"), "audio": ("src",), "track": ("src",), "embed": ("src",),
    "input": ("src",), "object": ("data",),
}
_SCANNED_ATTRIBUTES = frozenset({"id", "name"}.union(*URL_ATTRIBUTES.values()))
_READ_ATTRIBUTES = frozenset({"rel"})  # read too on those tags, for the <link rel> values below
# <link rel> values that name an origin to connect to early, not a resource.
_HINT_RELS = frozenset({"preconnect", "dns-prefetch"})
_CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)'"\s]*))\s*\)|@import\s+(?:"([^"]*)"|'([^']*)')""")
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_SITEMAP_LOC = re.compile(r"<loc>\s*([^<]*?)\s*</loc>")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
# An http(s) URL that urljoin gives back as it is, and whose parts urlsplit would find as these
# groups (scheme, host, path, fragment): in printable ASCII, with a host, no spaces, no ';' (path
# parameters), no brackets (IPv6 hosts), and no empty query or fragment.
_PLAIN_URL = re.compile(r"(https?)://([^/?#;\[\] ]+)([^?#;\[\] ]*)(?:\?[^#;\[\] ]+)?(?:#([^;\[\] ]+))?")


Item = TypeVar("Item")  # what a caller of _resolved pairs with each address


# --- scanning the output -----------------------------------------------------------------------

class FoundLink(NamedTuple):
    """A URL as it stands in a built file (entities decoded)."""

    file: str  # output-relative path of the file holding it
    offset: int  # where in that file (the tag's '<', or the CSS url's start)
    tag: str  # element name; 'css' for CSS, 'loc' for the sitemap
    attribute: str
    value: str


@dataclass
class Output:
    """What the built site holds: its files and folders (output-relative, '/'-separated)."""

    folder: Path
    files: set[str] = field(default_factory=set)
    folders: set[str] = field(default_factory=set)


def list_output(folder: Path) -> Output:
    """Every file and folder of the built site (like os.walk, without its per-folder relpath)."""
    output = Output(folder)
    todo = [(str(folder), "")]
    while todo:
        path, prefix = todo.pop()
        try:
            entries = list(os.scandir(path))
        except OSError:
            continue
        for entry in entries:
            rel = prefix + entry.name
            if _is_folder(entry):
                output.folders.add(rel)
                if not entry.is_symlink():  # as os.walk: a linked folder is listed, not entered
                    todo.append((entry.path, rel + "/"))
            else:
                output.files.add(rel)
    return output


def _is_folder(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def is_scanned(rel: str) -> bool:
    """Whether an output file can hold links: a page, a style sheet, the sitemap."""
    return rel.endswith((".html", ".htm", ".css")) or rel == "sitemap.xml"


def scan_file(folder: Path, rel: str) -> tuple[set[str] | None, list[FoundLink]]:
    """The ids (None when not a page) and links of one output file: a page, a style sheet, the sitemap."""
    if not is_scanned(rel):
        return None, []
    return scan_text(rel, _read_text(folder / rel))


def scan_text(rel: str, text: str) -> tuple[set[str] | None, list[FoundLink]]:
    """The ids (None when not a page) and links of the text of the output file `rel`."""
    if rel.endswith((".html", ".htm")):
        return scan_html(text, rel)
    if rel.endswith(".css"):
        return None, scan_css(text, rel)
    return None, scan_sitemap(text, rel)


def _read_text(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="replace")


def scan_html(html: str, file: str = "") -> tuple[set[str], list[FoundLink]]:
    """The ids (and `<a name>`s) of a page, and every URL in it, in document order."""
    ids, tags = _scan_tags(html)
    return ids, [FoundLink(file, start, *url) for start, urls in tags for url in urls]


# What `_tag_findings` found in each start tag, by the tag's text: most tags of a page come from
# its templates, and are on other pages too. Emptied when full, to bound the memory it takes.
_FINDINGS_BY_TAG: dict[str, tuple] = {}
_FINDINGS_KEPT = 50_000


def _scan_tags(html: str) -> tuple[set[str], list[tuple[int, tuple[tuple[str, str, str], ...]]]]:
    """`scan_html` with each URL as (tag, attribute, URL), those of a tag together with its offset."""
    ids: set[str] = set()
    tags = []
    for match in start_tag_matches(html, _SCANNED_ATTRIBUTES, _READ_ATTRIBUTES):
        text = match.group()
        found = _FINDINGS_BY_TAG.get(text)
        if found is None:
            if len(_FINDINGS_BY_TAG) >= _FINDINGS_KEPT:
                _FINDINGS_BY_TAG.clear()
            found = _FINDINGS_BY_TAG[text] = _tag_findings(*matched_attributes(match, _SCANNED_ATTRIBUTES))
        tag_ids, urls = found
        if tag_ids:
            ids.update(tag_ids)
        if urls:
            tags.append((match.start(), urls))
    return ids, tags


def _tag_findings(name: str, attrs: dict | None) -> tuple[tuple[str, ...], tuple[tuple[str, str, str], ...]]:
    """The ids and the URLs, as (tag, attribute, URL), of a start tag."""
    if attrs is None:
        return (), ()
    ids: list[str] = []
    urls: list[tuple[str, str, str]] = []
    for ident in (attrs.get("id"), attrs.get("name") if name == "a" else None):
        if ident:
            ids.append(ident if ident.isascii() else unicodedata.normalize("NFC", ident))
    wanted = URL_ATTRIBUTES.get(name, ())
    if name == "link" and attrs.get("rel", "").lower() in _HINT_RELS:
        wanted = ()
    for attribute in wanted:
        value = attrs.get(attribute)
        if value is None:
            continue
        if attribute == "srcset":
            urls += [(name, attribute, url) for url in srcset_urls(value)]
        else:
            urls.append((name, attribute, value))
    return tuple(ids), tuple(urls)


def srcset_urls(srcset: str) -> list[str]:
    """The URLs of a srcset ('a.png 1x, b.png 2x')."""
    return [candidate.split()[0] for candidate in srcset.split(",") if candidate.strip()]


def scan_css(css: str, file: str) -> list[FoundLink]:
    """The URLs of a style sheet: `url(...)` and `@import "..."` outside comments."""
    # Blank out comments, keeping offsets (and so line numbers) as they were.
    css = _CSS_COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), css)
    links = []
    for match in _CSS_URL.finditer(css):
        value = next(g for g in match.groups() if g is not None)
        if not value.startswith("data:"):
            links.append(FoundLink(file, match.start(), "css", "url", value))
    return links


def scan_sitemap(xml: str, file: str) -> list[FoundLink]:
    """The page addresses of a sitemap: `<loc>` (absolute URLs)."""
    return [FoundLink(file, m.start(), "loc", "loc", htmllib.unescape(m.group(1)))
            for m in _SITEMAP_LOC.finditer(xml)]


# --- resolving like a browser ------------------------------------------------------------------

class Target(NamedTuple):
    kind: str  # 'site' (inside the output), 'external', 'outside' (own host, outside base_url), 'other',
    # 'invalid' (no address: a host with an unclosed '[')
    path: str  # 'site': the output-relative path, percent-decoded; else the absolute URL without fragment
    fragment: str  # as written, without '#'


class Resolver:
    """Resolve link values against the URL of the file they are in, as a browser would."""

    def __init__(self, base_url: str):
        base = urlsplit(base_url)
        self.scheme, self.host = base.scheme, base.netloc.lower()
        self.base_path = base.path if base.path.endswith("/") else base.path + "/"
        self.base_url = f"{self.scheme}://{base.netloc}{self.base_path}"
        self._folders: dict[str, tuple[str, str | None]] = {}  # file -> _folders_of(file)
        self._absolute: dict[str, Target] = {}  # absolute URL -> where it points
        self._climbing: dict[tuple[str, str], Target] = {}  # (folder above, '../' value) -> where it points

    def resolve(self, file: str, value: str) -> Target:
        """Where `value`, found in the output file `file`, points; `value` is not empty."""
        if value.startswith("../"):
            # A value that first climbs out of the file's folder points the same way from every
            # folder beside it (a site's menus, on every page): resolved once for them all.
            above = self._folders_of(file)[1]
            if above is not None:
                found = self._climbing.get((above, value))
                if found is None:
                    found = self._climbing[above, value] = self._resolve(file, value)
                return found
        return self._resolve(file, value)

    def _resolve(self, file: str, value: str) -> Target:
        """`resolve`, without remembering '../' values."""
        rest, _, fragment = value.partition("#")
        if rest.startswith(self.base_url):  # the site's own absolute URL (canonical links)
            rest = rest[len(self.base_url) - len(self.base_path):]
        elif (":" in rest and _SCHEME.match(rest)) or rest.startswith("//"):
            found = self._absolute.get(value)
            if found is None:
                found = self._absolute[value] = self._resolve_absolute(value)
            return found
        path = rest.partition("?")[0]
        if not path:
            return Target("site", file, fragment)
        if path[0] == "/":
            joined = posixpath.normpath(path)
        else:
            # RFC 3986 §5.2 merge and dot-segment removal (what urljoin does), at a fraction of its cost.
            joined = posixpath.normpath(self._folders_of(file)[0] + path)
        if path.endswith(("/", "/.", "/..")) or path in (".", ".."):
            joined = joined.rstrip("/") + "/"
        if not joined.startswith(self.base_path) and joined + "/" != self.base_path:
            return Target("outside", f"{self.scheme}://{self.host}{joined}", fragment)
        path = joined[len(self.base_path):]
        return Target("site", unquote(path) if "%" in path else path, fragment)

    def _folders_of(self, file: str) -> tuple[str, str | None]:
        """The URL path of the file's folder, and that of the folder above it, where '../' climbs
        to; None for the base URL's folder, or a folder named '.' or '..' or nothing."""
        folders = self._folders.get(file)
        if folders is None:
            parent = posixpath.dirname(file)
            above, _, name = parent.rpartition("/")
            folders = self._folders[file] = (
                self.base_path + (parent + "/" if parent else ""),
                self.base_path + (above + "/" if above else "") if name not in ("", ".", "..") else None)
        return folders

    def _resolve_absolute(self, value: str) -> Target:
        plain = _PLAIN_URL.fullmatch(value) if value.isascii() and value.isprintable() else None
        if plain:  # the common case, without the cost of urljoin and urlsplit
            url, (scheme, host, path, fragment) = value, plain.groups("")
        else:
            try:
                url = urljoin(self.base_url, value)
                scheme, host, path, _, fragment = urlsplit(url)
            except ValueError:
                return Target("invalid", value, "")
        if scheme not in ("http", "https"):
            return Target("other", url, "")
        without_fragment = url.partition("#")[0]
        if host.lower() != self.host:
            return Target("external", without_fragment, fragment)
        if not path.startswith(self.base_path) and path + "/" != self.base_path:
            return Target("outside", without_fragment, fragment)
        return Target("site", unquote(path[len(self.base_path):]), fragment)

    def site_url(self, path: str) -> str:
        """The site path shown in messages for an output-relative path ('a/index.html' -> '/a/')."""
        return "/" + (path[:-len("index.html")] if path.endswith("index.html") else path)


# --- finding the broken links ------------------------------------------------------------------

@dataclass(frozen=True)
class Broken:
    link: FoundLink
    target: str  # what the link points at, as shown in messages
    reason: str
    severity: str = ERROR


class TargetFinder:
    """Find the output file a site path names, or say why there is none."""

    def __init__(self, output: Output):
        self.output = output
        self.by_lower = {rel.lower(): rel for rel in output.files | output.folders}
        self._memo: dict[str, tuple[str | None, str]] = {}

    def find(self, path: str) -> tuple[str | None, str]:
        """(output file, '') or (None, why it is missing)."""
        found = self._memo.get(path)
        if found is None:
            found = self._memo[path] = self._find(path)
        return found

    def _find(self, path: str) -> tuple[str | None, str]:
        files, folders = self.output.files, self.output.folders
        folder = path.rstrip("/")
        candidates = [path + "index.html"] if path == "" or path.endswith("/") else [path, path + "/index.html"]
        for candidate in candidates:
            if candidate in files:
                return candidate, ""
        shown = "/" + path
        if folder in folders:
            return None, f"/{folder}/ is a folder with no index.html"
        for candidate in candidates + [folder]:
            other = self.by_lower.get(candidate.lower())
            if other is not None and other != candidate:
                if other in folders:
                    other += "/"
                return None, f"case mismatch: did you mean '/{other.removesuffix('index.html')}'?"
        if path.endswith(".md"):
            return None, f"no file at {shown} (links in raw HTML are not rewritten: link to the page's URL)"
        if path.endswith("/") or path.endswith(".html") or "." not in posixpath.basename(path):
            return None, f"no page at {shown}"
        return None, f"no file at {shown}"


@dataclass
class Findings:
    """What checking the links of the output found."""

    ids: dict[str, frozenset[str]] = field(default_factory=dict)  # page -> its ids (and <a name>s)
    broken: list[Broken] = field(default_factory=list)
    anchored: list[tuple[FoundLink, str, str]] = field(default_factory=list)  # (link, page, #fragment)
    external: dict[str, list[FoundLink]] = field(default_factory=dict)  # URL -> where it is linked
    links: int = 0
    pages: int = 0


class FileLinks(NamedTuple):
    """What the check needs of one output file, whatever else the site holds: so it can be kept by
    a digest of the file's bytes and the base URL its links were resolved against (`file_key`)."""

    ids: frozenset[str] | None  # a page's ids (and <a name>s); None when not a page
    links: int
    targets: tuple[tuple[str, str], ...]  # each (site path, fragment) it links to, once
    external: tuple[tuple[str, FoundLink], ...]  # (URL, link) of each link to another site, in order
    flagged: bool  # an empty address or a link outside the site: broken whatever else the site holds


PARALLEL_FROM = 2000  # fewer files than this: one process (starting workers costs more)
LINKS_CACHE = "links"  # the name of the store of FileLinks in .medsite-cache/


def links_cache(config: SiteConfig) -> Store:
    """The store of scanned output files, beside the build's cache."""
    return Store(config.root / CACHE_FOLDER, LINKS_CACHE)


def find_broken(output: Output, resolver: Resolver, jobs: int | None = None,
                cache: Store | None = None, recorded: dict[str, FileRecord] | None = None) -> Findings:
    """Every broken internal link, and the external URLs with where they are.

    Each file is scanned on its own (or taken from `cache` when its bytes are unchanged), giving
    its ids and the site paths it links to; whether those exist is looked up against the whole
    output. Only a file with something missing is scanned again for the exact broken links.
    `recorded`: the build's records of the output's files (see `summarize_file`).
    """
    rels = sorted(rel for rel in output.files if is_scanned(rel))
    summaries = summarize_files(output.folder, resolver, rels, jobs, cache, recorded)
    findings = Findings(ids={rel: s.ids for rel, s in zip(rels, summaries) if s.ids is not None})
    findings.pages = len(findings.ids)
    finder = TargetFinder(output)
    suspects = []
    for rel, summary in zip(rels, summaries):
        findings.links += summary.links
        for url, link in summary.external:
            findings.external.setdefault(url, []).append(link)
        if _may_be_broken(summary, finder, findings.ids):
            suspects.append(rel)
    check_files = functools.partial(_check_files, output, resolver)
    for broken, anchored in _map_files(check_files, suspects, _job_count(jobs, len(suspects))):
        findings.broken += broken
        findings.anchored += anchored
    for link, page, fragment in findings.anchored:
        reason = fragment_problem(fragment, findings.ids[page],
                                  "this page" if page == link.file else resolver.site_url(page))
        if reason:
            findings.broken.append(Broken(link, resolver.site_url(page) + "#" + fragment, reason))
    return findings


def summarize_files(folder: Path, resolver: Resolver, rels: list[str], jobs: int | None,
                    cache: Store | None, recorded: dict[str, FileRecord] | None = None) -> list[FileLinks]:
    """The FileLinks of each file: from `cache` when it has the file's bytes, else scanned (and kept).

    The cache keeps FileLinks pickled. From workers they come back pickled, and the parent
    unpickles each once, without pickling them all again to save them; scanned in this process,
    they are pickled only for the cache.
    """
    known = cache.keys() if cache is not None else frozenset()
    jobs = _job_count(jobs, len(rels))
    summarize = functools.partial(_summarize_files, folder, resolver, known, recorded or {},
                                  cache is not None or jobs > 1, jobs > 1)
    summaries = []
    for key, pickled, summary in _map_files(summarize, rels, jobs):
        if pickled is None and summary is None:  # the cache has it
            pickled = cache.get(key)
        elif cache is not None:
            cache.put(key, pickled)
        summaries.append(summary if summary is not None else pickle.loads(pickled))
    if cache is not None:
        cache.save()
    return summaries


def file_key(resolver: Resolver, rel: str, content: bytes) -> bytes:
    """What a file's FileLinks come from: its path and bytes (`content`, their output.digest_of),
    the base URL and medsite's code."""
    return digest(code_version(), resolver.base_url, rel, content)


def _summarize_files(folder: Path, resolver: Resolver, known: frozenset[bytes] | set[bytes],
                     recorded: dict[str, FileRecord], pickled: bool, in_worker: bool,
                     rels: list[str]) -> list[tuple[bytes, bytes | None, FileLinks | None]]:
    """(file_key, FileLinks pickled when `pickled`, FileLinks unless `in_worker`) of each file;
    (file_key, None, None) for those among `known`. A worker sends back only the pickled ones."""
    summarized = []
    for rel in rels:
        key, summary = summarize_file(folder, resolver, rel, known, recorded.get(rel))
        data = None if summary is None or not pickled else pickle.dumps(summary, pickle.HIGHEST_PROTOCOL)
        summarized.append((key, data, None if in_worker else summary))
    return summarized


def summarize_file(folder: Path, resolver: Resolver, rel: str, known: frozenset[bytes] | set[bytes] = frozenset(),
                   record: FileRecord | None = None) -> tuple[bytes, FileLinks | None]:
    """(file_key, FileLinks) of one output file, the file read once; the FileLinks None when the
    key is among `known` (those the cache holds), so a worker need not send back what it has.

    `record`: the build's record of the file. While the file's stat matches it, its content
    digest is the recorded one: a file whose key is known is not even read, and one that is read
    is not hashed (its stat is taken after the read, so a change meanwhile is seen).
    """
    path = os.path.join(folder, rel)
    if record is not None and known and matches(os.stat(path), record):
        key = file_key(resolver, rel, record.digest)
        if key in known:
            return key, None
    with open(path, "rb", buffering=0) as stream:  # a plain read: no Path, no buffer
        data = stream.read()
        unchanged = record is not None and matches(os.fstat(stream.fileno()), record)
    key = file_key(resolver, rel, record.digest if unchanged else digest_of(data))
    if key in known:
        return key, None
    text = data.decode("utf-8", errors="replace")
    if rel.endswith((".html", ".htm")):
        ids, tags = _scan_tags(text)  # a FoundLink is made only for the links kept: to other sites
    else:
        ids, links = scan_text(rel, text)
        tags = [(link.offset, ((link.tag, link.attribute, link.value),)) for link in links]
    targets: dict[tuple[str, str], None] = {}
    external = []
    flagged = False
    for (start, url), target in _resolved(rel, ((url[2], (start, url)) for start, urls in tags for url in urls),
                                          resolver):
        if target is None or target.kind in ("outside", "invalid"):
            flagged = True
        elif target.kind == "external":
            external.append((target.path, FoundLink(rel, start, *url)))
        elif target.kind == "site":
            targets[target.path, target.fragment] = None
    return key, FileLinks(None if ids is None else frozenset(ids), sum(len(urls) for _, urls in tags),
                          tuple(targets), tuple(external), flagged)


def _resolved(file: str, links: Iterable[tuple[str, Item]],
              resolver: Resolver) -> Iterator[tuple[Item, Target | None]]:
    """Each (address, item) of a link in `file` as (item, where the address points); None: it is
    empty. A bare '#' goes nowhere to check."""
    for value, item in links:
        value = value.strip()
        if not value:
            yield item, None
        elif value != "#":
            yield item, resolver.resolve(file, value)


def _may_be_broken(summary: FileLinks, finder: TargetFinder, ids: dict[str, frozenset[str]]) -> bool:
    """Whether a file links to something missing: a file, a page, or an id on a page."""
    if summary.flagged:
        return True
    for path, fragment in summary.targets:
        file, _ = finder.find(path)
        if file is None or (fragment and file.endswith((".html", ".htm")) and not fragment_found(fragment, ids[file])):
            return True
    return False


def _job_count(jobs: int | None, files: int) -> int:
    """How many processes to share `files` among: one for a few, or when forking is not safe."""
    jobs = min(jobs or os.cpu_count() or 1, files // PARALLEL_FROM)
    return jobs if jobs >= 2 and can_fork() else 1


def _map_files(function, rels: list[str], jobs: int) -> list:
    """`function(rels)`, a list with one item per file, in `jobs` processes (see `_job_count`).
    Each worker inherits `function` (and what it holds, such as the file list) by fork."""
    if jobs < 2:
        return function(rels)
    global _share_job
    _share_job = (function, rels)
    size = -(-len(rels) // (jobs * 4))
    shares = [(start, start + size) for start in range(0, len(rels), size)]
    try:
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            return [item for items in pool.map(_run_share, shares) for item in items]
    finally:
        _share_job = None


_share_job = None  # (function, files) that forked workers run: set only while they run


def _run_share(share: tuple[int, int]) -> list:
    function, rels = _share_job
    return function(rels[share[0]:share[1]])


def _check_files(output: Output, resolver: Resolver, rels: list[str]) -> list[tuple[list[Broken], list]]:
    finder = TargetFinder(output)
    return [check_file(output.folder, rel, finder, resolver) for rel in rels]


def check_file(folder: Path, rel: str, finder: TargetFinder,
               resolver: Resolver) -> tuple[list[Broken], list[tuple[FoundLink, str, str]]]:
    """The broken links of one file, and its links to ids on pages (checked once all ids are known)."""
    broken, anchored = [], []
    _, links = scan_file(folder, rel)
    for link, target in _resolved(rel, ((link.value, link) for link in links), resolver):
        if target is None:
            broken.append(Broken(link, "", "the address is empty"))
        elif target.kind == "invalid":
            broken.append(Broken(link, target.path, "not a valid address"))
        elif target.kind == "outside":
            broken.append(Broken(link, target.path, f"points outside the site ({resolver.base_url}); "
                                                    "write a relative link", WARNING))
        elif target.kind == "site":
            file, reason = finder.find(target.path)
            if file is None:
                broken.append(Broken(link, resolver.site_url(target.path), reason))
            elif target.fragment and file.endswith((".html", ".htm")):
                anchored.append((link, file, target.fragment))
    return broken, anchored


def fragment_found(fragment: str, ids: frozenset[str]) -> bool:
    """Whether `#fragment` goes somewhere on a page with these ids ('#top' and text fragments always do)."""
    if fragment in ids or fragment.lower() == "top" or fragment.startswith(":~:"):
        return True  # '#top' scrolls to the top; ':~:text=' is a text fragment, not an id
    return unicodedata.normalize("NFC", unquote(fragment)) in ids


def fragment_problem(fragment: str, ids: frozenset[str], where: str) -> str | None:
    """Why `#fragment` finds nothing among the page's ids, with the nearest id; None when it does."""
    if fragment_found(fragment, ids):
        return None
    decoded = unicodedata.normalize("NFC", unquote(fragment))
    message = f"no heading with id '{decoded}' on {where}"
    nearest = difflib.get_close_matches(decoded, ids, n=1, cutoff=0.6)
    if nearest:
        message += f" (did you mean '#{nearest[0]}'?)"
    return message


# --- locating the source -----------------------------------------------------------------------

class Location(NamedTuple):
    path: str  # as shown in problems
    line: int
    written: str  # the link as written there
    per_page: bool  # the source makes this link on many pages (a template, the config)


_TEMPLATE_REFERENCE = re.compile(r"""{%-?\s*(?:extends|include|import|from)\s+["']([^"']+)["']""")


class SourceLocator:
    """Map a link in the built output back to the file and line a person wrote it in.

    In a page's body: the Markdown link (SourceLink) it was rendered from, or for raw HTML the
    line holding it. Outside the body: the article's front matter, a template of the page, the
    config or the disclaimer, whichever holds the link as written; then the nav item it came
    from; then the template line that best matches the tag; last, the page's template itself.
    """

    def __init__(self, config: SiteConfig, result: BuildResult | None, output_folder: Path):
        self.config = config
        self.output_folder = output_folder
        site = self.site = result.site if result is not None else None
        self.pages = {page.file: page for page in (result.pages if result is not None else [])}
        self.site_pages = {url_to_file(page.url): page for page in (site.pages if site else [])}
        self.nav_lines = {}
        if site is not None and len(site.nav) == len(config.nav):
            self.nav_lines = {link.url: item.line for link, item in zip(site.nav, config.nav)}
        self._lines: dict[Path, list[str]] = {}
        self._bodies: dict[str, tuple[list[FoundLink], list[SourceLink | None]]] = {}

    def locate(self, link: FoundLink, target: str) -> Location:
        page = self.site_pages.get(link.file)
        rendered = self.pages.get(link.file)
        if page is None or rendered is None:
            return self._in_copied_file(link)
        if page.body is not None:
            written = self._in_body(link, page, rendered.html)
            if written is not None:
                return written
        return self._outside_body(link, target, page, rendered.html)

    def _in_copied_file(self, link: FoundLink) -> Location:
        """A file copied as it is (static or content folder) or generated (sitemap): its own line."""
        for folder in (self.config.static_path, self.config.content_path, self.output_folder):
            path = folder / link.file
            if path.is_file():
                break
        text = _read_text(path)
        shown = display_path(self.config.output_path / link.file if folder == self.output_folder else path,
                             self.config.root)
        return Location(shown, LineIndex(text).line(link.offset), link.value, False)

    def _in_body(self, link: FoundLink, page, html: str) -> Location | None:
        """The Markdown source line of a link inside the page's body; None when it is not in the body."""
        body_links, sources = self._body(page, html)
        for found, source in zip(body_links, sources):
            if found == link:
                if source is not None:
                    return Location(page.article.shown, source.line, source.written, False)
                # Raw HTML (not a Markdown link): the body line that holds it as written.
                line = self._find_line(page.article.source.path, [link.value], first=page.article.body_line)
                return Location(page.article.shown, line, link.value, False)
        return None

    def _body(self, page, html: str) -> tuple[list[FoundLink], list[SourceLink | None]]:
        """The links of the page's body as they are in the page, and the Markdown link each came from."""
        if page.url not in self._bodies:
            body_links: list[FoundLink] = []
            sources: list[SourceLink | None] = []
            region = find_inserted(html, str(self.site.body_html_of(page)))
            if region is not None:
                _, links = scan_html(html, url_to_file(page.url))
                body_links = [link for link in links if region[0] <= link.offset < region[1]]
                _, written = scan_html(page.body.html)
                if len(written) == len(body_links):
                    sources = pair_markdown_links(written, page.body.links)
                else:
                    sources = [None] * len(body_links)
            self._bodies[page.url] = (body_links, sources)
        return self._bodies[page.url]

    def _outside_body(self, link: FoundLink, target: str, page, html: str) -> Location:
        shown_target = link.value if link.value.startswith("#") or not target else target
        needles = [link.value] if link.value.startswith(("#", "/")) or _SCHEME.match(link.value) else []
        if shown_target.startswith("/") and not link.value.startswith("#"):
            needles += [shown_target, shown_target.partition("#")[0]]
        needles = [n for n in dict.fromkeys(needles) if n]
        templates = self._template_files(page.template)
        if page.article is not None and needles:
            # Front matter (references): an article's own line, shown once for its one page.
            line = self._find_line(page.article.source.path, needles, last=page.article.body_line - 1)
            if line:
                return Location(page.article.shown, line, link.value, False)
        for path in templates + [self.config.config_path, self.config.disclaimer_path]:
            line = self._find_line(path, needles) if needles else 0
            if line:
                return Location(display_path(path, self.config.root), line, shown_target, True)
        site_path = shown_target.partition("#")[0]
        if site_path in self.nav_lines:
            return Location(display_path(self.config.config_path, self.config.root),
                            self.nav_lines[site_path], shown_target, True)
        return self._template_line(link, html, templates, shown_target)

    def _template_line(self, link: FoundLink, html: str, templates: list[Path], written: str) -> Location:
        """The template line that writes the same tag with the same attribute and fixed attributes."""
        tag = next(iter_tags(html[link.offset:]))
        best: tuple[int, Path, int] | None = None
        for path in templates:
            for number, text in enumerate(self._read_lines(path), start=1):
                if f"<{tag.name}" not in text or f"{link.attribute}=" not in text:
                    continue
                score = sum(f'{name}="{value}"' in text for name, value in tag.attrs.items()
                            if name != link.attribute)
                if best is None or score > best[0]:
                    best = (score, path, number)
        path, line = (best[1], best[2]) if best else (templates[0], 0)
        return Location(display_path(path, self.config.root), line, written, True)

    def _template_files(self, name: str) -> list[Path]:
        """The page's template, then those it extends or includes, in that order."""
        folder = self.config.templates_path
        names, index = [name], 0
        while index < len(names):
            path = folder / names[index]
            names += [n for n in _TEMPLATE_REFERENCE.findall("\n".join(self._read_lines(path)))
                      if n not in names]
            index += 1
        return [folder / n for n in names]

    def _read_lines(self, path: Path) -> list[str]:
        if path not in self._lines:
            try:
                self._lines[path] = path.read_text(encoding="utf-8-sig").split("\n")
            except (OSError, UnicodeDecodeError):
                self._lines[path] = []
        return self._lines[path]

    def _find_line(self, path: Path, needles: list[str], first: int = 1, last: int | None = None) -> int:
        """The first line (from `first` to `last`) holding one of `needles` as a whole token; 0 if none."""
        lines = self._read_lines(path)
        for needle in needles:
            pattern = re.compile(r"(?<![\w./-])" + re.escape(needle) + r"(?![\w/-])")
            for number in range(max(first, 1), (last if last is not None else len(lines)) + 1):
                if number <= len(lines) and pattern.search(lines[number - 1]):
                    return number
        return 0


def find_inserted(page_html: str, fragment: str) -> tuple[int, int] | None:
    """Where `fragment` was inserted into the page, even if a template filter added attributes to
    its tags (the print-URL filter does): the same run of tags and URLs. None when it is not there."""
    if not fragment:
        return None
    exact = page_html.find(fragment)
    if exact >= 0:
        return exact, exact + len(fragment)

    def signature(tag) -> tuple:
        return tag.name, tag.closing, tag.attrs.get("href"), tag.attrs.get("src"), tag.attrs.get("id")

    wanted = [signature(tag) for tag in iter_tags(fragment)]
    tags = list(iter_tags(page_html))
    signatures = [signature(tag) for tag in tags]
    for start in range(len(tags) - len(wanted) + 1):
        if signatures[start:start + len(wanted)] == wanted:
            return tags[start].start, tags[start + len(wanted) - 1].end
    return None


def pair_markdown_links(found: list[FoundLink], written: tuple[SourceLink, ...]) -> list[SourceLink | None]:
    """Pair each link of a body (placeholders unresolved) with the Markdown link it was made from.

    The Markdown stage lists its links (a href, img src) in document order; links in raw HTML are
    not in that list and pair with None. A Markdown link to content is a `medsite:` placeholder
    here; any other is exactly as written.
    """
    pairs: list[SourceLink | None] = []
    index = 0
    for link in found:
        source = written[index] if index < len(written) else None
        is_markdown_kind = (link.tag, link.attribute) in (("a", "href"), ("img", "src"))
        if source is not None and is_markdown_kind and (
                link.value == source.written or (link.value.startswith(PLACEHOLDER) and source.target)):
            pairs.append(source)
            index += 1
        else:
            pairs.append(None)
    return pairs


# --- problems ------------------------------------------------------------------------------------

@dataclass
class LinkReport:
    problems: list[Problem]
    pages: int
    links: int


def check_output(folder: Path, config: SiteConfig, result: BuildResult | None = None,
                 external=None, cache: Store | None = None, early: "EarlyScan | None" = None) -> LinkReport:
    """Check every link in the built site in `folder`. `external`, when given, checks the links to
    other sites: {url: [FoundLink where it is]} -> (broken links, other problems). `cache` (see
    `links_cache`) keeps what each file holds, so an unchanged file is not scanned again. `early`:
    the findings of `folder`, when that is what it scanned."""
    resolver = Resolver(config.base_url)
    findings = early.findings_of(folder) if early is not None else None
    if findings is None:
        findings = find_broken(list_output(folder), resolver, cache=cache,
                               recorded=result.records if result is not None else None)
    broken = findings.broken
    problems: list[Problem] = []
    if external is not None:
        found, external_problems = external(findings.external)
        broken += found
        problems += external_problems
    problems += located_problems(broken, SourceLocator(config, result, folder), resolver)
    return LinkReport(problems, findings.pages, findings.links)


_KIND_WORDS = {"img": "image", "css": "url", "loc": "sitemap entry"}


def located_problems(broken: list[Broken], locator: SourceLocator, resolver: Resolver) -> list[Problem]:
    """One problem per source line and fault; a template or config link names the pages it is on."""
    grouped: dict[tuple[str, int, str, str], list[str]] = {}
    for item in broken:
        where = locator.locate(item.link, item.target)
        kind = _KIND_WORDS.get(item.link.tag, "link to")
        message = f"{kind} '{where.written}' — {item.reason}"
        on = grouped.setdefault((where.path, where.line, item.severity, message), [])
        if where.per_page:
            on.append(resolver.site_url(item.link.file))
    problems = []
    for (path, line, severity, message), pages in grouped.items():
        pages = sorted(set(pages))
        if len(pages) == 1:
            message += f" (on {pages[0]})"
        elif pages:
            message += f" (on {len(pages)} pages, such as {pages[0]})"
        problems.append(Problem(path, line, severity, message))
    return problems


class EarlyScan:
    """`find_broken` over the live output, in a process forked when `check` starts.

    The build first loads and assembles the site: a second or more of one core's work. This
    checks the live output's links on the other core meanwhile. When the build finds the live
    output up to date, `check` checks it in place: these are its findings. Otherwise its scans
    are in the links cache for the staged output, which holds mostly the same files.
    """

    def __init__(self, config: SiteConfig):
        self.folder = config.output_path
        context = multiprocessing.get_context("fork")
        for stream in (sys.stdout, sys.stderr):  # the process flushes them as it ends: not twice
            stream.flush()
        self._receiver, sender = context.Pipe(duplex=False)
        self._process = context.Process(target=_scan_early, daemon=True, args=(
            sender, OutputFolder(self.folder, config.root / CACHE_FOLDER), config.base_url, links_cache(config)))
        self._process.start()
        sender.close()

    @classmethod
    def start(cls, config: SiteConfig) -> "EarlyScan | None":
        """An early scan of the live output, when there is one and a process can be forked."""
        return cls(config) if config.output_path.is_dir() and can_fork() else None

    def findings_of(self, folder: Path) -> Findings | None:
        """The findings, if the scan was of `folder` and went well; in any case, once it has ended
        (its scans are in the cache by then)."""
        findings = self._end()
        return findings if Path(folder) == self.folder else None

    def _end(self) -> Findings | None:
        findings = None
        if not self._receiver.closed:
            try:
                findings = self._receiver.recv()
            except (EOFError, OSError):  # the process died
                pass
            self._receiver.close()
        self._process.join()
        return findings

    def close(self) -> None:
        """Wait for the scan if nothing took its findings (the build failed): it is saving the cache."""
        self._end()


def _scan_early(sender, output: OutputFolder, base_url: str, cache: Store) -> None:
    # The cyclic garbage collector would walk the scan's growing findings again and again, for a
    # tenth of its time; this process ends with the scan (reference counting still frees as it goes).
    gc.disable()
    try:
        findings = find_broken(list_output(output.out), Resolver(base_url), jobs=1, cache=cache,
                               recorded=output.recorded_live())
        findings.ids = {}  # used up: only their number is needed
    except Exception:  # noqa: BLE001 - the check scans again, and reports what it finds
        findings = None
    sender.send(findings)
    sender.close()


# --- the command ---------------------------------------------------------------------------------

@dataclass
class SiteCheck:
    """The staged check of `check`: links, external links when asked, and the content checks."""

    external: bool = False
    today: dt.date = field(default_factory=dt.date.today)
    early: EarlyScan | None = None  # the live output's links, checked while the build loads
    pages: int = 0
    links: int = 0

    def __call__(self, staged: Path, result: BuildResult) -> list[Problem]:
        from .lint import lint_cache, lint_site
        config = result.config
        # The content checks first: the early scan may still be running.
        lint = lint_site(config, result.site, self.today, lint_cache(config))
        external = None
        if self.external:
            from .external import CACHE_FILE, ExternalChecker
            external = ExternalChecker(config.root / CACHE_FILE,
                                       report_at=display_path(config.config_path, config.root)).check
        report = check_output(staged, config, result, external, links_cache(config), self.early)
        self.pages, self.links = report.pages, report.links
        return report.problems + lint_problems(config, lint, result.problems + report.problems)


def lint_problems(config: SiteConfig, lint, other_problems: list[Problem]) -> list[Problem]:
    """The problems of the content checks (`lint`, a LintReport), whose errors also stop publishing;
    writes the editors' report of them with `other_problems` (the build's and the links')."""
    from .report import write_report
    found = list(lint.problems)
    lint.add(other_problems)
    try:
        write_report(lint, config)
    except OSError as exc:
        found.append(warning(display_path(config.config_path), 0,
                             f"cannot write the editors' report: {exc.strerror or exc}"))
    return found


def command(args) -> int:
    """`check`: build, check links and content on the staged site, publish only if all is well."""
    from .cli import EXIT_OK, EXIT_PROBLEMS, keep_until_exit, report
    config, problems = load_config(args.config, getattr(args, "out", None))
    check = SiteCheck(external=args.external)
    result = None
    if config is not None:
        check.early = EarlyScan.start(config)
        try:
            result = build(config, BuildOptions(), checks=(check,))
        finally:
            if check.early is not None:
                check.early.close()
        keep_until_exit(result)
        problems += result.problems
    if args.format == "json":
        print(json.dumps({"problems": [p.as_dict() for p in sort_problems(problems)], "pages": check.pages,
                          "links": check.links}, indent=2, ensure_ascii=False))
    else:
        report(problems)
        if result is not None and result.written:
            print(f"Checked {check.links} links on {check.pages} pages; "
                  f"the site is in {display_path(config.output_path)}/")
        else:
            print("Check failed; the previous site was left as it was.", file=sys.stderr)
    return EXIT_PROBLEMS if has_errors(problems) or result is None or not result.written else EXIT_OK
