"""The site config is typed: unknown keys, missing keys and wrong types are all reported with lines."""
from __future__ import annotations

from pathlib import Path

from dataclasses import fields

from medsite.config import SiteConfig, load_config

GOOD = """\
title: A site
tagline: A line
base_url: https://example.org/
publisher: Editors
"""


def load(tmp_path: Path, text: str):
    (tmp_path / "content").mkdir(exist_ok=True)
    (tmp_path / "templates").mkdir(exist_ok=True)
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return load_config(path)


def messages(problems) -> list[str]:
    return [f"{p.line}: {p.message}" for p in problems]


def test_loads_a_minimal_config_with_defaults(tmp_path):
    config, problems = load(tmp_path, GOOD)
    assert problems == []
    assert config.language == "en" and config.output_path == tmp_path / "_site"
    assert config.review.interval_months == 12 and config.review.require_clinical_review is False
    assert config.content_path == tmp_path / "content"


def test_reports_every_config_problem_at_once_with_key_paths_and_lines(tmp_path):
    config, problems = load(tmp_path, """\
title: [not, text]
tagline: A line
base_url: https://example.org/
colour: blue
review:
  interval_months: ten
  require_clinical_reveiw: true
nav:
  - title: Home
""")
    assert config is None
    assert messages(problems) == [
        "1: title: expected text, got a list",
        "4: colour: unknown key; allowed: " + ALLOWED,
        "6: review.interval_months: expected a whole number, got 'ten'",
        "7: review.require_clinical_reveiw: unknown key (did you mean 'require_clinical_review'?); allowed: "
        "interval_months, due_soon_days, require_clinical_review",
        "9: nav[0].link: missing required key (text)",
        "1: publisher: missing required key (text)",
    ]
    assert all(p.path.endswith("config.yaml") for p in problems)


ALLOWED = ", ".join(f.name for f in fields(SiteConfig) if f.init and not f.metadata.get("internal"))


def test_rejects_a_relative_base_url(tmp_path):
    _, problems = load(tmp_path, GOOD.replace("https://example.org/", "example.org"))
    assert messages(problems) == ["3: base_url: must be an absolute http(s) URL, got 'example.org'"]


def test_rejects_an_output_folder_that_is_the_content_folder(tmp_path):
    _, problems = load(tmp_path, GOOD + "output_dir: content\n")
    assert len(problems) == 1 and "output_dir: 'content' overlaps content_dir" in problems[0].message
    assert problems[0].line == 5


def test_rejects_a_config_that_is_not_a_mapping(tmp_path):
    _, problems = load(tmp_path, "- just\n- a list\n")
    assert messages(problems) == ["1: expected a mapping, got a list"]


def test_reports_duplicate_config_keys(tmp_path):
    _, problems = load(tmp_path, GOOD + "title: Again\n")
    assert messages(problems) == ["5: duplicate key 'title' (a key may appear only once)"]


def test_folders_resolve_beside_the_config_file(tmp_path):
    (tmp_path / "site").mkdir()
    for name in ("words", "content", "templates"):
        (tmp_path / "site" / name).mkdir()
    path = tmp_path / "site" / "config.yaml"
    path.write_text(GOOD + "content_dir: words\n")
    config, problems = load_config(path)
    assert problems == [] and config.content_path == tmp_path / "site" / "words"
