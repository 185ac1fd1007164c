"""Shared fixtures: tiny whole sites built in temporary folders."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SITES = Path(__file__).resolve().parent / "sites"


def write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


@pytest.fixture
def make_site(tmp_path):
    """Copy the `minimal` fixture site (real templates and static files) and apply overrides."""

    def make(files: dict[str, str] | None = None, base: str = "minimal") -> Path:
        return new_site(tmp_path / "site", files, base)

    return make


def new_site(site: Path, files: dict[str, str] | None = None, base: str = "minimal") -> Path:
    """Make a fixture site at `site`: tests/sites/<base> plus the real templates and static files."""
    shutil.copytree(SITES / base, site)
    shutil.copytree(ROOT / "templates", site / "templates")
    shutil.copytree(ROOT / "static", site / "static")
    write(site, files or {})
    return site


def installed_tool(name: str) -> str:
    """A command installed with the test packages: beside this Python (in .venv/bin), which need not
    be on PATH (`bash scripts/test` does not activate the environment)."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else name


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `python build.py ...` as a user would; returns the completed process."""
    return subprocess.run([sys.executable, str(ROOT / "build.py"), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def pytest_terminal_summary(terminalreporter):
    """Print the result lines CI looks for (also under xdist, where test output is not shown).

    The bad-input suite's count, and any test's `record_property("summary", text)`.
    """
    reports = [report for status in ("passed", "failed", "error") for report in terminalreporter.stats.get(status, [])]
    cases = {r.nodeid for r in reports if "test_a_broken_input_gives_a_located_error" in r.nodeid}
    if cases:
        clean = {r.nodeid for r in reports if r.nodeid in cases and r.when == "call" and r.passed}
        terminalreporter.write_line(f"bad-input suite: {len(cases)} cases, {len(clean)} gave a clean error "
                                    "with the previous site intact")
    for report in reports:
        for name, value in getattr(report, "user_properties", []):
            if name == "summary" and report.when == "call":
                terminalreporter.write_line(str(value))


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium, started once per test process: Playwright's sync API allows only one
    running instance per thread, so every browser test shares this one (each opens its own page)."""
    from browser_support import CHROMIUM_PATH, launch_chromium
    if not Path(CHROMIUM_PATH).exists():
        missing = f"no browser at {CHROMIUM_PATH}: install Debian's chromium (scripts/test does)"
        if os.environ.get("CI"):
            pytest.fail(missing)  # in CI a skipped browser test would hide a broken install
        pytest.skip(missing)
    playwright_sync = pytest.importorskip("playwright.sync_api")
    with playwright_sync.sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()
