"""Time the link checker of `build.py check` on generated sites (targets: 1,000 articles < 2 s,
10,000 < 5 s on a 2-core machine).

`python bench/check_links.py [N ...]` generates each corpus with bench/corpus.py, builds it (not
timed), then times the link check of the staged output: scanning every page, resolving every link
and locating the broken ones. `bench_check(site_dir)` is the same for a folder holding a
config.yaml, for bench/run.py to import.
"""
from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import generate  # noqa: E402

from medsite.build import BuildOptions, build  # noqa: E402
from medsite.config import load_config  # noqa: E402
from medsite.links import check_output  # noqa: E402

TARGETS = {1000: 2.0, 10000: 5.0}  # articles -> seconds
CPU_SECONDS: list[float] = []  # of each bench_check, workers included: on a shared box wall time misleads


def bench_check(site_dir: Path) -> float:
    """Seconds the link check takes on the site whose config.yaml is in `site_dir` (build not timed)."""
    config, problems = load_config(Path(site_dir) / "config.yaml")
    if config is None:
        raise SystemExit("\n".join(map(str, problems)))
    timings: list[float] = []
    found: list = []

    def timed_check(staged: Path, result):
        started, cpu = time.perf_counter(), _cpu_seconds()
        report = check_output(staged, config, result)
        timings.append(time.perf_counter() - started)
        CPU_SECONDS.append(_cpu_seconds() - cpu)
        found.extend(report.problems)
        return []

    result = build(config, BuildOptions(), checks=(timed_check,))
    if not timings:
        raise SystemExit("the build failed before the check:\n" + "\n".join(map(str, result.problems)))
    if found:
        raise SystemExit("the generated site has broken links:\n" + "\n".join(map(str, found[:10])))
    return timings[0]


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished workers (the check forks some on big sites)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("articles", type=int, nargs="*", default=sorted(TARGETS))
    args = parser.parse_args()
    for count in args.articles:
        with tempfile.TemporaryDirectory() as folder:
            generate(Path(folder), count)
            seconds = bench_check(Path(folder))
        target = TARGETS.get(count)
        verdict = "" if target is None else f" (target < {target:g} s: {'met' if seconds < target else 'MISSED'})"
        print(f"check_links: {count} articles: {seconds:.2f} s wall, {CPU_SECONDS[-1]:.2f} s CPU{verdict}")


if __name__ == "__main__":
    main()
