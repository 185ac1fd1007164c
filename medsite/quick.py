"""The quick rebuild: when only the text of a few articles changed, render only their pages.

After each build, the builder keeps a `SiteState`: the assembled site, each article file's stat
and text digest, its outline and its own problems. The next build can take the quick way when
every input but the article texts is the same (`cache.inputs_fingerprint`), the same article
files exist, and each changed article keeps its outline: everything any other page or site-wide
file reads of it (its front matter, file names, where its body starts, its headings). Then no
other page, list, feed, sitemap or search index can change; the changed articles' pages are
rendered in the site as it stood, and every other file of the live output is kept as it is.
Anything else - a new, removed or broken article, an outline that changed, a template or config
edit, a live output that is not the one the state describes - takes the full pipeline.

A file whose stat (size, times, inode) is the one recorded is taken as unchanged without being
read, once its modification time is older than the build that read it by `SETTLED_NS` (an edit
within the same clock tick as that read would not show in the stat; git handles "racy" files
the same way).
"""
from __future__ import annotations

import copyreg
import os
import pickle
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from markupsafe import Markup

from .cache import article_key, digest, input_digest, reaches_topic_articles
from .content import Article, Discovery, SourceFile, parse_article, read_source
from .markdown import RenderedBody
from .problems import Problem, has_errors
from .seo import SearchEntry
from .site import Page, Site, page_problems, resolved_body, target_resolver

SETTLED_NS = 2_000_000_000
MOST_CHANGED = 50  # more changed articles than this: the full pipeline (it converts in parallel)
_STATE_FORMAT = "medsite-state-1"


@dataclass
class ArticleState:
    stat: tuple[int, int, int, int]  # size, mtime, ctime (ns), inode
    read_at_ns: int  # when the text was read (after the stat was taken)
    key: bytes  # cache.article_key of the text
    outline: bytes | None  # None: not in the site (a draft left out)
    problems: tuple[Problem, ...]  # its own: front matter, body links, sanitizer removals


@dataclass
class SiteState:
    """What the last successful build made, and from what."""

    fingerprint: bytes  # cache.inputs_fingerprint
    inputs: bytes  # cache.input_digest: the live output's manifest names it
    sources: tuple[str, ...]  # the article files, in discovery order
    assets: tuple[str, ...]
    articles: dict[str, ArticleState]
    site: Site
    entries: list[SearchEntry] | bytes  # bytes: pickled, as saved (unpickled by search_entries when needed)
    other_problems: tuple[Problem, ...]  # those of no single article's own text
    token: bytes = b""  # names the saved state, for its journal
    journal: list = field(default_factory=list)  # (rel, ArticleState, Article or None) since it was saved

    def search_entries(self) -> list[SearchEntry]:
        if isinstance(self.entries, bytes):
            self.entries = pickle.loads(self.entries)
        return self.entries


def stat_of(stat: os.stat_result) -> tuple[int, int, int, int]:
    return stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino


def outline(article: Article, body: RenderedBody) -> bytes:
    """A digest of what other pages and site-wide files may read of an article: all but its body text."""
    source = article.source
    return digest(pickle.dumps((source.rel, source.shown, os.fspath(source.location), article.meta, article.body_line,
                                sorted(article.meta_lines.items()), body.headings), protocol=5))


def make_state(fingerprint: bytes, inputs: bytes, discovery: Discovery, texts, articles: list[Article],
               bodies: dict[str, RenderedBody], site: Site, entries: list[SearchEntry], problems: list[Problem],
               own_problems: dict[str, list[Problem]], read_at_ns: int, earlier: SiteState | None) -> SiteState:
    """The state of a build that has just succeeded; outlines of texts `earlier` had are taken from it."""
    in_site = {article.rel: article for article in articles}
    states = {}
    for item in texts:
        rel = item.source.rel
        article = in_site.get(rel)
        known = earlier.articles.get(rel) if earlier is not None else None
        if article is None:
            article_outline = None
        elif known is not None and known.key == item.key and known.outline is not None:
            article_outline = known.outline  # the same text: the same outline (cache.article_key)
        else:
            article_outline = outline(article, bodies[rel])
        states[rel] = ArticleState(stat_of(item.stat), read_at_ns, item.key, article_outline,
                                   tuple(own_problems.get(rel, ())))
    own = {problem for found in own_problems.values() for problem in found}
    return SiteState(fingerprint, inputs, tuple(s.rel for s in discovery.articles),
                     tuple(a.rel for a in discovery.assets), states, site, entries,
                     tuple(problem for problem in problems if problem not in own))


@dataclass
class QuickChange:
    page: Page
    article: Article
    body: RenderedBody
    state: ArticleState


def changed_articles(state: SiteState, discovery: Discovery, fingerprint: bytes,
                     renderer) -> tuple[list[QuickChange], dict[str, ArticleState]] | None:
    """The articles whose text changed and their new states (with the files read again but found
    unchanged), when the quick way can rebuild them; None when it cannot."""
    if (fingerprint != state.fingerprint or tuple(s.rel for s in discovery.articles) != state.sources
            or tuple(a.rel for a in discovery.assets) != state.assets):
        return None
    now_ns = time.time_ns()
    changes: list[QuickChange] = []
    refreshed: dict[str, ArticleState] = {}
    for source in discovery.articles:
        known = state.articles[source.rel]
        try:
            stat = stat_of(os.stat(source.location))
        except OSError:
            return None
        if stat == known.stat and stat[1] < known.read_at_ns - SETTLED_NS:
            continue
        text, read_stat, found = read_source(source)
        if text is None or found or read_stat is None:
            return None
        key = article_key(source, text)
        if key == known.key:
            refreshed[source.rel] = replace(known, stat=stat_of(read_stat), read_at_ns=now_ns)
            continue
        if len(changes) == MOST_CHANGED or known.outline is None:
            return None
        change = _changed(state, source, text, key, stat_of(read_stat), now_ns, renderer)
        if change is None:
            return None
        changes.append(change)
        refreshed[source.rel] = change.state
    return changes, refreshed


def _changed(state: SiteState, source, text: str, key: bytes, stat, now_ns: int, renderer) -> QuickChange | None:
    article, found = parse_article(source, text)
    if article is None or has_errors(found):
        return None  # (a draft left out of the site has no outline; one made a draft, another)
    article = replace(article, text_hash=key.hex())
    body = renderer.render(article.body, article.rel, article.body_line)
    new_outline = outline(article, body)
    if new_outline != state.articles[source.rel].outline:
        return None
    page = state.site.page(article.url)
    if page is None or page.article is None or page.article.rel != article.rel:
        return None
    return QuickChange(page, article, body, ArticleState(stat, now_ns, key, new_outline, tuple(found)))


def apply(state: SiteState, changes: list[QuickChange], refreshed: dict[str, ArticleState],
          content_shown: str) -> list[Problem]:
    """Put the changed articles into the state's site; return the problems of the whole build."""
    site = state.site
    by_rel = {page.article.rel: page.article for page in site.pages if page.article is not None}
    for change in changes:
        by_rel[change.article.rel] = change.article
    url_of = target_resolver(by_rel, list(state.assets))
    for change in changes:
        page = change.page
        page.body = change.body
        page.body_html = resolved_body(page, url_of)
        found = page_problems(page, url_of, content_shown)
        change.state = replace(change.state, problems=change.state.problems + tuple(found))
        refreshed[change.article.rel] = change.state
        _put(site, page, change.article)
    state.articles.update(refreshed)
    state.inputs = input_digest(state.fingerprint, [(rel, state.articles[rel].key) for rel in state.sources])
    return list(state.other_problems) + [problem for rel in state.sources for problem in state.articles[rel].problems]


def _put(site: Site, page: Page, article: Article) -> None:
    """Make `article` the page's, in place of the one it had, wherever the site lists that one:
    in its topic, and on the topic's index pages."""
    old = page.article
    page.article = article
    lists = [other.listed for other in site.pages if page.topic is not None and other.topic is page.topic]
    for items in lists + ([page.topic.articles] if page.topic is not None else []):
        for index, item in enumerate(items):
            if item is old:
                items[index] = article


def reads_only_own_article(paths) -> bool:
    """Whether a template with these access paths (cache.PageKeys) reads no article but the
    page's own: not the site's topics, the page's topic beyond its own fields, nor its list."""
    for path in paths:
        root, steps, truth = path
        if truth:
            continue
        if root == "topics" or reaches_topic_articles(path) or (root == "page" and steps and steps[0][1] == "listed"):
            return False
    return True


# --- Kept on disk for the next command ---------------------------------------------------------
#
# A full build writes the whole state (`save`); a quick one appends what it changed to a journal
# beside it (`save_changes`), so a command after an edit does not write the site out again. Each
# file is written aside and renamed in; a journal names the state it continues, so one left from
# an earlier state is ignored (a state older than the live output is refused by the builder).

_JOURNAL_LIMIT = 50  # changes; more, and the whole state is written again (replaying costs too)


def save(state: SiteState, cache_folder: Path) -> None:
    state.token = os.urandom(16)
    state.journal = []
    # The search entries go as one string: most quick rebuilds render no page that shows them.
    entries = pickle.dumps(state.search_entries(), protocol=pickle.HIGHEST_PROTOCOL)
    _write(cache_folder / "state.pickle", (_STATE_FORMAT, replace(state, entries=entries)))
    (cache_folder / "state-journal.pickle").unlink(missing_ok=True)


def save_changes(state: SiteState, cache_folder: Path, changes: list[QuickChange],
                 refreshed: dict[str, ArticleState]) -> None:
    """Record a quick rebuild: the changed articles (as put into the site) and the new stats."""
    articles = {change.article.rel: change.article for change in changes}
    state.journal += [(rel, article_state, articles.get(rel)) for rel, article_state in refreshed.items()]
    if len(state.journal) > _JOURNAL_LIMIT:
        save(state, cache_folder)
        return
    _write(cache_folder / "state-journal.pickle", (_STATE_FORMAT, state.token, state.journal, state.inputs))


def load(cache_folder: Path, discovery: Discovery) -> SiteState | None:
    """The state the last build left, with its journal; None when there is none or it does not
    fit the files found now."""
    sources = {source.rel: source for source in discovery.articles}
    try:
        tag, state = _read(cache_folder / "state.pickle", sources)
        if tag != _STATE_FORMAT or not isinstance(state, SiteState):
            return None
        if not (cache_folder / "state-journal.pickle").exists():
            return state
        tag, token, journal, inputs = _read(cache_folder / "state-journal.pickle", sources)
    except Exception:  # noqa: BLE001 - missing, torn, from another version, or for other files: no state
        return None
    if tag != _STATE_FORMAT or token != state.token:
        return state  # a journal of an earlier state: this one is as saved
    for rel, article_state, article in journal:
        if article is not None:
            page = state.site.page(article.url)
            if page is None:
                return None
            _put(state.site, page, article)
        state.articles[rel] = article_state
    state.journal, state.inputs = journal, inputs
    return state


_NO_HTML = Markup("")  # one object for every page: pickled once (a Markup is slow to load)


class _LeanPickler(pickle.Pickler):
    """Pickles a state for the next command, leaving out what a quick rebuild never reads: it
    renders only pages whose templates read no article but their own (`reads_only_own_article`),
    with that article parsed and its body converted again. So every article is kept as its
    file, URL and text digest only, and no page keeps its body (ten times smaller, and quicker
    to load). Source files are named by their paths and taken from the build that reads the state."""

    # (copyreg.__newobj__, class, fields): the C unpickler makes these without calling Python.
    dispatch_table = {
        Article: lambda article: (copyreg.__newobj__, (Article,), {
            "source": article.source, "meta": None, "body": "", "body_line": article.body_line, "meta_lines": {},
            "text_hash": article.text_hash, "url": article.url}),
        Page: lambda page: (copyreg.__newobj__, (Page,), {**vars(page), "body": None, "body_html": _NO_HTML}),
        SourceFile: lambda source: (_source_file, (source.rel, source.shown, os.fspath(source.location))),
    }


def _source_file(rel: str, shown: str, location: str) -> SourceFile:
    """Names a source file in a saved state; `_Unpickler` gives the one found by this build."""
    raise pickle.UnpicklingError("a state is read by quick.load")


class _Unpickler(pickle.Unpickler):
    def __init__(self, stream, sources: dict[str, SourceFile]):
        super().__init__(stream)
        self.sources = sources

    def find_class(self, module: str, name: str):
        if (module, name) == (__name__, "_source_file"):
            return self._source_file
        return super().find_class(module, name)

    def _source_file(self, rel: str, shown: str, location: str) -> SourceFile:
        source = self.sources.get(rel)
        if source is None or source.shown != shown or os.fspath(source.location) != location:
            raise pickle.UnpicklingError("the state names a file that is not found now")
        return source


def _write(path: Path, value) -> None:
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with open(temporary, "wb") as stream:
        _LeanPickler(stream, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    os.replace(temporary, path)


def _read(path: Path, sources: dict[str, SourceFile]):
    with open(path, "rb") as stream:
        return _Unpickler(stream, sources).load()


__all__ = ["SiteState", "make_state", "changed_articles", "apply", "reads_only_own_article", "save",
           "save_changes", "load"]
