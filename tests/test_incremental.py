"""Rebuilds with the cache give exactly the site a clean build gives, and redo only what changed."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from conftest import run_cli
from medsite.build import BuildOptions, BuildResult, Builder, build
from medsite.config import load_config


def build_site(site: Path, out: str = "_site", use_cache: bool = True, quick: bool = False) -> BuildResult:
    config, problems = load_config(site / "config.yaml", output_dir=str(site / out))
    assert config is not None, problems
    result = build(config, BuildOptions(use_cache=use_cache, quick=quick))
    assert result.written, [str(p) for p in result.problems]
    return result


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_same_as_clean_build(site: Path, *options: str) -> None:
    """The cached build's output equals, file for file and byte for byte, a clean --no-cache build's."""
    clean = run_cli("build", "--no-cache", "--out", str(site / "_clean"), *options, cwd=site)
    assert clean.returncode == 0, clean.stderr
    cached, expected = tree(site / "_site"), tree(site / "_clean")
    assert sorted(cached) == sorted(expected)
    assert [name for name in expected if cached[name] != expected[name]] == []
    shutil.rmtree(site / "_clean")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def change_article_text(site: Path) -> None:
    edit(site / "content/topic-a/second.md", "Some people feel sick.", "Some people feel sick or dizzy.")


def change_title(site: Path) -> None:
    edit(site / "content/topic-a/second.md", "title: Second article", "title: Side effects explained")


def change_template(site: Path) -> None:
    edit(site / "templates/page.html", "<article", "<article data-edited")


def change_config(site: Path) -> None:
    edit(site / "config.yaml", "title: Topic A series", "title: The A series")


def change_static_file(site: Path) -> None:
    with open(site / "static/css/site.css", "a", encoding="utf-8") as stream:
        stream.write("\n.edited { color: red; }\n")


def delete_article(site: Path) -> None:
    (site / "content/topic-a/third.md").unlink()


def rename_article(site: Path) -> None:
    (site / "content/topic-a/third.md").rename(site / "content/topic-a/fourth.md")


def change_disclaimer(site: Path) -> None:
    edit(site / "content/_disclaimer.md", "general information", "general, plain information")


@pytest.mark.parametrize("quick", [False, True], ids=["full", "quick"])
@pytest.mark.parametrize("change", [change_article_text, change_title, change_template, change_config,
                                    change_static_file, delete_article, rename_article, change_disclaimer],
                         ids=lambda change: change.__name__)
def test_a_cached_rebuild_after_a_change_equals_a_clean_build(make_site, change, quick):
    site = make_site()
    build_site(site, quick=quick)
    change(site)
    build_site(site, quick=quick)
    assert_same_as_clean_build(site)


def test_a_new_title_reaches_the_neighbours_series_lists_and_topic_index(make_site):
    site = make_site()
    build_site(site)
    change_title(site)
    build_site(site)
    for page in ("topic-a/first/index.html", "topic-a/third/index.html", "topic-a/index.html",
                 "search/index.html"):
        assert "Side effects explained" in (site / "_site" / page).read_text(encoding="utf-8"), page


def test_a_rebuild_with_nothing_changed_keeps_every_file_as_it_was(make_site):
    site = make_site()
    build_site(site)
    before = {p: os.stat(p) for p in (site / "_site").rglob("*") if p.is_file()}
    result = build_site(site)
    after = {p: os.stat(p) for p in (site / "_site").rglob("*") if p.is_file()}
    assert sorted(after) == sorted(before)
    assert [p for p in before if (after[p].st_ino, after[p].st_mtime_ns) != (before[p].st_ino, before[p].st_mtime_ns)] == []
    assert result.stats["pages_rendered"] == 0 and result.stats["bodies_converted"] == 0
    assert result.stats["articles_parsed"] == 0


def test_an_edited_article_rewrites_its_page_and_leaves_unrelated_pages_alone(make_site):
    site = make_site()
    build_site(site)
    untouched = [site / "_site" / page for page in ("glossary/index.html", "topic-a/third/index.html", "404.html")]
    before = [os.stat(p).st_mtime_ns for p in untouched]
    change_article_text(site)
    result = build_site(site)
    assert result.stats["bodies_converted"] == 1 and result.stats["articles_parsed"] == 1
    fresh = {page.url for page in result.pages if page.fresh_html is not None}
    assert "/topic-a/second/" in fresh
    assert not fresh & {"/glossary/", "/topic-a/third/", "/404.html"}
    assert [os.stat(p).st_mtime_ns for p in untouched] == before
    assert "feel sick or dizzy" in (site / "_site/topic-a/second/index.html").read_text(encoding="utf-8")


def test_a_template_edit_renders_only_its_pages_again_without_converting_markdown(make_site):
    site = make_site()
    first = build_site(site)
    users = {page.url for page in first.site.pages if page.template == "page.html"}
    assert users
    change_template(site)
    result = build_site(site)
    assert result.stats["bodies_converted"] == 0 and result.stats["articles_parsed"] == 0
    assert {page.url for page in result.pages if page.fresh_html is not None} == users


def test_no_cache_converts_everything_again(make_site):
    site = make_site()
    build_site(site)
    result = build_site(site, use_cache=False)
    assert result.stats["bodies_converted"] == len(result.site.pages) - len(
        [p for p in result.site.pages if p.article is None])
    assert result.stats["pages_kept"] == 0


def test_an_unreadable_cache_is_ignored(make_site):
    site = make_site()
    build_site(site)
    for path in (site / ".medsite-cache").iterdir():
        if path.is_file():
            path.write_bytes(b"\x80 not a pickle")
    change_article_text(site)
    result = build_site(site)
    assert result.stats["bodies_converted"] == len([p for p in result.site.pages if p.article is not None])
    assert_same_as_clean_build(site)


def test_a_file_changed_by_hand_in_the_output_is_written_again(make_site):
    site = make_site()
    build_site(site)
    page = site / "_site/glossary/index.html"
    page.write_text("tampered", encoding="utf-8")
    build_site(site)
    assert_same_as_clean_build(site)


def test_the_command_leaves_an_unchanged_site_alone_and_repeats_its_warnings(make_site):
    site = make_site({"content/topic-b/only.md": """
        ---
        title: Only article
        summary: A topic without a title in the config.
        kind: page
        last_reviewed: 2026-11-01
        ---
        Text.
        """})
    first = run_cli("build", cwd=site)
    assert first.returncode == 0, first.stderr
    assert "topic 'topic-b' has no title" in first.stderr
    before = {p: os.stat(p).st_mtime_ns for p in (site / "_site").rglob("*") if p.is_file()}
    second = run_cli("build", cwd=site)
    assert second.returncode == 0 and "Nothing changed since the last build" in second.stdout
    assert "topic 'topic-b' has no title" in second.stderr
    assert {p: os.stat(p).st_mtime_ns for p in (site / "_site").rglob("*") if p.is_file()} == before
    change_static_file(site)
    third = run_cli("build", cwd=site)
    assert third.returncode == 0 and "Built" in third.stdout
    assert ".edited" in (site / "_site/css/site.css").read_text(encoding="utf-8")


def test_a_page_key_covers_exactly_the_values_its_template_reaches():
    import jinja2
    from jinja2 import meta

    from medsite.cache import _access_paths
    source = ("{% if page.topic %}{{ page.topic.title }}{% endif %}{% for a in page.listed %}{{ a.x }}{% endfor %}"
              "{{ rows[i].name }}{% set n = site['nav'] %}{{ n.title }}{{ 'y' if page.next and page.url else '' }}")
    tree = jinja2.Environment().parse(source)
    paths = _access_paths(tree, meta.find_undeclared_variables(tree))
    attr = lambda *names: tuple(("attr", name) for name in names)  # noqa: E731
    assert paths == {("page", attr("topic"), True), ("page", attr("topic", "title"), False),
                     ("page", attr("listed"), False), ("rows", (), False), ("i", (), False),
                     ("site", (("item", "nav"),), False), ("page", attr("next"), True),
                     ("page", attr("url"), True)}


def reorder_series(site: Path) -> None:
    edit(site / "content/topic-a/third.md", "order: 3", "order: 0")


def add_article(site: Path) -> None:
    text = (site / "content/topic-a/third.md").read_text(encoding="utf-8")
    (site / "content/topic-a/fourth.md").write_text(text.replace("Third article", "Fourth article")
                                                    .replace("order: 3", "order: 4"), encoding="utf-8")


def change_nav(site: Path) -> None:
    edit(site / "config.yaml", "  - title: Home\n", "  - title: Start here\n")


def change_base_url(site: Path) -> None:
    edit(site / "config.yaml", "base_url: https://test.example/", "base_url: https://test.example/health/")


def change_article_template(site: Path) -> None:
    edit(site / "templates/article.html", "{% if page.topic %}", "{% if page.topic %}<!-- edited -->")


def change_summary(site: Path) -> None:
    edit(site / "content/topic-a/first.md", "summary: The first article of topic A.", "summary: Where topic A starts.")


def change_article_text_again(site: Path) -> None:
    edit(site / "content/topic-a/second.md", "sick or dizzy.", "sick, dizzy or sleepy.")


@pytest.mark.parametrize("quick", [False, True], ids=["full", "quick"])
def test_a_warm_builder_after_each_of_many_changes_equals_a_clean_build(make_site, quick):
    """The preview server's Builder keeps its stores between builds: after every kind of change,
    one after the other, its output is still exactly a clean build's."""
    site = make_site()
    config, problems = load_config(site / "config.yaml", output_dir=str(site / "_site"))
    builder = Builder(config, BuildOptions(quick=quick))
    assert builder.build().written
    for change in (change_article_text, change_title, reorder_series, change_summary, add_article, change_nav,
                   change_config, change_disclaimer, change_article_template, change_template, change_base_url,
                   change_article_text_again, delete_article):
        change(site)
        config, problems = load_config(site / "config.yaml", output_dir=str(site / "_site"))
        result = builder.build(config=config)
        assert result.written, (change.__name__, [str(p) for p in result.problems])
        assert_same_as_clean_build(site)


def test_a_text_edit_renders_only_the_pages_that_show_the_article(make_site):
    site = make_site()
    build_site(site)
    change_article_text(site)
    result = build_site(site)
    fresh = {page.url for page in result.pages if page.fresh_html is not None}
    assert fresh <= {"/topic-a/second/", "/topic-a/", "/search/", "/"}, fresh
    assert_same_as_clean_build(site)


def test_a_template_reaching_the_topics_articles_renders_every_page_of_the_topic_again(make_site):
    """A page whose template lists its topic's articles depends on every article of the topic."""
    site = make_site()
    edit(site / "templates/article.html", "{% if page.topic %}",
         "{% for other in page.topic.articles %}<i>{{ other.meta.summary }}</i>{% endfor %}{% if page.topic %}")
    build_site(site)
    change_summary(site)  # first.md: shown by second and third only through this loop
    result = build_site(site)
    fresh = {page.url for page in result.pages if page.fresh_html is not None}
    assert {"/topic-a/first/", "/topic-a/second/", "/topic-a/third/"} <= fresh
    assert "Where topic A starts." in (site / "_site/topic-a/third/index.html").read_text(encoding="utf-8")
    assert_same_as_clean_build(site)


def test_the_page_memo_key_changes_with_each_field_of_a_page():
    """PageMemo fingerprints every field of Page and Topic; a new field turns it off until it does."""
    from medsite import build as build_module
    from medsite.cache import reaches_topic_articles
    from medsite.site import Link, Page

    assert build_module._MEMO_USABLE
    assert reaches_topic_articles(("page", (("attr", "topic"), ("attr", "articles")), False))
    assert reaches_topic_articles(("page", (("attr", "topic"),), False))
    assert reaches_topic_articles(("page", (), False))
    assert reaches_topic_articles(("page", (("item", "topic"), ("attr", "articles")), False))
    assert not reaches_topic_articles(("page", (("attr", "topic"),), True))
    assert not reaches_topic_articles(("page", (("attr", "topic"), ("attr", "size")), False))
    assert not reaches_topic_articles(("page", (("attr", "series"),), False))

    memo = build_module.PageMemo.__new__(build_module.PageMemo)
    memo._topics = {}
    base = Page("/a/", "page.html", "A", "S", "content/a.md", previous=Link("P", "/p/"), series=[Link("A", "/a/")])
    variants = [base, Page("/b/", "page.html", "A", "S", "content/a.md"), Page("/a/", "page.html", "B", "S", "content/a.md"),
                Page("/a/", "page.html", "A", "S", "content/a.md", next=Link("P", "/p/"), series=[Link("A", "/a/")]),
                Page("/a/", "page.html", "A", "S", "content/a.md", previous=Link("P", "/p/"), series=[Link("A", "/b/")]),
                Page("/a/", "page.html", "A", "S", "content/a.md", previous=Link("P", "/p/"), series=[Link("A", "/a/")],
                     position=2)]
    encoded = ["".join(f"{len(p)}:{p}" for p in memo._page_parts(page, False)) for page in variants]
    assert len(set(encoded)) == len(variants)


def test_a_warm_builder_follows_a_linked_article_to_its_new_url(make_site):
    """Bodies whose links resolve as before are reused by a warm Builder; a link to an article
    whose URL changed is resolved again, though the linking article did not change."""
    site = make_site()
    config, _ = load_config(site / "config.yaml", output_dir=str(site / "_site"))
    builder = Builder(config)
    assert builder.build().written
    edit(site / "content/topic-a/first.md", "order: 1\n", "order: 1\nslug: start-here\n")
    result = builder.build(config=load_config(site / "config.yaml", output_dir=str(site / "_site"))[0])
    assert result.written, [str(p) for p in result.problems]
    assert 'href="../start-here/"' in (site / "_site/topic-a/second/index.html").read_text(encoding="utf-8")
    assert_same_as_clean_build(site)
    edit(site / "content/topic-a/first.md", "slug: start-here\n", "")
    assert builder.build(config=load_config(site / "config.yaml", output_dir=str(site / "_site"))[0]).written
    assert 'href="../first/"' in (site / "_site/topic-a/second/index.html").read_text(encoding="utf-8")
    assert_same_as_clean_build(site)


def test_a_manifest_reads_back_as_written_and_an_earlier_format_still_reads(tmp_path):
    import pickle

    from medsite import output

    manifest = output._Manifest(7, {"a/index.html": output.FileRecord(b"d" * 16, 3, 4, 5, b"k" * 16),
                                    "b.css": output.FileRecord(b"e" * 16, 1, 2, 3)}, b"inputs", ())
    output._write(tmp_path / "m", manifest)
    assert output._read(tmp_path / "m") == manifest
    assert all(type(record) is output.FileRecord for record in output._read(tmp_path / "m").records.values())
    (tmp_path / "old").write_bytes(pickle.dumps(manifest))
    assert output._read(tmp_path / "old") == manifest
    (tmp_path / "bad").write_bytes(pickle.dumps((output._MANIFEST_FORMAT, 7, {"a": (1, 2)}, b"", ())))
    assert output._read(tmp_path / "bad") is None


# --- The quick way (quick.py) ------------------------------------------------------------------

def quick_builder(site: Path) -> Builder:
    config, problems = load_config(site / "config.yaml", output_dir=str(site / "_site"))
    assert config is not None, problems
    return Builder(config, BuildOptions(quick=True))


def test_a_text_edit_takes_the_quick_way_and_renders_only_its_page(make_site):
    site = make_site()
    builder = quick_builder(site)
    assert builder.build().site is not None  # the first build: the full way
    change_article_text(site)
    result = builder.build()
    assert result.written and result.site is None  # the quick way
    assert result.stats["articles_parsed"] == 1 and result.stats["pages_rendered"] == 1
    assert [page.url for page in result.pages] == ["/topic-a/second/"]
    assert result.page_count == len(list((site / "_site").rglob("index.html"))) + 1  # and 404.html
    assert "feel sick or dizzy" in (site / "_site/topic-a/second/index.html").read_text(encoding="utf-8")
    assert_same_as_clean_build(site)


@pytest.mark.parametrize("change", [change_title, change_summary, reorder_series],
                         ids=lambda change: change.__name__)
def test_an_edit_other_pages_show_takes_the_full_way(make_site, change):
    site = make_site()
    builder = quick_builder(site)
    builder.build()
    change(site)
    result = builder.build()
    assert result.written and result.site is not None
    assert_same_as_clean_build(site)


def test_a_new_heading_takes_the_full_way_as_the_search_index_lists_it(make_site):
    site = make_site()
    builder = quick_builder(site)
    builder.build()
    edit(site / "content/topic-a/second.md", "Some people feel sick.", "Some people feel sick.\n\n## Dizziness\n")
    result = builder.build()
    assert result.site is not None
    assert "Dizziness" in (site / "_site/search-index.json").read_text(encoding="utf-8")
    assert_same_as_clean_build(site)


def test_the_next_command_takes_the_quick_way_from_the_state_on_disk(make_site):
    site = make_site()
    assert run_cli("build", cwd=site).returncode == 0
    assert (site / ".medsite-cache/state.pickle").is_file()
    change_article_text(site)
    second = run_cli("build", cwd=site)
    assert second.returncode == 0, second.stderr
    pages = len([p for p in (site / "_site").rglob("*.html")])
    assert f"Built {pages} pages" in second.stdout
    assert_same_as_clean_build(site)
    change_article_text_again(site)
    assert run_cli("build", cwd=site).returncode == 0
    assert "sick, dizzy or sleepy" in (site / "_site/topic-a/second/index.html").read_text(encoding="utf-8")
    assert_same_as_clean_build(site)


def test_settled_files_are_known_by_their_stat_and_any_rewrite_shows(make_site):
    """Files last changed long before the build that read them are not read again while their stat
    is the same; an edit that keeps the size and puts the old modification time back still changes
    the inode change time, so it shows."""
    site = make_site()
    hour_ago = os.stat(site / "config.yaml").st_mtime - 3600
    for path in (site / "content").rglob("*.md"):
        os.utime(path, (hour_ago, hour_ago))
    builder = quick_builder(site)
    builder.build()
    path = site / "content/topic-a/second.md"
    os.utime(path)  # touched, not changed
    result = builder.build()
    assert result.up_to_date and result.written
    text = path.read_text(encoding="utf-8")
    same_size = text.replace("Some people feel sick.", "Some people feel ill!.")
    assert len(same_size) == len(text) and same_size != text
    path.write_text(same_size, encoding="utf-8")
    os.utime(path, (hour_ago, hour_ago))
    result = builder.build()
    assert result.written and result.stats["pages_rendered"] == 1
    assert "feel ill!." in (site / "_site/topic-a/second/index.html").read_text(encoding="utf-8")
    assert_same_as_clean_build(site)


def test_a_live_output_changed_by_hand_takes_the_full_way(make_site):
    site = make_site()
    builder = quick_builder(site)
    builder.build()
    (site / "_site/glossary/index.html").write_text("tampered", encoding="utf-8")
    change_article_text(site)
    result = builder.build()
    assert result.site is not None
    assert_same_as_clean_build(site)


def test_a_broken_edit_is_reported_and_the_site_left_as_it_was(make_site):
    site = make_site()
    assert run_cli("build", cwd=site).returncode == 0
    before = (site / "_site/topic-a/second/index.html").read_bytes()
    edit(site / "content/topic-a/second.md", "Some people feel sick.", "See [gone](missing.md).")
    broken = run_cli("build", cwd=site)
    assert broken.returncode == 1
    assert "content/topic-a/second.md:" in broken.stderr and "missing.md" in broken.stderr
    assert (site / "_site/topic-a/second/index.html").read_bytes() == before
    edit(site / "content/topic-a/second.md", "See [gone](missing.md).", "Some people feel sick or dizzy.")
    assert run_cli("build", cwd=site).returncode == 0
    assert_same_as_clean_build(site)


def test_a_template_reading_other_articles_takes_the_full_way_even_for_a_text_edit(make_site):
    """The state on disk holds no article's body text; a template that may read another
    article's (here, each article of the topic) makes every rebuild take the full way."""
    site = make_site()
    edit(site / "templates/article.html", "{% if page.topic %}",
         "{% for other in page.topic.articles %}<i>{{ other.body[:12] }}</i>{% endfor %}{% if page.topic %}")
    assert run_cli("build", cwd=site).returncode == 0
    edit(site / "content/topic-a/first.md", "---\n## What it is", "---\nNew first words.\n\n## What it is")
    assert run_cli("build", cwd=site).returncode == 0
    assert "<i>New first w" in (site / "_site/topic-a/third/index.html").read_text(encoding="utf-8")
    assert_same_as_clean_build(site)


def test_which_templates_read_only_their_own_article():
    from medsite.quick import reads_only_own_article
    own = [("page", (("attr", "article"), ("attr", "meta")), False), ("page", (("attr", "topic"),), True),
           ("page", (("attr", "topic"), ("attr", "title")), False), ("topics", (), True), ("nav", (), False)]
    assert reads_only_own_article(own)
    for other in [("topics", (), False), ("page", (), False), ("page", (("attr", "listed"),), False),
                  ("page", (("item", "listed"),), False), ("page", (("attr", "topic"),), False),
                  ("page", (("attr", "topic"), ("attr", "articles")), False)]:
        assert not reads_only_own_article(own + [other]), other


def test_an_article_template_showing_the_search_entries_gets_them_on_the_quick_way(make_site):
    site = make_site()
    edit(site / "templates/article.html", "{% if page.topic %}",
         "<b>{{ search_entries | length }} {{ search_entries[0].title }}</b>{% if page.topic %}")
    assert run_cli("build", cwd=site).returncode == 0
    change_article_text(site)
    assert run_cli("build", cwd=site).returncode == 0
    assert "<b>" in (site / "_site/topic-a/second/index.html").read_text(encoding="utf-8")
    assert_same_as_clean_build(site)


def test_a_draft_edited_in_the_preview_takes_the_quick_way(make_site):
    """The preview server builds with drafts; an edit of a draft's text is quick there too."""
    site = make_site({"content/topic-a/draft.md": """
        ---
        title: A draft
        summary: Not published yet.
        kind: page
        last_reviewed: 2026-11-01
        draft: true
        ---
        First words.
        """})
    config, _ = load_config(site / "config.yaml", output_dir=str(site / "_site"))
    builder = Builder(config, BuildOptions(quick=True, drafts=True))
    assert builder.build().written
    edit(site / "content/topic-a/draft.md", "First words.", "First and second words.")
    result = builder.build()
    assert result.written and result.site is None and result.stats["pages_rendered"] == 1
    assert_same_as_clean_build(site, "--drafts")
    edit(site / "content/topic-a/draft.md", "draft: true", "draft: false")  # published: the full way
    result = builder.build()
    assert result.written and result.site is not None
    assert_same_as_clean_build(site, "--drafts")


def test_many_quick_rebuilds_then_the_next_command_reads_the_state_and_its_journal(make_site):
    """Each quick rebuild journals its change; past the journal's limit the whole state is saved
    again. A new builder (the next command) replays what is on disk and stays exact."""
    from medsite import quick
    site = make_site()
    builder = quick_builder(site)
    builder.build()
    path = site / "content/topic-a/second.md"
    for number in range(quick._JOURNAL_LIMIT + 5):
        path.write_text(path.read_text(encoding="utf-8") + f"\nEdit {number}.\n", encoding="utf-8")
        result = builder.build()
        assert result.written and result.site is None, number
    assert 0 < len(builder.state.journal) < quick._JOURNAL_LIMIT  # saved whole once, journalled since
    path.write_text(path.read_text(encoding="utf-8") + "\nThe last edit.\n", encoding="utf-8")
    result = quick_builder(site).build()
    assert result.written and result.site is None
    assert "The last edit." in (site / "_site/topic-a/second/index.html").read_text(encoding="utf-8")
    assert_same_as_clean_build(site)
