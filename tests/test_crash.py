"""Atomic under a crash: a build killed at any moment leaves the old site or the new one, never a mix.

A 300-article site is built twice to know both complete trees (old and new content differ by a
marker on every page). Then builds from one to the other are killed with SIGKILL at random moments
across the build (seeded, so a failure can be replayed); after each, the output folder must equal
one of the two trees exactly. A last, uninterrupted build must clean up what the killed ones left.
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, run_cli

ARTICLES = 300
TOPICS = 30  # ten articles a series, like a real site (and no one page lists all 300)
TRIALS = 24
SEED = 20261125

BODY = "\n\n".join(f"## Part {part}\n\n" + "A sentence about this part of the treatment. " * 25
                   for part in range(6))


def write_content(site: Path, marker: str) -> None:
    for number in range(ARTICLES):
        path = site / "content" / f"series-{number % TOPICS:02}" / f"article-{number:03}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"---\ntitle: Article {number} {marker}\nsummary: Generated article {number}.\n"
                        f"kind: faq\norder: {number}\nlast_reviewed: 2026-11-01\n---\n"
                        f"Version {marker}.\n\n{BODY}\n", encoding="utf-8")


def snapshot(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def leftovers(site: Path) -> list[str]:
    return sorted(path.name for path in site.iterdir() if path.name.startswith(".medsite-"))


@pytest.fixture
def big_site(make_site) -> Path:
    site = make_site()
    config = yaml.safe_load((site / "config.yaml").read_text(encoding="utf-8"))
    config["topics"].update({f"series-{n:02}": {"title": f"Series {n}", "summary": f"Generated series {n}."}
                             for n in range(TOPICS)})
    (site / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return site


def build_fully(site: Path) -> float:
    started = time.perf_counter()
    result = run_cli("build", cwd=site)
    assert result.returncode == 0, result.stderr
    return time.perf_counter() - started


def killed_build(site: Path, after: float) -> None:
    """Start a build and SIGKILL it (and anything it started) `after` seconds later."""
    process = subprocess.Popen([sys.executable, str(ROOT / "build.py"), "build"], cwd=site,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        process.wait(timeout=after)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass  # it had finished
    process.wait()


def test_a_build_killed_at_random_moments_leaves_the_old_or_the_new_site_and_recovers(big_site, record_property):
    site = big_site
    trees, durations = {}, []
    for marker in ("OLD", "NEW"):
        write_content(site, marker)
        durations.append(build_fully(site))
        trees[marker] = snapshot(site / "_site")
    assert len(trees["OLD"]) > ARTICLES
    changed = [name for name in trees["OLD"] if trees["OLD"][name] != trees["NEW"].get(name)]
    assert len(changed) >= ARTICLES, "old and new sites must differ on every article page"
    duration = min(durations)

    rng = random.Random(SEED)
    shown, outcomes, killed_mid_write = "NEW", {"old": 0, "new": 0}, 0
    for _ in range(TRIALS):
        target = "OLD" if shown == "NEW" else "NEW"
        write_content(site, target)
        killed_build(site, rng.uniform(0, duration))
        tree = snapshot(site / "_site")
        assert tree in (trees[shown], trees[target]), (
            f"after a kill the output is neither the complete old nor the complete new site: "
            f"{sum(tree.get(n) == trees[target][n] for n in trees[target])} of {len(trees[target])} files new")
        if tree == trees[target]:
            outcomes["new"] += 1
            shown = target
        else:
            outcomes["old"] += 1
            killed_mid_write += bool(leftovers(site))

    assert outcomes["old"] and outcomes["new"], f"kill times missed a stage of the build: {outcomes}"
    stale = leftovers(site)
    build_fully(site)
    assert snapshot(site / "_site") == trees[target]
    assert leftovers(site) == [], "the next build must remove the folders of killed builds"
    record_property("summary", f"crash test: {TRIALS} SIGKILL trials across a {ARTICLES}-article build "
                               f"(~{duration:.1f} s): {outcomes['old']} left the old site "
                               f"({killed_mid_write} while writing), {outcomes['new']} the new one, none a mix; "
                               f"the next build removed {len(stale)} leftover folder(s)")
