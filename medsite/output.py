"""Writing the site: build aside, then swap into place, so a failed build never damages the last good one.

The new site is written to a hidden sibling folder. Only when it is complete does it take the
output folder's place, with one atomic exchange where the system offers it (Linux renameat2),
else two renames. Leftovers of a killed build are removed by the next one.
"""
from __future__ import annotations

import ctypes
import errno
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from .problems import Problem, error

_PREFIX = ".medsite-"


@dataclass(frozen=True)
class OutputFile:
    rel: str  # path inside the output folder, posix
    data: bytes | None = None  # the bytes to write, or
    source: Path | None = None  # a file to copy


def staging_folder(out: Path) -> Path:
    return out.parent / f"{_PREFIX}{out.name}.new-{os.getpid()}"


def clean_leftovers(out: Path) -> None:
    """Remove the staging and old folders of builds that no longer run (killed or crashed)."""
    if not out.parent.is_dir():
        return
    for entry in out.parent.iterdir():
        name = entry.name
        if not name.startswith(f"{_PREFIX}{out.name}."):
            continue
        pid = name.rsplit("-", 1)[-1]
        if pid.isdigit() and int(pid) != os.getpid() and _alive(int(pid)):
            continue
        shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stage(out: Path, files: list[OutputFile]) -> tuple[Path, list[Problem]]:
    """Write every file into a fresh staging folder beside `out`; return the folder."""
    clean_leftovers(out)
    folder = staging_folder(out)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    made: set[str] = set()
    problems: list[Problem] = []
    for item in files:
        target = folder / item.rel
        parent = target.parent
        key = str(parent)
        if key not in made:
            parent.mkdir(parents=True, exist_ok=True)
            made.add(key)
        try:
            if item.data is not None:
                target.write_bytes(item.data)
            else:
                shutil.copyfile(item.source, target)
        except OSError as exc:
            problems.append(error(item.rel, 0, f"cannot write the output file: {exc.strerror or exc}"))
    return folder, problems


def discard(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def swap_into_place(folder: Path, out: Path) -> None:
    """Make `folder` the output folder; the previous output is removed afterwards."""
    if out.exists() and _exchange(folder, out):
        discard(folder)  # now holds the previous site
        return
    old = out.parent / f"{_PREFIX}{out.name}.old-{os.getpid()}"
    if out.exists():
        os.rename(out, old)
    os.rename(folder, out)
    discard(old)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if result == 0:
        return True
    if ctypes.get_errno() in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP if hasattr(errno, "ENOTSUP") else 95):
        return False
    raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()), str(b))
