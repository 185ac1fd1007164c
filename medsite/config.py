"""The site config: a typed schema with defaults, loaded from YAML with line-numbered errors."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from .frontmatter import load_yaml
from .problems import Problem, error, has_errors
from .schema import Reader


def doc(text: str, **kwargs):
    return field(metadata={"doc": text}, **kwargs)


@dataclass(frozen=True)
class NavItem:
    title: str = doc("Text of the navigation link.")
    link: str = doc("A content source path (`about.md`) or a site path (`/ketamine-lozenges/`).")
    line: int = field(default=0, compare=False, metadata={"internal": True})


@dataclass(frozen=True)
class Drug:
    """The medicine a series is about, for the structured data of its overview (never doses)."""
    name: str = doc("The medicine's non-proprietary (generic) name, e.g. 'ketamine'.")
    legal_status: str = doc("Its legal status in plain words, e.g. 'DEA Schedule III controlled substance'.")
    prescription_only: bool = doc("True when it is only available on prescription.", default=True)


@dataclass(frozen=True)
class Topic:
    title: str = doc("Title of the series, shown on its index page and in breadcrumbs.")
    summary: str = doc("One or two sentences introducing the series.")
    notice: str = doc("Markdown shown at the top of every medical article of the series "
                      "(for example the regulatory status of a medicine).", default="")
    drug: Drug | None = doc("The medicine the series is about; described as a schema.org Drug in the "
                            "structured data of the series' overview page.", default=None)


@dataclass(frozen=True)
class ReviewPolicy:
    interval_months: int = doc("Months after `last_reviewed` that a page falls due without `next_review`.",
                               default=12)
    due_soon_days: int = doc("A page due for review within this many days gets a warning.", default=30)
    require_clinical_review: bool = doc(
        "Publishing mode: a medical article without `reviewed_by` is an error, not a visible notice.",
        default=False)


@dataclass(frozen=True)
class LintPolicy:
    reading_grade_warning: float = doc("A page whose prose reads above this Flesch-Kincaid grade gets a warning.",
                                       default=8)
    reading_grade_error: float = doc("A page whose prose reads above this grade is an error.", default=12)
    required_kinds: list[str] = doc("The kinds of article every topic series must have; a missing one is an "
                                    "error naming the topic folder.",
                                    default_factory=lambda: ["mechanism", "indications", "risks", "faq"])
    dose_patterns: list[str] = doc(
        "Units that make a number a dose amount ('25 mg'); a dose in a page asks for clinical sign-off.",
        default_factory=lambda: ["mg", "mcg", "µg", "microgram", "micrograms", "milligram", "milligrams",
                                 "mg/kg", "ml", "mL", "millilitre", "millilitres", "IU", "units"])
    sourcing_phrases: list[str] = doc(
        "Words that point readers to buying or sourcing a prescription drug: an error, unless the sentence "
        "warns against it (see safe_contexts).",
        default_factory=lambda: ["buy", "buying", "purchase", "purchasing", "order online", "for sale",
                                 "without a prescription", "no prescription needed", "no prescription required",
                                 "discreet shipping", "discreet delivery", "price", "prices", "cheap",
                                 "discount", "coupon", "best deal"])
    safe_contexts: list[str] = doc(
        "Words that, earlier in the same sentence, make a sourcing phrase a warning to readers "
        "('Never buy ketamine without a prescription'). A question answered 'No' is also safe.",
        default_factory=lambda: ["never", "don't", "do not", "not", "illegal", "unsafe", "avoid", "dangerous",
                                 "cannot", "can't", "must not", "should not", "shouldn't"])
    residue_phrases: list[str] = doc(
        "Leftover web furniture from copied pages (comment forms, share buttons); each is an error.",
        default_factory=lambda: ["Leave a Reply", "Leave a comment", "Your email address will not be published",
                                 "Required fields are marked", "Post Comment", "Save my name, email, and website",
                                 "Notify me of follow-up comments", "Share this:", "Like this:", "Related posts",
                                 "Post navigation", "Subscribe to our newsletter"])


@dataclass(frozen=True)
class SiteConfig:
    title: str = doc("The site's name.")
    tagline: str = doc("A short line under the site's name.")
    base_url: str = doc("The absolute URL the site is published at, e.g. https://example.org/ .")
    publisher: str = doc("Who publishes the site (shown in the footer and in structured data).")
    language: str = doc("The language of the content (BCP 47, e.g. 'en').", default="en")
    content_dir: str = doc("Folder of the Markdown articles, relative to the config file.", default="content")
    templates_dir: str = doc("Folder of the Jinja2 templates.", default="templates")
    static_dir: str = doc("Folder of files copied as they are (CSS, images, scripts).", default="static")
    output_dir: str = doc("Folder the site is written to.", default="_site")
    disclaimer: str = doc("The disclaimer source, relative to the content folder; it must exist.",
                          default="_disclaimer.md")
    feedback_url: str = doc("Where readers send feedback (a URL or mailto:).", default="")
    nav: list[NavItem] = doc("The main navigation, in order.", default_factory=list)
    footer_links: list[NavItem] = doc("Links in every page's footer, such as the full disclaimer and how "
                                      "the site is made.", default_factory=list)
    topics: dict[str, Topic] = doc("Series titles, summaries and notices, by topic folder name.",
                                   default_factory=dict)
    review: ReviewPolicy = doc("The clinical review policy.", default_factory=ReviewPolicy)
    lint: LintPolicy = doc("The content checks of `lint` and `check`.", default_factory=LintPolicy)
    # Filled in by load_config, not read from the file.
    root: Path = field(default=Path("."), compare=False, metadata={"internal": True})
    config_path: Path = field(default=Path("config.yaml"), compare=False, metadata={"internal": True})

    def folder(self, name: str) -> Path:
        return (self.root / getattr(self, name)).resolve()

    @property
    def content_path(self) -> Path:
        return self.folder("content_dir")

    @property
    def templates_path(self) -> Path:
        return self.folder("templates_dir")

    @property
    def static_path(self) -> Path:
        return self.folder("static_dir")

    @property
    def output_path(self) -> Path:
        return self.folder("output_dir")

    @property
    def disclaimer_path(self) -> Path:
        return self.content_path / self.disclaimer


def display_path(path: Path, root: Path | None = None) -> str:
    """A path as the user would type it: relative to the current folder when possible."""
    # The path itself first: resolving would follow a symbolic link out of the folder it is in.
    for candidate in (Path(os.path.abspath(path)), Path(path).resolve()):
        for base in (Path.cwd(), root):
            if base is None:
                continue
            try:
                return str(candidate.relative_to(base.resolve()))
            except ValueError:
                continue
    return str(path)


def load_config(path: Path, output_dir: str | None = None) -> tuple[SiteConfig | None, list[Problem]]:
    """Read and validate the config file; every problem is reported, not just the first.

    `output_dir` (from `--out`) replaces the config's output folder and is checked the same way.
    """
    shown = display_path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return None, [error(shown, 0, "config file not found (pass --config FILE)")]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [error(shown, 0, f"cannot read the config file: {exc}")]
    data, problems = load_yaml(text, shown)
    if data is None and problems:
        return None, problems
    reader = Reader(shown)
    config = reader.read(SiteConfig, {} if data is None else data)
    problems += reader.problems
    if config is None:
        return None, problems
    config = replace(config, root=path.resolve().parent, config_path=path.resolve())
    if output_dir is not None:
        config = replace(config, output_dir=str(Path(output_dir).resolve()))
    problems += _check_across_fields(config, data, shown, output_from_cli=output_dir is not None)
    return (None if has_errors(problems) else config), problems


def _check_across_fields(config: SiteConfig, data, shown: str, output_from_cli: bool) -> list[Problem]:
    problems = []

    def line(key: str) -> int:
        return data.line_of(key) if hasattr(data, "line_of") else 1

    out_where, out_line = ("--out", 0) if output_from_cli else ("output_dir", line("output_dir"))
    if not config.base_url.startswith(("http://", "https://")):
        problems.append(error(shown, line("base_url"), "base_url: must be an absolute http(s) URL, "
                                                        f"got '{config.base_url}'"))
    for name in ("content_dir", "templates_dir", "static_dir"):
        if not config.folder(name).is_dir() and name != "static_dir":
            problems.append(error(shown, line(name), f"{name}: folder '{getattr(config, name)}' not found"))
    out = config.output_path
    for name in ("content_dir", "templates_dir", "static_dir"):
        folder = config.folder(name)
        if out == folder or folder.is_relative_to(out) or out.is_relative_to(folder):
            problems.append(error(shown, out_line,
                                  f"{out_where}: '{config.output_dir}' overlaps {name} '{getattr(config, name)}'; "
                                  "the build replaces the output folder, so it must be separate"))
    if config.root.is_relative_to(out):
        problems.append(error(shown, out_line, f"{out_where}: must not be the project folder or contain it"))
    if config.review.interval_months < 1:
        problems.append(error(shown, line("review"), "review.interval_months: must be at least 1"))
    if config.lint.reading_grade_error < config.lint.reading_grade_warning:
        problems.append(error(shown, line("lint"), "lint.reading_grade_error: must not be below "
                                                   "lint.reading_grade_warning"))
    return problems
