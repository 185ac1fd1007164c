"""`build()`: the outline of the pipeline, one call per stage.

load articles -> render Markdown -> assemble the site -> render templates -> enforce the
disclaimer -> write aside -> run checks on the staged site -> swap into place.
Every stage returns problems; any error stops the build before the swap, so the previous output
stays as it was. Parsing, Markdown and page rendering are skipped for what has not changed since
the last build (cache.py); Markdown for many articles is converted in several processes.
"""
from __future__ import annotations

import os
import threading
import time
import datetime as dt
import gc
import hashlib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Callable

from markupsafe import Markup

from .cache import (CACHE_FOLDER, BuildCache, PageKeys, Store, article_key, body_key, code_version, digest, input_digest,
                    inputs_fingerprint, reaches_topic_articles)
from .config import SiteConfig, display_path
from .content import (Article, Discovery, SourceFile, discover, is_ignored_name, parse_article, read_source,
                      url_to_file)
from . import quick
from .disclaimer import Disclaimer, enforce, load_disclaimer
from .markdown import MarkdownRenderer, RenderedBody
from .output import FileRecord, OutputFile, OutputFolder
from .problems import Problem, error, has_errors
from .render import (CONTENT_SECURITY_POLICY, PAGE_CONTEXT, PageReuse, RenderedPage, base_path_of, make_environment,
                     pages_as_built, render_pages, render_robots, render_sitemap, shared_context,
                     template_shown_and_chain)
from .seo import SearchEntry, render_feed, render_search_index, search_entries
from .site import Page, Site, Topic, assemble_site

PARALLEL_FROM = 200  # fewer articles to convert than this: one process (starting workers costs more)


@dataclass(frozen=True)
class BuildOptions:
    drafts: bool = False
    jobs: int | None = None  # processes for Markdown; None: one per core
    use_cache: bool = True
    write: bool = True  # False: stop after rendering (lint needs the site, not the files)
    # The pages' Content-Security-Policy; only the preview server widens it (for livereload's script).
    content_security_policy: str = CONTENT_SECURITY_POLICY
    # Stop early, leaving `site` and `pages` empty, when the live output was built from exactly
    # these inputs (the command line does; callers that inspect the result do not).
    skip_when_unchanged: bool = False
    # Take the quick way (quick.py) when only some articles' text changed: `site` is then None and
    # `pages` holds only the pages rendered again (the command line and the preview server do).
    quick: bool = False


@dataclass
class BuildResult:
    config: SiteConfig
    problems: list[Problem]
    site: Site | None = None
    pages: list[RenderedPage] = field(default_factory=list)
    written: bool = False
    timings: dict[str, float] = field(default_factory=dict)
    # What was done again: articles_parsed, bodies_converted, pages_rendered, pages_kept.
    stats: dict[str, int] = field(default_factory=dict)
    up_to_date: bool = False  # nothing had changed: the output was left as it was (skip_when_unchanged)
    # For the checks: what the output folder they check held when built, each file's content
    # digest with its stat (output.FileRecord), so an unchanged file's digest is known unread.
    records: dict[str, FileRecord] = field(default_factory=dict)

    @property
    def page_count(self) -> int:
        """The pages of the site built (a quick rebuild renders only some of them)."""
        return self.stats.get("pages", len(self.pages))


# A check run on the staged output before it is swapped in: (staged folder, result) -> problems.
StagedCheck = Callable[[Path, BuildResult], list[Problem]]


class _Clock:
    def __init__(self, timings: dict[str, float]):
        self.timings, self.last = timings, time.perf_counter()

    def lap(self, stage_name: str) -> None:
        now = time.perf_counter()
        self.timings[stage_name] = self.timings.get(stage_name, 0.0) + now - self.last
        self.last = now


def build(config: SiteConfig, options: BuildOptions = BuildOptions(),
          checks: tuple[StagedCheck, ...] = ()) -> BuildResult:
    return Builder(config, options).build(checks)


class Builder:
    """Builds one site, again and again: a warm process (the preview server) keeps one, so the
    cache stays in memory and the Markdown renderer is made once. `build(config=...)` takes a
    config read again after an edit."""

    def __init__(self, config: SiteConfig, options: BuildOptions = BuildOptions()):
        self.options = options
        self.renderer = MarkdownRenderer()
        self.resolved: dict = {}  # bodies with their links resolved, by assemble_site, for the next build
        self._use(config)

    def _use(self, config: SiteConfig) -> None:
        self.config = config
        state = config.root / CACHE_FOLDER
        if getattr(self, "cache", None) is None or self.cache.folder != state:
            self.cache = BuildCache(state) if self.options.use_cache else None
        if getattr(self, "page_memo", None) is None or self.page_memo.paths[0].parent != state:
            self.page_memo = Store(state, "pagekeys") if self.options.use_cache else None
        if getattr(self, "output", None) is None or self.output.out != config.output_path:
            self.output = OutputFolder(config.output_path, state)
            self.state: quick.SiteState | None = None  # the last build's, once known (quick.py)

    def build(self, checks: tuple[StagedCheck, ...] = (), config: SiteConfig | None = None) -> BuildResult:
        if config is not None:
            self._use(config)
        # The cyclic garbage collector would walk the whole site, cache and all, again and again
        # while a build allocates: it waits till the end (reference counting still frees as it goes).
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._build(checks)
        finally:
            self.output.release()
            if collecting:
                gc.enable()

    def _up_to_date(self, inputs: bytes, checks: tuple[StagedCheck, ...], result: BuildResult) -> bool:
        """With skip_when_unchanged: whether the live output was built from exactly `inputs` (then
        `result` says so and repeats that build's warnings)."""
        if not self.options.skip_when_unchanged or not self._may_skip(checks):
            return False
        earlier = self.output.built_from(inputs)
        if earlier is None:
            return False
        result.problems[:] = earlier[1]
        result.written = result.up_to_date = True
        return True

    def _may_skip(self, checks: tuple[StagedCheck, ...]) -> bool:
        return self.cache is not None and not checks and self.options.write

    def _build(self, checks: tuple[StagedCheck, ...]) -> BuildResult:
        config, options, renderer = self.config, self.options, self.renderer
        result = BuildResult(config, [])
        clock = _Clock(result.timings)
        problems = result.problems

        discovery, found = discover(config)
        problems += found
        settings = repr((options.drafts, options.content_security_policy))
        fingerprint = inputs_fingerprint(config, [asset.path for asset in discovery.assets], settings)
        if options.quick and not found and self._may_skip(checks) and self._quick(discovery, fingerprint, result):
            return result
        read_at_ns = time.time_ns()
        texts = read_sources(discovery, problems)
        inputs = input_digest(fingerprint, [(item.source.rel, item.key) for item in texts])
        if self._up_to_date(inputs, checks, result):
            return result
        own_problems: dict[str, list[Problem]] = {}
        articles, converted = load_articles(texts, options, problems, self.cache, result.stats, own_problems)
        for item in texts:
            item.text = ""  # parsed: the state keeps only where each text came from and its key
        clock.lap("load")
        disclaimer, found = load_disclaimer(config, lambda text: renderer.render(text, "").html)
        problems += found
        bodies = render_bodies(articles, renderer, self.cache, options.jobs, result.stats, converted)
        del converted
        clock.lap("markdown")
        # A check of a live output built from exactly these inputs checks it where it is: it reads
        # few bodies, so their links are resolved only when asked for (Site.body_html_of).
        earlier = (self._live_built_from(inputs) if checks and disclaimer is not None and not has_errors(problems)
                   else None)
        site, found = assemble_site(config, articles, bodies, [a.rel for a in discovery.assets],
                                    lambda text: renderer.render(text, "").html,
                                    self.resolved if self.cache is not None else None, own_problems,
                                    resolve_bodies=earlier is None)
        problems += found
        result.site = site
        clock.lap("assemble")
        if self.cache is not None:
            self.cache.save()
        if earlier is not None and self._check_in_place(earlier, checks, make_environment(config), result):
            return result
        site.resolve_bodies()  # when assembled for a check in place that did not apply
        if disclaimer is None:
            return result
        env = make_environment(config)
        live = self.output.live_records()
        keys = PageKeys(env)
        out = f"{self.output.out}/"
        reuse = page_reuse(keys, live, out) if self.cache is not None else None
        entries = search_entries(site)  # once: the search page and the search index show them
        kept, todo, pending = [], site.pages, {}
        if self.page_memo is not None and reuse is not None:
            memo = PageMemo(self.page_memo, keys, site, env, shared_context(
                site, disclaimer, options.content_security_policy, entries))
            kept, todo, pending = memo.keep_unchanged(live, out)
        staging = options.write and not has_errors(problems)
        if staging:  # pages are written while others are rendered (by threads: only once workers are forked)
            self.output.begin_stage(live)
        pages, found = render_site(site, env, disclaimer, options, reuse, entries, todo,
                                   sink=(lambda done: self.output.add(map(page_file, done))) if staging else None)
        problems += found
        if staging:
            self.output.add(map(page_file, kept))
        if self.page_memo is not None:
            for page in pages:
                if page.key is not None and page.url in pending:
                    self.page_memo.put(pending[page.url], page.key)
            for page in kept:
                self.page_memo.get(pending[page.url])  # used: kept when saving
            self.page_memo.save()
        if kept:
            order = {page.url: index for index, page in enumerate(site.pages)}
            pages = sorted(kept + pages, key=lambda page: order[page.url])
        result.pages = pages
        result.stats["pages_rendered"] = sum(page.fresh_html is not None for page in pages)
        result.stats["pages_kept"] = len(pages) - result.stats["pages_rendered"]
        clock.lap("templates")
        if has_errors(problems) or not staging:
            return result
        files = output_files(config, site, {page.file for page in pages}, discovery, problems, entries)
        if has_errors(problems):
            return result
        self.output.add(files)
        staged, found = self.output.finish_stage()
        problems += found
        clock.lap("write")
        built_problems = tuple(problems)  # what the output keeps: a later build of the same inputs repeats them
        result.records = self.output.staged_records()
        for check in checks:
            problems += check(staged, result)
        clock.lap("check")
        if has_errors(problems):
            return result
        self.output.swap_into_place(inputs, built_problems)
        result.written = True
        clock.lap("write")
        if self.cache is not None:
            self.state = quick.make_state(fingerprint, inputs, discovery, texts, articles, bodies, site, entries,
                                          list(built_problems), own_problems, read_at_ns, self.state)
            quick.save(self.state, self.cache.folder)
            clock.lap("write")
        return result

    def _live_built_from(self, inputs: bytes) -> tuple | None:
        """The live output's (records, problems) when it was built from exactly `inputs`."""
        if self.cache is None or not self.options.write:
            return None
        return self.output.built_from(inputs)

    def _check_in_place(self, earlier: tuple, checks: tuple[StagedCheck, ...], env, result: BuildResult) -> bool:
        """`check` of a site already built from the same inputs (`earlier`, its records and problems):
        the live output is checked where it is, as nothing would be rendered again, staged or swapped;
        its build's problems are repeated. Whether it applied."""
        if has_errors(result.problems):
            return False
        clock = _Clock(result.timings)
        result.records = earlier[0]
        result.problems[:] = earlier[1]
        result.pages = pages_as_built(result.site, env, f"{self.output.out}/")
        result.stats.update(pages=len(result.pages), pages_rendered=0, pages_kept=len(result.pages))
        for check in checks:
            result.problems += check(self.output.out, result)
        result.written = result.up_to_date = not has_errors(result.problems)
        clock.lap("check")
        return True

    def _quick(self, discovery: Discovery, fingerprint: bytes, result: BuildResult) -> bool:
        """Rebuild the quick way (quick.py) when it applies; whether it did."""
        clock = _Clock(result.timings)
        state = self.state or quick.load(self.cache.folder, discovery)
        if state is None:
            return False
        self.state = state  # unchanged until quick.apply; its outlines serve a full build too
        found = quick.changed_articles(state, discovery, fingerprint, self.renderer)
        clock.lap("load")
        if found is None:
            return False
        changes, refreshed = found
        earlier = self.output.built_from(state.inputs)  # the live output is the state's, untouched
        if earlier is None:
            return False
        live, earlier_problems = earlier
        if not changes:  # some files were only touched
            state.articles.update(refreshed)
            result.problems[:] = earlier_problems
            result.written = result.up_to_date = True
            if refreshed:
                quick.save_changes(state, self.cache.folder, [], refreshed)
            self.state = state
            return True
        config, options = self.config, self.options
        disclaimer, problems = load_disclaimer(config, lambda text: self.renderer.render(text, "").html)
        if disclaimer is None or problems:
            return False
        env = make_environment(config)
        keys = PageKeys(env)
        paths = set()
        for change in changes:
            analysed = keys._analyse(change.page.template)
            if analysed is None or not quick.reads_only_own_article(analysed[1]):
                return False
            paths.update(analysed[1])
        # Unread values are not needed: the search entries are loaded only for a template that shows them.
        entries = state.search_entries() if any(path[0] == "search_entries" for path in paths) else []
        self.state = None  # changed below: valid again once the output is swapped in
        problems = quick.apply(state, changes, refreshed, display_path(config.content_path, config.root))
        clock.lap("assemble")
        out = f"{self.output.out}/"
        pages, found = render_site(state.site, env, disclaimer, options, page_reuse(keys, live, out),
                                   entries, [change.page for change in changes])
        problems += found
        result.problems[:] = problems
        result.pages = pages
        result.stats.update(articles_parsed=len(changes), bodies_converted=len(changes), pages=len(state.site.pages),
                            pages_rendered=sum(page.fresh_html is not None for page in pages))
        result.stats["pages_kept"] = result.stats["pages"] - result.stats["pages_rendered"]
        clock.lap("templates")
        if has_errors(problems):
            return True
        fresh = [page_file(page) for page in pages]
        changed_files = {item.rel for item in fresh}
        staged, found = self.output.stage(fresh, live, kept=[rel for rel in live if rel not in changed_files])
        problems += found
        if has_errors(problems):
            result.problems[:] = problems
            return True
        self.output.swap_into_place(state.inputs, tuple(problems))
        result.written = True
        self.state = state
        quick.save_changes(state, self.cache.folder, changes, refreshed)
        clock.lap("write")
        return True


@dataclass
class SourceText:
    """An article file's text as read, with what says later whether it is still the same."""

    source: SourceFile
    text: str
    key: bytes  # cache.article_key: names the text
    stat: os.stat_result


def read_sources(discovery: Discovery, problems: list[Problem]) -> list[SourceText]:
    """The text of every article that can be read."""
    texts = []
    for source in discovery.articles:
        text, stat, found = read_source(source)
        problems += found
        if text is not None:
            texts.append(SourceText(source, text, article_key(source, text), stat))
    return texts


def load_articles(texts: list[SourceText], options: BuildOptions, problems: list[Problem],
                  cache: BuildCache | None = None, stats: dict[str, int] | None = None,
                  own_problems: dict[str, list[Problem]] | None = None) -> tuple[list[Article], dict]:
    """Every article from its text; front matter is parsed again only for texts that changed.
    `own_problems` (when given) gets each article's problems by its rel.

    Also returns the bodies converted on the way, by body_key: many articles are parsed in
    several processes, and each converts the bodies it parsed that the cache lacks (one pass
    over the texts instead of two)."""
    loaded: list[tuple[SourceText, tuple | None]] = []  # with (article, problems) from the cache
    for item in texts:
        known = cache.articles.get(item.key) if cache is not None else None
        loaded.append((item, known))
    todo = [(item.source, item.text) for item, known in loaded if known is None]
    jobs = worker_count(options.jobs, len(todo))
    converted = {}
    if jobs > 1:
        global _parse_job
        _parse_job = (cache.bodies.keys() if cache is not None else frozenset(), options.drafts)
        try:
            parsed = iter(map_in_processes(_parse_and_convert_chunk, todo, jobs, initializer=_start_worker))
        finally:
            _parse_job = (frozenset(), False)
    else:
        parsed = ((article, found, None, None) for article, found in _parse_chunk(todo))
    articles = []
    for item, known in loaded:
        if known is None:
            article, found, key, body = next(parsed)
            if body is not None:
                converted[key] = body
            if article is not None and cache is not None:  # the source is set again below: cheaper to load
                cache.articles.put(item.key, (replace(article, source=None), tuple(found)))
        else:
            article, found = known
        problems += found
        if own_problems is not None:
            own_problems[item.source.rel] = list(found)
        if article is not None and (options.drafts or not article.meta.draft):
            # The same file, perhaps shown from elsewhere; text_hash lets cache.PageKeys hash it quickly.
            articles.append(replace(article, source=item.source, text_hash=item.key.hex()))
    if stats is not None:
        stats["articles_parsed"] = len(todo)
    return articles, converted


def render_bodies(articles: list[Article], renderer: MarkdownRenderer, cache: BuildCache | None = None,
                  jobs: int | None = None, stats: dict[str, int] | None = None,
                  converted: dict | None = None) -> dict[str, RenderedBody]:
    """Every article's body as HTML: from the cache or `converted` (by load_articles), else
    converted now (in parallel when it pays)."""
    bodies: dict[str, RenderedBody] = {}
    todo: list[tuple[Article, bytes]] = []
    fresh = 0
    for article in articles:
        key = body_key(article.rel, article.body_line, article.body)
        body = cache.bodies.get(key) if cache is not None else None
        if body is None and converted and key in converted:
            body, fresh = converted[key], fresh + 1
            if cache is not None:
                cache.bodies.put(key, body)
        if body is None:
            todo.append((article, key))
        else:
            bodies[article.rel] = body
    work = [(article.body, article.rel, article.body_line) for article, _ in todo]
    jobs = worker_count(jobs, len(work))
    if jobs > 1:
        results = map_in_processes(_convert_chunk, work, jobs, initializer=_start_worker)
    else:
        results = [renderer.render(*item) for item in work]
    for (article, key), body in zip(todo, results):
        bodies[article.rel] = body
        if cache is not None:
            cache.bodies.put(key, body)
    if stats is not None:
        stats["bodies_converted"] = len(todo) + fresh
    return bodies


def worker_count(jobs: int | None, items: int) -> int:
    """How many processes to share `items` among: one when starting more does not pay, or is not
    safe (see `can_fork`)."""
    if items < PARALLEL_FROM or not can_fork():
        return 1
    return max(1, min(jobs or os.cpu_count() or 1, items // (PARALLEL_FROM // 2)))


def can_fork() -> bool:
    """Whether this process can fork workers safely: fork copies only the calling thread, so a
    process running other threads (the preview server, a test runner's worker) must not."""
    if threading.active_count() > 1:
        return False
    import multiprocessing  # here: a rebuild of a few pages never needs it (10 ms at every start)
    return "fork" in multiprocessing.get_all_start_methods()


def map_in_processes(function, items: list, jobs: int, initializer=None, chunk: int = 50, each=None) -> list:
    """`function` (taking and returning a list) over `items` in chunks, in `jobs` forked processes;
    `each` (when given) gets every result as soon as it is back, in order."""
    chunks = [items[start:start + chunk] for start in range(0, len(items), chunk)]
    results = []
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork"), initializer=initializer) as pool:
        for returned in pool.map(function, chunks):
            for result in returned:
                if each is not None:
                    each(result)
                results.append(result)
    return results


def _parse_chunk(chunk: list[tuple[SourceFile, str]]) -> list[tuple[Article | None, list[Problem]]]:
    return [parse_article(source, text) for source, text in chunk]


_worker_renderer: MarkdownRenderer | None = None
# For the forked workers of load_articles: the body keys the cache holds, and whether drafts are built.
_parse_job: tuple[frozenset | set, bool] = (frozenset(), False)


def _parse_and_convert_chunk(chunk: list[tuple[SourceFile, str]]) -> list[tuple]:
    """(article, problems, body key, body converted or None) for each text of `chunk`."""
    known_bodies, drafts = _parse_job
    results = []
    for article, found in _parse_chunk(chunk):
        key = body = None
        if article is not None and (drafts or not article.meta.draft):
            key = body_key(article.rel, article.body_line, article.body)
            if key not in known_bodies:
                body = _worker_renderer.render(article.body, article.rel, article.body_line)
        results.append((article, found, key, body))
    return results


def _start_worker() -> None:
    global _worker_renderer
    _worker_renderer = MarkdownRenderer()


def _convert_chunk(chunk: list[tuple[str, str, int]]) -> list[RenderedBody]:
    return [_worker_renderer.render(*item) for item in chunk]


def render_site(site: Site, env, disclaimer: Disclaimer, options: BuildOptions, reuse: PageReuse | None,
                entries: list[SearchEntry], todo: list[Page] | None = None,
                sink: Callable[[list[RenderedPage]], None] | None = None) -> tuple[list[RenderedPage], list[Problem]]:
    """Render the pages (or `todo`, some of them) and check each new one for the disclaimer, in
    several processes for a large site (each inherits the assembled site by fork, and takes a
    share of the pages). `sink` gets the pages as they come, a share at a time: the caller
    writes them while the rest are still being rendered."""
    todo = site.pages if todo is None else todo
    jobs = worker_count(options.jobs, len(todo))
    job = (site, env, disclaimer, options.content_security_policy, reuse, entries, todo)
    if jobs < 2:
        results = [_render_share(job, (0, len(todo)))]
        if sink is not None:
            sink(results[0][0])
    else:
        global _render_job
        _render_job = job
        size = -(-len(todo) // (jobs * 8))
        shares = [(start, start + size) for start in range(0, len(todo), size)]
        try:
            results = map_in_processes(_render_in_worker, shares, jobs, chunk=1,
                                       each=None if sink is None else lambda result: sink(result[0]))
        finally:
            _render_job = None
    pages = [page for share, _ in results for page in share]
    problems = list(dict.fromkeys(problem for _, found in results for problem in found))  # once each
    return pages, problems


_render_job = None  # what forked workers render: set only while they run


def _render_in_worker(shares: list[tuple[int, int]]) -> list[tuple[list[RenderedPage], list[Problem]]]:
    return [_render_share(_render_job, share) for share in shares]


def _render_share(job, share: tuple[int, int]) -> tuple[list[RenderedPage], list[Problem]]:
    site, env, disclaimer, policy, reuse, entries, todo = job
    pages, problems = render_pages(site, env, disclaimer, policy, reuse, todo[share[0]:share[1]], entries)
    problems += enforce([page for page in pages if page.fresh_html is not None], disclaimer)
    return pages, problems


def page_reuse(keys: PageKeys, live: dict[str, FileRecord], out: str) -> PageReuse:
    """Keep a page when its render key equals the one its live output file (under `out/`) was
    rendered with."""
    def reuse(page, context: dict) -> tuple[bytes | None, str | None]:
        key = keys.key(page.template, context)
        file = url_to_file(page.url)
        record = live.get(file)
        if key is not None and record is not None and record.key == key:
            return key, out + file
        return key, None
    return reuse


# Every field of a Page and a Topic, as PageMemo fingerprints them: a field added later turns the memo off
# until it is fingerprinted too.
_PAGE_FIELDS = ("url", "template", "title", "summary", "source_shown", "article", "body", "topic", "previous",
                "next", "series", "position", "listed", "first_number", "breadcrumbs", "body_html", "next_review")
_TOPIC_FIELDS = ("slug", "title", "summary", "notice_html", "url", "articles")
_MEMO_USABLE = (tuple(f.name for f in fields(Page)) == _PAGE_FIELDS
                and tuple(f.name for f in fields(Topic)) == _TOPIC_FIELDS)


class _NoMemo(Exception):
    """A page whose inputs PageMemo cannot fingerprint: its key is computed as usual."""


class PageMemo:
    """Keeps pages without building their context or computing their render key.

    A page's render key (cache.PageKeys) is a function of its template files, the environment,
    the values shared by every page (render.shared_context, at the paths its templates read) and
    the page itself (the context's `page`, `url` and `structured_data` come from the Page and the
    config alone). The memo key digests all of those inputs - the Page field by field, articles
    by the digest of their file's text and path, its topic with every article of it - cheaply,
    with no template context; the store maps it to the render key it gave. A page whose memo key
    is known, and whose live file was rendered with that render key, is kept as it is.
    """

    def __init__(self, store: Store, keys: PageKeys, site: Site, env, shared: dict):
        self.store, self.keys, self.site, self.env, self.shared = store, keys, site, env, shared
        if PAGE_CONTEXT & shared.keys():
            raise ValueError("a name both shared and per page")
        self._templates: dict[str, tuple[bytes, str, tuple[str, ...], bool] | None] = {}
        self._topics: dict[tuple[int, bool], tuple[Topic, bytes]] = {}
        try:  # the environment's fingerprint is the one the render keys use
            self._build = None if keys.environment is None else digest(
                b"page-memo-1", code_version(), keys.environment, keys.fingerprint(site.config),
                base_path_of(site.config))
        except Exception:  # noqa: BLE001 - cannot be hashed: no memo
            self._build = None

    def keep_unchanged(self, live: dict, out: str) -> tuple[list[RenderedPage], list[Page], dict[str, bytes]]:
        """(pages kept, pages to render, memo key of each page that has one by URL)."""
        kept, todo, pending = [], [], {}
        for page in self.site.pages:
            memo_key = self._memo_key(page) if self._build is not None and _MEMO_USABLE else None
            if memo_key is None:
                todo.append(page)
                continue
            pending[page.url] = memo_key
            key = self.store.get(memo_key)
            file = url_to_file(page.url)
            record = live.get(file) if key is not None else None
            if record is None or record.key != key:
                todo.append(page)
                continue
            _, shown, chain, _ = self._templates[page.template]
            kept.append(RenderedPage(page.url, None, shown, page.source_shown, chain, key, out + file))
        return kept, todo, pending

    def _memo_key(self, page: Page) -> bytes | None:
        template = self._template(page.template)
        if template is None:
            return None
        try:
            parts = self._page_parts(page, template[3])
        except _NoMemo:
            return None
        # Each part with its length first, so the parts are told apart; one digest (cheaper than cache.digest's
        # one update per part).
        data = "".join(f"{len(part)}:{part}" for part in parts).encode("utf-8", "surrogatepass")
        return hashlib.blake2b(self._build + template[0] + data, digest_size=16).digest()

    def _template(self, name: str) -> tuple[bytes, str, tuple[str, ...], bool] | None:
        if name not in self._templates:
            self._templates[name] = None
            analysed = self.keys._analyse(name)
            if analysed is not None:
                sources, paths = analysed
                # A page's context is the shared values and PAGE_CONTEXT (render.render_pages); a
                # name in neither is undefined for every page, as PageKeys sees it too.
                try:
                    values = tuple(self.keys._lookup(self.shared, path) for path in paths
                                   if path[0] not in PAGE_CONTEXT)
                    shared = digest(name, sources, self.keys._dumps(values))
                    self._templates[name] = (shared, *template_shown_and_chain(self.env, self.site.config, name),
                                             any(map(reaches_topic_articles, paths)))
                except Exception:  # noqa: BLE001 - cannot be hashed: no memo for this template
                    pass
        return self._templates[name]

    def _page_parts(self, page: Page, topic_articles: bool) -> list[str]:
        parts = [_text(page.url), _text(page.template), _text(page.title), _text(page.summary),
                 _text(page.source_shown)]
        if page.article is None:
            if page.body is not None:
                raise _NoMemo
            parts.append("0")
        else:  # the body (RenderedBody) comes from the article's text too
            parts += ["1", _article(page.article)]
        if page.topic is None:
            parts.append("0")
        else:
            parts += ["1", self._topic(page.topic, topic_articles)]
        for link in (page.previous, page.next):
            parts += ["0"] if link is None else ["1", _text(link.title), _text(link.url)]
        parts += [_count(page.series), _number(page.position), _count(page.listed), _number(page.first_number),
                  _count(page.breadcrumbs)]
        for link in (*page.series, *page.breadcrumbs):
            parts += [_text(link.title), _text(link.url)]
        parts += [_article(article) for article in page.listed]
        if type(page.body_html) is not Markup:
            raise _NoMemo
        parts.append(str.__str__(page.body_html))
        review = page.next_review
        parts.append("0" if review is None else "1" + review.isoformat() if type(review) is dt.date else _no_memo())
        return parts

    def _topic(self, topic: Topic, articles: bool) -> str:
        """A topic's fields, with the number of its articles; and which they are when the page's
        templates may reach them (`reaches_topic_articles`)."""
        known = self._topics.get((id(topic), articles))
        if known is None:
            if type(topic.notice_html) is not Markup:
                raise _NoMemo
            listed = (_article(article) for article in topic.articles) if articles else ()
            known = (topic, digest(_text(topic.slug), _text(topic.title), _text(topic.summary),
                                   str.__str__(topic.notice_html), _text(topic.url), _count(topic.articles),
                                   "1" if articles else "0", *listed).hex())
            self._topics[(id(topic), articles)] = known
        return known[1]


def _no_memo():
    raise _NoMemo


def _text(value) -> str:
    if type(value) is not str:
        raise _NoMemo
    return value


def _number(value) -> str:
    if type(value) is not int:
        raise _NoMemo
    return str(value)


def _count(values) -> str:
    if type(values) is not list:
        raise _NoMemo
    return str(len(values))


def _article(article) -> str:
    """An article's text and where it was read from; everything else in it comes from these."""
    if not article.text_hash or type(article.source) is not SourceFile:
        raise _NoMemo
    source = article.source
    return "\0".join((article.text_hash, os.fspath(source.location), _text(source.rel), _text(source.shown)))


def page_file(page: RenderedPage) -> OutputFile:
    if page.fresh_html is None:
        return OutputFile(page.file, unchanged=True, key=page.key)
    return OutputFile(page.file, page.fresh_html.encode("utf-8"), key=page.key)


def output_files(config: SiteConfig, site: Site, page_files: set[str], discovery: Discovery,
                 problems: list[Problem], entries: list[SearchEntry]) -> list[OutputFile]:
    """Everything the output folder will hold beside the pages (`page_files`): sitemap,
    robots.txt, feed, search index, content assets, static files."""
    files = {}
    files["sitemap.xml"] = OutputFile("sitemap.xml", render_sitemap(site).encode("utf-8"))
    files["robots.txt"] = OutputFile("robots.txt", render_robots(site).encode("utf-8"))
    files["feed.xml"] = OutputFile("feed.xml", render_feed(site).encode("utf-8"))
    files["search-index.json"] = OutputFile("search-index.json",
                                            render_search_index(entries).encode("utf-8"))
    for asset in discovery.assets:
        files[asset.rel] = OutputFile(asset.rel, source=asset.path)
    static = config.static_path
    if static.is_dir():
        for path in sorted(static.rglob("*")):
            rel = path.relative_to(static).as_posix()
            if path.is_dir() or any(is_ignored_name(part) for part in rel.split("/")):
                continue
            if rel in files or rel in page_files:
                problems.append(error(display_path(path, config.root), 0,
                                      f"static file would overwrite the generated '{rel}'"))
                continue
            if path.is_symlink() and not path.resolve().is_relative_to(static):
                problems.append(error(display_path(path, config.root), 0,
                                      "symbolic link points outside the static folder"))
                continue
            files[rel] = OutputFile(rel, source=path)
    return list(files.values())


__all__ = ["build", "Builder", "BuildOptions", "BuildResult", "Disclaimer"]
