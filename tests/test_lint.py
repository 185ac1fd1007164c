"""Content checks (`build.py lint`): one fixture per check, each finding exact, at its exact line.

Fixtures start from tests/sites/lint-clean (a complete, clinically reviewed series that passes
every check) and replace one article. `risks_page(body)` puts the body at file line 13.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import textstat

from conftest import ROOT, run_cli
from medsite.build import BuildOptions, build
from medsite.config import load_config
from medsite.htmlscan import iter_tags, visible_text
from medsite.lint import LintReport, lint_cache, lint_site, reading_grade
from medsite.markdown import MarkdownRenderer
from medsite.problems import has_errors, sort_problems
from medsite.report import write_report

TODAY = dt.date(2026, 11, 25)
RISKS = "content/topic-a/risks.md"
SOURCE_ARTICLE = ROOT.parent / "shared" / "source" / "ketamine-lozenges-source-article.txt"
FRONT_MATTER = """\
---
title: Risks
summary: The risks page of topic A.
kind: risks
order: 3
last_reviewed: 2026-11-01
reviewed_by: Dr A Example, MB BS
references:
  - title: A study of topic A
    journal: Journal of Tests
    year: 2020
---
"""
BODY_LINE = 13
HARD_PROSE = ("Pharmacokinetic investigations demonstrate considerable interindividual variability in "
              "transmucosal bioavailability, necessitating individualized titration under specialist "
              "supervision with comprehensive physiological monitoring.")  # grade 38
FAIRLY_HARD_PROSE = ("Ketamine blocks a receptor in the nervous system that carries pain messages between nerve "
                     "cells. Doctors think this may calm the extra sensitivity that builds up in long-lasting "
                     "pain.")  # grade 8.8
PLAIN_PROSE = "Topic A works on the nerves. It may calm pain signals for a short time."


def risks_page(body: str, front_matter: str = FRONT_MATTER) -> str:
    return front_matter + textwrap.dedent(body).lstrip("\n")


def write_risks(site: Path, text: str) -> None:
    (site / RISKS).write_text(text, encoding="utf-8")


def lint(site: Path, today: dt.date = TODAY) -> LintReport:
    config, problems = load_config(site / "config.yaml")
    assert problems == []
    result = build(config, BuildOptions(write=False))
    assert not has_errors(result.problems), result.problems
    return lint_site(config, result.site, today)


def findings(site: Path, today: dt.date = TODAY) -> list[str]:
    return [str(p) for p in sort_problems(lint(site, today).problems)]


@pytest.fixture
def clean_site(make_site):
    return make_site(base="lint-clean")


def with_risks(site: Path, body: str, front_matter: str = FRONT_MATTER) -> Path:
    write_risks(site, risks_page(body, front_matter))
    return site


# --- the clean fixture --------------------------------------------------------------------------

def test_a_complete_reviewed_plain_site_has_no_findings(clean_site):
    report = lint(clean_site)
    assert report.problems == []
    assert [row.path for row in report.articles] == [
        "content/index.md", "content/topic-a/faq.md", "content/topic-a/indications.md",
        "content/topic-a/mechanism.md", "content/topic-a/risks.md"]
    assert all(row.status == "ok" and row.grade is not None and row.grade < 8 for row in report.articles)


# --- the cache of findings ------------------------------------------------------------------------

def lint_twice(site: Path, today: dt.date = TODAY) -> tuple[dict, dict]:
    """(a fresh lint, a lint through the cache in .medsite-cache/) of the site as it is now."""
    config, _ = load_config(site / "config.yaml")
    result = build(config, BuildOptions(write=False))
    return (lint_site(config, result.site, today).as_dict(),
            lint_site(config, result.site, today, lint_cache(config)).as_dict())


def test_findings_from_the_cache_equal_those_of_a_fresh_lint(clean_site):
    with_risks(clean_site, "## About\n\n" + HARD_PROSE + "\n\nTake 25 mg. TODO\n")
    fresh, filling = lint_twice(clean_site)
    assert list((clean_site / ".medsite-cache").glob("lint-*.pickle"))
    _, cached = lint_twice(clean_site)
    assert len(fresh["problems"]) == 3
    assert fresh == filling == cached


def test_cached_findings_follow_the_policy_the_date_and_the_text(clean_site):
    with_risks(clean_site, FAIRLY_HARD_PROSE + "\n")
    fresh, cached = lint_twice(clean_site)
    assert fresh == cached and [p["severity"] for p in fresh["problems"]] == ["warning"]
    config = clean_site / "config.yaml"
    config.write_text(config.read_text() + "lint:\n  reading_grade_warning: 9\n", encoding="utf-8")
    fresh, cached = lint_twice(clean_site)
    assert fresh == cached and fresh["problems"] == []
    fresh, cached = lint_twice(clean_site, TODAY + dt.timedelta(days=400))
    assert fresh == cached and any("review overdue" in p["message"] for p in fresh["problems"])
    with_risks(clean_site, FAIRLY_HARD_PROSE + "\n\nLeave a Reply\n")
    fresh, cached = lint_twice(clean_site)
    assert fresh == cached and any("Leave a Reply" in p["message"] for p in fresh["problems"])


# --- readability --------------------------------------------------------------------------------

def test_prose_above_the_warning_grade_is_a_warning_at_the_body_start(clean_site):
    with_risks(clean_site, FAIRLY_HARD_PROSE + "\n")
    assert findings(clean_site) == [
        f"{RISKS}:13: warning: reading grade 8.8 is above 8: use shorter sentences and everyday words"]


def test_prose_above_the_hard_limit_is_an_error(clean_site):
    with_risks(clean_site, "## About\n\n" + HARD_PROSE + "\n")
    assert findings(clean_site) == [
        f"{RISKS}:13: error: reading grade 38.4 is above 12: use shorter sentences and everyday words"]


def test_the_limits_come_from_the_config(clean_site):
    config = clean_site / "config.yaml"
    config.write_text(config.read_text() + "lint:\n  reading_grade_warning: 9\n", encoding="utf-8")
    with_risks(clean_site, FAIRLY_HARD_PROSE + "\n")
    assert findings(clean_site) == []


def test_readability_ignores_headings_code_tables_admonition_titles_and_footnotes():
    hard = HARD_PROSE.rstrip(".")
    body = textwrap.dedent(f"""\
        ## {hard}

        {PLAIN_PROSE}[^1]

        ```
        {hard}.
        ```

        | {hard} | Yes |
        |---|---|
        | {hard} | No |

        !!! note "{hard}"
            {PLAIN_PROSE}

        Inline `{hard}` code.

        [^1]: {HARD_PROSE}
        """)
    html = MarkdownRenderer().render(body, "topic-a/risks.md").html
    grade = reading_grade(html)
    plain = reading_grade(MarkdownRenderer().render(f"{PLAIN_PROSE}\n\n{PLAIN_PROSE}\n\nInline code.\n",
                                                    "x.md").html)
    assert grade == plain
    assert grade < 8
    # The same sentence as prose does count: the exclusions above are what keep the grade low.
    assert reading_grade(MarkdownRenderer().render(body + "\n" + HARD_PROSE + "\n", "x.md").html) > 12


def test_a_list_item_without_a_full_stop_is_a_sentence_of_its_own():
    items = "\n".join(f"- pain when you move your arm number {n}" for n in range(8))
    html = MarkdownRenderer().render(items + "\n", "x.md").html
    assert reading_grade(html) < 4


# --- review dates -------------------------------------------------------------------------------

def test_a_last_review_date_in_the_future_is_an_error_at_its_line(clean_site):
    with_risks(clean_site, PLAIN_PROSE + "\n", FRONT_MATTER.replace("last_reviewed: 2026-11-01",
                                                                     "last_reviewed: 2026-12-01"))
    assert findings(clean_site) == [f"{RISKS}:6: error: last_reviewed: 2026-12-01 is in the future"]


def test_a_next_review_date_in_the_past_is_an_error_at_its_line(clean_site):
    front = FRONT_MATTER.replace("last_reviewed: 2025-01-01", "").replace(
        "last_reviewed: 2026-11-01\n", "last_reviewed: 2025-10-01\nnext_review: 2026-10-01\n")
    with_risks(clean_site, PLAIN_PROSE + "\n", front)
    assert findings(clean_site) == [
        f"{RISKS}:7: error: review overdue: the page was due for review on 2026-10-01 (next_review); "
        "review it and update last_reviewed"]


def test_without_next_review_the_interval_from_the_last_review_applies(clean_site):
    with_risks(clean_site, PLAIN_PROSE + "\n", FRONT_MATTER.replace("2026-11-01", "2025-11-20"))
    assert findings(clean_site) == [
        f"{RISKS}:6: error: review overdue: the page was due for review on 2026-11-20 "
        "(last_reviewed + 12 months); review it and update last_reviewed"]


def test_a_review_due_within_the_configured_days_is_a_warning(clean_site):
    with_risks(clean_site, PLAIN_PROSE + "\n", FRONT_MATTER.replace("2026-11-01", "2025-12-10"))
    assert findings(clean_site) == [
        f"{RISKS}:6: warning: review due soon: on 2026-12-10, in 15 day(s) (last_reviewed + 12 months)"]


# --- clinical review ----------------------------------------------------------------------------

def test_an_unreviewed_medical_article_is_a_warning_and_its_page_shows_the_notice(clean_site):
    with_risks(clean_site, PLAIN_PROSE + "\n", FRONT_MATTER.replace("reviewed_by: Dr A Example, MB BS\n", ""))
    assert findings(clean_site) == [
        f"{RISKS}:1: warning: not yet clinically reviewed: the page shows a 'Not yet clinically reviewed' "
        "notice until reviewed_by names a clinician"]
    config, _ = load_config(clean_site / "config.yaml")
    pages = {page.url: page.html for page in build(config, BuildOptions(write=False)).pages}
    notice = [visible_text(pages[url][tag.end:]) for url in ("/topic-a/risks/", "/topic-a/faq/")
              for tag in iter_tags(pages[url]) if "review-status" in tag.attrs.get("class", "")]
    assert len(notice) == 1 and notice[0].startswith("Not yet clinically reviewed.")


def test_the_page_shows_its_last_reviewed_and_next_review_due_dates(clean_site):
    config, _ = load_config(clean_site / "config.yaml")
    html = next(page.html for page in build(config, BuildOptions(write=False)).pages if page.url == "/topic-a/risks/")
    dates = [(visible_text(html[:tag.start])[-40:], tag.attrs["datetime"]) for tag in iter_tags(html)
             if tag.name == "time" and not tag.closing]
    assert any(text.endswith("last reviewed:") and day == "2026-11-01" for text, day in dates)
    assert any(text.endswith("Next review due:") and day == "2027-11-01" for text, day in dates)


def test_an_unreviewed_medical_article_is_an_error_when_the_config_requires_review(clean_site):
    config = clean_site / "config.yaml"
    config.write_text(config.read_text() + "review:\n  require_clinical_review: true\n", encoding="utf-8")
    with_risks(clean_site, PLAIN_PROSE + "\n", FRONT_MATTER.replace("reviewed_by: Dr A Example, MB BS\n", ""))
    assert findings(clean_site) == [
        f"{RISKS}:1: error: reviewed_by: missing; a clinician must review this medical article before it is "
        "published (review.require_clinical_review is true)"]


# --- topic completeness -------------------------------------------------------------------------

def test_a_topic_without_a_required_kind_is_an_error_naming_the_topic_folder(clean_site):
    (clean_site / "content/topic-a/indications.md").unlink()
    assert findings(clean_site) == [
        "content/topic-a/: error: topic 'topic-a' has no 'indications' article; add one with: "
        "python build.py new TITLE --topic topic-a --kind indications"]


def test_the_required_kinds_come_from_the_config(clean_site):
    (clean_site / "content/topic-a/indications.md").unlink()
    config = clean_site / "config.yaml"
    config.write_text(config.read_text() + "lint:\n  required_kinds: [mechanism, risks, faq]\n", encoding="utf-8")
    assert findings(clean_site) == []


# --- references ---------------------------------------------------------------------------------

def test_a_medical_article_without_references_is_an_error(clean_site):
    front = FRONT_MATTER.split("references:")[0] + "---\n"
    with_risks(clean_site, PLAIN_PROSE + "\n", front)
    assert findings(clean_site) == [
        f"{RISKS}:1: error: references: a medical article needs at least one reference"]


def test_each_reference_needs_a_title_and_a_way_to_find_it_and_a_bare_url_is_a_warning(clean_site):
    front = FRONT_MATTER.split("references:")[0] + textwrap.dedent("""\
        references:
          - https://example.org/a-study
          - title: A study with no way to find it
            journal: Journal of Tests
          - journal: Journal of Tests
            year: 2020
          - title: Found by its DOI
            doi: 10.1000/xyz
        ---
        """)
    with_risks(clean_site, PLAIN_PROSE + "\n", front)
    assert findings(clean_site) == [
        f"{RISKS}:9: warning: references[0]: a bare URL; give the source's title too "
        "(title: ..., url: https://example.org/a-study)",
        f"{RISKS}:10: error: references[1]: needs a url, a doi, or a journal and a year so readers can find it",
        f"{RISKS}:12: error: references[2]: needs a title"]


# --- images and headings ------------------------------------------------------------------------

def test_an_image_without_alt_text_is_an_error_unless_marked_decorative(clean_site):
    (clean_site / "content/topic-a/lozenge.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    with_risks(clean_site, f"""\
        {PLAIN_PROSE}

        ![A lozenge on a tongue](lozenge.png)

        ![](lozenge.png)

        ![](lozenge.png){{.decorative}}

        <img src="lozenge.png">
        """)
    assert findings(clean_site) == [
        f"{RISKS}:17: error: image 'lozenge.png' has no alt text: describe what it shows, e.g. "
        "![A lozenge on a tongue](lozenge.png), or mark a purely decorative image ![](lozenge.png){.decorative}",
        f"{RISKS}:21: error: image 'lozenge.png' has no alt text: describe what it shows, e.g. "
        "![A lozenge on a tongue](lozenge.png), or mark a purely decorative image ![](lozenge.png){.decorative}"]


def test_a_skipped_heading_level_and_a_body_h1_are_errors(clean_site):
    with_risks(clean_site, f"""\
        ## Common side effects

        {PLAIN_PROSE}

        #### Rare side effects

        {PLAIN_PROSE}

        # A second title

        ```
        # not a heading: code
        ```
        """)
    assert findings(clean_site) == [
        f"{RISKS}:17: error: heading 'Rare side effects' skips from level 2 to 4: use ###",
        f"{RISKS}:21: error: heading 'A second title' is level 1: the page title is the only level-1 heading; "
        "start sections at '##'"]


# --- patient safety -----------------------------------------------------------------------------

def test_a_dose_amount_is_a_warning_asking_for_clinical_sign_off(clean_site):
    with_risks(clean_site, f"""\
        {PLAIN_PROSE}

        A lozenge may hold 25 mg. Some people took 0.5mg/kg in studies.
        """)
    message = ("doses on a patient page need clinical sign-off; have a clinician approve it, "
               "or say that the prescriber decides the dose")
    assert findings(clean_site) == [f"{RISKS}:15: warning: dose amount '0.5mg/kg': {message}",
                                    f"{RISKS}:15: warning: dose amount '25 mg': {message}"]


SOURCING = ("a patient page must not point readers to buying or sourcing a prescription medicine (to warn "
            "against it, say so earlier in the same sentence: 'Never buy ...')")


def test_language_pointing_readers_to_buying_a_prescription_drug_is_an_error(clean_site):
    with_risks(clean_site, f"""\
        {PLAIN_PROSE}

        You can buy ketamine lozenges from our partner.
        Order online today with discreet shipping and
        no prescription needed.
        """)
    assert findings(clean_site) == [
        f"{RISKS}:15: error: sourcing language 'buy': {SOURCING}",
        f"{RISKS}:16: error: sourcing language 'Order online': {SOURCING}",
        f"{RISKS}:16: error: sourcing language 'discreet shipping': {SOURCING}",
        f"{RISKS}:17: error: sourcing language 'no prescription needed': {SOURCING}"]


def test_sourcing_words_in_a_warning_context_are_not_flagged(clean_site):
    with_risks(clean_site, """\
        Never buy ketamine without a prescription.

        It is illegal and unsafe to buy ketamine from a website.

        ## Can I buy it without a prescription?

        No. Only a prescriber can decide if it is right for you.

        **Can I order online?** Absolutely not.
        """)
    assert findings(clean_site) == []


def test_a_sourcing_question_answered_yes_is_flagged(clean_site):
    with_risks(clean_site, """\
        ## Can I buy it without a prescription?

        Yes, from the sellers below.
        """)
    assert findings(clean_site) == [f"{RISKS}:13: error: sourcing language 'buy': {SOURCING}",
                                    f"{RISKS}:13: error: sourcing language 'without a prescription': {SOURCING}"]


def test_the_word_lists_come_from_the_config(clean_site):
    config = clean_site / "config.yaml"
    config.write_text(config.read_text() + "lint:\n  sourcing_phrases: [pharmacy shop]\n  dose_patterns: []\n",
                      encoding="utf-8")
    with_risks(clean_site, "Buy 25 mg at the pharmacy shop.\n")
    assert findings(clean_site) == [f"{RISKS}:13: error: sourcing language 'pharmacy shop': {SOURCING}"]


# --- spam and residue ---------------------------------------------------------------------------

def test_a_sentence_repeated_three_times_on_a_page_is_an_error_at_its_first_line(clean_site):
    with_risks(clean_site, f"""\
        Ketamine lozenges for chronic pain

        {PLAIN_PROSE} Ketamine lozenges for chronic pain.

        **How strong is the evidence?** Weak.

        **How strong is the evidence?** Weak.

        **How strong is the evidence?** Weak.

        ## Ketamine Lozenges for Chronic Pain
        """)
    assert findings(clean_site) == [
        f"{RISKS}:13: error: repeated text: 'Ketamine lozenges for chronic pain' appears 3 times on this page "
        "(lines 13, 15, 23); keep it once",
        f"{RISKS}:17: error: repeated text: '**How strong is the evidence?' appears 3 times on this page "
        "(lines 17, 19, 21); keep it once"]


def test_a_phrase_repeated_in_a_run_is_keyword_stuffing(clean_site):
    with_risks(clean_site, f"""\
        {PLAIN_PROSE}

        Lozenges for pain >> Lozenges for pain >> Lozenges for pain
        """)
    assert findings(clean_site) == [
        f"{RISKS}:15: error: keyword stuffing: 'lozenges for pain' repeated 3 times in a row; remove the repeats"]


def test_leftover_web_furniture_is_an_error(clean_site):
    with_risks(clean_site, f"""\
        {PLAIN_PROSE}

        Leave a Reply
        """)
    assert findings(clean_site) == [
        f"{RISKS}:15: error: leftover web page text 'Leave a Reply': delete it (it comes from a copied page, "
        "not from the article)"]


# The project's shared material lies beside the checkout here and in this project's CI; a GitHub
# runner has only the repository.
@pytest.mark.skipif(os.environ.get("GITHUB_ACTIONS") == "true" and not SOURCE_ARTICLE.exists(),
                    reason="the shared source article is not beside a GitHub checkout")
def test_the_original_source_article_fails_with_each_spam_and_residue_finding_at_its_line(clean_site):
    source = SOURCE_ARTICLE.read_text(encoding="utf-8")
    write_risks(clean_site, FRONT_MATTER + source)

    def at(source_line: int) -> int:
        return BODY_LINE - 1 + source_line

    found = findings(clean_site)
    expected = [
        f"{RISKS}:{at(3)}: error: repeated text: 'Ketamine Lozenges for Chronic Pain' appears 4 times on this "
        f"page (lines {at(3)}, {at(5)}, {at(11)}, {at(35)}); keep it once",
        f"{RISKS}:{at(115)}: error: keyword stuffing: 'ketamine lozenges for chronic pain' repeated 6 times in "
        "a row; remove the repeats",
        f"{RISKS}:{at(118)}: error: leftover web page text 'Leave a Reply': delete it (it comes from a copied "
        "page, not from the article)",
        f"{RISKS}:{at(120)}: error: leftover web page text 'Your email address will not be published': delete "
        "it (it comes from a copied page, not from the article)",
        f"{RISKS}:{at(120)}: error: leftover web page text 'Required fields are marked': delete it (it comes "
        "from a copied page, not from the article)"]
    assert [f for f in expected if f not in found] == []
    # "Q: Can I purchase ketamine lozenges online without a prescription?  A: Absolutely not." is a warning.
    assert not [f for f in found if f.startswith(f"{RISKS}:{at(94)}:")]


# --- the command, the report page and the network -----------------------------------------------

# The fixture's risks page is a heading and this prose; the heading does not count.
RISKS_PROSE_GRADE = round(textstat.flesch_kincaid_grade(
    "Some people feel sick or dizzy. Tell your doctor if this happens to you."), 1)


def dated_for_today(site: Path) -> Path:
    """Make the fixture's review dates recent relative to the real today (the command uses the clock)."""
    recent = (dt.date.today() - dt.timedelta(days=30)).isoformat()
    for path in (site / "content").rglob("*.md"):
        path.write_text(path.read_text(encoding="utf-8").replace("2026-11-01", recent), encoding="utf-8")
    return site


def test_the_lint_command_prints_findings_and_grades_and_exits_1_on_errors(clean_site):
    dated_for_today(clean_site)
    (clean_site / "content/topic-a/faq.md").write_text(
        risks_page("Leave a Reply\n").replace("kind: risks", "kind: faq").replace("2026-11-01", (
            dt.date.today() - dt.timedelta(days=30)).isoformat()), encoding="utf-8")
    result = run_cli("lint", cwd=clean_site)
    assert result.returncode == 1, result.stderr
    assert ("content/topic-a/faq.md:13: error: leftover web page text 'Leave a Reply': delete it (it comes "
            "from a copied page, not from the article)") in result.stderr.splitlines()
    table = {line.split()[-1]: line.split()[:2] for line in result.stdout.splitlines()[1:]}
    assert table["content/topic-a/faq.md"][1] == "errors"
    assert table["content/topic-a/risks.md"] == [f"{RISKS_PROSE_GRADE:.1f}", "ok"]
    assert "Traceback" not in result.stderr


def test_the_lint_command_exits_0_on_a_clean_site_and_writes_json(clean_site):
    dated_for_today(clean_site)
    result = run_cli("lint", "--format", "json", cwd=clean_site)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["problems"] == []
    rows = {row["path"]: row for row in data["articles"]}
    assert set(rows) == {"content/index.md", *(f"content/topic-a/{k}.md" for k in
                                               ("faq", "indications", "mechanism", "risks"))}
    assert rows["content/topic-a/risks.md"]["grade"] == RISKS_PROSE_GRADE
    assert rows["content/topic-a/risks.md"]["status"] == "ok"
    assert rows["content/topic-a/risks.md"]["references"] == 1


def test_the_editors_report_is_written_beside_the_output_not_inside_it(clean_site):
    dated_for_today(clean_site)
    with_risks(clean_site, "Leave a Reply\n", FRONT_MATTER.replace(
        "2026-11-01", (dt.date.today() - dt.timedelta(days=30)).isoformat()))
    assert run_cli("lint", cwd=clean_site).returncode == 1
    assert run_cli("build", cwd=clean_site).returncode == 0
    page = (clean_site / "_report" / "index.html").read_text(encoding="utf-8")
    assert not (clean_site / "_site" / "_report").exists()
    tags = list(iter_tags(page))
    rows = [page[t.end:] for t in tags if t.name == "tr" and not t.closing][1:]
    assert len(rows) == 5
    risks = next(row[:row.index("</tr>")] for row in rows if "content/topic-a/risks.md" in row[:300])
    assert "Must fix" in visible_text(risks)
    assert "Line 13: Must fix: leftover web page text 'Leave a Reply'" in visible_text(risks)
    # No inline script or style, and nothing fetched from elsewhere.
    assert [t.attrs.get("src") for t in tags if t.name == "script" and not t.closing] == ["report.js"]
    assert not any(t.name == "style" or "style" in t.attrs for t in tags)
    assert not any(value.startswith(("http:", "https:", "//")) for t in tags for value in t.attrs.values())
    assert (clean_site / "_report" / "report.js").is_file() and (clean_site / "_report" / "report.css").is_file()


NO_NETWORK = """\
import socket

def _refuse(*args, **kwargs):
    raise OSError("network use is forbidden in this test")

socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
socket.create_connection = _refuse
socket.getaddrinfo = _refuse
"""


def test_lint_runs_with_no_network(clean_site, tmp_path):
    guard = tmp_path / "no-network"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(NO_NETWORK, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(guard), str(ROOT)])}
    probe = subprocess.run(
        [sys.executable, "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9')"],
        env=env, capture_output=True, text=True, timeout=60)
    assert "network use is forbidden" in probe.stderr  # the guard is in force in a child Python
    dated_for_today(clean_site)
    result = subprocess.run([sys.executable, str(ROOT / "build.py"), "lint"], cwd=clean_site,
                                          env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "content/topic-a/risks.md" in result.stdout


def test_the_report_table_sorts_by_a_column_in_a_real_browser_without_other_requests(clean_site, chromium):
    from browser_support import serve_folder
    with_risks(clean_site, FAIRLY_HARD_PROSE + "\n")
    config, _ = load_config(clean_site / "config.yaml")
    report = lint(clean_site)
    folder = write_report(report, config).parent
    grades = sorted(row.grade for row in report.articles)
    with serve_folder(folder) as base:
        page = chromium.new_page()
        requests, errors = [], []
        page.on("request", lambda request: requests.append(request.url))
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(base + "index.html")

        def column(index: int) -> list[str]:
            return page.eval_on_selector_all(
                "table.sortable tbody tr", f"rows => rows.map(row => row.cells[{index}].textContent.trim())")

        page.get_by_role("button", name="Reading grade").click()
        ascending = column(2)
        page.get_by_role("button", name="Reading grade").click()
        descending = column(2)
        sort_state = page.get_attribute("th:has(button:text('Reading grade'))", "aria-sort")
        page.context.close()
    assert ascending == [f"{grade:.1f}" for grade in grades]
    assert descending == ascending[::-1] and sort_state == "descending"
    assert errors == []
    assert all(url.startswith(base) for url in requests)


def test_todo_markers_from_the_scaffold_are_errors(tmp_path):
    from medsite.content import SourceFile, parse_article
    from medsite.lint import check_unfinished, source_lines
    text = ("---\ntitle: Risks\nsummary: \"TODO: one or two plain sentences\"\nkind: risks\n"
            "last_reviewed: 2026-11-01\n---\n## Common side effects\n\nTODO: list them.\n")
    article, problems = parse_article(SourceFile(tmp_path / "a.md", "t/a.md", "content/t/a.md"), text)
    assert problems == []
    found = [f"{p.line}: {p.message}" for p in check_unfinished(article, source_lines(article))]
    assert found == ["3: summary: unfinished: replace the TODO text",
                     "9: unfinished: 'TODO' left in the page; write the text or remove the marker"]
