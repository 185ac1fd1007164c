"""Shared fixtures: tiny whole sites built in temporary folders."""
from __future__ import annotations

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
        site = tmp_path / "site"
        shutil.copytree(SITES / base, site)
        shutil.copytree(ROOT / "templates", site / "templates")
        shutil.copytree(ROOT / "static", site / "static")
        write(site, files or {})
        return site

    return make


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `python build.py ...` as a user would; returns the completed process."""
    return subprocess.run([sys.executable, str(ROOT / "build.py"), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)
