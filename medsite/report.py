"""The editors' report: `_report/index.html` beside the output folder, never part of the published site.

One row per article (reading grade, review dates, status, references, findings) in a table that
sorts by any column with a small local script; it reads fine without the script too. The page
makes no requests to other sites and has no inline script or style.
"""
from __future__ import annotations

import collections
import functools
from pathlib import Path

from jinja2 import Environment
from markupsafe import Markup, escape

from .config import SiteConfig
from .lint import ArticleRow, LintReport
from .problems import Problem

REPORT_FOLDER = "_report"

STATUS_WORDS = {"errors": "Must fix", "warnings": "Check", "ok": "Ready"}
STATUS_ORDER = {"errors": 0, "warnings": 1, "ok": 2}  # the Status column sorts by it
SEVERITY_WORDS = {"error": "Must fix:", "warning": "Check:"}

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Content report: {{ config.title }}</title>
<link rel="stylesheet" href="report.css">
<script src="report.js" defer></script>
</head>
<body>
<main>
<h1>Content report: {{ config.title }}</h1>
<p>Checked on {{ report.today.isoformat() }}. {{ report.articles | length }} pages:
{{ counts.errors }} must be fixed, {{ counts.warnings }} to check, {{ counts.ok }} ready.
This report is for editors only; it is not published with the site.</p>
<h2>How to read it</h2>
<dl>
<dt>Reading grade</dt>
<dd>The US school grade a reader needs to follow the text easily (Flesch-Kincaid). Aim for
{{ policy.reading_grade_warning | round(1) }} or lower; above {{ policy.reading_grade_error | round(1) }} the page must be rewritten.
Headings, tables, code and the reference list are not counted.</dd>
<dt>Status</dt>
<dd><strong>Must fix</strong>: the site cannot be published until these are fixed.
<strong>Check</strong>: please look at these. <strong>Ready</strong>: nothing found.</dd>
<dt>Line</dt>
<dd>The line of the page's source file where the problem is.</dd>
</dl>
<p>Press a column heading to sort the table by it; press again to reverse the order.</p>
<table class="sortable">
<caption>Every page of the site</caption>
<thead>
<tr>
{%- for label, kind in columns %}
<th scope="col" data-sort="{{ kind }}"><button type="button">{{ label }}</button></th>
{%- endfor %}
</tr>
</thead>
<tbody>{{ rows }}
</tbody>
</table>
{%- if other %}
<h2>Other problems</h2>
<p>These are not about one page: a topic series, the config or the templates.</p>
<ul>
{%- for problem in other %}
<li class="{{ problem.severity }}">{{ problem.path }}{% if problem.line %}, line {{ problem.line }}{% endif %}: <strong>{{ severity_words[problem.severity] }}</strong> {{ problem.message }}</li>
{%- endfor %}
</ul>
{%- endif %}
</main>
</body>
</html>
"""

COLUMNS = [("Page", "text"), ("Kind", "text"), ("Reading grade", "number"), ("Last reviewed", "text"),
           ("Next review due", "text"), ("Status", "number"), ("References", "number"), ("Findings", "number")]

# Sorts the table by a column when its heading button is pressed; a second press reverses it.
SORT_SCRIPT = """\
"use strict";
document.querySelectorAll("table.sortable").forEach(function (table) {
  var headings = Array.prototype.slice.call(table.tHead.rows[0].cells);
  headings.forEach(function (heading, column) {
    heading.querySelector("button").addEventListener("click", function () {
      var ascending = heading.getAttribute("aria-sort") !== "ascending";
      headings.forEach(function (other) { other.removeAttribute("aria-sort"); });
      heading.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      var numeric = heading.dataset.sort === "number";
      var value = function (row) {
        var text = row.cells[column].dataset.value;
        return numeric ? (text === "" ? -Infinity : parseFloat(text)) : text.toLowerCase();
      };
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = value(a), y = value(b);
        var order = x < y ? -1 : x > y ? 1 : 0;
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""

STYLE = """\
body { font: 16px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 90rem; padding: 1rem; color: #1b1b1b; }
table { border-collapse: collapse; width: 100%; }
caption { text-align: left; font-weight: bold; padding: 0.5rem 0; }
th, td { border: 1px solid #bbb; padding: 0.4rem; text-align: left; vertical-align: top; }
thead th { background: #eee; }
th button { font: inherit; font-weight: bold; background: none; border: 0; padding: 0; cursor: pointer;
  text-decoration: underline; }
td.date { white-space: nowrap; }
dt { font-weight: bold; }
th[aria-sort="ascending"] button::after { content: " \\25B2"; }
th[aria-sort="descending"] button::after { content: " \\25BC"; }
.path { font-weight: normal; font-size: 0.85em; color: #444; }
.status { font-weight: bold; padding: 0 0.3rem; }
.status.errors { background: #fdd; color: #7a0000; }
.status.warnings { background: #fff2c2; color: #5c4400; }
.status.ok { background: #dfd; color: #0b4d0b; }
td ul { margin: 0; padding-left: 1.2rem; }
li.error strong { color: #7a0000; }
li.warning strong { color: #5c4400; }
"""


def report_folder(config: SiteConfig) -> Path:
    """`_report/` beside the output folder, so publishing the output never publishes the report."""
    return config.output_path.parent / REPORT_FOLDER


def render_report(report: LintReport, config: SiteConfig) -> str:
    statuses = collections.Counter(row.status for row in report.articles)
    counts = {status: statuses[status] for status in STATUS_WORDS}
    template = Environment(autoescape=True).from_string(_PAGE)
    return template.render(report=report, config=config, policy=config.lint, counts=counts, columns=COLUMNS,
                           rows=Markup("".join(map(_row_html, report.articles))), other=report.other_problems,
                           severity_words=SEVERITY_WORDS)


def _row_html(row: ArticleRow) -> str:
    """One table row. Written out in Python rather than a template loop: on a site of thousands of
    pages the loop cost a second per report. Every value is escaped as the template would."""
    status = row.status
    grade = "" if row.grade is None else escape(row.grade)
    shown_grade = "–" if row.grade is None else f"{row.grade:.1f}"
    unreviewed = "<br>Not yet clinically reviewed" if not row.reviewers and row.kind != "page" else ""
    findings = "None"
    if row.findings:
        findings = "<ul>" + "".join(map(_finding_html, sorted(row.findings, key=lambda p: p.line))) + "\n</ul>"
    title, kind = escape(row.title), escape(row.kind)
    return (f'\n<tr class="{status}">\n'
            f'<th scope="row" data-value="{title}">{title}<br><span class="path">{escape(row.path)}</span></th>\n'
            f'<td data-value="{kind}">{kind}</td>\n'
            f'<td data-value="{grade}">{shown_grade}</td>\n'
            f'<td class="date" data-value="{row.last_reviewed.isoformat()}">{row.last_reviewed.isoformat()}</td>\n'
            f'<td class="date" data-value="{row.next_review.isoformat()}">{row.next_review.isoformat()}</td>\n'
            f'<td data-value="{STATUS_ORDER[status]}"><span class="status {status}">'
            f'{STATUS_WORDS[status]}</span>{unreviewed}</td>\n'
            f'<td data-value="{escape(row.references)}">{escape(row.references)}</td>\n'
            f'<td data-value="{len(row.findings)}">{findings}</td>\n</tr>')


def _finding_html(problem: Problem) -> str:
    line = f"Line {problem.line}: " if problem.line else ""
    return f'\n<li class="{problem.severity}">{line}{_severity_and_message(problem.severity, problem.message)}'


@functools.lru_cache(maxsize=4096)
def _severity_and_message(severity: str, message: str) -> str:
    """The escaped end of a finding's item: one message ('not yet clinically reviewed...') comes on
    page after page."""
    return f'<strong>{SEVERITY_WORDS[severity]}</strong> {escape(message)}</li>'


def write_report(report: LintReport, config: SiteConfig) -> Path:
    """Write the report page with its script and style; return the page's path."""
    folder = report_folder(config)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.js").write_text(SORT_SCRIPT, encoding="utf-8")
    (folder / "report.css").write_text(STYLE, encoding="utf-8")
    page = folder / "index.html"
    page.write_text(render_report(report, config), encoding="utf-8")
    return page


__all__ = ["write_report", "render_report", "report_folder"]
