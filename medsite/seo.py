"""What the site tells machines: JSON-LD structured data, the Atom feed and the search index.

Everything here is derived from the same front matter and rendered bodies the pages show, so
the machine-readable text always matches the visible text (a FAQ answer in the JSON-LD is the
answer on the page), and from dates in the content, never the clock, so builds are reproducible.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import urljoin

from markupsafe import Markup

from .content import Reference
from .htmlscan import VOID, iter_raw_tags, parse_attrs, visible_text
from .site import Page, Site

FEED_URL = "/feed.xml"


# --- JSON-LD -----------------------------------------------------------------------------------

def structured_data(page: Page, site: Site) -> Markup:
    """The page's `<script type="application/ld+json">`, or nothing for pages that need none."""
    data = _page_data(page, site)
    if data is None:
        return Markup("")
    return Markup('<script type="application/ld+json">' + json_for_script(data) + "</script>")


def json_for_script(data) -> str:
    """JSON that cannot end its `<script>` element early: `<`, `>` and `&` become escapes."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _page_data(page: Page, site: Site) -> dict | None:
    config = site.config
    base = config.base_url.rstrip("/")
    publisher = {"@type": "Organization", "name": config.publisher, "url": base + "/"}
    if page.url == "/":
        return {"@context": "https://schema.org", "@type": "WebSite", "name": config.title,
                "description": config.tagline, "url": base + "/", "inLanguage": config.language,
                "publisher": publisher}
    if not page.is_medical:
        return None
    meta = page.article.meta
    data = {
        "@context": "https://schema.org",
        "@type": "MedicalWebPage",
        "@id": base + page.url,
        "url": base + page.url,
        "name": page.title,
        "description": page.summary,
        "inLanguage": config.language,
        "lastReviewed": meta.last_reviewed.isoformat(),
        "audience": {"@type": "MedicalAudience", "audienceType": "Patient"},
        "publisher": publisher,
    }
    if meta.reviewers:
        data["reviewedBy"] = [{"@type": "Person", "name": name} for name in meta.reviewers]
    if meta.references:
        data["citation"] = [_citation(ref) for ref in meta.references]
    if meta.kind == "faq":
        data["@type"] = ["MedicalWebPage", "FAQPage"]
        data["mainEntity"] = [{"@type": "Question", "name": question,
                               "acceptedAnswer": {"@type": "Answer", "text": answer}}
                              for question, answer in faq_entries(page.body_html)]
    drug = _topic_drug(page, site)
    if meta.kind == "overview" and drug is not None:
        data["about"] = {
            "@type": "Drug",
            "name": drug.name,
            "nonProprietaryName": drug.name,
            "legalStatus": drug.legal_status,
            "prescriptionStatus": ("https://schema.org/PrescriptionOnly" if drug.prescription_only
                                   else "https://schema.org/OTC"),
        }
    return data


def _topic_drug(page: Page, site: Site):
    settings = site.config.topics.get(page.topic.slug) if page.topic else None
    return settings.drug if settings else None


def _citation(ref: str | Reference) -> dict:
    if isinstance(ref, str):
        return {"@type": "CreativeWork", "url": ref}
    work: dict = {"@type": "CreativeWork", "name": ref.title}
    if ref.authors:
        work["author"] = ref.authors
    if ref.journal:
        work["isPartOf"] = {"@type": "CreativeWork", "name": ref.journal}
    if ref.year:
        work["datePublished"] = str(ref.year)
    if ref.doi:
        work["sameAs"] = "https://doi.org/" + ref.doi
    if ref.url:
        work["url"] = ref.url
    return work


def faq_entries(body_html: str) -> list[tuple[str, str]]:
    """(question, answer) pairs of a FAQ body: each `<h2>` and the text up to the next one.

    Read from the rendered body, so the structured data says exactly what the page shows.
    Footnotes, which Markdown puts after the last answer, are not part of it.
    """
    entries: list[tuple[str, str]] = []
    question_start = question_end = answer_start = None
    depth = 0

    def close_answer(end: int) -> None:
        if answer_start is not None:
            question = plain_text(body_html[question_start:question_end])
            entries.append((question, plain_text(body_html[answer_start:end])))

    for name, raw_attrs, start, end, closing in iter_raw_tags(body_html):  # every FAQ page, every build
        top_level = depth == 0
        if not closing and name == "h2" and top_level:
            close_answer(start)
            question_start, answer_start = end, None
        elif closing and name == "h2" and depth == 1 and question_start is not None:
            question_end, answer_start = start, end
        elif (not closing and top_level and name == "div" and ("footnote" in raw_attrs or "&" in raw_attrs)
              and "footnote" in parse_attrs(raw_attrs).get("class", "")):
            close_answer(start)
            answer_start = None
        if name in VOID or raw_attrs.rstrip().endswith("/"):
            continue
        depth += -1 if closing else 1
    close_answer(len(body_html))
    return entries


_INLINE_TAG = re.compile(r"</?(?:a|abbr|b|cite|code|em|i|mark|q|small|span|strong|sub|sup|time)\b[^>]*>", re.I)


def plain_text(fragment: str) -> str:
    """Text as a reader sees it: inline tags vanish ('<a>off-label</a>.' -> 'off-label.'),
    block tags separate words."""
    return visible_text(_INLINE_TAG.sub("", fragment))


# --- Atom feed ---------------------------------------------------------------------------------

def _atom_time(day) -> str:
    return day.isoformat() + "T00:00:00Z"  # Atom needs a time; the date alone is what we know


def render_feed(site: Site) -> str:
    """An Atom feed of the articles, newest review first: a re-reviewed article shows as updated."""
    from xml.sax.saxutils import escape as xml_escape, quoteattr  # here: it loads urllib.request and ssl
    config = site.config
    base = config.base_url.rstrip("/")
    articles = [p for p in site.pages if p.article is not None and p.url != "/"]
    articles.sort(key=lambda p: (-p.article.meta.last_reviewed.toordinal(), p.url))
    updated = _atom_time(articles[0].article.meta.last_reviewed) if articles else "1970-01-01T00:00:00Z"
    lines = ['<?xml version="1.0" encoding="utf-8"?>',
             f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang={quoteattr(config.language)}>',
             f"<title>{xml_escape(config.title)}</title>",
             f"<subtitle>{xml_escape(config.tagline)}</subtitle>",
             f"<id>{xml_escape(base + '/')}</id>",
             f'<link rel="self" type="application/atom+xml" href={quoteattr(base + FEED_URL)}/>',
             f'<link rel="alternate" type="text/html" href={quoteattr(base + "/")}/>',
             f"<updated>{updated}</updated>",
             f"<author><name>{xml_escape(config.publisher)}</name></author>"]
    for page in articles:
        meta = page.article.meta
        lines += ["<entry>",
                  f"<title>{xml_escape(page.title)}</title>",
                  f"<id>{xml_escape(base + page.url)}</id>",
                  f'<link rel="alternate" type="text/html" href={quoteattr(base + page.url)}/>',
                  f"<updated>{_atom_time(meta.last_reviewed)}</updated>",
                  f"<summary>{xml_escape(page.summary)}</summary>"]
        lines += [f"<category term={quoteattr(tag)}/>" for tag in meta.tags]
        lines.append("</entry>")
    lines.append("</feed>")
    return "\n".join(lines) + "\n"


# --- Search ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SearchEntry:
    title: str
    url: str  # relative to the site's root ('ketamine-lozenges/risks/'), so any base path works
    summary: str
    section: str  # the series it belongs to, or ''
    headings: list[str]
    tags: list[str]


def search_entries(site: Site) -> list[SearchEntry]:
    """Every series index and article except the home page, in reading order: series first."""
    entries = []
    page_of = {page.url: page for page in site.pages}
    for topic in site.topics:
        entries.append(SearchEntry(topic.title, topic.url.lstrip("/"), topic.summary, "", [], []))
        entries += [_article_entry(page_of[article.url], topic.title) for article in topic.articles]
    in_series = {article.url for topic in site.topics for article in topic.articles}
    others = [p for p in site.pages if p.article is not None and p.url != "/" and p.url not in in_series]
    entries += [_article_entry(page, "") for page in sorted(others, key=lambda p: p.title.lower())]
    return entries


def _article_entry(page: Page, section: str) -> SearchEntry:
    headings = [h.text for h in page.body.headings if h.level <= 3]
    return SearchEntry(page.title, page.url.lstrip("/"), page.summary, section, headings,
                       list(page.article.meta.tags))


def render_search_index(entries: list[SearchEntry]) -> str:
    """The index search.js filters: titles, summaries, headings and tags; no body text."""
    # vars(): the fields in order, as asdict() gives them, without its slow deep copy.
    return json.dumps({"pages": [vars(entry) for entry in entries]}, ensure_ascii=False,
                      separators=(",", ":")) + "\n"


# --- Print -------------------------------------------------------------------------------------

_RELATIVE_LINK = re.compile(r'<a href="(?!#|[a-zA-Z][a-zA-Z0-9+.-]*:)([^"]*)"')


def print_url_filter(base_url: str):
    """A template filter: relative links in a body get `data-print-url`, their absolute address,
    which the print stylesheet prints after the link text."""
    def with_print_urls(html: str, page_url: str) -> Markup:
        from xml.sax.saxutils import quoteattr  # here: it loads urllib.request and ssl (10 ms at every start)
        page_address = base_url.rstrip("/") + page_url

        def add(match: re.Match) -> str:
            try:
                absolute = urljoin(page_address, match.group(1).replace("&amp;", "&"))
            except ValueError:  # no address ('//x[/a': a host with an unclosed '['); the link check reports it
                return match.group(0)
            return f'{match.group(0)} data-print-url={quoteattr(absolute)}'
        return Markup(_RELATIVE_LINK.sub(add, str(html)))
    return with_print_urls
