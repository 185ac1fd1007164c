"""The quicker ways of rendering a page give exactly what the plain ways gave.

- The template's `url()` works out a page's folders once: each link is relative_url's.
- The print addresses of a body's links resolve path links without urljoin: each is urljoin's.
- visible_text with its patterns compiled once: the same text.
"""
from __future__ import annotations

import html
import re
from urllib.parse import urljoin

from hypothesis import example, given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from medsite.htmlscan import visible_text
from medsite.markdown import relative_url
from medsite.render import _url_function
from medsite.seo import _link_resolver, print_url_filter
from medsite.site import NOT_FOUND_URL

SEGMENTS = ["a", "b", "ab", ".", "..", "", "x.html", ".a", "a.", "é"]
SITE_PATHS = st.lists(st.sampled_from(SEGMENTS), max_size=5).map("/".join)


@given(page=SITE_PATHS, target=SITE_PATHS, page_absolute=st.booleans(), target_absolute=st.booleans())
@settings(max_examples=3000, deadline=None)
@example(page="a/b/", target="a/b", page_absolute=True, target_absolute=True)
@example(page="a/b/", target="", page_absolute=True, target_absolute=True)
@example(page="", target="", page_absolute=True, target_absolute=True)
def test_the_url_function_gives_relative_urls_links(page, target, page_absolute, target_absolute):
    page_url = "/" + page if page_absolute or not page else page
    if page_url == NOT_FOUND_URL:
        return
    target = "/" + target if target_absolute else target
    assert _url_function(page_url, "/base/")(target) == relative_url(page_url, target)


ADDRESSES = ["https://example.org", "https://example.org/sub", "HTTP://Example.org:8080/a", "ftp://h/x",
             "mailto:someone@example.org", "https://[::1", "https://e.org/a;p", "https://e.org/?q=1",
             "https://e.org/#top", "//e.org/a", "/a", "", "file:///a", "https://e.org/./a", "https://e.org//a"]
LINKS = st.text(alphabet="ab/.#?;:&%[]\t\n é'\"<>=", max_size=14)


@given(address=st.sampled_from(ADDRESSES), page=SITE_PATHS, link=LINKS)
@settings(max_examples=3000, deadline=None)
@example(address="https://example.org", page="a/b/", link="../../../c/./d/..#x:y")
@example(address="https://example.org", page="a/b", link="/c//d/")
def test_links_resolve_as_urljoin_resolves_them(address, page, link):
    page_address = address + "/" + page
    try:
        expected = urljoin(page_address, link)
    except ValueError:
        expected = ValueError
    try:
        resolved = _link_resolver(page_address)(link)
    except ValueError:
        resolved = ValueError
    assert resolved == expected


def print_urls_as_before(base_url: str, html: str, page_url: str) -> str:
    """print_url_filter as it was: urljoin and quoteattr for every link."""
    from xml.sax.saxutils import quoteattr

    def add(match: re.Match) -> str:
        try:
            absolute = urljoin(base_url.rstrip("/") + page_url, match.group(1).replace("&amp;", "&"))
        except ValueError:
            return match.group(0)
        return f"{match.group(0)} data-print-url={quoteattr(absolute)}"
    return re.sub(r'<a href="(?!#|[a-zA-Z][a-zA-Z0-9+.-]*:)([^"]*)"', add, html)


@given(base_url=st.sampled_from(["https://example.org/", "https://example.org/sub/", "http://[x/"]),
       page=SITE_PATHS, links=st.lists(LINKS, max_size=4))
@settings(max_examples=1000, deadline=None)
def test_print_addresses_are_as_before(base_url, page, links):
    html = "".join(f'<p><a href="{link}">x</a> &amp; <a href="{link.replace("&", "&amp;")}#s">y</a></p>'
                   for link in links)
    page_url = "/" + page
    added = print_url_filter(base_url)(Markup(html), page_url)
    assert type(added) is Markup
    assert str(added) == print_urls_as_before(base_url, html, page_url)


@given(text=st.text(alphabet="<>!-/abcipstyemlrt \n&;#x", max_size=40))
@settings(max_examples=1000, deadline=None)
@example(text="a<!-- x -->b<SCRIPT>c</script >d<template x>e</template><p>&amp;</p>")
def test_visible_text_is_as_before(text):
    before = re.sub(r"<!--.*?-->", " ", text, flags=re.S)
    before = re.sub(r"<(script|style|template)\b.*?</\1\s*>", " ", before, flags=re.S | re.I)
    before = re.sub(r"<[^>]+>", " ", before)
    assert visible_text(text) == " ".join(html.unescape(before).split())
