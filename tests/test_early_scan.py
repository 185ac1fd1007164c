"""`check` checks the live output's links in a process forked at its start (links.EarlyScan), while
the build loads the site. Its findings serve only a check of that same live output, and any failure
of it leaves the check to scan as before: the problems are always those of a check from scratch.

Each check runs in a process of its own, as `python build.py check` does: the early scan forks only
from a process with no other threads, and a test worker may have some.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, run_cli
from test_check_in_place import defective_sites, problem_lines

# `check` in the site's folder, recording what each EarlyScan.findings_of gave the check (the folder
# asked about, and a summary of the findings) in the file named by argv[1]. With argv[2] == "fail",
# the early scan fails in its own process.
RECORDING_CHECK = """
import json, os, sys
from pathlib import Path
from medsite import links
from medsite.cli import main

taken = []
original = links.EarlyScan.findings_of

def recording(self, folder):
    findings = original(self, folder)
    taken.append([str(Path(folder).resolve()),
                  None if findings is None else {"broken": len(findings.broken), "pages": findings.pages}])
    return findings

if sys.argv[2] == "fail":
    checking, find_broken = os.getpid(), links.find_broken

    def failing_when_forked(*args, **kwargs):
        if os.getpid() != checking:
            raise OSError("the early scan fails")
        return find_broken(*args, **kwargs)
    links.find_broken = failing_when_forked

links.EarlyScan.findings_of = recording
code = main(["check"])
Path(sys.argv[1]).write_text(json.dumps({"code": code, "taken": taken}))
"""


def recorded_check(site: Path, early: str = "as is") -> tuple[int, list[str], list]:
    """(exit code, problem lines, what each findings_of call gave) of `check` in `site`."""
    record = site.parent / f"{site.name}-record.json"
    done = subprocess.run([sys.executable, "-c", RECORDING_CHECK, str(record), early], cwd=site,
                          capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert record.exists(), done.stderr
    recorded = json.loads(record.read_text())
    return recorded["code"], problem_lines(done), recorded["taken"]


def test_a_check_in_place_takes_the_early_findings_and_reports_what_a_check_from_scratch_does(tmp_path):
    from_scratch, built_first = defective_sites(tmp_path)
    expected = run_cli("check", cwd=from_scratch)
    assert run_cli("build", cwd=built_first).returncode == 0

    code, problems, taken = recorded_check(built_first)

    assert len(taken) == 1
    folder, findings = taken[0]
    assert folder == str((built_first / "_site").resolve())  # the live output, checked early
    assert findings is not None and findings["broken"] > 0 and findings["pages"] > 0
    assert code == expected.returncode == 1
    assert problems == problem_lines(expected)


def test_the_early_findings_of_a_stale_live_site_are_not_used(make_site):
    site = make_site(base="lint-clean")
    assert run_cli("build", cwd=site).returncode == 0
    home = site / "_site/index.html"  # broken by hand: the early scan finds it, the staged site has not
    home.write_text(home.read_text(encoding="utf-8").replace("</main>", '<a href="/gone/">gone</a></main>'),
                    encoding="utf-8")

    code, problems, taken = recorded_check(site)

    assert code == 0, problems
    assert [findings for _, findings in taken] == [None]  # asked about the staged folder
    assert "gone" not in home.read_text(encoding="utf-8")


def test_a_failed_early_scan_leaves_the_check_to_scan_again(tmp_path):
    from_scratch, built_first = defective_sites(tmp_path)
    expected = run_cli("check", cwd=from_scratch)
    assert run_cli("build", cwd=built_first).returncode == 0

    code, problems, taken = recorded_check(built_first, early="fail")

    assert [findings for _, findings in taken] == [None]
    assert code == expected.returncode == 1
    assert problems == problem_lines(expected)


def test_a_build_that_fails_waits_for_the_early_scan_to_save_its_cache(make_site):
    site = make_site(base="lint-clean")
    assert run_cli("build", cwd=site).returncode == 0  # a build leaves the links cache empty
    assert not list((site / ".medsite-cache").glob("links-*.pickle"))
    (site / "templates/base.html").write_text("{% block broken", encoding="utf-8")

    code, problems, taken = recorded_check(site)

    assert code == 1 and any("base.html" in line for line in problems)
    assert taken == []  # no link check after a failed build
    assert list((site / ".medsite-cache").glob("links-*.pickle"))  # but the early scan's, saved whole
    assert not list((site / ".medsite-cache").glob("*.tmp"))
