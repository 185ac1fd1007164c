"""The link checker's fast scan and resolver give the results of their former, simpler versions.

`start_tag_matches` reads most tags with its regular expression alone, the link scan keeps what
it found in a tag by the tag's text, `summarize_file` makes FoundLinks only for external links, and
`Resolver` resolves a '../' value once per folder and reads plain http(s) URLs without urljoin, all
for speed. The reference copies below are the versions they replaced: built pages, those pages with
hostile HTML spliced in, and random mixes of hostile pieces must get identical answers from both.

One difference on purpose: the former scan took `<ſcript>` or `<scrİpt>` (Unicode case folding)
for a script element and then failed with a KeyError; the new one, like `iter_tags`, reads no tag
there at all.
"""
from __future__ import annotations

import html as htmllib
import posixpath
import random
import re
import unicodedata
from urllib.parse import unquote, urljoin, urlsplit

import pytest
import yaml

from conftest import new_site, run_cli
from test_links import add_template_defects, start_tags
from medsite import links
from medsite.htmlscan import Tag, matched_attributes, parse_attrs, start_tag_matches
from medsite.links import (_HINT_RELS, _PLAIN_URL, _READ_ATTRIBUTES, _SCANNED_ATTRIBUTES, URL_ATTRIBUTES, FileLinks,
                           FoundLink, Resolver, Target, is_scanned, list_output, scan_html, srcset_urls, summarize_file)

# --- reference copies (the replaced versions) ---

_OLD_ATTRIBUTED_TAG = re.compile(
    r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<![^>]*>|<\?.*?>"
    r"|<(?:(?P<raw>(?i:script|style)\b)|(?P<tag>[A-Za-z][A-Za-z0-9:-]*(?=\s)))"
    r"(?P<attrs>(?:[^>\"']++|\"[^\"]*+\"|'[^']*+')*+)>",
    re.S)
_OLD_RAW_TEXT = {"script": re.compile(r"</script\s*>", re.I), "style": re.compile(r"</style\s*>", re.I)}
_OLD_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


def old_iter_start_tags(html: str, attributes: frozenset[str]):
    names = "|".join(sorted(map(re.escape, attributes)))
    mentions = re.compile(rf"""[\s"'/](?:{names})(?:[\s=/>]|$)""")
    skip_until = 0
    for match in _OLD_ATTRIBUTED_TAG.finditer(html):
        if match.start() < skip_until:
            continue
        raw, name, raw_attrs = match.group("raw", "tag", "attrs")
        if raw is not None:
            name = raw.lower()
            end = _OLD_RAW_TEXT[name].search(html, match.end())
            skip_until = end.start() if end else len(html)
        elif name is None:
            continue
        if not mentions.search(raw_attrs.lower()):
            continue
        attrs = parse_attrs(raw_attrs)
        if not attributes.isdisjoint(attrs):
            yield Tag(name.lower(), attrs, match.start(), match.end(), False, raw_attrs.rstrip().endswith("/"))


def old_scan_html(html: str, file: str = "") -> tuple[set[str], list[FoundLink]]:
    ids: set[str] = set()
    links: list[FoundLink] = []
    for tag in old_iter_start_tags(html, _SCANNED_ATTRIBUTES):
        attrs, name = tag.attrs, tag.name
        for ident in (attrs.get("id"), attrs.get("name") if name == "a" else None):
            if ident:
                ids.add(ident if ident.isascii() else unicodedata.normalize("NFC", ident))
        wanted = URL_ATTRIBUTES.get(name)
        if wanted is None or (name == "link" and attrs.get("rel", "").lower() in _HINT_RELS):
            continue
        for attribute in wanted:
            value = attrs.get(attribute)
            if value is None:
                continue
            if attribute == "srcset":
                links += [FoundLink(file, tag.start, name, attribute, url) for url in srcset_urls(value)]
            else:
                links.append(FoundLink(file, tag.start, name, attribute, value))
    return ids, links


class OldResolver:
    def __init__(self, base_url: str):
        base = urlsplit(base_url)
        self.scheme, self.host = base.scheme, base.netloc.lower()
        self.base_path = base.path if base.path.endswith("/") else base.path + "/"
        self.base_url = f"{self.scheme}://{base.netloc}{self.base_path}"
        self._absolute: dict[str, Target] = {}

    def resolve(self, file: str, value: str) -> Target:
        rest, _, fragment = value.partition("#")
        if rest.startswith(self.base_url):
            rest = rest[len(self.base_url) - len(self.base_path):]
        elif _OLD_SCHEME.match(rest) or rest.startswith("//"):
            found = self._absolute.get(value)
            if found is None:
                found = self._absolute[value] = self._resolve_absolute(urljoin(self.base_url, value))
            return found
        path = rest.partition("?")[0]
        if not path:
            return Target("site", file, fragment)
        if path[0] == "/":
            joined = posixpath.normpath(path)
        else:
            parent = posixpath.dirname(file)
            joined = posixpath.normpath(self.base_path + (parent + "/" if parent else "") + path)
        if path.endswith(("/", "/.", "/..")) or path in (".", ".."):
            joined = joined.rstrip("/") + "/"
        if not joined.startswith(self.base_path) and joined + "/" != self.base_path:
            return Target("outside", f"{self.scheme}://{self.host}{joined}", fragment)
        path = joined[len(self.base_path):]
        return Target("site", unquote(path) if "%" in path else path, fragment)

    def _resolve_absolute(self, url: str) -> Target:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return Target("other", url, "")
        without_fragment = url.partition("#")[0]
        if parts.netloc.lower() != self.host:
            return Target("external", without_fragment, parts.fragment)
        if not parts.path.startswith(self.base_path) and parts.path + "/" != self.base_path:
            return Target("outside", without_fragment, parts.fragment)
        return Target("site", unquote(parts.path[len(self.base_path):]), parts.fragment)


def old_summary(html: str, rel: str, resolver: OldResolver) -> FileLinks:
    ids, links = old_scan_html(html, rel)
    targets: dict[tuple[str, str], None] = {}
    external = []
    flagged = False
    for link in links:
        value = link.value.strip()
        if value == "#":
            continue
        target = resolver.resolve(link.file, value) if value else None
        if target is None or target.kind == "outside":
            flagged = True
        elif target.kind == "external":
            external.append((target.path, link))
        elif target.kind == "site":
            targets[target.path, target.fragment] = None
    return FileLinks(frozenset(ids), len(links), tuple(targets), tuple(external), flagged)


# --- hostile HTML ---

PIECES = [
    '<a href="x">', "<a href='y'>", "<a href=z>", '<A HREF="Up">', "<a HREF='mixed'>", "<a href>", '<a href="">',
    "<a href = 'spaced' >", '<a href="1" href="2">', '<a HREF="3" href="4">', '<a id="i" name="n">', '<a name="anchor">',
    "<a name=bare>", '<h2 id="cafe\u0301">', '<h2 ID="Up">', '<h2 id="">', '<p id="a" id="b">',
    '<img src="i.png" srcset="a.png 1x, b.png 2x">', '<img srcset=" , c.png 3x," src=i2.png>', '<source srcset="s.webp">',
    '<link rel="preconnect" href="https://cdn.example">', '<link rel="DNS-Prefetch" href="//cdn">',
    '<link href="a.css" rel="stylesheet">', "<link rel=preconnect href=x>", '<link rel="preconnect">',
    '<a rel="noopener" href="r">', '<form action="/search/">', '<video src="v.mp4" poster="p.jpg">',
    '<object data="o.svg">', '<input type="image" src="in.png" id="q" name="q">', '<iframe src="f.html">',
    '<script src="s.js">', "<script>", "</script>", "</SCRIPT >", '<script>var s = "<a href=\'no\'>";</script>',
    "<script>x = '<a title=\"</script>", "<script type=module>if (a<b) {}</ScRiPt>", "<style>a{background:url(x)}</style>",
    "<STYLE media=print>", "</style >", "<textarea><a href='t'></textarea>", "<title><a href='t2'></title>",
    "<!--", "-->", "<!-- <a href='c'> -->", "<![CDATA[<a href='cd'>]]>", "<!DOCTYPE html>", "<?xml version='1.0'?>",
    '<a href="&amp;x=1&#x2F;y">', '<a href="a&b">', '<h3 id="&lt;x&gt;">', "<a\nhref='split'\n>", '<a\thref="tab"\r\n id="crlf">',
    "<div title=\"<a href='in-attr'>\">", "<p title='x>y' id=gt>", '<a title="x" href="q"/>', "<br/>", "<img src=x/>",
    "<a/href=slash>", "<a x==href id=y>", '<a href"x">', '<a title="a>b" href="c">', "<span data-href='d'>",
    "<a href='unterminated", '<a href="unterminated', "<a x=\"'\" href='q'>", "<a b=c=href id=e>",
    "<", ">", "'", '"', " text ", "\n", "<a", "<a ", "</a>", "<p>", "<P CLASS=x>", '<a HREF="K">',
    "<a hre\u212a=x>", "<a \u212aid=x id=k>", '<a İd="dotted" href="i">', '<a ſrc="long-s" href="s">',
    "<ſcript>", "<scrİpt src=x>", "<script-x src=y>", "<styles id=z>", "<svg:a xlink:href='x' href='y'>",
    '<a data-x="1" href="two words" data-y>', '<a href="x" / >', '<a disabled href="x">', '<a href="x" disabled>',
    "<a class='c' href=\"m\">", '<a href="a" id="b" name="c">', '<A Href="x" Id="y">', "<a href='x' id=\"y\">",
    '<a href="a" rel="b" id="c">', '<a id="only">', '<a class="x" data-print-url="https://e.example/">',
]
CRASHED_THE_OLD_SCAN = ("<ſcript", "<scrİpt")
# Links of each kind a summary sorts: other sites, empty, bare '#', outside the site, srcset, other schemes.
LINK_PIECES = ['<a href="https://other.org/x#y">', '<a href=" ">', '<a href="#">', '<a href="../../../up/">',
               '<img srcset="https://cdn.example/a.png 1x, /b.png 2x">', '<a href="https://bench.example/s/">',
               '<a href="//other.org/p">', '<a href="mailto:x@y">', '<a href="?q=1">', '<a href="../a/#f">']


def mixes(count: int, seed: int):
    rng = random.Random(seed)
    for _ in range(count):
        yield "".join(rng.choices(PIECES, k=rng.randint(1, 14)))


def assert_scans_alike(html: str) -> None:
    try:
        expected = old_scan_html(html, "p/index.html")
    except KeyError:
        assert any(piece in html for piece in CRASHED_THE_OLD_SCAN), html
        scan_html(html, "p/index.html")  # no longer fails
        return
    assert scan_html(html, "p/index.html") == expected, html
    wanted = frozenset({"href", "src", "id", "name"})
    assert start_tags(html, wanted) == list(old_iter_start_tags(html, wanted)), html


def test_random_mixes_of_hostile_pieces_scan_as_before():
    for html in mixes(4000, 20260525):
        assert_scans_alike(html)


def test_each_hostile_piece_scans_as_before_alone_and_around_a_link():
    for piece in PIECES:
        for html in (piece, f'<a href="before">{piece}<h2 id="after">', f"{piece}{piece}<a href='z'>{piece}"):
            assert_scans_alike(html)


def test_what_a_tag_gives_depends_on_its_text_alone():
    """The link scan keeps what it found in a tag by the tag's text: the same text, scanned alone,
    must give the same reading, wherever it stood."""
    for html in mixes(1500, 31):
        for match in start_tag_matches(html, _SCANNED_ATTRIBUTES, _READ_ATTRIBUTES):
            alone = next(start_tag_matches(match.group(), _SCANNED_ATTRIBUTES, _READ_ATTRIBUTES))
            assert alone.group() == match.group(), html
            assert (matched_attributes(alone, _SCANNED_ATTRIBUTES)
                    == matched_attributes(match, _SCANNED_ATTRIBUTES)), html


def test_a_full_or_emptied_memory_of_tags_scans_as_before(monkeypatch):
    monkeypatch.setattr(links, "_FINDINGS_BY_TAG", {})
    monkeypatch.setattr(links, "_FINDINGS_KEPT", 5)  # emptied every few tags
    for html in mixes(1500, 47):
        assert_scans_alike(html)


def test_random_pages_of_hostile_pieces_summarize_as_before(tmp_path):
    for base in ("https://bench.example/", "https://example.org/s/"):
        old_resolver, new_resolver = OldResolver(base), Resolver(base)
        for number, html in enumerate(mixes(600, 59)):
            rel = ["index.html", "a/index.html", "a/b/page.htm"][number % 3]
            html += LINK_PIECES[number % len(LINK_PIECES)]
            (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / rel).write_text(html, encoding="utf-8")
            try:
                expected = old_summary(html, rel, old_resolver)
            except KeyError:
                assert any(piece in html for piece in CRASHED_THE_OLD_SCAN), html
                continue
            assert summarize_file(tmp_path, new_resolver, rel)[1] == expected, html


def test_the_former_crash_is_now_no_tag():
    html = "<ſcript src=x><a href='y'><scrİpt src=z>"
    assert scan_html(html) == (set(), [FoundLink("", html.index("<a"), "a", "href", "y")])


@pytest.mark.parametrize("seed", range(4))
def test_the_attributes_read_leave_out_only_the_others(seed):
    """With `read`, each tag still comes with every attribute in `attributes` or `read` that
    `parse_attrs` finds, whatever their case (the Kelvin sign lower-cases to k)."""
    rng = random.Random(seed)
    names = ["href", "id", "link", "kind", "data-k", "src", "srcset", "rel", "name"]
    pieces = PIECES + ['<a lin\u212a="k1" href="h">', '<a LINK="k2">', '<a kind="k3" link="k4">', '<a data-\u212a="k5">',
                       '<a data-K="k6" id="i">', '<a link="1" kind="2" id="3">']
    for _ in range(600):
        attributes = frozenset(rng.sample(names, rng.randint(1, 3)))
        read = frozenset(rng.sample(names, rng.randint(0, 2))) - attributes
        html = "".join(rng.choices(pieces, k=rng.randint(1, 10)))
        try:
            expected = [(t.name, {k: v for k, v in t.attrs.items() if k in attributes | read}, t.start, t.end)
                        for t in old_iter_start_tags(html, attributes)]
        except KeyError:
            continue
        found = [(t.name, {k: v for k, v in t.attrs.items() if k in attributes | read}, t.start, t.end)
                 for t in start_tags(html, attributes, read)]
        assert found == expected, (html, attributes, read)


# --- built pages ---

@pytest.fixture(scope="module")
def built_sites(tmp_path_factory):
    sites = []
    for base in ("links-defects", "lint-clean", "minimal"):
        site = new_site(tmp_path_factory.mktemp("scan-equivalence") / base, base=base)
        if base == "links-defects":
            add_template_defects(site)
        done = run_cli("build", cwd=site)
        assert done.returncode == 0, done.stderr
        sites.append(site / "_site")
    return sites


SPLICES = ["<!-- <a href='/commented/'> -->", "<script>var a = '<a href=\"/scripted/\">';</script>",
           "<a href='/single/' ID=Upper>", "<A HREF=/bare/>", '<a href="/dup/" href="/second/">', "<a\nhref='/lines/'\n>",
           '<img src="/i.png" srcset="/a.png 1x, /b.png 2x">', '<link rel="preconnect" href="https://cdn.example">',
           '<a href="/x?a=1&amp;b=2#caf%C3%A9">', '<h2 id="cafe\u0301">', "<a href='/unterminated", "<style>"]


def test_built_pages_scan_resolve_and_summarize_as_before(built_sites):
    for folder in built_sites:
        pages = sorted(rel for rel in list_output(folder).files if is_scanned(rel) and rel.endswith(".html"))
        assert pages
        for base in (yaml.safe_load((folder.parent / "config.yaml").read_text())["base_url"], "https://example.org/s/"):
            old_resolver, new_resolver = OldResolver(base), Resolver(base)
            for rel in pages:
                html = (folder / rel).read_text(encoding="utf-8")
                assert scan_html(html, rel) == old_scan_html(html, rel), rel
                assert summarize_file(folder, new_resolver, rel)[1] == old_summary(html, rel, old_resolver), rel
        for rel in pages:
            html = (folder / rel).read_text(encoding="utf-8")
            at = html.find("</main>")
            for splice in SPLICES:
                assert_scans_alike(html[:at] + splice + html[at:])


# --- resolving ---

VALUE_PIECES = ["../", "./", "/", "//", "..", ".", "a", "B", "%20", "%2F", "?", "#", "x.html", "index.html", ":",
                "https:", "http://", "HTTPS://", "bench.example", "other.org", "site", ";p", "[", "]", "@", "&", " ",
                "\t", "é", "~", "mailto:", "javascript:", "#top", "?q=1"]
FILES = ["index.html", "a/index.html", "a/b/index.html", "a/b/c/page.html", "x.css", "a//b.html", "a/./b.html",
         "a/../b/i.html", "./a/b.html", "site/index.html", "a//b/c.html", "b/index.html", "a/c/index.html", "sitemap.xml"]


@pytest.mark.parametrize("base", ["https://bench.example/", "https://bench.example/site/",
                                  "http://Bench.Example:8080/a/b", "https://x.org//y/./z/"])
def test_values_resolve_as_before(base):
    rng = random.Random(base)
    old, new = OldResolver(base), Resolver(base)  # kept across values: what they remember must not leak
    for _ in range(20000):
        value = "".join(rng.choices(VALUE_PIECES, k=rng.randint(1, 6)))
        if rng.random() < 0.3:
            value = rng.choice(["https://", "http://", "//"]) + rng.choice(
                ["bench.example", "BENCH.example", "other.org", "bench.example:8080", "x.org"]) + value
        elif rng.random() < 0.5:
            value = "../" * rng.randint(1, 4) + value
        file = rng.choice(FILES)
        try:
            expected = old.resolve(file, value)
        except ValueError:  # urlsplit refuses some hosts ('[' without ']'): no address, reported as such
            assert new.resolve(file, value) == Target("invalid", value, ""), (file, value)
            continue
        assert new.resolve(file, value) == expected, (file, value)


def test_a_plain_url_is_its_own_join_and_splits_into_its_groups():
    rng = random.Random(7)
    alphabet = "abcAB012/?#;[]:@%.&=+-_~ \té"
    plain = 0
    for _ in range(50000):
        value = rng.choice(["https://", "http://", "HTTP://", "https:", "https:///", "ftp://"]) + "".join(
            rng.choices(alphabet, k=rng.randint(0, 12)))
        match = _PLAIN_URL.fullmatch(value) if value.isascii() and value.isprintable() else None
        if match is None:
            continue
        plain += 1
        for base in ("https://bench.example/", "http://bench.example/site/"):
            assert urljoin(base, value) == value
        parts = urlsplit(value)
        assert match.groups("") == (parts.scheme, parts.netloc, parts.path, parts.fragment)
    assert plain > 2000


def test_entities_in_plain_tags_are_decoded_as_parse_attrs_does():
    html = '<a href="?a=1&amp;b=&#x2F;&copy;">'
    assert scan_html(html)[1][0].value == htmllib.unescape("?a=1&amp;b=&#x2F;&copy;")
