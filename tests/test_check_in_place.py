"""`check` after `build`: a live site built from exactly the same inputs is checked where it is
(nothing rendered, staged or swapped again) and reports exactly what a check from scratch reports;
the warnings of the content checks stay with `check` and are never repeated by a later `build`."""
from __future__ import annotations

from pathlib import Path

from conftest import new_site, run_cli
from test_links import add_template_defects
from medsite.build import BuildOptions, Builder
from medsite.config import load_config
from medsite.site import assemble_site


def problem_lines(done) -> list[str]:
    return sorted(line for line in done.stderr.splitlines() if ": error: " in line or ": warning: " in line)


def snapshot(folder: Path) -> tuple[int, dict[str, tuple[int, int]]]:
    """The folder's inode and each file's (inode, mtime): what staging and swapping would change."""
    files = {p.relative_to(folder).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
             for p in folder.rglob("*") if p.is_file()}
    return folder.stat().st_ino, files


def defective_sites(folder: Path) -> list[Path]:
    """Two copies of a site with broken links in its pages and templates: one to check from
    scratch, one to build first."""
    sites = []
    for name in ("from-scratch", "built-first"):
        site = new_site(folder / name, base="links-defects")
        add_template_defects(site)
        sites.append(site)
    return sites


def test_a_check_after_a_build_checks_the_live_site_and_finds_what_a_check_from_scratch_finds(tmp_path):
    from_scratch, built_first = defective_sites(tmp_path)
    expected = run_cli("check", cwd=from_scratch)
    assert run_cli("build", cwd=built_first).returncode == 0  # a build does not check links

    done = run_cli("check", cwd=built_first)

    assert done.returncode == expected.returncode == 1
    assert len(problem_lines(expected)) > 16
    assert problem_lines(done) == problem_lines(expected)  # each broken link at its source line, as from scratch
    assert "Check failed; the previous site was left as it was." in done.stderr


def test_a_passing_check_after_a_build_leaves_the_live_site_as_it_was(make_site):
    site = make_site(base="lint-clean")
    assert run_cli("build", cwd=site).returncode == 0
    before = snapshot(site / "_site")

    done = run_cli("check", cwd=site)

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Checked ")
    assert snapshot(site / "_site") == before  # not staged and swapped in again


def test_a_live_page_changed_by_hand_is_built_again_before_the_check(make_site):
    site = make_site(base="lint-clean")
    assert run_cli("build", cwd=site).returncode == 0
    home = site / "_site/index.html"
    built = home.read_text(encoding="utf-8")
    home.write_text(built.replace("</main>", '<a href="/no-such-page/">gone</a></main>'), encoding="utf-8")

    done = run_cli("check", cwd=site)

    assert done.returncode == 0, done.stderr
    assert home.read_text(encoding="utf-8") == built


def test_the_warnings_of_a_check_are_not_repeated_by_later_builds(make_site, monkeypatch):
    site = make_site()
    checked = run_cli("check", cwd=site)
    assert checked.returncode == 0, checked.stderr
    assert "warning: not yet clinically reviewed" in checked.stderr  # a content check's, not the build's
    assert problem_lines(run_cli("check", cwd=site)) == problem_lines(checked)  # checked in place: the same

    unchanged = run_cli("build", cwd=site)
    assert "Nothing changed" in unchanged.stdout + unchanged.stderr
    assert problem_lines(unchanged) == []

    first = site / "content/topic-a/first.md"
    first.write_text(first.read_text(encoding="utf-8") + "\nOne more plain sentence.\n", encoding="utf-8")
    config, _ = load_config(site / "config.yaml")
    monkeypatch.chdir(site)
    result = Builder(config, BuildOptions(quick=True)).build()
    assert result.written and result.stats["articles_parsed"] == 1  # the quick way (quick.py)
    assert result.problems == []


def test_a_site_assembled_for_a_check_in_place_resolves_each_body_as_a_build_does(make_site, monkeypatch):
    site = make_site(base="links-defects")
    monkeypatch.chdir(site)
    config, _ = load_config(site / "config.yaml")
    built = Builder(config, BuildOptions(write=False)).build().site
    articles = [page.article for page in built.pages if page.article is not None]
    bodies = {page.article.rel: page.body for page in built.pages if page.article is not None}
    unresolved, _ = assemble_site(config, articles, bodies, list(built.assets), lambda text: text,
                                  resolve_bodies=False)

    expected = {page.url: page.body_html for page in built.pages}
    assert "medsite:" not in "".join(expected.values()) and 'href="' in "".join(expected.values())
    assert all(page.body_html == "" for page in unresolved.pages)
    assert {page.url: unresolved.body_html_of(page) for page in unresolved.pages} == expected
    unresolved.resolve_bodies()
    assert {page.url: page.body_html for page in unresolved.pages} == expected
