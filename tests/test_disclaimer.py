"""The medical disclaimer cannot be removed, emptied, hidden or moved out of the footer."""
from __future__ import annotations

import pytest
from markupsafe import Markup

from conftest import run_cli
from medsite.disclaimer import Disclaimer, page_footer_problem

TEXT = "This site gives general information only. It is not medical advice."
DISCLAIMER = Disclaimer(Markup(f"<p>{TEXT}</p>"), TEXT, "content/_disclaimer.md")


def wrap(body: str) -> str:
    return f"<!doctype html><html lang=en><head><title>x</title></head><body>{body}</body></html>"


@pytest.mark.parametrize("body", [
    f"<main>x</main><footer><p>{TEXT}</p></footer>",
    f"<main>x</main><footer><div class=wrap><section><h2>Medical disclaimer</h2><p>{TEXT}</p></section></div></footer>",
    f"<main><article><footer>article footer</footer></article></main><footer><p>{TEXT}</p></footer>",
])
def test_accepts_the_disclaimer_in_the_page_footer(body):
    assert page_footer_problem(wrap(body), DISCLAIMER) is None


@pytest.mark.parametrize("body, reason", [
    ("<main>x</main>", "no <footer>"),
    ("<main>x</main><footer></footer>", "lacks the medical disclaimer"),
    (f"<main><p>{TEXT}</p></main><footer>Contact us</footer>", "not inside the page footer"),
    (f"<main><article><footer><p>{TEXT}</p></article></main>", "no <footer>"),
    (f"<main>x</main><footer hidden><p>{TEXT}</p></footer>", "footer is hidden"),
    (f"<main>x</main><footer><div aria-hidden=true><p>{TEXT}</p></div></footer>", "not inside the page footer"),
    (f"<main>x</main><footer><div style='display: none'><p>{TEXT}</p></div></footer>", "not inside"),
    (f"<main>x</main><footer><template><p>{TEXT}</p></template></footer>", "lacks the medical disclaimer"),
    (f"<main>x</main><footer><!-- <p>{TEXT}</p> --></footer>", "lacks the medical disclaimer"),
    (f"<main>x</main><footer><p>{TEXT[:30]}</p></footer>", "lacks the medical disclaimer"),
    # Attribute names in capitals, and values in entities, hide as well.
    (f"<main>x</main><FOOTER HIDDEN><p>{TEXT}</p></FOOTER>", "footer is hidden"),
    (f"<main>x</main><footer><div Aria-Hidden=TRUE><p>{TEXT}</p></div></footer>", "not inside the page footer"),
    (f"<main>x</main><footer><div INERT><p>{TEXT}</p></div></footer>", "not inside the page footer"),
    (f"<main>x</main><footer><div STYLE='opacity:&#48;'><p>{TEXT}</p></div></footer>", "not inside"),
])
def test_rejects_a_footer_without_the_visible_disclaimer(body, reason):
    problem = page_footer_problem(wrap(body), DISCLAIMER)
    assert problem is not None and reason in problem


def break_template(site, name, old, new):
    path = site / "templates" / name
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def expect_failure(site, *fragments):
    result = run_cli("build", cwd=site)
    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
    assert not (site / "_site").exists()
    return result


def test_removing_the_disclaimer_from_base_template_fails(make_site):
    site = make_site()
    break_template(site, "base.html", "{{ disclaimer }}", "")
    result = expect_failure(site, "lacks the medical disclaimer", "rendered with templates/article.html -> "
                                  "templates/base.html")
    assert "/topic-a/first/ (from content/topic-a/first.md)" in result.stderr


def test_overriding_a_footer_block_fails(make_site):
    site = make_site()
    break_template(site, "base.html", '<footer class="site-footer">', '{% block footer %}<footer class="site-footer">')
    break_template(site, "base.html", "</footer>", "</footer>{% endblock %}")
    break_template(site, "article.html", "{% block main %}", "{% block footer %}{% endblock %}{% block main %}")
    expect_failure(site, "templates/article.html: error: the page has no <footer>", "/topic-a/first/")


def test_a_template_that_does_not_extend_base_fails(make_site):
    site = make_site()
    (site / "templates/page.html").write_text("<!doctype html><html lang=en><title>{{ page.title }}</title>"
                                               "<main>{{ page.body_html }}</main></html>")
    expect_failure(site, "templates/page.html: error: the page has no <footer>", "/glossary/")


def test_moving_the_disclaimer_out_of_the_footer_fails(make_site):
    site = make_site()
    break_template(site, "base.html", "{{ disclaimer }}", "")
    break_template(site, "base.html", '<main id="main" class="wrap">', '<main id="main" class="wrap">{{ disclaimer }}')
    expect_failure(site, "not inside the page footer")


def test_hiding_the_footer_fails(make_site):
    site = make_site()
    break_template(site, "base.html", '<footer class="site-footer">', '<footer class="site-footer" hidden>')
    expect_failure(site, "footer is hidden")


def test_front_matter_cannot_turn_the_disclaimer_off(make_site):
    site = make_site()
    path = site / "content/topic-a/first.md"
    path.write_text(path.read_text().replace("order: 1", "order: 1\ndisclaimer: false"))
    expect_failure(site, "content/topic-a/first.md:6: error: disclaimer: unknown key; the medical disclaimer "
                         "is on every page and cannot be turned off")


def test_missing_disclaimer_source_fails(make_site):
    site = make_site()
    (site / "content/_disclaimer.md").unlink()
    expect_failure(site, "content/_disclaimer.md: error: the medical disclaimer source is missing")


def test_empty_disclaimer_source_fails(make_site):
    site = make_site()
    (site / "content/_disclaimer.md").write_text("  \n<!-- nothing -->\n")
    expect_failure(site, "content/_disclaimer.md:1: error: the medical disclaimer is empty")


def test_editing_the_disclaimer_source_changes_every_page(make_site):
    site = make_site()
    (site / "content/_disclaimer.md").write_text("Talk to your own doctor before any change.\n")
    result = run_cli("build", cwd=site)
    assert result.returncode == 0, result.stderr
    for file in (site / "_site").rglob("*.html"):
        assert "Talk to your own doctor before any change." in file.read_text().split("<footer", 1)[1]
