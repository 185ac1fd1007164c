"""`build()`: the outline of the pipeline, one call per stage.

load articles -> render Markdown -> assemble the site -> render templates -> enforce the
disclaimer -> write aside -> run checks on the staged site -> swap into place.
Every stage returns problems; any error stops the build before the swap, so the previous output
stays as it was.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .config import SiteConfig, display_path
from .content import Article, Discovery, discover, is_ignored_name, parse_article, read_source
from .disclaimer import Disclaimer, enforce, load_disclaimer
from .markdown import MarkdownRenderer, RenderedBody
from .output import OutputFile, discard, stage, swap_into_place
from .problems import Problem, error, has_errors
from .render import RenderedPage, make_environment, render_pages, render_robots, render_sitemap
from .site import Site, assemble_site


@dataclass(frozen=True)
class BuildOptions:
    drafts: bool = False
    jobs: int | None = None
    use_cache: bool = True
    write: bool = True  # False: stop after rendering (lint needs the site, not the files)


@dataclass
class BuildResult:
    config: SiteConfig
    problems: list[Problem]
    site: Site | None = None
    pages: list[RenderedPage] = field(default_factory=list)
    written: bool = False
    timings: dict[str, float] = field(default_factory=dict)

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
    result = BuildResult(config, [])
    clock = _Clock(result.timings)
    problems = result.problems
    renderer = MarkdownRenderer()

    discovery, found = discover(config)
    problems += found
    articles = load_articles(discovery, options, problems)
    clock.lap("load")
    disclaimer, found = load_disclaimer(config, lambda text: renderer.render(text, "").html)
    problems += found
    bodies = render_bodies(articles, renderer)
    clock.lap("markdown")
    site, found = assemble_site(config, articles, bodies, [a.rel for a in discovery.assets],
                                lambda text: renderer.render(text, "").html)
    problems += found
    result.site = site
    clock.lap("assemble")
    if disclaimer is None:
        return result
    pages, found = render_pages(site, make_environment(config), disclaimer)
    problems += found
    problems += enforce(pages, disclaimer)
    result.pages = pages
    clock.lap("templates")
    if has_errors(problems) or not options.write:
        return result
    files = output_files(config, site, pages, discovery, problems)
    if has_errors(problems):
        return result
    staged, found = stage(config.output_path, files)
    problems += found
    clock.lap("write")
    for check in checks:
        problems += check(staged, result)
    clock.lap("check")
    if has_errors(problems):
        discard(staged)
        return result
    swap_into_place(staged, config.output_path)
    result.written = True
    clock.lap("write")
    return result


def load_articles(discovery: Discovery, options: BuildOptions, problems: list[Problem]) -> list[Article]:
    articles = []
    for source in discovery.articles:
        text, found = read_source(source)
        problems += found
        if text is None:
            continue
        article, found = parse_article(source, text)
        problems += found
        if article is not None and (options.drafts or not article.meta.draft):
            articles.append(article)
    return articles


def render_bodies(articles: list[Article], renderer: MarkdownRenderer) -> dict[str, RenderedBody]:
    return {a.rel: renderer.render(a.body, a.rel, a.body_line) for a in articles}


def output_files(config: SiteConfig, site: Site, pages: list[RenderedPage], discovery: Discovery,
                 problems: list[Problem]) -> list[OutputFile]:
    """Everything the output folder will hold: pages, sitemap, robots.txt, content assets, static files."""
    files = {page.file: OutputFile(page.file, page.html.encode("utf-8")) for page in pages}
    files["sitemap.xml"] = OutputFile("sitemap.xml", render_sitemap(site).encode("utf-8"))
    files["robots.txt"] = OutputFile("robots.txt", render_robots(site).encode("utf-8"))
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


__all__ = ["build", "BuildOptions", "BuildResult", "Disclaimer"]
