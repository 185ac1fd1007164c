"""The link check's cache of scanned output files (.medsite-cache/links-*.pickle): an unchanged file
is not scanned again, and any change to a file, or to what its links point at, shows on the next check."""
from __future__ import annotations

from pathlib import Path

from conftest import run_cli
from test_links import add_template_defects
from medsite.build import BuildOptions, build
from medsite.config import load_config
from medsite import links
from medsite.links import Resolver, check_output, find_broken, links_cache, list_output


def built(site: Path):
    config, problems = load_config(site / "config.yaml")
    assert config is not None, problems
    result = build(config, BuildOptions())
    assert result.written, [str(p) for p in result.problems]
    return config, result


def checked(site: Path, config, result) -> list[str]:
    return sorted(str(p) for p in check_output(config.output_path, config, result, cache=links_cache(config)).problems)


def test_cached_findings_equal_a_fresh_scan(make_site, monkeypatch):
    site = make_site(base="links-defects")
    add_template_defects(site)
    monkeypatch.chdir(site)
    config, _ = built(site)
    output, resolver = list_output(config.output_path), Resolver(config.base_url)
    fresh = find_broken(output, resolver)
    filling = find_broken(output, resolver, cache=links_cache(config))
    assert list((site / ".medsite-cache").glob("links-*.pickle"))
    cached = find_broken(output, resolver, cache=links_cache(config))
    for findings in (filling, cached):
        assert findings.broken == fresh.broken and len(fresh.broken) > 16
        assert findings.ids == fresh.ids and findings.links == fresh.links
        assert findings.external == fresh.external


def test_a_link_broken_by_an_edit_is_reported_on_the_next_check(make_site):
    site = make_site(base="lint-clean")
    assert run_cli("check", cwd=site).returncode == 0
    assert list((site / ".medsite-cache").glob("links-*.pickle"))
    faq = site / "content/topic-a/faq.md"
    faq.write_text(faq.read_text(encoding="utf-8") + "\nSee [the old page](/retired/).\n", encoding="utf-8")
    line = len(faq.read_text(encoding="utf-8").split("\n")) - 1
    done = run_cli("check", cwd=site)
    assert done.returncode == 1
    assert (f"content/topic-a/faq.md:{line}: error: link to '/retired/' — no page at /retired/"
            in done.stderr.splitlines())


def test_removing_a_page_breaks_the_links_of_unchanged_cached_pages(make_site, monkeypatch):
    site = make_site()
    monkeypatch.chdir(site)
    config, result = built(site)
    assert checked(site, config, result) == []
    index = (config.output_path / "index.html").read_text(encoding="utf-8")
    assert 'href="glossary/"' in index or 'href="/glossary/"' in index
    (config.output_path / "glossary" / "index.html").unlink()
    assert any("/glossary/ is a folder with no index.html" in p for p in checked(site, config, result))


def test_a_changed_output_file_is_scanned_again(make_site, monkeypatch):
    site = make_site()
    monkeypatch.chdir(site)
    config, result = built(site)
    assert checked(site, config, result) == []
    page = config.output_path / "glossary" / "index.html"
    html = page.read_text(encoding="utf-8")
    page.write_text(html.replace("</main>", '<a href="/nowhere/">x</a></main>', 1), encoding="utf-8")
    assert any("link to '/nowhere/' — no page at /nowhere/" in p for p in checked(site, config, result))
    page.write_text(html, encoding="utf-8")
    assert checked(site, config, result) == []


def test_a_new_id_mends_a_cached_link_to_it_and_removing_it_breaks_it_again(make_site, monkeypatch):
    site = make_site()
    monkeypatch.chdir(site)
    config, result = built(site)
    page = config.output_path / "glossary" / "index.html"
    html = page.read_text(encoding="utf-8")
    index = config.output_path / "index.html"
    index.write_text(index.read_text(encoding="utf-8").replace(
        "</main>", '<a href="glossary/#later">x</a></main>', 1), encoding="utf-8")
    assert any("no heading with id 'later' on /glossary/" in p for p in checked(site, config, result))
    page.write_text(html.replace("</main>", '<p id="later">Later</p></main>', 1), encoding="utf-8")
    assert checked(site, config, result) == []
    page.write_text(html, encoding="utf-8")
    assert any("no heading with id 'later' on /glossary/" in p for p in checked(site, config, result))


def test_a_file_unchanged_since_the_build_is_not_read_again_and_a_touched_one_is(make_site, monkeypatch):
    """The build's records give each output file's content digest while its stat is unchanged."""
    site = make_site()
    monkeypatch.chdir(site)
    config, result = built(site)
    assert "glossary/index.html" in result.records
    assert checked(site, config, result) == []  # fills the cache
    opened = []

    def recording_open(path, *args, **kwargs):
        opened.append(Path(path).relative_to(config.output_path).as_posix())
        return open(path, *args, **kwargs)
    monkeypatch.setattr(links, "open", recording_open, raising=False)
    assert checked(site, config, result) == []
    assert opened == []
    page = config.output_path / "glossary" / "index.html"
    html = page.read_text(encoding="utf-8")
    page.write_text(html.replace("</main>", '<a href="/nowhere/">x</a></main>', 1), encoding="utf-8")
    assert any("link to '/nowhere/' — no page at /nowhere/" in p for p in checked(site, config, result))
    assert opened == ["glossary/index.html"]


def test_a_file_changed_before_its_read_is_keyed_by_what_was_read(make_site, monkeypatch):
    """The stat is compared after the read: links read from a file that changed after its stat was
    last taken are not kept under the recorded digest (which would then serve the recorded bytes)."""
    site = make_site()
    monkeypatch.chdir(site)
    config, result = built(site)
    page = config.output_path / "glossary" / "index.html"
    html = page.read_text(encoding="utf-8")

    def open_glossary(path, *args, **kwargs):
        if Path(path) == page:  # changed between any stat before the read and the read
            page.write_text(html.replace("</main>", '<a href="/nowhere/">x</a></main>', 1), encoding="utf-8")
        return open(path, *args, **kwargs)
    monkeypatch.setattr(links, "open", open_glossary, raising=False)
    resolver = Resolver(config.base_url)
    findings = find_broken(list_output(config.output_path), resolver, cache=links_cache(config), recorded=result.records)
    assert [item.link.value for item in findings.broken] == ["/nowhere/"]
    monkeypatch.setattr(links, "open", open, raising=False)
    page.write_text(html, encoding="utf-8")  # the recorded bytes again, with another stat
    again = find_broken(list_output(config.output_path), resolver, cache=links_cache(config), recorded=result.records)
    assert again.broken == []
