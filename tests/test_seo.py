"""What the built site tells machines: page metadata, JSON-LD, sitemap, Atom feed, search index."""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from browser_support import build_real_site, page_urls
from conftest import ROOT, run_cli
from medsite.htmlscan import iter_tags, visible_text
from medsite.seo import faq_entries, json_for_script, print_url_filter

BASE = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))["base_url"].rstrip("/")
ATOM = "{http://www.w3.org/2005/Atom}"
DOSE_PROPERTIES = {"doseSchedule", "maximumIntake", "availableStrength", "dosageForm", "recommendedIntake",
                   "administrationRoute", "doseValue", "doseUnit"}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return build_real_site(tmp_path_factory.mktemp("seo") / "site")


def html_of(site: Path, url: str) -> str:
    file = site / (url.lstrip("/") + "index.html" if url.endswith("/") else url.lstrip("/"))
    return file.read_text(encoding="utf-8")


def head_tags(html: str) -> list:
    return [tag for tag in iter_tags(html[:html.index("</head>")]) if not tag.closing]


def meta(html: str, key: str, value: str) -> str | None:
    return next((t.attrs.get("content") for t in head_tags(html) if t.name == "meta" and t.attrs.get(key) == value), None)


def json_ld(html: str) -> list[dict]:
    return [json.loads(block) for block in re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)]


def front_matter(url: str) -> dict:
    rel = url.strip("/") + ".md"
    text = (ROOT / "content" / rel).read_text(encoding="utf-8")
    return yaml.safe_load(text.split("---\n")[1])


MEDICAL_URLS = [f"/ketamine-lozenges/{name}/" for name in
                ("overview", "how-it-works", "evidence", "risks", "getting-treatment", "faq")]


# --- Page metadata -----------------------------------------------------------------------------

def test_every_page_has_a_title_canonical_open_graph_lang_csp_and_feed_link(built):
    for url in page_urls(built):
        html = html_of(built, url)
        tags = head_tags(html)
        canonical = [t.attrs["href"] for t in tags if t.name == "link" and t.attrs.get("rel") == "canonical"]
        assert canonical == [BASE + url], url
        assert re.search(r'<html lang="en">', html), url
        assert re.search(r"<title>[^<]+</title>", html), url
        assert meta(html, "http-equiv", "Content-Security-Policy").startswith("default-src 'self'"), url
        assert "'unsafe-inline'" not in meta(html, "http-equiv", "Content-Security-Policy")
        assert meta(html, "property", "og:url") == BASE + url
        assert meta(html, "property", "og:site_name") and meta(html, "property", "og:locale") == "en"
        assert meta(html, "property", "og:title") and meta(html, "property", "og:type") in ("article", "website")
        feeds = [t.attrs["href"] for t in tags if t.name == "link" and t.attrs.get("type") == "application/atom+xml"]
        assert len(feeds) == 1 and feeds[0].endswith("feed.xml"), url
        assert " style=" not in html and "<style" not in html, f"{url}: inline styles break the CSP"
        assert not re.search(r"<script(?![^>]*(?:src=|type=\"application/ld\+json\"))", html), f"{url}: inline script"


def test_article_descriptions_are_their_summaries(built):
    for url in MEDICAL_URLS:
        html = html_of(built, url)
        summary = front_matter(url)["summary"]
        assert meta(html, "name", "description") == summary
        assert meta(html, "property", "og:description") == summary
        assert meta(html, "property", "og:type") == "article"


# --- JSON-LD -----------------------------------------------------------------------------------

def test_every_medical_page_describes_itself_as_a_medical_web_page_matching_what_it_shows(built):
    for url in MEDICAL_URLS:
        html = html_of(built, url)
        fm = front_matter(url)
        (data,) = json_ld(html)
        assert "MedicalWebPage" in data["@type"]
        assert data["name"] == fm["title"] and data["description"] == fm["summary"]
        assert data["url"] == BASE + url and data["inLanguage"] == "en"
        assert data["audience"] == {"@type": "MedicalAudience", "audienceType": "Patient"}
        assert data["publisher"]["@type"] == "Organization" and data["publisher"]["name"]
        visible_date = re.search(r'class="reviewed-line">Last reviewed <time datetime="([\d-]+)"', html).group(1)
        assert data["lastReviewed"] == visible_date == str(fm["last_reviewed"])
        assert len(data.get("citation", [])) == len(fm.get("references", []))
        reviewers = fm.get("reviewed_by")
        if reviewers:
            assert [r["name"] for r in data["reviewedBy"]] == ([reviewers] if isinstance(reviewers, str) else reviewers)
        else:
            assert "reviewedBy" not in data
        assert not DOSE_PROPERTIES & set(re.findall(r'"(\w+)":', json.dumps(data)))


def test_the_faq_page_structured_data_is_the_questions_and_answers_it_shows(built):
    html = html_of(built, "/ketamine-lozenges/faq/")
    (data,) = json_ld(html)
    assert "FAQPage" in data["@type"]
    content = html[html.index('<div class="content">'):html.index('<section class="references"')]
    questions = [visible_text(h) for h in re.findall(r"<h2[^>]*>(.*?)</h2>", content, re.S)]
    assert [q["name"] for q in data["mainEntity"]] == questions
    page_text = "".join(visible_text(content).split())  # white space aside, what the page shows
    for question in data["mainEntity"]:
        answer = question["acceptedAnswer"]["text"]
        assert question["acceptedAnswer"]["@type"] == "Answer" and answer
        assert "".join(f"{question['name']} {answer}".split()) in page_text
        assert " ." not in answer and " ," not in answer, "no stray spaces where links were"


def test_the_series_overview_describes_the_drug_from_the_topic_config_without_doses(built):
    (data,) = json_ld(html_of(built, "/ketamine-lozenges/overview/"))
    drug = data["about"]
    assert drug == {"@type": "Drug", "name": "ketamine", "nonProprietaryName": "ketamine",
                    "legalStatus": "DEA Schedule III controlled substance",
                    "prescriptionStatus": "https://schema.org/PrescriptionOnly"}
    for url in MEDICAL_URLS[1:]:
        assert "about" not in json_ld(html_of(built, url))[0]


def test_faq_entries_take_each_h2_and_the_text_up_to_the_next_and_leave_out_footnotes():
    body = ('<p>Intro</p><h2 id="a">Is it <em>safe</em>?</h2><p>Mostly.</p><ul><li>One</li></ul>'
            '<h2 id="b">Why?</h2><p>Because<sup><a href="#fn:1">1</a></sup>.</p>'
            '<div class="footnote"><ol><li>A note</li></ol></div>')
    assert faq_entries(body) == [("Is it safe?", "Mostly. One"), ("Why?", "Because1.")]


def test_json_ld_cannot_close_its_script_element():
    text = json_for_script({"name": "</script><script>alert(1)</script> & <!--"})
    assert "</" not in text and "<!--" not in text
    assert json.loads(text) == {"name": "</script><script>alert(1)</script> & <!--"}


def test_a_title_with_a_closing_script_tag_stays_inside_the_json_ld(make_site):
    site = make_site({"content/topic-a/first.md": """
        ---
        title: "Evil </script><script>alert(1)</script> title"
        summary: The first article of topic A.
        kind: overview
        order: 1
        last_reviewed: 2026-11-01
        ---
        ## What it is

        Text.
        """})
    result = run_cli("build", cwd=site)
    assert result.returncode == 0, result.stdout + result.stderr
    html = (site / "_site" / "topic-a" / "first" / "index.html").read_text(encoding="utf-8")
    (data,) = json_ld(html)
    assert data["name"] == "Evil </script><script>alert(1)</script> title"
    assert "<script>alert" not in html


def test_a_drug_setting_with_a_dose_is_rejected_by_the_config_schema(make_site):
    site = make_site()
    config = site / "config.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        '    notice: "**Legal status:** a regulatory notice for topic A."\n',
        '    notice: "**Legal status:** a regulatory notice for topic A."\n'
        "    drug:\n      name: examplamine\n      legal_status: Schedule IV\n      dose: 10 mg\n"), encoding="utf-8")
    result = run_cli("build", cwd=site)
    assert result.returncode == 1
    assert "topics.topic-a.drug.dose: unknown key" in result.stdout + result.stderr


# --- Sitemap, robots, feed ---------------------------------------------------------------------

def test_the_sitemap_lists_absolute_urls_with_lastmod_from_last_reviewed(built):
    root = ET.parse(built / "sitemap.xml").getroot()
    ns = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    entries = {u.find(ns + "loc").text: getattr(u.find(ns + "lastmod"), "text", None) for u in root}
    assert all(loc.startswith(BASE + "/") for loc in entries)
    for url in MEDICAL_URLS:
        assert entries[BASE + url] == str(front_matter(url)["last_reviewed"])
    assert BASE + "/404.html" not in entries
    robots = (built / "robots.txt").read_text(encoding="utf-8")
    assert f"Sitemap: {BASE}/sitemap.xml" in robots and "Disallow: /\n" not in robots


def test_the_atom_feed_lists_every_article_with_its_review_date_as_updated(built):
    feed = ET.parse(built / "feed.xml").getroot()
    assert feed.tag == ATOM + "feed"
    entries = feed.findall(ATOM + "entry")
    by_id = {e.find(ATOM + "id").text: e for e in entries}
    for url in MEDICAL_URLS:
        entry = by_id[BASE + url]
        fm = front_matter(url)
        assert entry.find(ATOM + "updated").text == f"{fm['last_reviewed']}T00:00:00Z"
        assert entry.find(ATOM + "title").text == fm["title"]
        assert entry.find(ATOM + "link").get("href") == BASE + url
    updated = [e.find(ATOM + "updated").text for e in entries]
    assert updated == sorted(updated, reverse=True)
    assert feed.find(ATOM + "updated").text == max(updated)
    assert feed.find(ATOM + "link[@rel='self']").get("href") == BASE + "/feed.xml"
    assert BASE + "/" not in by_id, "the home page is not an article"


def test_two_builds_of_the_same_content_are_byte_identical(built, tmp_path):
    again = build_real_site(tmp_path / "again")
    for name in ("feed.xml", "sitemap.xml", "search-index.json", "ketamine-lozenges/faq/index.html", "search/index.html"):
        assert (built / name).read_bytes() == (again / name).read_bytes(), name


# --- Search index ------------------------------------------------------------------------------

def test_the_search_index_holds_titles_summaries_headings_and_tags_and_finds_bladder_on_the_risks_page(built):
    index = json.loads((built / "search-index.json").read_text(encoding="utf-8"))
    by_url = {entry["url"]: entry for entry in index["pages"]}
    risks = by_url["ketamine-lozenges/risks/"]
    assert set(risks) == {"title", "url", "summary", "section", "headings", "tags"}
    assert "bladder" in " ".join([risks["summary"], *risks["headings"], *risks["tags"]]).lower()
    assert set(MEDICAL_URLS) <= {"/" + url for url in by_url}
    assert "" not in by_url, "the home page is not listed"
    search_page = html_of(built, "/search/")
    listed = re.findall(r'<ol id="search-results"[^>]*>(.*?)</ol>', search_page, re.S)[0].count("<li>")
    assert listed == len(index["pages"])
    assert '<script src="../js/search.js" defer></script>' in search_page


def _series(count: int) -> dict[str, str]:
    files = {}
    for number in range(1, count + 1):
        files[f"content/topic-a/extra-{number}.md"] = f"""
            ---
            title: Extra article number {number}
            summary: A summary of extra article {number}, of about the usual length for a page.
            kind: risks
            order: {10 + number}
            last_reviewed: 2026-11-01
            tags: [extra, number{number}]
            ---
            ## A heading for part {number}

            Body text that the index leaves out. {"Long words. " * 200}
            """
    return files


def test_the_search_index_grows_linearly_with_the_pages_and_leaves_out_body_text(make_site, tmp_path):
    sizes = {}
    for count in (20, 40):
        site = make_site(_series(count))
        result = run_cli("build", "--out", str(tmp_path / f"out-{count}"), cwd=site)
        assert result.returncode == 0, result.stdout + result.stderr
        index = (tmp_path / f"out-{count}" / "search-index.json").read_text(encoding="utf-8")
        assert "Long words" not in index
        sizes[count] = len(index)
        (tmp_path / "site").rename(tmp_path / f"site-{count}")
    assert 1.7 < sizes[40] / sizes[20] < 2.1


def test_relative_links_in_a_body_get_their_absolute_address_for_print():
    with_print_urls = print_url_filter("https://example.org/")
    html = str(with_print_urls('<p><a href="../../glossary/#off-label-use">off-label</a> '
                               '<a href="https://fda.gov/">FDA</a> <a href="#top">top</a></p>',
                               "/ketamine-lozenges/risks/"))
    assert re.findall(r'data-print-url="([^"]*)"', html) == ["https://example.org/glossary/#off-label-use"]
