"""The whole site in memory: pages by URL, topic series in order, navigation, site-wide checks."""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field

from markupsafe import Markup

from .config import SiteConfig, display_path
from .content import Article, article_url, next_review_due, url_segment
from .markdown import RenderedBody, resolve_placeholders
from .problems import Problem, error, warning

NOT_FOUND_URL = "/404.html"  # servers show it for any missing path
SERIES_WINDOW = 9  # an article lists at most this many neighbours, so output grows linearly
TOPIC_PAGE_SIZE = 50  # a topic's index lists this many articles a page: /topic/, /topic/page/2/, ...


@dataclass(frozen=True)
class Link:
    title: str
    url: str


@dataclass
class Topic:
    slug: str
    title: str
    summary: str
    notice_html: Markup
    url: str
    articles: list[Article] = field(default_factory=list)

    @property
    def size(self) -> int:  # templates show it; asking for it does not make a page depend on every article
        return len(self.articles)


@dataclass
class Page:
    """One HTML page to render: an article, a topic index, or a page made by the site (404, search)."""

    url: str
    template: str
    title: str
    summary: str
    source_shown: str  # the file that made the page, for problems
    article: Article | None = None
    body: RenderedBody | None = None
    topic: Topic | None = None
    previous: Link | None = None
    next: Link | None = None
    series: list[Link] = field(default_factory=list)  # the window of the series around this page
    position: int = 0  # 1-based place in its series; for a topic index, its page number
    listed: list[Article] = field(default_factory=list)  # on a topic index: the articles of this page
    first_number: int = 1  # the place in the series of the first of `series` or `listed`
    breadcrumbs: list[Link] = field(default_factory=list)
    body_html: Markup = Markup("")
    next_review: dt.date | None = None

    @property
    def is_medical(self) -> bool:
        return self.article is not None and self.article.is_medical


@dataclass
class Site:
    config: SiteConfig
    pages: list[Page]
    topics: list[Topic]
    nav: list[Link]
    assets: dict[str, str]  # content-relative path -> output-relative path
    footer_links: list[Link] = field(default_factory=list)
    # False: assembled for a check in place, which reads the bodies of few pages (body_html_of).
    bodies_resolved: bool = True

    def page(self, url: str) -> Page | None:
        return self._pages_by_url.get(url)

    def body_html_of(self, page: Page) -> Markup:
        """The page's body with its links resolved: resolved now if the site was assembled without."""
        if self.bodies_resolved or page.body is None:
            return page.body_html
        return resolved_body(page, self._url_of)

    def resolve_bodies(self) -> None:
        """Resolve the links of every body, if the site was assembled without."""
        if not self.bodies_resolved:
            for page in self.pages:
                page.body_html = self.body_html_of(page)
            self.bodies_resolved = True

    @functools.cached_property
    def _url_of(self):
        return target_resolver({page.article.rel: page.article for page in self.pages if page.article is not None},
                               list(self.assets))

    @functools.cached_property
    def _pages_by_url(self) -> dict[str, Page]:  # looked up once per page by the search index
        return {page.url: page for page in self.pages}


def template_for(article: Article) -> str:
    if article.url == "/":
        return "home.html"
    return "article.html" if article.is_medical else "page.html"


def assemble_site(config: SiteConfig, articles: list[Article], bodies: dict[str, RenderedBody],
                  asset_rels: list[str], render_notice, resolved: dict | None = None,
                  own_problems: dict[str, list[Problem]] | None = None,
                  resolve_bodies: bool = True) -> tuple[Site, list[Problem]]:
    """Lay out every page, order each series and resolve internal links; report site-wide problems.

    `resolved`: kept by the caller between builds (a warm build.Builder); the bodies whose links
    resolve as they did last time are not resolved again. `own_problems` (when given) gets the
    problems of each article's own body (its links, what the sanitizer removed) by its rel.
    `resolve_bodies` False leaves each page's body_html to Site.body_html_of."""
    problems: list[Problem] = []
    by_rel = {a.rel: a for a in articles}
    topics = _topics(config, articles, render_notice, problems)
    pages: list[Page] = []
    home = Link(config.title, "/")
    config_shown = display_path(config.config_path)
    for topic in topics.values():
        pages += _topic_pages(topic, config_shown, home)
    for article in articles:
        topic = topics.get(article.topic) if article.topic else None
        crumbs = [home] if article.url != "/" else []
        if topic:
            crumbs.append(Link(topic.title, topic.url))
        pages.append(Page(article.url, template_for(article), article.meta.title, article.meta.summary,
                          article.shown, article=article, body=bodies[article.rel], topic=topic,
                          breadcrumbs=crumbs,
                          next_review=next_review_due(article.meta, config.review.interval_months)))
    pages.append(Page(NOT_FOUND_URL, "404.html", "Page not found", "", "templates/404.html",
                      breadcrumbs=[home]))
    pages.append(Page("/search/", "search.html", "Search", f"Search the pages of {config.title}.",
                      "templates/search.html", breadcrumbs=[home]))
    _link_series(pages)
    problems += _duplicate_urls(pages, asset_rels)
    url_of = target_resolver(by_rel, asset_rels)
    content_shown = display_path(config.content_path, config.root)
    still_resolved: dict = {}
    for page in pages:
        if page.body is None:
            continue
        found = page_problems(page, url_of, content_shown)
        problems += found
        if own_problems is not None and page.article is not None:
            own_problems.setdefault(page.article.rel, []).extend(found)
        if resolve_bodies:
            page.body_html = Markup(_resolve(page, url_of, resolved, still_resolved))
    if resolved is not None and resolve_bodies:
        resolved.clear()
        resolved.update(still_resolved)
    nav = _links(config, "nav", url_of, problems)
    footer_links = _links(config, "footer_links", url_of, problems)
    pages.sort(key=lambda p: p.url)
    return (Site(config, pages, list(topics.values()), nav, {rel: rel for rel in asset_rels}, footer_links,
                 resolve_bodies), problems)


def page_problems(page: Page, url_of, content_shown: str) -> list[Problem]:
    """The problems of a page's own body: its links, and what the sanitizer removed from it."""
    return _check_links(page, url_of, content_shown) + [
        warning(page.source_shown, removal.line, removal.message) for removal in page.body.removed]


def resolved_body(page: Page, url_of) -> Markup:
    """The page's body with its links resolved."""
    return Markup(resolve_placeholders(page.body.html, page.url, url_of))


def _resolve(page: Page, url_of, earlier: dict | None, kept: dict) -> str:
    """The page's body with its links resolved: as last time when every target it asked `url_of`
    about still resolves the same (resolve_placeholders depends on nothing else)."""
    key = (page.url, page.body.html)
    known = earlier.get(key) if earlier is not None else None
    if known is None or any(url_of(target) != url for target, url in known[0]):
        answers = []

        def recording(target: str) -> str | None:
            url = url_of(target)
            answers.append((target, url))
            return url

        html = resolve_placeholders(page.body.html, page.url, recording)
        known = (tuple(answers), html)
    kept[key] = known
    return known[1]


def _topics(config: SiteConfig, articles: list[Article], render_notice, problems) -> dict[str, Topic]:
    topics: dict[str, Topic] = {}
    for article in articles:
        name = article.topic
        if not name or article.url == "/":
            continue
        if name not in topics:
            settings = config.topics.get(name)
            if settings is None:
                problems.append(warning(article.shown, article.line_of("topic"),
                                        f"topic '{name}' has no title in the config; add it under 'topics:'"))
                title, summary, notice = name.replace("-", " ").capitalize(), "", ""
            else:
                title, summary, notice = settings.title, settings.summary, settings.notice
            topics[name] = Topic(name, title, summary, Markup(render_notice(notice)) if notice else Markup(""),
                                 "/" + url_segment(name) + "/")
        topics[name].articles.append(article)
    for topic in topics.values():
        topic.articles.sort(key=lambda a: (a.meta.order is None, a.meta.order or 0, a.meta.title.lower(), a.rel))
    return dict(sorted(topics.items()))


def _topic_pages(topic: Topic, config_shown: str, home: Link) -> list[Page]:
    """A topic's index, split into pages of TOPIC_PAGE_SIZE articles linked by previous and next."""
    size = TOPIC_PAGE_SIZE
    pages = []
    for number, start in enumerate(range(0, max(len(topic.articles), 1), size), 1):
        first = number == 1
        pages.append(Page(topic.url if first else f"{topic.url}page/{number}/", "topic.html",
                          topic.title if first else f"{topic.title}, page {number}", topic.summary,
                          config_shown, topic=topic, position=number, first_number=start + 1,
                          listed=topic.articles[start:start + size],
                          breadcrumbs=[home] if first else [home, Link(topic.title, topic.url)]))
    for before, after in zip(pages, pages[1:]):
        before.next, after.previous = Link(after.title, after.url), Link(before.title, before.url)
    return pages


def _link_series(pages: list[Page]) -> None:
    places = {}
    for page in pages:
        if page.topic is None or page.article is None:
            continue
        series = page.topic.articles
        if id(series) not in places:  # one Link per article, shared by the pages that show it (Links are frozen)
            places[id(series)] = ({id(article): index for index, article in enumerate(series)},
                                  [Link(a.meta.title, a.url) for a in series])
        place, links = places[id(series)]
        index = place[id(page.article)]
        page.position = index + 1
        if index > 0:
            page.previous = links[index - 1]
        if index + 1 < len(series):
            page.next = links[index + 1]
        start = max(0, min(index - SERIES_WINDOW // 2, len(series) - SERIES_WINDOW))
        page.series = links[start:start + SERIES_WINDOW]
        page.first_number = start + 1


def _duplicate_urls(pages: list[Page], asset_rels: list[str]) -> list[Problem]:
    problems = []
    seen: dict[str, Page] = {}
    for page in pages:
        other = seen.get(page.url)
        if other is not None:
            problems.append(error(page.source_shown, page.article.line_of("slug") if page.article else 0,
                                  f"two pages would be written at {page.url}: this one and {other.source_shown}"))
        else:
            seen[page.url] = page
    for rel in asset_rels:
        folder_url = "/" + rel + "/"
        if folder_url in seen:
            problems.append(error(seen[folder_url].source_shown, 0,
                                  f"page {folder_url} collides with the file {rel} in the content folder"))
    return problems


def target_resolver(by_rel: dict[str, Article], asset_rels: list[str]):
    assets = set(asset_rels)

    def url_of(target: str) -> str | None:
        if target.startswith("/"):
            return target
        if target.endswith(".md"):
            article = by_rel.get(target)
            return article.url if article else None
        if target in assets:
            return "/" + target
        if target == "." or target in ("", "index.md"):
            return "/"
        return None

    return url_of


def _check_links(page: Page, url_of, content_shown: str) -> list[Problem]:
    problems = []
    for link in page.body.links:
        if link.target is None:
            continue
        if link.target.startswith(".."):
            problems.append(error(page.source_shown, link.line,
                                  f"link to '{link.written}' leaves the content folder"))
        elif not link.target.startswith("/") and url_of(link.target) is None:
            if link.target.endswith(".md"):
                message = (f"link to '{link.written}': no article at {content_shown}/{link.target} "
                           "(missing, misspelled or a draft?)")
            else:
                message = f"{'image' if link.is_image else 'link'} '{link.written}': no file at {content_shown}/{link.target}"
            problems.append(error(page.source_shown, link.line, message))
    return problems


def _links(config: SiteConfig, key: str, url_of, problems: list[Problem]) -> list[Link]:
    """The config's `nav` or `footer_links`, each target an article file or a site path."""
    links = []
    for index, item in enumerate(getattr(config, key)):
        target = item.link
        if target.startswith(("http://", "https://", "mailto:", "/")):
            links.append(Link(item.title, target))
            continue
        url = url_of(target) if target.endswith(".md") else None
        if url is None:
            problems.append(error(display_path(config.config_path), item.line,
                                  f"{key}[{index}].link: no article at {config.content_dir}/{target}"))
            continue
        links.append(Link(item.title, url))
    return links


__all__ = ["Site", "Page", "Topic", "Link", "assemble_site", "article_url"]
