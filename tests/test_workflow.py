"""The GitHub Actions workflow: valid for GitHub, and it runs the tests, the check, and publishes."""
from __future__ import annotations

import subprocess

import yaml

from conftest import ROOT, installed_tool

WORKFLOW = ROOT / ".github" / "workflows" / "site.yml"


def validate(path) -> subprocess.CompletedProcess:
    """check-jsonschema with the GitHub workflow schema it ships with (no network)."""
    return subprocess.run([installed_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(path)],
                          capture_output=True, text=True, timeout=120)


def load() -> dict:
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as True
    return data


def test_workflow_is_valid_for_github_actions():
    done = validate(WORKFLOW)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_schema_check_rejects_a_broken_workflow(tmp_path):
    broken = tmp_path / "site.yml"
    broken.write_text(WORKFLOW.read_text(encoding="utf-8").replace("runs-on:", "runs_on:"), encoding="utf-8")
    assert validate(broken).returncode == 1


def test_every_push_and_pull_request_runs_the_tests_then_the_check_and_keeps_the_site():
    workflow = load()
    assert {"push", "pull_request"} <= set(workflow["on"])
    steps = workflow["jobs"]["test-and-check"]["steps"]
    runs = [step.get("run", "") for step in steps]
    python = next(step for step in steps if step.get("uses", "").startswith("actions/setup-python@"))
    assert python["with"]["python-version"] == "3.11"
    assert "python -m pip install -e '.[test]'" in runs
    tests, check = runs.index("bash scripts/test"), runs.index("python build.py check")
    assert tests < check
    upload = next(step for step in steps if step.get("uses", "").startswith("actions/upload-artifact@"))
    assert steps.index(upload) > check and upload["with"]["path"].rstrip("/") == "_site"


def test_main_is_deployed_to_github_pages_after_the_check():
    workflow = load()
    steps = workflow["jobs"]["test-and-check"]["steps"]
    pages_upload = next(step for step in steps if step.get("uses", "").startswith("actions/upload-pages-artifact@"))
    assert "refs/heads/main" in pages_upload["if"] and pages_upload["with"]["path"].rstrip("/") == "_site"
    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] == "test-and-check"
    assert "refs/heads/main" in deploy["if"] and "push" in deploy["if"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert any(step.get("uses", "").startswith("actions/deploy-pages@") for step in deploy["steps"])


def test_ci_script_still_runs_the_readme_test_command():
    assert "bash scripts/test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "bash scripts/test" in (ROOT / "README.md").read_text(encoding="utf-8")
