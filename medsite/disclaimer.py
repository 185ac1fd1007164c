"""The medical disclaimer: one editable source, required in the footer of every built page.

There is deliberately no switch to turn this off. After rendering, every page is scanned and the
build fails when the exact disclaimer text is not visible inside the page's own footer
(`<body>`'s `<footer>`), whatever a template or front matter tried.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from markupsafe import Markup

from .config import SiteConfig, display_path
from .frontmatter import split_front_matter
from .htmlscan import END_TAG, RAW_TEXT, TOKEN, VOID, normalize_space, parse_attrs, raw_text_end, visible_text
from .problems import Problem, error

_HIDING_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden|opacity\s*:\s*0(?![.\d]*[1-9])"
                           r"|font-size\s*:\s*0(?![.\d]*[1-9])|clip", re.I)


@dataclass(frozen=True)
class Disclaimer:
    html: Markup
    text: str  # visible text, white space folded: what every footer must contain
    shown: str  # the source path as printed in problems


def load_disclaimer(config: SiteConfig, render_markdown) -> tuple[Disclaimer | None, list[Problem]]:
    """Read and render the disclaimer source; missing or empty is an error, never a default."""
    path = config.disclaimer_path
    shown = display_path(path, config.root)
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return None, [error(shown, 0, "the medical disclaimer source is missing; every page must carry it "
                                      f"(create {shown}, or set 'disclaimer' in the config)")]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [error(shown, 0, f"cannot read the medical disclaimer: {exc}")]
    split, problems = split_front_matter(raw, shown)
    body = split.body if split is not None else raw
    html = render_markdown(body).strip() if body.strip() else ""
    text = visible_text(html)
    if not text:
        return None, problems + [error(shown, 1, "the medical disclaimer is empty; write its text here")]
    return Disclaimer(Markup(html), text, shown), problems


def _is_hidden(raw_attrs: str) -> bool:
    """Whether a start tag's attribute text hides the element."""
    lowered = raw_attrs.lower()
    if "hidden" not in lowered and "inert" not in lowered and "style" not in lowered:
        return False  # none of the attributes below: most tags, so parsing is skipped
    attrs = parse_attrs(raw_attrs)
    if "hidden" in attrs or attrs.get("aria-hidden", "").lower() == "true" or "inert" in attrs:
        return True
    return bool(_HIDING_STYLE.search(attrs.get("style", "")))


def page_footer_problem(html: str, disclaimer: Disclaimer) -> str | None:
    """Why the page's footer lacks the visible disclaimer, or None when it is there."""
    stack: list[str] = []
    footers: list[str] = []
    hidden_depth: int | None = None  # stack depth at which a hidden element opened
    collecting: list[str] | None = None
    footer_depth = 0
    last = 0  # end of the previous tag, kept while collecting
    position = 0
    # This runs on every page of every build, so it walks `TOKEN` matches itself (the tags of
    # `iter_raw_tags`) rather than through a generator, and does the least work per tag.
    while True:
        for match in TOKEN.finditer(html, position):
            kind = match.lastindex
            if kind is None:
                continue  # a comment, declaration or processing instruction
            tag_name = match[kind - 1].lower()  # groups kind - 1 and kind: name, attribute text
            if collecting is not None:
                if hidden_depth is None:
                    collecting.append(html[last:match.start()])
                last = match.end()
            if kind == END_TAG:
                # Most end tags close the innermost element; others pop up to theirs, if open.
                if not stack or stack[-1] != tag_name and tag_name not in stack:
                    continue
                while stack:
                    name = stack.pop()
                    if hidden_depth is not None and len(stack) < hidden_depth:
                        hidden_depth = None
                    if collecting is not None and len(stack) < footer_depth:
                        footers.append(" ".join(collecting))
                        collecting = None
                    if name == tag_name:
                        break
                continue
            raw_attrs = match[kind]  # empty for half of the tags, which can neither self-close nor hide
            if tag_name not in VOID and not (raw_attrs and raw_attrs.rstrip().endswith("/")):
                if tag_name == "footer" and collecting is None and [s for s in stack if s != "html"] == ["body"]:
                    if hidden_depth is not None or raw_attrs and _is_hidden(raw_attrs):
                        return "the page footer is hidden"
                    collecting, footer_depth, last = [], len(stack) + 1, match.end()
                elif hidden_depth is None and (raw_attrs and _is_hidden(raw_attrs)
                                               or tag_name in ("template", "noscript")):
                    if tag_name in ("body", "html"):
                        return "the page body is hidden"
                    hidden_depth = len(stack) + 1
                stack.append(tag_name)
            if tag_name in RAW_TEXT:  # its content is text: scanning resumes at its end tag
                position = raw_text_end(html, tag_name, match.end())
                break
        else:
            break
    if collecting is not None:
        footers.append(" ".join(collecting))
    if not footers:
        return "the page has no <footer> in its <body>, so it lacks the medical disclaimer"
    text = normalize_space(" ".join(visible_text(f) for f in footers))
    if disclaimer.text not in text:
        if disclaimer.text in normalize_space(visible_text(html)):
            return "the medical disclaimer is not inside the page footer (it was moved or hidden)"
        return "the page footer lacks the medical disclaimer (it was removed, emptied or changed)"
    return None


def enforce(pages, disclaimer: Disclaimer) -> list[Problem]:
    """An error for each template whose pages lack the disclaimer, naming the pages and the template chain."""
    failures: dict[tuple[str, str], list] = {}
    for page in pages:
        reason = page_footer_problem(page.html, disclaimer)
        if reason:
            failures.setdefault((page.template_shown, reason), []).append(page)
    problems = []
    for (template_shown, reason), failed in failures.items():
        urls = ", ".join(f"{p.url} (from {p.source_shown})" for p in failed[:3])
        more = f" and {len(failed) - 3} more" if len(failed) > 3 else ""
        chain = " -> ".join(failed[0].template_chain)
        problems.append(error(template_shown, 0, f"{reason}: {urls}{more}; rendered with {chain}; the text "
                              f"comes from {disclaimer.shown} and must stay inside <body>'s <footer>"))
    return problems
