"""Articles: discovering source files, reading front matter, slugs, topics and URLs."""
from __future__ import annotations

import datetime as dt
import functools
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal

from .config import SiteConfig, display_path
from .frontmatter import LineMap, load_yaml, split_front_matter
from .problems import Problem, error, has_errors
from .schema import Reader

Kind = Literal["overview", "mechanism", "indications", "risks", "treatment", "faq", "page"]
MEDICAL_KINDS = frozenset({"overview", "mechanism", "indications", "risks", "treatment", "faq"})
MAX_ARTICLE_BYTES = 2_000_000  # far beyond any real article; stops a pasted data dump early


def doc(text: str, **kwargs):
    return field(metadata={"doc": text}, **kwargs)


@dataclass(frozen=True)
class Reference:
    title: str = doc("Title of the paper, guideline or page.", default="")
    authors: str = doc("Authors, as 'Surname AB, Surname CD'.", default="")
    journal: str = doc("Journal or publisher.", default="")
    year: int | None = doc("Year of publication.", default=None)
    doi: str = doc("DOI, without 'https://doi.org/'.", default="")
    url: str = doc("Web address.", default="")
    note: str = doc("A short note shown after the reference.", default="")
    recheck: bool = doc("True when the source was seen only in a secondary copy and must be "
                        "re-checked against the original before publishing.", default=False)
    line: int = field(default=0, compare=False, metadata={"internal": True})


@dataclass(frozen=True)
class FrontMatter:
    title: str = doc("The page title (the one h1).")
    summary: str = doc("One or two plain sentences; also the meta description.")
    kind: Kind = doc("What the page is: overview, mechanism, indications, risks, treatment, faq or page.")
    last_reviewed: dt.date = doc("Date of the last whole-page review (YYYY-MM-DD).")
    topic: str | None = doc("The series the article belongs to; defaults to its folder.", default=None)
    order: int | None = doc("Position in its series (lower first).", default=None)
    reviewed_by: str | list[str] | None = doc("The clinical reviewer(s) with credentials. "
                                              "Leave it out when nobody has reviewed the page.", default=None)
    next_review: dt.date | None = doc("When the page is due for its next review.", default=None)
    references: list[str | Reference] = doc("Sources the page relies on.", default_factory=list)
    tags: list[str] = doc("Keywords for search.", default_factory=list)
    draft: bool = doc("A draft is left out of the build unless --drafts is given.", default=False)
    slug: str | None = doc("The last part of the page's URL; defaults to the file name.", default=None)

    @property
    def reviewers(self) -> list[str]:
        if self.reviewed_by is None:
            return []
        return [self.reviewed_by] if isinstance(self.reviewed_by, str) else list(self.reviewed_by)


# Keys that must never be accepted, with the reason shown to the editor.
FORBIDDEN_KEYS = {
    "disclaimer": "unknown key; the medical disclaimer is on every page and cannot be turned off",
    "layout": "unknown key; the template is chosen by the page's kind",
    "template": "unknown key; the template is chosen by the page's kind",
}


@dataclass(frozen=True)
class SourceFile:
    location: str | os.PathLike  # absolute (discover gives a str: making 10,000 Paths is slow)
    rel: str  # posix path relative to the content folder, e.g. "ketamine-lozenges/risks.md"
    shown: str  # as printed in problems, e.g. "content/ketamine-lozenges/risks.md"

    @functools.cached_property
    def path(self) -> Path:
        return Path(self.location)


@dataclass(frozen=True)
class Article:
    source: SourceFile
    meta: FrontMatter
    body: str
    body_line: int  # file line of the body's first line
    meta_lines: dict = field(compare=False, default_factory=dict)  # key -> file line
    text_hash: str = ""

    @property
    def rel(self) -> str:
        return self.source.rel

    @property
    def shown(self) -> str:
        return self.source.shown

    @property
    def topic(self) -> str | None:
        if self.meta.topic:
            return self.meta.topic
        parts = self.rel.split("/")  # rel is already a clean posix path
        return parts[0] if len(parts) > 1 else None

    @property
    def is_medical(self) -> bool:
        return self.meta.kind in MEDICAL_KINDS

    @functools.cached_property  # asked for many times per page; slugs are not cheap
    def url(self) -> str:
        return article_url(self.rel, self.meta.slug)

    def line_of(self, key: str) -> int:
        return self.meta_lines.get(key, 1)


@dataclass(frozen=True)
class Discovery:
    articles: list[SourceFile]
    assets: list[SourceFile]  # non-Markdown files in content/, copied beside their pages


_IGNORED = re.compile(r"(^\.|~$|\.sw[a-p]$|^#.*#$|\.tmp$|^4913$)")  # dotfiles and editor leftovers


def is_ignored_name(name: str) -> bool:
    return bool(_IGNORED.search(name))


def discover(config: SiteConfig) -> tuple[Discovery, list[Problem]]:
    """List the articles and assets under the content folder, in a stable order: each folder's
    files by name, then its subfolders by name."""
    root = config.content_path
    problems: list[Problem] = []
    articles: list[SourceFile] = []
    assets: list[SourceFile] = []
    if not root.is_dir():
        return Discovery([], []), [error(display_path(config.config_path), 0,
                                         f"content folder '{display_path(root)}' not found")]
    root_shown = display_path(root, config.root)  # once: resolving every file's path is slow

    def walk(folder: str, prefix: str) -> None:
        with os.scandir(folder) as found:
            entries = sorted((entry for entry in found if not is_ignored_name(entry.name)), key=lambda e: e.name)
        folders = []
        for entry in entries:
            rel = prefix + entry.name
            if entry.is_dir():  # a link to a folder too; it is checked, never followed
                if entry.name.startswith("_"):
                    continue
                if entry.is_symlink():
                    if not Path(entry.path).resolve().is_relative_to(root):
                        problems.append(error(display_path(Path(entry.path), config.root), 0,
                                              "symbolic link to a folder outside the content folder"))
                    continue
                folders.append(entry)
                continue
            source = SourceFile(entry.path, rel, f"{root_shown}/{rel}")
            if entry.is_symlink():
                target = Path(entry.path).resolve()
                if not target.is_relative_to(root):
                    problems.append(error(source.shown, 0, "symbolic link points outside the content folder "
                                                           f"(to '{target}'); copy the file in instead"))
                    continue
            if entry.name.startswith("_"):
                continue  # partials such as the disclaimer source
            (articles if entry.name.endswith(".md") else assets).append(source)
        for entry in folders:
            walk(entry.path, prefix + entry.name + "/")

    walk(os.fspath(root), "")
    return Discovery(articles, assets), problems


def read_source(source: SourceFile) -> tuple[str | None, os.stat_result | None, list[Problem]]:
    """Read a text file as UTF-8 (a BOM is accepted), with a clear error for anything else; with
    the file's stat from before reading (a later change to the file changes its stat)."""
    try:
        stat = os.stat(source.location)
        if stat.st_size > MAX_ARTICLE_BYTES:
            return None, stat, [error(source.shown, 0, f"file is {stat.st_size // 1_000_000} MB; an article may "
                                                       f"be at most {MAX_ARTICLE_BYTES // 1_000_000} MB")]
        with open(source.location, "rb") as stream:
            data = stream.read()
    except OSError as exc:
        return None, None, [error(source.shown, 0, f"cannot read the file: {exc.strerror or exc}")]
    try:
        return data.decode("utf-8-sig"), stat, []
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        return None, stat, [error(source.shown, line, f"not valid UTF-8 text (byte 0x{data[exc.start]:02x}); "
                                                      "save the file as UTF-8")]


def parse_article(source: SourceFile, text: str) -> tuple[Article | None, list[Problem]]:
    """Build an Article from its text: front matter checked against the schema, body kept as is."""
    split, problems = split_front_matter(text, source.shown)
    if split is None:
        return None, problems
    if split.front_matter is None:
        return None, [error(source.shown, 1, "no front matter: an article starts with a '---' line, "
                                             "its fields (title, summary, kind, last_reviewed), and another '---'")]
    data, problems = load_yaml(split.front_matter, source.shown, split.front_matter_line)
    if data is None and problems:
        return None, problems
    if not isinstance(data, dict):
        got = "nothing" if data is None else type(data).__name__
        return None, problems + [error(source.shown, split.front_matter_line,
                                       f"front matter must be a mapping of fields, got {got}")]
    reader = Reader(source.shown, FORBIDDEN_KEYS)
    meta = reader.read(FrontMatter, data, line=split.front_matter_line)
    problems += reader.problems
    if meta is not None:
        problems += _check_front_matter(meta, data, source)
    if has_errors(problems):
        return None, problems
    lines = dict(data.lines) if isinstance(data, LineMap) else {}
    return Article(source, meta, split.body, split.body_line, lines), problems


def _check_front_matter(meta: FrontMatter, data: LineMap, source: SourceFile) -> list[Problem]:
    problems = []
    if meta.slug is not None:
        if "/" in meta.slug or "\\" in meta.slug or ".." in meta.slug:
            problems.append(error(source.shown, data.line_of("slug"),
                                  f"slug: '{meta.slug}' must be one URL segment (no '/', '\\' or '..')"))
        elif not url_segment(meta.slug):
            problems.append(error(source.shown, data.line_of("slug"),
                                  f"slug: '{meta.slug}' has no letters or digits left after cleaning"))
    names = PurePosixPath(source.rel).parent.parts + (() if meta.slug else (PurePosixPath(source.rel).stem,))
    nameless = [name for name in names if not url_segment(name)]
    if nameless:
        problems.append(error(source.shown, 0, f"'{nameless[0]}' has no letters or digits to make the page's "
                                               "URL from; rename it"))
    if meta.topic is not None and not slugify(meta.topic) == meta.topic:
        problems.append(error(source.shown, data.line_of("topic"),
                              f"topic: '{meta.topic}' must be a folder-style name like 'ketamine-lozenges'"))
    if meta.next_review is not None and meta.next_review <= meta.last_reviewed:
        problems.append(error(source.shown, data.line_of("next_review"),
                              "next_review: must be after last_reviewed"))
    return problems


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later (the 31st becomes the month's last day)."""
    import calendar
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def next_review_due(meta: FrontMatter, interval_months: int) -> dt.date:
    return meta.next_review or add_months(meta.last_reviewed, interval_months)


def slugify(text: str) -> str:
    """Lowercase ASCII words joined by hyphens: the one slug rule for URLs."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def url_segment(name: str) -> str:
    """A file or folder name as one URL segment: its slug, or its words when in another script ('中文').

    Only letters, digits, '_' and '-' remain, so no segment can climb ('..') or split ('/', '\\').
    """
    return slugify(name) or "-".join(re.findall(r"\w+", name.lower()))


def article_url(rel: str, slug: str | None = None) -> str:
    """The pretty URL of a source file: `a/b.md` -> `/a/b/`, `index.md` -> `/`."""
    path = PurePosixPath(rel)
    folders = [url_segment(part) for part in path.parent.parts]
    stem = url_segment(slug) if slug else url_segment(path.stem)
    if stem == "index" and not slug:
        parts = folders
    else:
        parts = folders + [stem]
    return "/" + "".join(part + "/" for part in parts if part)  # a nameless part is reported by parse_article


def url_to_file(url: str) -> str:
    """The output file of a URL, relative to the output folder."""
    if url.endswith("/"):
        return url.lstrip("/") + "index.html"
    return url.lstrip("/")
