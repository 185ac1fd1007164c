"""The real built site through the standard validators: the Nu HTML checker and Lighthouse.

Both come pinned from package.json/package-lock.json (`npm ci`, which scripts/test runs);
Lighthouse drives Debian's /usr/bin/chromium with the same flags as the browser tests.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from browser_support import CHROMIUM_ARGS, CHROMIUM_PATH, page_urls, served_real_site
from conftest import ROOT

VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
LIGHTHOUSE_PAGES = {"home": "/", "article": "/ketamine-lozenges/risks/", "faq": "/ketamine-lozenges/faq/"}
CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]
MINIMUM_SCORE = 0.95


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with served_real_site(tmp_path_factory.mktemp("validators")) as served:
        yield served


def require(path, what: str) -> None:
    if not path.exists():
        pytest.fail(f"{what} is missing ({path}): run `npm ci` (scripts/test does)")


def test_every_page_is_valid_html_by_the_nu_checker(site):
    require(VNU, "the Nu HTML checker (vnu-jar)")
    if shutil.which("java") is None:
        pytest.fail("java is needed to run the Nu HTML checker")
    folder, _ = site
    files = sorted(str(path) for path in folder.rglob("*.html"))
    assert len(files) == len(page_urls(folder)) > 5
    # (`--errors-only` with `--format json` prints nothing at all, so filter the full report.)
    run = subprocess.run(["java", "-jar", str(VNU), "--format", "json", *files],
                         capture_output=True, text=True, timeout=300)
    messages = json.loads(run.stderr)["messages"]
    errors = [f"{m.get('url', '').split(str(folder))[-1]}:{m.get('lastLine', 0)}: {m['message']}"
              for m in messages if m["type"] in ("error", "non-document-error")]
    assert errors == [], "\n".join(errors)
    assert run.returncode == 0, run.stderr[-2000:]


def test_lighthouse_scores_home_an_article_and_the_faq_at_least_0_95_in_every_category(site, tmp_path,
                                                                                      record_property):
    require(LIGHTHOUSE, "Lighthouse")
    _, base_url = site
    environment = dict(os.environ, CHROME_PATH=CHROMIUM_PATH)
    scores, failures = {}, []
    for name, url in LIGHTHOUSE_PAGES.items():
        report = tmp_path / f"{name}.json"
        run = subprocess.run([str(LIGHTHOUSE), base_url + url.lstrip("/"), "--quiet", "--output=json",
                              f"--output-path={report}", f"--only-categories={','.join(CATEGORIES)}",
                              f"--chrome-flags={' '.join(CHROMIUM_ARGS)}"],
                             capture_output=True, text=True, timeout=180, env=environment)
        assert run.returncode == 0, run.stderr[-2000:]
        result = json.loads(report.read_text(encoding="utf-8"))
        scores[name] = {c: result["categories"][c]["score"] for c in CATEGORIES}
        outside = sorted({item["url"] for item in result["audits"]["network-requests"]["details"]["items"]
                          if not item["url"].startswith(base_url)})
        assert outside == [], f"{name}: requests to other hosts: {outside}"
        for category in CATEGORIES:
            if (scores[name][category] or 0) < MINIMUM_SCORE:
                weak = [ref["id"] for ref in result["categories"][category]["auditRefs"]
                        if ref["weight"] and (result["audits"][ref["id"]]["score"] or 0) < 1]
                failures.append(f"{name} {category} {scores[name][category]}: {weak}")
    # Shown at the end of every pytest run, xdist included (conftest's terminal summary).
    record_property("summary", "Lighthouse scores (" + ", ".join(CATEGORIES) + "):\n" + "\n".join(
        f"  {name:8} " + "  ".join(f"{by_category[c]:.2f}" for c in CATEGORIES) for name, by_category in scores.items()))
    assert failures == []
