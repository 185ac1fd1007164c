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

BODY = "\n\n".join(f"## Part {part}\n\n" + "A sentence about this part of the treatment. " * 12
                   for part in range(3))


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


# What a build keeps beside the output on purpose (see output.py and cache.py); anything else
# named .medsite-* was left by a build that did not finish.
KEPT = {".medsite-cache", ".medsite-_site.spare", ".medsite-_site.lock"}


def leftovers(site: Path) -> list[str]:
    return sorted(path.name for path in site.iterdir() if path.name.startswith(".medsite-") and path.name not in KEPT)


@pytest.fixture
def big_site(make_site) -> Path:
    site = make_site()
    config = yaml.safe_load((site / "config.yaml").read_text(encoding="utf-8"))
    config["topics"].update({f"series-{n:02}": {"title": f"Series {n}", "summary": f"Generated series {n}."}
                             for n in range(TOPICS)})
    (site / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return site


def build_fully(site: Path, *args: str) -> float:
    started = time.perf_counter()
    result = run_cli("build", *args, cwd=site)
    assert result.returncode == 0, result.stderr
    return time.perf_counter() - started


def killed_build(site: Path, args: tuple[str, ...], after: float) -> int:
    """Start a build, SIGKILL it (and any worker it started) `after` seconds later; return its pid."""
    process = subprocess.Popen([sys.executable, str(ROOT / "build.py"), "build", *args], cwd=site,
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
    return process.pid


def test_a_build_killed_at_random_moments_leaves_the_old_or_the_new_site_and_recovers(big_site, record_property):
    site = big_site
    trees = {}
    for marker in ("OLD", "NEW"):
        write_content(site, marker)
        build_fully(site)
        trees[marker] = snapshot(site / "_site")
    changed = [name for name in trees["OLD"] if trees["OLD"][name] != trees["NEW"].get(name)]
    assert len(changed) >= ARTICLES, "old and new sites must differ on every article page"
    # Both ways of building, timed: with the build cache (now warm) and without it (Markdown in workers).
    modes = {(): 0.0, ("--no-cache",): 0.0}
    for marker, args in zip(("OLD", "NEW"), modes):
        write_content(site, marker)
        modes[args] = build_fully(site, *args)
        assert snapshot(site / "_site") == trees[marker], "the build must be deterministic"

    rng = random.Random(SEED)
    shown, outcomes = "NEW", {"old": 0, "new": 0}
    for trial in range(TRIALS):
        target = "OLD" if shown == "NEW" else "NEW"
        write_content(site, target)
        args = list(modes)[trial % len(modes)]
        # Up to 1.5x the timed build, so that the late stages (the swap) are hit even when a
        # loaded machine makes this build slower than the timed one.
        dead_pid = killed_build(site, args, rng.uniform(0, 1.5 * modes[args]))
        tree = snapshot(site / "_site")
        complete = tree == trees[shown] or tree == trees[target]
        assert complete, (
            f"after a kill the output is neither the complete old nor the complete new site: "
            f"{sum(tree.get(n) == trees[target][n] for n in trees[target])} of {len(trees[target])} files new")
        outcome = "new" if tree == trees[target] else "old"
        outcomes[outcome] += 1
        shown = target if outcome == "new" else shown

    assert outcomes["old"] and outcomes["new"], f"kill times missed a stage of the build: {outcomes}"
    # As a build killed between two renames leaves it (output.py's fallback where renameat2 is missing).
    planted = site / f".medsite-_site.old-{dead_pid}"
    planted.mkdir(exist_ok=True)
    (planted / "index.html").write_text("half of an old site", encoding="utf-8")
    stale = leftovers(site)
    build_fully(site)
    assert snapshot(site / "_site") == trees[target]
    assert leftovers(site) == [], "the next build must remove what killed builds left"
    record_property("summary", f"crash test: {TRIALS} SIGKILL trials across a {ARTICLES}-article build "
                               f"({modes[()]:.1f} s cached, {modes[('--no-cache',)]:.1f} s uncached): "
                               f"{outcomes['old']} left the old site, {outcomes['new']} the new one, none a mix; "
                               f"the next build removed {len(stale)} leftover(s)")
