"""`new`: start an article with every front-matter field filled in or marked TODO, and the sections
its kind of page needs, as a draft.

The file builds as it is (with --drafts, as the preview does); `lint` flags the unfinished
reference, and the TODO lines show the editor what is still to write.
"""
from __future__ import annotations

import datetime as dt
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import get_args

from .cli import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, configure, report
from .config import SiteConfig, display_path
from .content import MEDICAL_KINDS, Kind, SourceFile, article_url, parse_article, read_source, slugify
from .problems import error

KINDS = get_args(Kind)
PREVIEW_URL = "http://127.0.0.1:8000"  # `serve`'s default address


@dataclass(frozen=True)
class Section:
    heading: str
    body: str  # what to write there, as TODO lines or an example to adapt


WHEN_TO_GET_HELP = Section("When to get medical help", """\
!!! urgent "Contact your prescriber soon if you have"
    - TODO: a symptom that needs a call to the prescriber within a day
    - TODO: keep the list to the 5 most likely symptoms
    - any other side effect that worries you

!!! emergency "Call 911 now if you have"
    - TODO: a symptom that needs an ambulance, such as slow or shallow breathing
    - TODO: no links in this box""")

SECTIONS: dict[str, tuple[Section, ...]] = {
    "overview": (
        Section("What is it?", "TODO: say what it is in two or three plain sentences."),
        Section("What is it used for?", "TODO: the uses, and whether each one is approved."),
        Section("Who is this for?", "TODO: who should read this series."),
        Section("What does this series cover?", "TODO: one line and a link for each article of the series."),
    ),
    "mechanism": (
        Section("How does it work?", "TODO: explain how it acts, one idea per paragraph."),
        Section("What does your body do with it?", "TODO: how it is taken up, broken down and removed."),
        Section("Why does this matter for you?", "TODO: what this means for someone taking it."),
    ),
    "indications": (
        Section("Who might be offered it?", "TODO: the conditions, and who decides."),
        Section("What does the research say?", "TODO: the main studies and reviews, each with its reference."),
        Section("How sure are we?", "TODO: how strong the evidence is, and why (study size, quality)."),
        Section("What is still unknown?", "TODO: the open questions."),
    ),
    "risks": (
        Section("Common side effects", "TODO: the side effects many people get, as a list, in plain words."),
        Section("Serious risks", "TODO: rare but serious harms, and what makes them more likely."),
        Section("Medicines and substances that can interact", "TODO: medicines, alcohol and other drugs to avoid."),
        WHEN_TO_GET_HELP,
    ),
    "treatment": (
        Section("What does safe treatment look like?", "TODO: assessment, a written plan, follow-up."),
        Section("Questions to ask your doctor", "TODO: a short list of questions."),
        Section("Warning signs of an unsafe offer", "TODO: what should make a reader walk away."),
        WHEN_TO_GET_HELP,
    ),
    "faq": (
        Section("TODO: a question, written as a reader would ask it?",
                "TODO: answer it in the first sentence, then explain. Each question is a '##' heading."),
        Section("TODO: another question?", "TODO: the answer."),
    ),
    "page": (
        Section("TODO: first section heading", "TODO: the text."),
    ),
}

REFERENCE_STUB = """\
references:
  - title: "TODO: the title of the paper, guideline or web page"
    # authors: "Surname AB, Surname CD"
    # journal: "Journal or publisher"
    # year: 2024
    # doi: "10.1000/example"
    # url: "https://example.org/page"
    # recheck: true   # only if you saw it in a copy, not the original: check the original before publishing
"""


def skeleton(title: str, kind: str, today: dt.date, order: int | None) -> str:
    """The text of a new article of `kind`: front matter, an opening line, and its sections."""
    lines = [
        "---",
        f"title: {json.dumps(title, ensure_ascii=False)}",
        'summary: "TODO: one or two plain sentences saying what this page tells the reader."',
        f"kind: {kind}",
        f"last_reviewed: {today.isoformat()}",
    ]
    if order is not None:
        lines.append(f"order: {order}")
    lines.append("draft: true   # delete this line when the page is ready to publish")
    if kind in MEDICAL_KINDS:
        lines.append('# reviewed_by: "Name Surname, MD"   # the clinician who checked the page, once they have')
    lines.append(REFERENCE_STUB.rstrip("\n") if kind in MEDICAL_KINDS else "references: []")
    lines += ["---", "TODO: one short opening paragraph: what this page covers and who it is for.", ""]
    for section in SECTIONS[kind]:
        lines += [f"## {section.heading}", "", section.body, ""]
    return "\n".join(lines)


def next_order(config: SiteConfig, folder: Path) -> int | None:
    """One more than the highest `order` in the topic folder; None when no article there has one."""
    orders = []
    for path in sorted(folder.glob("*.md")):
        source = SourceFile(path, path.relative_to(config.content_path).as_posix(), display_path(path, config.root))
        text, _, _ = read_source(source)
        article, _ = parse_article(source, text) if text is not None else (None, [])
        if article is not None and article.meta.order is not None:
            orders.append(article.meta.order)
    return max(orders) + 1 if orders else None


def command(args) -> int:
    if args.kind not in KINDS:
        print(f"medsite new: error: unknown kind '{args.kind}'; choose one of: {', '.join(KINDS)}", file=sys.stderr)
        return EXIT_USAGE
    slug, topic = slugify(args.title), args.topic
    if not slug:
        print(f"medsite new: error: the title '{args.title}' has no letters or digits to make a file name",
              file=sys.stderr)
        return EXIT_USAGE
    if slugify(topic) != topic:
        print(f"medsite new: error: --topic '{topic}' must be a folder-style name like 'ketamine-lozenges' "
              f"(try '{slugify(topic)}')", file=sys.stderr)
        return EXIT_USAGE
    config = configure(args)
    if config is None:
        return EXIT_PROBLEMS
    folder = config.content_path / topic
    path = folder / f"{slug}.md"
    shown = display_path(path, config.root)
    if path.exists():
        report([error(shown, 0, "already exists; edit it, or choose another title")])
        return EXIT_PROBLEMS
    order = next_order(config, folder) if folder.is_dir() else None
    folder.mkdir(parents=True, exist_ok=True)
    with path.open("x", encoding="utf-8") as file:  # "x": never overwrite, even one created just now
        file.write(skeleton(args.title, args.kind, dt.date.today(), order))
    print(f"Created {shown}")
    print(f"Preview it: run `python build.py serve` and open {PREVIEW_URL}{article_url(f'{topic}/{slug}.md')}")
    print("It is a draft (draft: true): the preview shows it, the published build leaves it out "
          "until you delete that line.")
    if topic not in config.topics:
        print(f"Note: add the topic '{topic}' (its title and summary) under 'topics:' in "
              f"{display_path(config.config_path)}.")
    return EXIT_OK
