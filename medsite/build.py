"""`build()`: the outline of the pipeline, one call per stage.

load articles -> render Markdown -> assemble the site -> render templates -> enforce the
disclaimer -> write aside -> run checks on the staged site -> swap into place.
Every stage returns problems; any error stops the build before the swap, so the previous output
stays as it was. Parsing, Markdown and page rendering are skipped for what has not changed since
the last build (cache.py); Markdown for many articles is converted in several processes.
"""
from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from .cache import CACHE_FOLDER, BuildCache, PageKeys, article_key, body_key
from .config import SiteConfig, display_path
from .content import Article, Discovery, discover, is_ignored_name, parse_article, read_source, url_to_file
from .disclaimer import Disclaimer, enforce, load_disclaimer
from .markdown import MarkdownRenderer, RenderedBody
from .output import FileRecord, OutputFile, OutputFolder
from .problems import Problem, error, has_errors
from .render import (CONTENT_SECURITY_POLICY, PageReuse, RenderedPage, make_environment, render_pages,
                     render_robots, render_sitemap)
from .seo import render_feed, render_search_index, search_entries
from .site import Site, assemble_site

PARALLEL_FROM = 200  # fewer articles to convert than this: one process (starting workers costs more)


@dataclass(frozen=True)
class BuildOptions:
    drafts: bool = False
    jobs: int | None = None  # processes for Markdown; None: one per core
    use_cache: bool = True
    write: bool = True  # False: stop after rendering (lint needs the site, not the files)
    # The pages' Content-Security-Policy; only the preview server widens it (for livereload's script).
    content_security_policy: str = CONTENT_SECURITY_POLICY


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

    @property
    def ok(self) -> bool:
        return self.written


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
    cache stays in memory and the Markdown renderer is made once."""

    def __init__(self, config: SiteConfig, options: BuildOptions = BuildOptions()):
        self.config, self.options = config, options
        state = config.root / CACHE_FOLDER
        self.cache = BuildCache(state) if options.use_cache else None
        self.output = OutputFolder(config.output_path, state)
        self.renderer = MarkdownRenderer()

    def build(self, checks: tuple[StagedCheck, ...] = ()) -> BuildResult:
        try:
            return self._build(checks)
        finally:
            self.output.release()

    def _build(self, checks: tuple[StagedCheck, ...]) -> BuildResult:
        config, options, renderer = self.config, self.options, self.renderer
        result = BuildResult(config, [])
        clock = _Clock(result.timings)
        problems = result.problems

        discovery, found = discover(config)
        problems += found
        articles = load_articles(discovery, options, problems, self.cache, result.stats)
        clock.lap("load")
        disclaimer, found = load_disclaimer(config, lambda text: renderer.render(text, "").html)
        problems += found
        bodies = render_bodies(articles, renderer, self.cache, options.jobs, result.stats)
        clock.lap("markdown")
        site, found = assemble_site(config, articles, bodies, [a.rel for a in discovery.assets],
                                    lambda text: renderer.render(text, "").html)
        problems += found
        result.site = site
        clock.lap("assemble")
        if self.cache is not None:
            self.cache.save()
        if disclaimer is None:
            return result
        env = make_environment(config)
        live = self.output.live_records()
        reuse = page_reuse(PageKeys(env), live, self.output.out) if self.cache is not None else None
        pages, found = render_site(site, env, disclaimer, options, reuse)
        problems += found
        result.pages = pages
        result.stats["pages_rendered"] = sum(page.fresh_html is not None for page in pages)
        result.stats["pages_kept"] = len(pages) - result.stats["pages_rendered"]
        clock.lap("templates")
        if has_errors(problems) or not options.write:
            return result
        files = output_files(config, site, pages, discovery, problems)
        if has_errors(problems):
            return result
        staged, found = self.output.stage(files, live)
        problems += found
        clock.lap("write")
        for check in checks:
            problems += check(staged, result)
        clock.lap("check")
        if has_errors(problems):
            return result
        self.output.swap_into_place()
        result.written = True
        clock.lap("write")
        return result


def load_articles(discovery: Discovery, options: BuildOptions, problems: list[Problem],
                  cache: BuildCache | None = None, stats: dict[str, int] | None = None) -> list[Article]:
    """Read every article; front matter is parsed again only for files whose text changed."""
    articles = []
    parsed = 0
    for source in discovery.articles:
        text, found = read_source(source)
        problems += found
        if text is None:
            continue
        key = article_key(source.rel, text)
        article = cache.articles.get(key) if cache is not None else None
        if article is None:
            article, found = parse_article(source, text)
            problems += found
            parsed += 1
            if article is not None and cache is not None:
                cache.articles.put(key, article)
        if article is not None:  # the same file, perhaps shown from elsewhere
            article = replace(article, source=source, text_hash=key.hex())
        if article is not None and (options.drafts or not article.meta.draft):
            articles.append(article)
    if stats is not None:
        stats["articles_parsed"] = parsed
    return articles


def render_bodies(articles: list[Article], renderer: MarkdownRenderer, cache: BuildCache | None = None,
                  jobs: int | None = None, stats: dict[str, int] | None = None) -> dict[str, RenderedBody]:
    """Every article's body as HTML: from the cache, else converted (in parallel when it pays)."""
    bodies: dict[str, RenderedBody] = {}
    todo: list[tuple[Article, bytes]] = []
    for article in articles:
        key = body_key(article.rel, article.body_line, article.body)
        body = cache.bodies.get(key) if cache is not None else None
        if body is None:
            todo.append((article, key))
        else:
            bodies[article.rel] = body
    jobs = jobs or os.cpu_count() or 1
    work = [(article.body, article.rel, article.body_line) for article, _ in todo]
    if jobs > 1 and len(work) >= PARALLEL_FROM:
        converted = _convert_in_processes(work, jobs)
    else:
        converted = [renderer.render(*item) for item in work]
    for (article, key), body in zip(todo, converted):
        bodies[article.rel] = body
        if cache is not None:
            cache.bodies.put(key, body)
    if stats is not None:
        stats["bodies_converted"] = len(todo)
    return bodies


def _convert_in_processes(work: list[tuple[str, str, int]], jobs: int) -> list[RenderedBody]:
    chunks = [work[start:start + 50] for start in range(0, len(work), 50)]
    with ProcessPoolExecutor(max_workers=jobs, initializer=_start_worker) as pool:
        return [body for chunk in pool.map(_convert_chunk, chunks) for body in chunk]


_worker_renderer: MarkdownRenderer | None = None


def _start_worker() -> None:
    global _worker_renderer
    _worker_renderer = MarkdownRenderer()


def _convert_chunk(chunk: list[tuple[str, str, int]]) -> list[RenderedBody]:
    return [_worker_renderer.render(*item) for item in chunk]


def render_site(site: Site, env, disclaimer: Disclaimer, options: BuildOptions,
                reuse: PageReuse | None) -> tuple[list[RenderedPage], list[Problem]]:
    """Render the pages and check each new one for the disclaimer, in several processes for a
    large site (each inherits the assembled site by fork, and takes a share of the pages)."""
    jobs = min(options.jobs or os.cpu_count() or 1, len(site.pages) // PARALLEL_FROM)
    job = (site, env, disclaimer, options.content_security_policy, reuse)
    # fork copies only the calling thread: a process running other threads (a server) stays serial.
    if jobs < 2 or threading.active_count() > 1 or "fork" not in multiprocessing.get_all_start_methods():
        return _render_share(job, None)
    global _render_job
    _render_job = job
    size = -(-len(site.pages) // (jobs * 4))
    shares = [(start, start + size) for start in range(0, len(site.pages), size)]
    try:
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            results = list(pool.map(_render_in_worker, shares))
    finally:
        _render_job = None
    pages = [page for share, _ in results for page in share]
    problems = list(dict.fromkeys(problem for _, found in results for problem in found))  # once each
    return pages, problems


_render_job = None  # what forked workers render: set only while they run


def _render_in_worker(share: tuple[int, int]) -> tuple[list[RenderedPage], list[Problem]]:
    return _render_share(_render_job, share)


def _render_share(job, share: tuple[int, int] | None) -> tuple[list[RenderedPage], list[Problem]]:
    site, env, disclaimer, policy, reuse = job
    pages, problems = render_pages(site, env, disclaimer, policy, reuse,
                                   None if share is None else site.pages[share[0]:share[1]])
    problems += enforce([page for page in pages if page.fresh_html is not None], disclaimer)
    return pages, problems


def page_reuse(keys: PageKeys, live: dict[str, FileRecord], out: Path) -> PageReuse:
    """Keep a page when its render key equals the one its live output file was rendered with."""
    def reuse(page, context: dict) -> tuple[bytes | None, Path | None]:
        key = keys.key(page.template, context)
        file = url_to_file(page.url)
        record = live.get(file)
        if key is not None and record is not None and record.key == key:
            return key, out / file
        return key, None
    return reuse


def output_files(config: SiteConfig, site: Site, pages: list[RenderedPage], discovery: Discovery,
                 problems: list[Problem]) -> list[OutputFile]:
    """Everything the output folder will hold: pages, sitemap, robots.txt, feed, search index,
    content assets, static files."""
    files = {page.file: OutputFile(page.file, None if page.fresh_html is None else page.fresh_html.encode("utf-8"),
                                   unchanged=page.fresh_html is None, key=page.key) for page in pages}
    files["sitemap.xml"] = OutputFile("sitemap.xml", render_sitemap(site).encode("utf-8"))
    files["robots.txt"] = OutputFile("robots.txt", render_robots(site).encode("utf-8"))
    files["feed.xml"] = OutputFile("feed.xml", render_feed(site).encode("utf-8"))
    files["search-index.json"] = OutputFile("search-index.json",
                                            render_search_index(search_entries(site)).encode("utf-8"))
    for asset in discovery.assets:
        files[asset.rel] = OutputFile(asset.rel, source=asset.path)
    static = config.static_path
    if static.is_dir():
        for path in sorted(static.rglob("*")):
            rel = path.relative_to(static).as_posix()
            if path.is_dir() or any(is_ignored_name(part) for part in rel.split("/")):
                continue
            if rel in files:
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
