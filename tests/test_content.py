"""The real site's content: every page at its URL, the series in order, the glossary linked, and
nothing that a patient page must never carry (doses, sourcing, repeated lines, missing notices)."""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from browser_support import build_real_site
from conftest import ROOT, run_cli
from medsite.htmlscan import iter_tags, normalize_space, visible_text

SERIES = ["overview", "how-it-works", "evidence", "risks", "getting-treatment", "faq"]
SITE_PAGES = ["/", "/about/", "/disclaimer/", "/glossary/", "/ketamine-lozenges/"]
GLOSSARY = {"nmda-receptor", "central-sensitization", "crps", "neuropathic-pain", "off-label-use",
            "compounding-pharmacy", "troche", "dissociation", "controlled-substance", "bioavailability"}
DOSE = re.compile(r"\b\d+(?:[.,]\d+)?\s*(?:mg|mcg|µg|micrograms?|milligrams?|ml|mL|IU)\b", re.I)
SOURCING = re.compile(r"\b(?:buy|purchase|order online|discreet shipping|no prescription needed|\$\d)", re.I)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    return build_real_site(tmp_path_factory.mktemp("content") / "site")


def html_of(site: Path, url: str) -> str:
    return (site / url.lstrip("/") / "index.html").read_text(encoding="utf-8")


def section(html: str, start_marker: str, end_marker: str) -> str:
    start = html.index(start_marker)
    return html[start:html.index(end_marker, start)]


def main_without_references(html: str) -> str:
    main = section(html, "<main", "</main>")
    return re.sub(r'<section class="references".*?</section>', "", main, flags=re.S)


def links_of(html: str) -> list[str]:
    return [tag.attrs["href"] for tag in iter_tags(html) if tag.name == "a" and "href" in tag.attrs]


def test_every_page_is_at_its_stable_url(site):
    for url in SITE_PAGES + [f"/ketamine-lozenges/{slug}/" for slug in SERIES]:
        assert (site / url.lstrip("/") / "index.html").is_file(), url


def test_previous_and_next_links_walk_the_series_in_order(site):
    walked, url = [], "/ketamine-lozenges/overview/"
    while url:
        walked.append(url.rstrip("/").rsplit("/", 1)[-1])
        nexts = [tag.attrs["href"] for tag in iter_tags(html_of(site, url))
                 if tag.name == "a" and tag.attrs.get("rel") == "next"]
        url = f"/ketamine-lozenges/{nexts[0].strip('./').rstrip('/')}/" if nexts else None
    assert walked == SERIES


def test_every_glossary_term_is_defined_and_linked_from_the_series(site):
    glossary = html_of(site, "/glossary/")
    ids = {tag.attrs["id"] for tag in iter_tags(glossary) if tag.name == "h2" and "id" in tag.attrs}
    assert GLOSSARY <= ids
    linked = set()
    for slug in SERIES:
        for href in links_of(main_without_references(html_of(site, f"/ketamine-lozenges/{slug}/"))):
            if "glossary/#" in href:
                linked.add(href.split("#", 1)[1])
    assert GLOSSARY <= linked, f"never linked: {sorted(GLOSSARY - linked)}"


@pytest.mark.parametrize("slug", SERIES)
def test_medical_pages_carry_dates_notices_and_references_and_no_dose_or_sourcing(site, slug):
    html = html_of(site, f"/ketamine-lozenges/{slug}/")
    text = visible_text(main_without_references(html))
    assert "Page last reviewed:" in text and "Next review due:" in text
    assert "Not yet clinically reviewed" in text
    assert "Schedule III" in text and "off-label" in text
    references = section(html, '<section class="references"', "</section>")
    assert len(re.findall(r"<li>", references)) >= 2
    assert not DOSE.findall(text), DOSE.findall(text)
    for sentence in re.split(r"(?<=[.?!])\s+", text):
        if SOURCING.search(sentence):
            assert re.search(r"\b(never|not|illegal|unsafe|no)\b", sentence, re.I), sentence


@pytest.mark.parametrize("url", SITE_PAGES + [f"/ketamine-lozenges/{slug}/" for slug in SERIES])
def test_no_line_or_sentence_is_repeated_three_times(site, url):
    text = visible_text(section(html_of(site, url), "<main", "</main>"))
    sentences = Counter(normalize_space(s).lower() for s in re.split(r"(?<=[.?!])\s+", text) if len(s) > 25)
    assert [s for s, n in sentences.items() if n >= 3] == []
    assert "leave a reply" not in text.lower() and "email address will not be published" not in text.lower()


def test_the_faq_answers_the_source_articles_questions(site):
    html = html_of(site, "/ketamine-lozenges/faq/")
    questions = [visible_text(html[tag.end:html.index("</h2>", tag.end)]).lower()
                 for tag in iter_tags(html) if tag.name == "h2" and "id" in tag.attrs]
    for topic in ("fda approved", "online", "how long", "insurance", "try first", "drive", "stop", "alcohol"):
        assert any(topic in question for question in questions), topic


def test_the_risks_page_has_both_help_boxes(site):
    html = html_of(site, "/ketamine-lozenges/risks/")
    assert 'class="admonition urgent"' in html and 'class="admonition emergency"' in html
    assert "Call 911" in visible_text(section(html, 'class="admonition emergency"', "</div>"))
    assert "bladder" in visible_text(html).lower()


def test_the_real_site_passes_the_content_checks_with_no_errors():
    result = run_cli("lint", "--format", "json", cwd=ROOT)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [p for p in report["problems"] if p["severity"] == "error"] == []
    assert all(row["grade"] <= 8 for row in report["articles"]), report["articles"]
