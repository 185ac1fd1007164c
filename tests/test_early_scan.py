"""`check` checks the live output's links in a process forked at its start (links.EarlyScan), while
the build loads the site. Its findings serve only a check of that same live output, and any failure
of it leaves the check to scan as before: the problems are always those of a check from scratch."""
from __future__ import annotations

import contextlib
import os

import pytest

from conftest import run_cli
from test_check_in_place import defective_sites, problem_lines
from medsite import links
from medsite.cli import make_parser


def check_in_process(site, capsys) -> tuple[int, list[str]]:
    """`check` run in this process in the site's folder, as `run_cli` runs it: exit code, problem lines."""
    args = make_parser().parse_args(["check"])
    with contextlib.chdir(site):
        code = args.run(args)
    lines = capsys.readouterr().err.splitlines()
    return code, sorted(line for line in lines if ": error: " in line or ": warning: " in line)


@pytest.fixture
def findings_taken(monkeypatch):
    """What each EarlyScan.findings_of call gave the check: the folder asked about, and the findings."""
    taken = []
    original = links.EarlyScan.findings_of

    def recording(self, folder):
        findings = original(self, folder)
        taken.append((folder, findings))
        return findings
    monkeypatch.setattr(links.EarlyScan, "findings_of", recording)
    return taken


def test_a_check_in_place_takes_the_early_findings_and_reports_what_a_check_from_scratch_does(
        tmp_path, findings_taken, capsys):
    from_scratch, built_first = defective_sites(tmp_path)
    expected = run_cli("check", cwd=from_scratch)
    assert run_cli("build", cwd=built_first).returncode == 0

    code, problems = check_in_process(built_first, capsys)

    assert len(findings_taken) == 1
    folder, findings = findings_taken[0]
    assert folder.resolve() == (built_first / "_site").resolve() and findings is not None  # the live output, checked early
    assert findings.broken and findings.pages > 0
    assert code == expected.returncode == 1
    assert problems == problem_lines(expected)


def test_the_early_findings_of_a_stale_live_site_are_not_used(make_site, findings_taken, capsys):
    site = make_site(base="lint-clean")
    assert run_cli("build", cwd=site).returncode == 0
    home = site / "_site/index.html"  # broken by hand: the early scan finds it, the staged site has not
    home.write_text(home.read_text(encoding="utf-8").replace("</main>", '<a href="/gone/">gone</a></main>'),
                    encoding="utf-8")

    code, problems = check_in_process(site, capsys)

    assert code == 0, problems
    assert [findings for _, findings in findings_taken] == [None]  # asked about the staged folder
    assert "gone" not in home.read_text(encoding="utf-8")


def test_a_failed_early_scan_leaves_the_check_to_scan_again(tmp_path, findings_taken, monkeypatch, capsys):
    from_scratch, built_first = defective_sites(tmp_path)
    expected = run_cli("check", cwd=from_scratch)
    assert run_cli("build", cwd=built_first).returncode == 0
    checking, original = os.getpid(), links.find_broken

    def failing_when_forked(*args, **kwargs):
        if os.getpid() != checking:
            raise OSError("the early scan fails")
        return original(*args, **kwargs)
    monkeypatch.setattr(links, "find_broken", failing_when_forked)

    code, problems = check_in_process(built_first, capsys)

    assert [findings for _, findings in findings_taken] == [None]
    assert code == expected.returncode == 1
    assert problems == problem_lines(expected)


def test_a_build_that_fails_waits_for_the_early_scan(make_site, capsys):
    site = make_site(base="lint-clean")
    assert run_cli("build", cwd=site).returncode == 0
    (site / "templates/base.html").write_text("{% block broken", encoding="utf-8")

    code, problems = check_in_process(site, capsys)

    assert code == 1 and any("base.html" in line for line in problems)
    assert not [child for child in __import__("multiprocessing").active_children()]
    assert not list((site / ".medsite-cache").glob("*.tmp"))  # the scan saved its cache whole
