"""How long an editor waits: from saving an article to seeing the change, in the preview of the real site.

`python bench/serve_reload.py [--saves N] [--article ketamine-lozenges/risks.md]` copies the project's
config, content, templates and static files to a temporary folder, starts `python build.py serve` on
a free port, and N times appends a new sentence to the article and measures:
- served: until the server answers the page with the new sentence (rebuild done and swapped in);
- browser: until an open Chromium tab has reloaded by itself and shows it (when /usr/bin/chromium exists).
The goal is under 0.5 s for both. The project's own files are never changed.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(PROJECT), str(PROJECT / "tests")]

from browser_support import CHROMIUM_PATH, launch_chromium  # noqa: E402
from test_serve import start_server  # noqa: E402
from test_serve_browser import wait_until, wait_until_live  # noqa: E402

GOAL_SECONDS = 0.5


def copy_real_site(folder: Path) -> Path:
    site = folder / "site"
    site.mkdir()
    shutil.copy(PROJECT / "config.yaml", site / "config.yaml")
    for name in ("content", "templates", "static"):
        shutil.copytree(PROJECT / name, site / name)
    return site


def page_url(article: str) -> str:
    return "/" + article.removesuffix(".md") + "/"


def measure(site: Path, article: str, saves: int, tab) -> tuple[list[float], list[float]]:
    served_times, browser_times = [], []
    served = start_server(site)
    try:
        url = page_url(article)
        assert served.get(url).status == 200, served.output()
        if tab is not None:
            tab.goto(served.url + url)
        for number in range(saves):
            if tab is not None:
                wait_until_live(tab)
            marker = f"Benchmark sentence number {number} was just saved."
            path = site / "content" / article
            saved = time.perf_counter()
            path.write_text(path.read_text(encoding="utf-8") + f"\n{marker}\n", encoding="utf-8")
            served.wait_for(url, lambda response: marker in response.body, timeout=30)
            served_times.append(time.perf_counter() - saved)
            if tab is not None:
                wait_until(tab, f"document.body.innerText.includes({marker!r})", timeout=30)
                browser_times.append(time.perf_counter() - saved)
            time.sleep(0.3)  # let the tab settle before the next save
    finally:
        served.stop()
    return served_times, browser_times


def summary(name: str, times: list[float]) -> str:
    if not times:
        return f"{name}: not measured"
    verdict = "meets" if max(times) < GOAL_SECONDS else "MISSES"
    return (f"{name}: median {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms "
            f"over {len(times)} saves ({verdict} the {GOAL_SECONDS * 1000:.0f} ms goal)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=10)
    parser.add_argument("--article", default="ketamine-lozenges/risks.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        site = copy_real_site(Path(folder))
        if Path(CHROMIUM_PATH).exists():
            from playwright.sync_api import sync_playwright
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                served_times, browser_times = measure(site, args.article, args.saves, browser.new_page())
                browser.close()
        else:
            served_times, browser_times = measure(site, args.article, args.saves, None)
    print(summary("save -> page served", served_times))
    print(summary("save -> browser tab shows it", browser_times))
    return 0


if __name__ == "__main__":
    sys.exit(main())
