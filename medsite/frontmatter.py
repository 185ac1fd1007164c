"""Split a Markdown file into front matter and body; load YAML with file line numbers.

PyYAML alone silently keeps the last of two duplicated keys, forgets where each key stood and
reports 0-based marks relative to the YAML block. This loader fixes all three: mappings come
back as `LineMap`s that know the file line of each key, duplicates are errors, and every error
is converted to a `Problem` at the file's own line.
"""
from __future__ import annotations

from dataclasses import dataclass

import yaml

from .problems import Problem, error, warning

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class LineMap(dict):
    """A dict from YAML that remembers the file line of each key (`lines`) and of itself (`line`)."""

    line: int = 0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines: dict = {}

    def line_of(self, key) -> int:
        return self.lines.get(key, self.line)


class _LineLoader(_BaseLoader):
    """SafeLoader that records key lines, rejects duplicate keys and locates bad dates."""

    line_offset = 0  # file line of the YAML block's first line, minus one

    def __init__(self, stream: str):
        super().__init__(stream)
        self.source_lines = stream.split("\n")
        self.duplicate_keys: list[tuple[int, str]] = []
        self.cut_by_comment: list[tuple[int, str, str]] = []  # (line, key, value kept)

    def construct_yaml_map(self, node):
        data = LineMap()
        data.line = node.start_mark.line + 1 + self.line_offset
        yield data
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    None, None, "a key must be a plain value", key_node.start_mark)
            line = key_node.start_mark.line + 1 + self.line_offset
            if key in data:
                self.duplicate_keys.append((line, str(key)))
                continue
            data[key] = self.construct_object(value_node, deep=True)
            data.lines[key] = line
            if self._ends_in_comment(value_node):
                self.cut_by_comment.append((line, str(key), data[key]))

    def _ends_in_comment(self, node) -> bool:
        """A plain (unquoted; style None or '') text value followed by ` #`: YAML dropped the rest."""
        if not (isinstance(node, yaml.ScalarNode) and not node.style and node.tag.endswith(":str")):
            return False
        end = node.end_mark
        rest = self.source_lines[end.line][end.column:] if end.line < len(self.source_lines) else ""
        return rest.lstrip().startswith("#")

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep)
        except (ValueError, KeyError, IndexError, TypeError, OverflowError) as exc:  # e.g. `!!int x`, `!!int`
            value = f"'{node.value}'" if isinstance(node.value, str) else "the value"
            raise yaml.constructor.ConstructorError(
                None, None, f"{value} is not a valid {node.tag.rsplit(':', 1)[-1]}", node.start_mark) from exc

    def construct_yaml_timestamp(self, node):
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"'{node.value}' is not a real date ({exc})", node.start_mark)


_LineLoader.add_constructor("tag:yaml.org,2002:map", _LineLoader.construct_yaml_map)
_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _LineLoader.construct_yaml_timestamp)


def load_yaml(text: str, path: str, first_line: int = 1) -> tuple[object, list[Problem]]:
    """Parse YAML `text` that starts at `first_line` of `path`; return (data, problems)."""
    loader = _LineLoader(text)
    loader.line_offset = first_line - 1
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + first_line if mark is not None else first_line
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        message = f"{context} {problem}" if context and "not a real date" not in problem else problem
        lines = text.split("\n")
        if mark is not None and mark.line < len(lines) and "\t" in lines[mark.line][:mark.column + 1]:
            message += " (a tab: indent YAML with spaces)"
        return None, [error(path, line, f"invalid YAML: {_tidy(message)}")]
    except RecursionError:
        return None, [error(path, first_line, "invalid YAML: lists or mappings nested too deeply")]
    finally:
        loader.dispose()
    problems = [error(path, line, f"duplicate key '{key}' (a key may appear only once)")
                for line, key in loader.duplicate_keys]
    # `title: Update #2` silently becomes 'Update'; a warning, since a comment may also be meant.
    problems += [warning(path, line, f"{key}: YAML reads ' #' as the start of a comment, so the value is "
                                     f"'{value}'; put the whole value in quotes if the '#' belongs to it")
                 for line, key, value in loader.cut_by_comment]
    return data, problems


def _tidy(message: str) -> str:
    return " ".join(message.split())


@dataclass(frozen=True)
class SplitSource:
    """A Markdown source split at its front matter."""

    front_matter: str | None  # None when the file has no front matter block
    front_matter_line: int  # file line of the first YAML line
    body: str
    body_line: int  # file line of the body's first line


def split_front_matter(text: str, path: str) -> tuple[SplitSource | None, list[Problem]]:
    """Split `---` delimited front matter from the body; BOM and CRLF are accepted."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.startswith("---\n") and text.rstrip("\n") != "---":
        return SplitSource(None, 1, text, 1), []
    lines = text.split("\n")
    for index in range(1, len(lines)):
        if lines[index].rstrip() in ("---", "..."):
            yaml_text = "\n".join(lines[1:index])
            body = "\n".join(lines[index + 1:])
            return SplitSource(yaml_text, 2, body, index + 2), []
    return None, [error(path, 1, "front matter starts with '---' on line 1 but has no closing '---' line")]
