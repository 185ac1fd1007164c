"""Problems found by any stage: a location, a severity and a message.

Stages never print or exit; they return problems, and the command line decides what to do.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int
    severity: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.severity}: {self.message}"

    def as_dict(self) -> dict:
        return {"path": self.path, "line": self.line, "severity": self.severity, "message": self.message}


def error(path: str, line: int, message: str) -> Problem:
    return Problem(str(path), line or 0, ERROR, message)


def warning(path: str, line: int, message: str) -> Problem:
    return Problem(str(path), line or 0, WARNING, message)


def has_errors(problems: Iterable[Problem]) -> bool:
    return any(p.severity == ERROR for p in problems)


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Sort by file then line, dropping exact repeats (a template error seen on every page once)."""
    return sorted(set(problems), key=lambda p: (p.path, p.line, p.severity != ERROR, p.message))

