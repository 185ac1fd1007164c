"""Pages to HTML with Jinja2 (autoescape, StrictUndefined), plus the sitemap and robots.txt."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

import jinja2

from .config import SiteConfig, display_path
from .content import url_to_file
from .disclaimer import Disclaimer
from .markdown import relative_urls_from
from .problems import Problem, error
from .seo import SearchEntry, print_url_filter, search_entries, structured_data
from .site import NOT_FOUND_URL, Page, Site


@dataclass(frozen=True)
class RenderedPage:
    url: str
    fresh_html: str | None  # None: unchanged since the last build, so not rendered again
    template_shown: str  # the template file, for problems
    source_shown: str  # the content file, for problems
    template_chain: tuple[str, ...] = ()  # the template and those it extends, as shown paths
    key: bytes | None = None  # the render key (cache.PageKeys); None when unknown
    kept_file: str | None = None  # where an unchanged page's bytes are: the live output

    @property
    def file(self) -> str:
        return url_to_file(self.url)

    @property
    def html(self) -> str:
        if self.fresh_html is not None:
            return self.fresh_html
        with open(self.kept_file, encoding="utf-8") as stream:
            return stream.read()


# Decides, from a page and its template context, whether the page must be rendered:
# (page, context) -> (render key or None, the live output's file when it is already current or None).
PageReuse = Callable[[Page, dict], tuple[bytes | None, str | None]]


# The site runs no inline script and loads nothing from other hosts. The preview server widens
# script-src for livereload's injected script, and only there.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
                           "form-action 'self'")


def make_environment(config: SiteConfig) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(config.templates_path)),
        autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # Each build makes its own environment, so no template changes under it: Jinja need not
        # look at the template files again for every page.
        auto_reload=False,
    )
    env.filters["isodate"] = lambda d: d.isoformat() if d else ""
    env.filters["longdate"] = lambda d: f"{d.day} {d:%B %Y}" if d else ""
    env.filters["with_print_urls"] = print_url_filter(config.base_url)
    return env


def render_pages(site: Site, env: jinja2.Environment, disclaimer: Disclaimer,
                 content_security_policy: str = CONTENT_SECURITY_POLICY,
                 reuse: PageReuse | None = None, pages: list[Page] | None = None,
                 entries: list[SearchEntry] | None = None) -> tuple[list[RenderedPage], list[Problem]]:
    """Render every page, or `pages` (keeping those `reuse` says are current); template errors
    are reported once each, with the template's file and line. `entries`: the site's
    search_entries when the caller has them already."""
    problems: list[Problem] = []
    rendered: list[RenderedPage] = []
    failed_templates: set[str] = set()
    shared = shared_context(site, disclaimer, content_security_policy, entries)
    shown: dict[str, tuple[str, tuple[str, ...]]] = {}  # template -> (shown path, chain), found once
    base_path = base_path_of(site.config)
    for page in site.pages if pages is None else pages:
        if page.template in failed_templates:
            continue
        if page.template not in shown:
            shown[page.template] = template_shown_and_chain(env, site.config, page.template)
        template_shown, chain = shown[page.template]
        try:
            template = env.get_template(page.template)
            context = dict(shared, page=page, url=_url_function(page.url, base_path),
                           structured_data=structured_data(page, site))
            key, kept_file = reuse(page, context) if reuse else (None, None)
            if kept_file is not None:
                rendered.append(RenderedPage(page.url, None, template_shown, page.source_shown, chain, key,
                                             kept_file))
                continue
            html = template.render(context)
        except Exception as exc:  # noqa: BLE001 - any template failure becomes a located problem
            failed_templates.add(page.template)
            problems.append(template_problem(site.config, exc, page.template, page.source_shown))
            continue
        rendered.append(RenderedPage(page.url, html, template_shown, page.source_shown, chain, key))
    return rendered, problems


def pages_as_built(site: Site, env: jinja2.Environment, out: str) -> list[RenderedPage]:
    """Every page of `site` as its live file in the folder `out` (ending in '/') holds it, built
    from the same inputs before: nothing is rendered."""
    shown = {name: template_shown_and_chain(env, site.config, name) for name in {page.template for page in site.pages}}
    pages = []
    for page in site.pages:
        template_shown, chain = shown[page.template]
        pages.append(RenderedPage(page.url, None, template_shown, page.source_shown, chain,
                                  kept_file=out + url_to_file(page.url)))
    return pages


# The names of a page's template context that differ from page to page; every other one is in
# shared_context, the same for all pages of a build. (build.PageMemo relies on this split.)
PAGE_CONTEXT = frozenset({"page", "url", "structured_data"})


def shared_context(site: Site, disclaimer: Disclaimer, content_security_policy: str,
                   entries: list[SearchEntry] | None = None) -> dict:
    """The template context values that are the same for every page of the site."""
    return {"site": site.config, "topics": site.topics, "disclaimer": disclaimer.html,
            "content_security_policy": content_security_policy,
            "search_entries": search_entries(site) if entries is None else entries,
            "nav": site.nav, "footer_links": site.footer_links, "absolute_url": _absolute_function(site.config)}


def base_path_of(config: SiteConfig) -> str:
    return urlsplit(config.base_url).path.rstrip("/") + "/"


def template_shown_and_chain(env: jinja2.Environment, config: SiteConfig, name: str) -> tuple[str, tuple[str, ...]]:
    return _template_shown(config, name), _template_chain(env, config, name)


_EXTENDS = re.compile(r"""{%-?\s*extends\s+["']([^"']+)["']""")


def _template_chain(env: jinja2.Environment, config: SiteConfig, name: str) -> tuple[str, ...]:
    """The template and the ones it extends, for messages about where a page's markup came from."""
    chain: list[str] = []
    while name and name not in chain and len(chain) < 10:
        chain.append(name)
        try:
            source, _, _ = env.loader.get_source(env, name)
        except jinja2.TemplateNotFound:
            break
        match = _EXTENDS.search(source)
        name = match.group(1) if match else ""
    return tuple(_template_shown(config, n) for n in chain)


def _url_function(page_url: str, base_path: str):
    if page_url == NOT_FOUND_URL:
        # Servers show the 404 page at whatever path was missing, so relative links would break:
        # it links from the site's root path instead.
        def url(target: str) -> str:
            return base_path + target.lstrip("/") if target.startswith("/") else target
        return url
    return relative_urls_from(page_url)  # a link to a site path (`/css/site.css`) that works under any base path


def _absolute_function(config: SiteConfig):
    base = config.base_url.rstrip("/")

    def absolute_url(target: str) -> str:
        return base + target
    return absolute_url


def _template_shown(config: SiteConfig, name: str) -> str:
    return display_path(config.templates_path / name, config.root)


def template_problem(config: SiteConfig, exc: BaseException, name: str, used_by: str) -> Problem:
    """Turn a Jinja2 (or Python) exception into a problem at the template file and line."""
    templates = str(config.templates_path)
    if isinstance(exc, jinja2.TemplateSyntaxError):
        shown = display_path(Path(exc.filename), config.root) if exc.filename else _template_shown(config, exc.name or name)
        return error(shown, exc.lineno or 0, f"template syntax error: {exc.message}")
    if isinstance(exc, jinja2.TemplateNotFound):
        missing = exc.name or name
        where = _innermost_template_frame(exc, templates)
        shown, line = where if where else (_template_shown(config, name), 0)
        if missing == name and not where:
            return error(shown, 0, f"template '{missing}' not found in {config.templates_dir}/ (needed by {used_by})")
        return error(shown, line, f"template '{missing}' not found in {config.templates_dir}/")
    where = _innermost_template_frame(exc, templates)
    shown, line = where if where else (_template_shown(config, name), 0)
    shown = display_path(Path(shown), config.root)
    if isinstance(exc, RecursionError):
        return error(shown, line, "template includes or extends itself (endless recursion)")
    if isinstance(exc, jinja2.UndefinedError):
        return error(shown, line, f"undefined variable in template: {exc.message} (rendering {used_by})")
    return error(shown, line, f"template error: {type(exc).__name__}: {exc} (rendering {used_by})")


def _innermost_template_frame(exc: BaseException, templates: str) -> tuple[str, int] | None:
    found = None
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.startswith(templates):
            found = (filename, tb.tb_lineno)
            if isinstance(exc, RecursionError):
                break  # the first template frame names the loop; the rest repeat it
        tb = tb.tb_next
    return found


def render_sitemap(site: Site) -> str:
    from xml.sax.saxutils import escape as xml_escape  # here: it loads urllib.request and ssl
    base = site.config.base_url.rstrip("/")
    rows = []
    for page in site.pages:
        if page.url.endswith(".html"):
            continue
        lastmod = ""
        if page.article is not None:
            lastmod = f"<lastmod>{page.article.meta.last_reviewed.isoformat()}</lastmod>"
        rows.append(f"<url><loc>{xml_escape(base + page.url)}</loc>{lastmod}</url>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            + "\n".join(rows) + "\n</urlset>\n")


def render_robots(site: Site) -> str:
    return f"User-agent: *\nAllow: /\nSitemap: {site.config.base_url.rstrip('/')}/sitemap.xml\n"


