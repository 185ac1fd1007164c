"""Typed records from YAML: dataclasses whose field types are the schema.

Used for both the site config and article front matter, so both report problems the same way:
`KEY.PATH: message` at the key's line, every problem at once, unknown keys included (a typo in a
medical site's settings must not pass silently).
"""
from __future__ import annotations

import dataclasses
import functools
import datetime as dt
import difflib
import types
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from .frontmatter import LineMap
from .problems import Problem, error

_MISSING = dataclasses.MISSING


def _type_name(tp) -> str:
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        names = [_type_name(a) for a in get_args(tp) if a is not type(None)]
        return " or ".join(names)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(tp))
    if origin is list:
        return f"a list, each {_type_name(get_args(tp)[0])}"
    if origin is dict:
        return f"a mapping of names, each to {_type_name(get_args(tp)[1])}"
    if dataclasses.is_dataclass(tp):
        return "a mapping"
    return {str: "text", int: "a whole number", float: "a number", bool: "true or false",
            dt.date: "a date (YYYY-MM-DD)"}.get(tp, getattr(tp, "__name__", str(tp)))


def _describe(value) -> str:
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    if value is None:
        return "nothing"
    return repr(value) if not isinstance(value, str) else f"'{value}'"


def _same_shape(tp, value) -> bool:
    """Whether `value` has the container shape of type `tp` (a mapping for a record, a list for a list)."""
    if isinstance(value, dict):
        return dataclasses.is_dataclass(tp) or get_origin(tp) is dict
    if isinstance(value, list):
        return get_origin(tp) is list
    return False


@functools.cache
def _shape(cls) -> tuple[dict[str, Any], dict[str, dataclasses.Field]]:
    """A dataclass's type hints and the fields YAML may set (resolving hints costs more than reading)."""
    return get_type_hints(cls), {f.name: f for f in dataclasses.fields(cls) if f.init and not f.metadata.get("internal")}


class Reader:
    """Builds dataclass instances from YAML data, collecting problems with file lines."""

    def __init__(self, path: str, unknown_key_hints: dict[str, str] | None = None):
        self.path = path
        self.problems: list[Problem] = []
        self.unknown_key_hints = unknown_key_hints or {}

    def fail(self, line: int, key_path: str, message: str) -> None:
        prefix = f"{key_path}: " if key_path else ""
        self.problems.append(error(self.path, line, prefix + message))

    def read(self, cls, data, key_path: str = "", line: int = 1):
        """Return an instance of dataclass `cls` from `data`, or None when it cannot be built."""
        if not isinstance(data, dict):
            self.fail(line, key_path, f"expected a mapping, got {_describe(data)}")
            return None
        lines = data.lines if isinstance(data, LineMap) else {}
        hints, fields = _shape(cls)
        values: dict[str, Any] = {}
        ok = True
        for key, value in data.items():
            key_line = lines.get(key, line)
            where = f"{key_path}.{key}" if key_path else str(key)
            if key not in fields:
                hint = self.unknown_key_hints.get(str(key))
                if hint is None:
                    close = difflib.get_close_matches(str(key), list(fields), n=1)
                    hint = f" (did you mean '{close[0]}'?)" if close else ""
                    hint = f"unknown key{hint}; allowed: {', '.join(fields)}"
                self.fail(key_line, where, hint)
                ok = False
                continue
            converted, good = self.convert(hints[key], value, where, key_line)
            ok = ok and good
            values[key] = converted
        for name, field in fields.items():
            if name in values:
                continue
            if field.default is _MISSING and field.default_factory is _MISSING:
                self.fail(getattr(data, "line", line), f"{key_path}.{name}" if key_path else name,
                          f"missing required key ({_type_name(hints[name])})")
                ok = False
        if not ok:
            return None
        instance = cls(**values)
        if hasattr(instance, "line"):
            object.__setattr__(instance, "line", getattr(data, "line", line))
        return instance

    def convert(self, tp, value, where: str, line: int) -> tuple[Any, bool]:
        origin = get_origin(tp)
        if origin in (Union, types.UnionType):
            options = get_args(tp)
            if value is None and type(None) in options:
                return None, True
            if len([o for o in options if o is not type(None)]) == 1:
                # `X | None` given a value: X's own problems (e.g. an unknown key) say more than a mismatch.
                return self.convert(next(o for o in options if o is not type(None)), value, where, line)
            closest: Reader | None = None  # the option of the value's own shape explains best
            for option in options:
                if option is type(None):
                    continue
                probe = Reader(self.path, self.unknown_key_hints)
                result, good = probe.convert(option, value, where, line)
                if good:
                    self.problems.extend(probe.problems)
                    return result, True
                if _same_shape(option, value):
                    closest = probe
            if closest is not None:
                self.problems.extend(closest.problems)
            else:
                self.fail(line, where, f"expected {_type_name(tp)}, got {_describe(value)}")
            return None, False
        if origin is Literal:
            if value in get_args(tp):
                return value, True
            close = difflib.get_close_matches(str(value), [str(a) for a in get_args(tp)], n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            self.fail(line, where, f"expected {_type_name(tp)}, got {_describe(value)}{hint}")
            return None, False
        if origin is list:
            if not isinstance(value, list):
                self.fail(line, where, f"expected {_type_name(tp)}, got {_describe(value)}")
                return None, False
            (item_type,) = get_args(tp)
            items, ok = [], True
            for index, item in enumerate(value):
                item_line = getattr(item, "line", line)
                converted, good = self.convert(item_type, item, f"{where}[{index}]", item_line)
                items.append(converted)
                ok = ok and good
            return items, ok
        if origin is dict:
            if not isinstance(value, dict):
                self.fail(line, where, f"expected {_type_name(tp)}, got {_describe(value)}")
                return None, False
            _, value_type = get_args(tp)
            lines = value.lines if isinstance(value, LineMap) else {}
            result, ok = {}, True
            for key, item in value.items():
                converted, good = self.convert(value_type, item, f"{where}.{key}", lines.get(key, line))
                result[str(key)] = converted
                ok = ok and good
            return result, ok
        if dataclasses.is_dataclass(tp):
            instance = self.read(tp, value, where, line)
            return instance, instance is not None
        return self._scalar(tp, value, where, line)

    def _scalar(self, tp, value, where: str, line: int) -> tuple[Any, bool]:
        if tp is Any:
            return value, True
        if tp is bool:
            good = isinstance(value, bool)
        elif tp is int:
            good = isinstance(value, int) and not isinstance(value, bool)
        elif tp is float:
            good = isinstance(value, (int, float)) and not isinstance(value, bool)
            value = float(value) if good else value
        elif tp is dt.date:
            good = isinstance(value, dt.date) and not isinstance(value, dt.datetime)
        elif tp is str:
            good = isinstance(value, str)
            if good and not value.strip():
                self.fail(line, where, "must not be empty")
                return None, False
        else:
            good = isinstance(value, tp)
        if not good:
            extra = ""
            if tp is str and isinstance(value, (int, float, bool, dt.date)):
                extra = " (put it in quotes to make it text)"
            self.fail(line, where, f"expected {_type_name(tp)}, got {_describe(value)}{extra}")
            return None, False
        return value, True


def field_doc(cls) -> dict[str, str]:
    """The documentation of each field of `cls`, from `metadata={'doc': ...}`."""
    return {f.name: f.metadata.get("doc", "") for f in dataclasses.fields(cls)}


__all__ = ["Reader", "field_doc"]
