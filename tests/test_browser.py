"""The real built site in a real browser (Debian's Chromium via Playwright), served on 127.0.0.1.

Accessibility (axe-core, WCAG 2.2 A/AA) on every page at phone and desktop widths in light and
dark schemes; keyboard-only use; the disclaimer visible and readable on every page; search;
no request to any other host; screenshots for people to look at (tests/artifacts/).
"""
from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest

from browser_support import page_urls, served_real_site, wait_until
from conftest import ROOT

pytest.importorskip("playwright.sync_api")

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "tests" / "artifacts"
WIDTHS = {"phone": 375, "desktop": 1280}
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
ARTICLE = "/ketamine-lozenges/risks/"
FAQ = "/ketamine-lozenges/faq/"


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """(folder, base URL): the real site, built for and served at a local address."""
    with served_real_site(tmp_path_factory.mktemp("browser")) as served:
        yield served


def open_page(chromium, width: int = 1280, scheme: str = "light", **options):
    context = chromium.new_context(viewport={"width": width, "height": 800}, color_scheme=scheme, **options)
    return context, context.new_page()


# --- Accessibility -----------------------------------------------------------------------------

@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width_name", list(WIDTHS))
def test_every_page_has_no_axe_violations(site, chromium, width_name, scheme):
    if not AXE.is_file():
        pytest.fail("axe-core is missing: run `npm ci` (scripts/test does)")
    folder, base_url = site
    axe_source = AXE.read_text(encoding="utf-8")
    # The pages' CSP forbids inline script; axe is injected from the test, so the context bypasses it.
    context, page = open_page(chromium, WIDTHS[width_name], scheme, bypass_csp=True)
    problems = []
    for url in page_urls(folder):
        page.goto(base_url + url.lstrip("/"))
        page.evaluate(axe_source)
        result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS)
        for violation in result["violations"]:
            targets = [" ".join(node["target"]) for node in violation["nodes"]][:3]
            problems.append(f"{url}: {violation['id']} ({violation['impact']}): {violation['help']} at {targets}")
    context.close()
    assert problems == []


# --- Keyboard ----------------------------------------------------------------------------------

FOCUSED = """() => {
  const el = document.activeElement;
  let background = 'rgb(255, 255, 255)';
  for (let up = el.parentElement; up; up = up.parentElement) {
    const b = getComputedStyle(up).backgroundColor;
    if (!/rgba\\(.*, 0\\)$/.test(b) && b !== 'transparent') { background = b; break; }
  }
  return {tag: el.tagName.toLowerCase(), href: el.getAttribute('href'), id: el.id,
          cls: el.className, inNav: !!el.closest('nav[aria-label=Main]'),
          inSeries: !!el.closest('.series-nav'),
          // Shown, in the viewport, and not clipped or covered: the focused element is what is
          // under the middle of its first line box.
          visible: (() => { const r = el.getClientRects()[0];
                    if (!r || r.width < 3 || r.height < 3 || r.bottom < 0 || r.top > innerHeight) return false;
                    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
                    return !!hit && (hit === el || el.contains(hit)); })(),
          outline: getComputedStyle(el).outlineStyle + ' ' + getComputedStyle(el).outlineWidth,
          outlineColor: getComputedStyle(el).outlineColor, background};
}"""


@pytest.mark.parametrize("width_name", list(WIDTHS))
def test_keyboard_alone_reaches_the_skip_link_first_then_navigation_search_and_every_series_link(
        site, chromium, width_name):
    folder, base_url = site
    context, page = open_page(chromium, WIDTHS[width_name])
    page.goto(base_url + ARTICLE.lstrip("/"))
    series = page.eval_on_selector_all(".series-nav a", "links => links.map(a => a.getAttribute('href'))")
    assert len(series) >= 4, "the article should list the other parts of its series"
    visited = []
    for _ in range(400):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        visited.append(focused)
        if set(series) <= {f["href"] for f in visited if f["inSeries"]}:
            break
    first = visited[0]
    assert "skip-link" in first["cls"] and first["href"] == "#main" and first["visible"]
    assert first["outline"].startswith("solid") and first["outline"] != "solid 0px"
    nav_positions = [i for i, f in enumerate(visited) if f["inNav"]]
    search_position = next(i for i, f in enumerate(visited) if f["id"] == "site-search-q")
    assert nav_positions and max(nav_positions) < search_position
    assert set(series) <= {f["href"] for f in visited if f["inSeries"]}
    hidden = [f["href"] or f["id"] for f in visited if not f["visible"]]
    assert hidden == [], "every focused element is in view, neither clipped nor covered"
    weak_focus = [(f["href"] or f["id"], f["outline"], round(contrast_ratio(f["outlineColor"], f["background"]), 2))
                  for f in visited if f["outline"] == "solid 0px" or contrast_ratio(f["outlineColor"], f["background"]) < 3]
    assert weak_focus == [], "focus rings must be visible with >= 3:1 contrast"
    # The skip link works: activating it moves the reading position to the main content.
    page.goto(base_url + ARTICLE.lstrip("/"))
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"
    context.close()


def test_no_page_scrolls_sideways_on_a_320_px_phone(site, chromium):
    folder, base_url = site
    context, page = open_page(chromium, 320)
    too_wide = {}
    for url in page_urls(folder):
        page.goto(base_url + url.lstrip("/"))
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 320:
            too_wide[url] = width
    context.close()
    assert too_wide == {}


# --- The disclaimer ----------------------------------------------------------------------------

DISCLAIMER_LOOK = """() => {
  const box = document.querySelector('body > footer .disclaimer');
  const text = box.querySelector('p');
  const style = getComputedStyle(text);
  const hidden = [];
  for (let el = text; el; el = el.parentElement) {
    const s = getComputedStyle(el);
    if (s.display === 'none' || s.visibility !== 'visible' || parseFloat(s.opacity) < 1) hidden.push(el.tagName);
  }
  let background = 'rgba(0, 0, 0, 0)';
  for (let el = text; el; el = el.parentElement) {
    const b = getComputedStyle(el).backgroundColor;
    if (!/rgba\\(.*, 0\\)$/.test(b) && b !== 'transparent') { background = b; break; }
  }
  const r = text.getBoundingClientRect();
  return {hidden, color: style.color, background, fontSize: parseFloat(style.fontSize),
          bodyFontSize: parseFloat(getComputedStyle(document.body).fontSize),
          inViewport: r.top >= 0 && r.bottom <= innerHeight && r.width > 0 && r.height > 0,
          text: box.innerText};
}"""


def _channels(css_color: str) -> tuple[float, float, float]:
    numbers = [float(n) for n in re.findall(r"[\d.]+", css_color)[:3]]
    return numbers[0], numbers[1], numbers[2]


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio of two computed CSS colours ('rgb(r, g, b)')."""
    def luminance(color: str) -> float:
        linear = [c / 255 for c in _channels(color)]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in linear]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_contrast_ratio_matches_the_wcag_examples():
    assert contrast_ratio("rgb(0, 0, 0)", "rgb(255, 255, 255)") == pytest.approx(21.0)
    assert contrast_ratio("rgb(118, 118, 118)", "rgb(255, 255, 255)") == pytest.approx(4.54, abs=0.01)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_disclaimer_is_visible_and_readable_at_the_end_of_every_page(site, chromium, scheme):
    folder, base_url = site
    context, page = open_page(chromium, 375, scheme)
    problems = []
    for url in page_urls(folder):
        page.goto(base_url + url.lstrip("/"))
        page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
        look = page.evaluate(DISCLAIMER_LOOK)
        ratio = contrast_ratio(look["color"], look["background"])
        if look["hidden"] or not look["inViewport"]:
            problems.append(f"{url}: disclaimer not visible after scrolling to the end ({look})")
        if ratio < 4.5:
            problems.append(f"{url}: disclaimer contrast {ratio:.2f} < 4.5 ({look['color']} on {look['background']})")
        if look["fontSize"] < look["bodyFontSize"]:
            problems.append(f"{url}: disclaimer in small print ({look['fontSize']}px)")
        if "not medical advice" not in look["text"]:
            problems.append(f"{url}: disclaimer text missing")
    context.close()
    assert problems == []


# --- Search ------------------------------------------------------------------------------------

def test_typing_bladder_on_the_search_page_finds_the_risks_page(site, chromium):
    _, base_url = site
    context, page = open_page(chromium, 375)
    page.goto(base_url + "search/")
    page.fill("#search-q", "")
    page.type("#search-q", "bladder", delay=20)
    wait_until(page, "document.getElementById('search-status').textContent.includes('bladder')")
    hits = page.eval_on_selector_all("#search-results a", "links => links.map(a => a.href)")
    assert hits and hits[0] == base_url + ARTICLE.lstrip("/")
    assert "match" in page.inner_text("#search-status")
    page.fill("#search-q", "xylophone")
    wait_until(page, "document.getElementById('search-status').textContent.includes('No pages')")
    assert page.eval_on_selector_all("#search-results li", "items => items.length") == 0
    context.close()


def test_the_header_search_form_lands_on_the_search_page_with_results(site, chromium):
    _, base_url = site
    context, page = open_page(chromium, 1280)
    page.goto(base_url)
    page.fill("#site-search-q", "bladder")
    page.press("#site-search-q", "Enter")
    page.wait_for_url(re.compile(r"/search/\?q=bladder"))
    wait_until(page, "document.getElementById('search-status').textContent.includes('match')")
    assert page.input_value("#search-q") == "bladder"
    assert base_url + ARTICLE.lstrip("/") in page.eval_on_selector_all("#search-results a", "ls => ls.map(a => a.href)")
    context.close()


def test_without_javascript_the_search_page_lists_every_page(site, chromium):
    folder, base_url = site
    index = json.loads((folder / "search-index.json").read_text(encoding="utf-8"))
    context, page = open_page(chromium, 375, java_script_enabled=False)
    page.goto(base_url + "search/")
    listed = page.eval_on_selector_all("#search-results a", "links => links.map(a => a.href)")
    assert listed == [base_url + entry["url"] for entry in index["pages"]]
    assert base_url + ARTICLE.lstrip("/") in listed
    context.close()


# --- Privacy and security ----------------------------------------------------------------------

def test_every_request_the_browser_makes_goes_to_127_0_0_1_and_nothing_breaks_the_csp(site, chromium):
    folder, base_url = site
    context, page = open_page(chromium, 1280)
    requests, console_errors = [], []
    context.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
    urls = page_urls(folder)
    for url in urls:
        page.goto(base_url + url.lstrip("/"))
        page.wait_for_load_state("networkidle")
    page.goto(base_url + "search/?q=bladder")
    wait_until(page, "document.getElementById('search-status').textContent.includes('match')")
    context.close()
    hosts = {urlsplit(url).hostname for url in requests}
    assert hosts == {"127.0.0.1"}, f"requests to other hosts: {sorted(u for u in requests if '127.0.0.1' not in u)}"
    assert any(u.endswith("/css/site.css") for u in requests) and any(u.endswith("/search-index.json") for u in requests)
    assert len(requests) > len(urls)
    # A violation of the Content-Security-Policy, or a missing file, shows as a console error.
    assert console_errors == []


# --- Print and screenshots ---------------------------------------------------------------------

def test_screenshots_of_home_article_and_faq_at_phone_and_desktop_widths_and_in_print(site, chromium):
    _, base_url = site
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name, url in (("home", "/"), ("article", ARTICLE), ("faq", FAQ)):
        for width_name, width in WIDTHS.items():
            context, page = open_page(chromium, width)
            page.goto(base_url + url.lstrip("/"))
            path = ARTIFACTS / f"{name}-{width_name}.png"
            page.screenshot(path=str(path), full_page=True)
            assert path.stat().st_size > 10_000
            context.close()
    context, page = open_page(chromium, 375, "dark")
    page.goto(base_url + ARTICLE.lstrip("/"))
    page.screenshot(path=str(ARTIFACTS / "article-phone-dark.png"), full_page=True)
    context.close()
    # The first screen of an article on a phone, small enough to show in the README (docs/screenshot-phone.png).
    context, page = open_page(chromium, 375)
    page.goto(base_url + ARTICLE.lstrip("/"))
    page.screenshot(path=str(ARTIFACTS / "article-phone-first-screen.png"))
    context.close()


def test_print_shows_the_article_dates_disclaimer_and_link_addresses_but_no_navigation(site, chromium):
    _, base_url = site
    context, page = open_page(chromium, 800)
    page.goto(base_url + ARTICLE.lstrip("/"))
    page.emulate_media(media="print")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "article-print.png"), full_page=True)
    shown = page.evaluate("""() => {
      const displayed = sel => [...document.querySelectorAll(sel)].some(e => getComputedStyle(e).display !== 'none');
      const after = a => getComputedStyle(a, '::after').content;
      const internal = document.querySelector('.content a[data-print-url]');
      const external = document.querySelector('.references a[href^="http"]');
      return {nav: displayed('.site-nav'), search: displayed('.site-search'), pager: displayed('.pager'),
              header: displayed('.breadcrumbs'), disclaimer: displayed('.disclaimer'),
              dates: displayed('.review-dates'), internal: after(internal), internalUrl: internal.dataset.printUrl,
              external: after(external), externalUrl: external.href};
    }""")
    context.close()
    assert not (shown["nav"] or shown["search"] or shown["pager"] or shown["header"])
    assert shown["disclaimer"] and shown["dates"]
    assert shown["internalUrl"].startswith(base_url) and shown["internalUrl"] in shown["internal"]
    assert shown["externalUrl"] in shown["external"]
