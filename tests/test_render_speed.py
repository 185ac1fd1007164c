"""The quicker ways of rendering a page give exactly what the plain ways gave.

- relative_urls_from splits a page's folder once for all its links (the template's `url()`, its
  body's links): each is what relative_url gave, as first written, for the page and that link.
- visible_text with its patterns compiled once: the same text.
"""
from __future__ import annotations

import html
import posixpath
import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from medsite.htmlscan import visible_text
from medsite.render import _url_function
from medsite.site import NOT_FOUND_URL

SEGMENTS = ["a", "b", "ab", ".", "..", "", "x.html", ".a", "a.", "é"]
SITE_PATHS = st.lists(st.sampled_from(SEGMENTS), max_size=5).map("/".join)


def relative_url_as_first_written(from_url: str, to_url: str) -> str:
    if not to_url.startswith("/"):
        return to_url
    base = from_url if from_url.endswith("/") else posixpath.dirname(from_url) + "/"
    if "/." in to_url or "//" in to_url or "/." in base or "//" in base:
        relative = posixpath.relpath(to_url, base)
    else:
        start, target = base.strip("/").split("/"), to_url.strip("/").split("/")
        start, target = [p for p in start if p], [p for p in target if p]
        common = 0
        for a, b in zip(start, target):
            if a != b:
                break
            common += 1
        relative = "/".join([".."] * (len(start) - common) + target[common:]) or "."
    if to_url.endswith("/") and not relative.endswith("/"):
        relative += "/"
    return relative


@given(page=SITE_PATHS, targets=st.lists(SITE_PATHS, min_size=1, max_size=4), page_absolute=st.booleans(),
       targets_absolute=st.booleans())
@settings(max_examples=3000, deadline=None)
@example(page="a/b/", targets=["a/b"], page_absolute=True, targets_absolute=True)
@example(page="a/b/", targets=[""], page_absolute=True, targets_absolute=True)
@example(page="", targets=["", "a/"], page_absolute=True, targets_absolute=True)
def test_the_url_function_gives_each_link_of_a_page_as_relative_url_did(page, targets, page_absolute,
                                                                          targets_absolute):
    page_url = "/" + page if page_absolute or not page else page
    if page_url == NOT_FOUND_URL:
        return
    url = _url_function(page_url, "/base/")
    for target in targets:
        target = "/" + target if targets_absolute else target
        assert url(target) == relative_url_as_first_written(page_url, target)


@given(text=st.text(alphabet="<>!-/abcipstyemlrt \n&;#x", max_size=40))
@settings(max_examples=1000, deadline=None)
@example(text="a<!-- x -->b<SCRIPT>c</script >d<template x>e</template><p>&amp;</p>")
def test_visible_text_is_as_before(text):
    before = re.sub(r"<!--.*?-->", " ", text, flags=re.S)
    before = re.sub(r"<(script|style|template)\b.*?</\1\s*>", " ", before, flags=re.S | re.I)
    before = re.sub(r"<[^>]+>", " ", before)
    assert visible_text(text) == " ".join(html.unescape(before).split())
