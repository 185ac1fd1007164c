"""A deterministic corpus of N patient-education articles, for benchmarks.

`python bench/corpus.py N FOLDER` writes FOLDER/config.yaml and FOLDER/content/: articles of the
shape the real site has (front matter valid for medsite's schema, 4-6 `##` sections, a table,
lists, an admonition, links to other articles including `other.md#section` anchors that exist),
spread over topic folders. The same N always gives the same bytes. The config points at the
project's own templates and static files by absolute path.
"""
from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
KINDS = ["overview", "mechanism", "indications", "risks", "treatment", "faq"]
# Every article has the first four sections, so links to `other.md#<their id>` always resolve.
SECTIONS = ["What it is", "How it works", "Common side effects", "Questions to ask",
            "Living with it", "When to get help"]
SECTION_IDS = ["what-it-is", "how-it-works", "common-side-effects", "questions-to-ask"]
WORDS = ("pain medicine doctor nurse body nerve signal calm daily sleep mood brain care plan "
         "treatment option risk benefit study patient family appointment question answer symptom "
         "relief change week month record diary pharmacy clinic test result effect slowly gently "
         "often sometimes rarely usually most people some few may can should will help support").split()
TOPIC_NAMES = ["back-pain", "nerve-pain", "arthritis", "headache", "fibromyalgia", "cancer-pain",
               "pelvic-pain", "neck-pain", "joint-care", "sleep-and-pain", "mood-and-pain", "medicines"]


def topic_count(articles: int) -> int:
    return min(len(TOPIC_NAMES), max(2, articles // 50))


def article_name(index: int) -> str:
    return f"article-{index:05d}.md"


def layout(articles: int) -> list[tuple[str, str]]:
    """(topic folder, file name) of each article, round-robin over the topics."""
    topics = TOPIC_NAMES[:topic_count(articles)]
    return [(topics[i % len(topics)], article_name(i)) for i in range(articles)]


def sentence(rng: random.Random, words: int | None = None) -> str:
    chosen = [rng.choice(WORDS)]
    while len(chosen) < (words or rng.randint(8, 16)):
        word = rng.choice(WORDS)
        if word != chosen[-1]:  # no word twice in a row (the linter calls that keyword stuffing)
            chosen.append(word)
    return chosen[0].capitalize() + " " + " ".join(chosen[1:]) + "."


def paragraph(rng: random.Random) -> str:
    return " ".join(sentence(rng) for _ in range(rng.randint(3, 5)))


def article_text(index: int, places: list[tuple[str, str]]) -> str:
    rng = random.Random(index)
    topic, _ = places[index]
    topics = topic_count(len(places))
    order = index // topics + 1
    kind = KINDS[(index // topics) % len(KINDS)]  # every series has every kind of article
    title = f"{sentence(rng, 3)[:-1]} ({index})"
    same_topic = range(index % topics, len(places), topics)  # the round-robin layout's series
    others = range(len(places))

    def link_to(j: int, anchor: str = "") -> str:
        folder, name = places[j]
        path = name if folder == topic else f"../{folder}/{name}"
        return f"[{sentence(rng, 3)[:-1].lower()}]({path}{'#' + anchor if anchor else ''})"

    sections = SECTIONS[:rng.randint(4, 6)]
    parts = ["---",
             f'title: "{title}"',
             f'summary: "{sentence(rng)}"',
             f"kind: {kind}",
             f"order: {order}",
             f"last_reviewed: {dt.date(2026, 1, 1) + dt.timedelta(days=index % 300)}",
             "references:",
             f'  - title: "{sentence(rng, 6)[:-1]}"',
             "    authors: Smith AB, Jones CD",
             "    journal: Journal of Pain Care",
             f"    year: {2000 + index % 25}",
             f"    doi: 10.1000/jpc.{index}",
             f"  - https://example.org/guidelines/{index}",
             "---", ""]
    for number, heading in enumerate(sections):
        parts += [f"## {heading}", "", paragraph(rng), ""]
        if number == 0:
            parts += [f"Read {link_to(rng.choice(same_topic), rng.choice(SECTION_IDS))} and "
                      f"{link_to(rng.choice(others))}, or look a word up in the [glossary](../glossary.md).", ""]
            parts += [f"- {sentence(rng)}" for _ in range(rng.randint(3, 5))] + [""]
        elif number == 1:
            parts += ["| Effect | How common | What to do |", "| --- | --- | --- |"]
            parts += [f"| {rng.choice(WORDS)} | {rng.choice(['common', 'uncommon', 'rare'])} | "
                      f"{sentence(rng, 5)} |" for _ in range(rng.randint(3, 6))] + [""]
        elif number == 2:
            parts += ['!!! warning "Get help straight away"', f"    {sentence(rng)} {sentence(rng)}", ""]
            parts += [f"{k}. {sentence(rng)}" for k in range(1, rng.randint(3, 5) + 1)] + [""]
        else:
            parts += [f"{paragraph(rng)} See {link_to(rng.choice(same_topic), rng.choice(SECTION_IDS))}.", ""]
    return "\n".join(parts)


CONFIG = """\
title: Benchmark Health Site
tagline: Generated articles for timing medsite
base_url: https://bench.example/
publisher: The benchmark
templates_dir: {templates}
static_dir: {static}
nav:
  - title: Home
    link: index.md
  - title: Glossary
    link: glossary.md
topics:
{topics}"""

PAGES = {
    "_disclaimer.md": "This site gives general information only. It is not medical advice.\n",
    "index.md": "---\ntitle: Benchmark home\nsummary: The home page.\nkind: page\nlast_reviewed: 2026-01-01\n"
                "---\nWelcome. Read the [glossary](glossary.md).\n",
    "glossary.md": "---\ntitle: Glossary\nsummary: Words used on this site.\nkind: page\n"
                   "last_reviewed: 2026-01-01\n---\n## Nerve\n\nA path for signals.\n",
}


def generate(folder: Path, articles: int, templates: Path = PROJECT / "templates",
             static: Path = PROJECT / "static") -> Path:
    """Write the corpus into `folder` (replacing its content folder); return the config's path."""
    places = layout(articles)
    topics = sorted({t for t, _ in places})
    content = folder / "content"
    shutil.rmtree(content, ignore_errors=True)
    for topic in topics:
        (content / topic).mkdir(parents=True)
    for name, text in PAGES.items():
        (content / name).write_text(text, encoding="utf-8")
    for index, (topic, name) in enumerate(places):
        (content / topic / name).write_text(article_text(index, places), encoding="utf-8")
    topic_yaml = "".join(f"  {t}:\n    title: {t.replace('-', ' ').capitalize()}\n"
                         f"    summary: Articles about {t.replace('-', ' ')}.\n"
                         f"    notice: \"**Note:** talk to your doctor about {t.replace('-', ' ')}.\"\n"
                         for t in topics)
    config = folder / "config.yaml"
    config.write_text(CONFIG.format(templates=templates.resolve(), static=static.resolve(), topics=topic_yaml),
                      encoding="utf-8")
    return config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("articles", type=int)
    parser.add_argument("folder", type=Path)
    args = parser.parse_args()
    print(generate(args.folder, args.articles))


if __name__ == "__main__":
    main()
