"""The editors' report rows, written out in Python: every value escaped, findings by line."""
from __future__ import annotations

import datetime as dt

from medsite.config import load_config
from medsite.lint import ArticleRow, LintReport
from medsite.problems import error, warning
from medsite.report import render_report



def test_rows_escape_every_value_and_list_findings_by_line(make_site):
    config, problems = load_config(make_site() / "config.yaml")
    assert config is not None, problems
    path = "content/a<b>.md"
    row = ArticleRow(path, 'Risks <b>& "more"</b>', "/a/", "risks", None, dt.date(2026, 1, 2), dt.date(2027, 1, 2),
                     [], 2, [warning(path, 9, "later <i>"), error(path, 0, "whole page & more")])
    html = render_report(LintReport(dt.date(2026, 11, 25), articles=[row]), config)
    assert ('<th scope="row" data-value="Risks &lt;b&gt;&amp; &#34;more&#34;&lt;/b&gt;">Risks &lt;b&gt;&amp; '
            '&#34;more&#34;&lt;/b&gt;<br><span class="path">content/a&lt;b&gt;.md</span></th>') in html
    assert '<td data-value="">–</td>' in html
    assert "Not yet clinically reviewed" in html
    assert ('<ul>\n<li class="error"><strong>Must fix:</strong> whole page &amp; more</li>\n'
            '<li class="warning">Line 9: <strong>Check:</strong> later &lt;i&gt;</li>\n</ul>') in html
    assert "<script" not in html.split("<body>")[1]
