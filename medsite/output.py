"""Writing the site: built aside, swapped in whole, and only what changed is written.

Two folders take turns: the live output folder and a hidden spare beside it holding an earlier
build. A build brings the spare up to date - a file whose bytes equal the live one becomes a hard
link to it (same inode, so its mtime is kept and rsync or a server see no change), any other file
is written under a temporary name and renamed in - then exchanges the two folders in one atomic
step where the system offers it (Linux renameat2), else three renames. A failed or killed build
has only touched the spare, so the last good output is never damaged.

A manifest per folder (content digest, size, mtime and inode of each file, and the render key of
each page) says what is unchanged without reading old files. It is kept in the cache folder and
names the folder it describes by the folder's inode, so after a crash at any moment a manifest is
either right or ignored; a file whose stat no longer matches its entry counts as changed.
"""
from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import hashlib
import os
import pickle
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, NamedTuple

from .problems import Problem, error

_PREFIX = ".medsite-"
_WRITERS = 4  # threads writing files
_TEMPORARY = ".medsite-tmp"


@dataclass(frozen=True)
class OutputFile:
    rel: str  # path inside the output folder, posix
    data: bytes | None = None  # the bytes to write, or
    source: Path | None = None  # a file to copy, or neither:
    unchanged: bool = False  # a page not rendered again because the live output holds its current bytes
    key: bytes | None = None  # the page's render key (see cache.py), remembered for the next build


class FileRecord(NamedTuple):
    digest: bytes  # of the content
    size: int
    mtime_ns: int
    inode: int
    key: bytes | None = None


def digest_of(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()[:16]  # see cache.digest: faster than blake2b here


def matches(status: os.stat_result, record: FileRecord) -> bool:
    """Whether a file with this stat is still the one recorded (same size, mtime and inode)."""
    return (status.st_size, status.st_mtime_ns, status.st_ino) == record[1:4]


@dataclass
class _Manifest:
    folder_inode: int
    records: dict[str, FileRecord] = field(default_factory=dict)
    inputs: bytes = b""  # digest of everything the build that wrote the folder read (cache.input_digest)
    problems: tuple[Problem, ...] = ()  # the warnings that build reported


class OutputFolder:
    """The live output folder, its spare and their manifests; one build at a time uses them."""

    def __init__(self, out: Path, state_folder: Path):
        self.out = out
        self.spare = out.parent / f"{_PREFIX}{out.name}.spare"
        self._lock_file = None
        self._manifests: dict[Path, _Manifest] = {}
        self._staged: dict[str, FileRecord] = {}
        self._live: dict[str, FileRecord] = {}
        self._spare_before: set[str] = set()
        self._stage_problems: list[Problem] = []
        self._writers: ThreadPoolExecutor | None = None
        self._pending: list = []
        name = hashlib.blake2b(os.fsencode(out), digest_size=8).hexdigest()
        self._lock_path = state_folder / f"output-{name}.lock"
        self._manifest_paths = (state_folder / f"output-{name}.a", state_folder / f"output-{name}.b")

    def live_records(self) -> dict[str, FileRecord]:
        """The live folder's files whose stat still matches the manifest: known without reading them.

        Starts the build's use of the folders: until `swap_into_place` or `release`, other builds wait.
        """
        manifest = self._live_manifest()
        return {} if manifest is None else self._verified(manifest)

    def built_from(self, inputs: bytes) -> tuple[dict[str, FileRecord], tuple[Problem, ...]] | None:
        """When the build that wrote the live folder read exactly `inputs` and no file of it has
        changed since: its records (as `live_records`) and the warnings it reported; else None."""
        manifest = self._live_manifest()
        if manifest is None or manifest.inputs != inputs:
            return None  # known before any file's stat is taken
        live = self._verified(manifest)
        return (live, manifest.problems) if len(live) == len(manifest.records) else None

    def recorded_live(self) -> dict[str, FileRecord]:
        """The live folder's records as its manifest has them, read without waiting for the lock
        (a manifest is replaced whole): for a reader of the folder that compares each file's stat
        with its record itself (`matches`)."""
        inode = _inode(self.out)
        manifests = (_read(path) for path in self._manifest_paths)
        return next((m.records for m in manifests if m is not None and inode is not None and m.folder_inode == inode), {})

    def staged_records(self) -> dict[str, FileRecord]:
        """The records of the files staged so far (all of them once `finish_stage` is done)."""
        return self._staged

    def _live_manifest(self) -> _Manifest | None:
        """Lock the folders (see `live_records`), read their manifests; the live folder's."""
        self._lock()
        self._manifests = {path: manifest for path in self._manifest_paths
                           if (manifest := _read(path)) is not None}
        return self._manifest_of(self.out)

    def _verified(self, manifest: _Manifest) -> dict[str, FileRecord]:
        verified = {}
        out = os.fspath(self.out) + "/"
        for rel, record in manifest.records.items():
            try:
                st = os.stat(out + rel)
            except OSError:
                continue
            if matches(st, record):
                verified[rel] = record
        return verified

    def _manifest_of(self, folder: Path) -> _Manifest | None:
        inode = _inode(folder)
        return next((m for m in self._manifests.values() if inode is not None and m.folder_inode == inode), None)

    def stage(self, files: list[OutputFile], live: dict[str, FileRecord],
              kept: Iterable[str] = ()) -> tuple[Path, list[Problem]]:
        """Bring the spare folder up to date with `files`, and the files of the live folder named
        in `kept`, as they are; `live` are the verified live records."""
        self.begin_stage(live)
        self.add(files)
        self.add_kept(kept)
        return self.finish_stage()

    # stage() in steps, so that files can be written while others are still being made.

    def begin_stage(self, live: dict[str, FileRecord]) -> None:
        """Start staging. Call it after forking any worker processes: files are written by
        threads (creating files waits on the disk; several at once go faster)."""
        clean_leftovers(self.out)
        self._spare_before = self._spare_names()
        for path, manifest in list(self._manifests.items()):  # the spare is about to change
            if manifest.folder_inode == _inode(self.spare):
                path.unlink(missing_ok=True)
                del self._manifests[path]
        self.spare.mkdir(parents=True, exist_ok=True)
        self._staged, self._live, self._stage_problems = {}, live, []
        self._writers = ThreadPoolExecutor(_WRITERS)
        self._waiting = threading.BoundedSemaphore(8 * _WRITERS)
        self._pending = []

    def add(self, files: Iterable[OutputFile]) -> None:
        live_prefix, spare_prefix = os.fspath(self.out) + "/", os.fspath(self.spare) + "/"

        def stage(item: OutputFile) -> None:
            try:
                self._stage_file(item, self._live.get(item.rel), live_prefix, spare_prefix)
            except OSError as exc:
                self._stage_problems.append(error(item.rel, 0, f"cannot write the output file: {exc.strerror or exc}"))
            finally:
                self._waiting.release()
        for item in files:
            self._waiting.acquire()  # a few files wait at a time: the rest are not held in memory twice
            self._pending.append(self._writers.submit(stage, item))

    def add_kept(self, kept: Iterable[str]) -> None:
        """Files of the live folder, kept as they are."""
        live_prefix, spare_prefix = os.fspath(self.out) + "/", os.fspath(self.spare) + "/"
        for rel in kept:
            record = self._live[rel]
            try:
                self._share_file(rel, record, live_prefix, spare_prefix)
            except OSError as exc:
                self._stage_problems.append(error(rel, 0, f"cannot write the output file: {exc.strerror or exc}"))
            self._staged[rel] = record

    def finish_stage(self) -> tuple[Path, list[Problem]]:
        """Remove what the spare held beyond the files added; (the staged folder, problems)."""
        self._stop_writers()
        for rel in self._spare_before - self._staged.keys():
            _remove_with_empty_parents(self.spare, rel)
        return self.spare, self._stage_problems

    def _stage_file(self, item: OutputFile, record: FileRecord | None, live_prefix: str, spare_prefix: str) -> None:
        target = spare_prefix + item.rel
        data = None
        if item.unchanged:
            digest = record.digest
        else:
            data = item.data if item.data is not None else item.source.read_bytes()
            digest = digest_of(data)
        if record is not None and record.digest == digest:
            self._share_file(item.rel, record, live_prefix, spare_prefix)
            self._staged[item.rel] = record if record.key == item.key else record._replace(key=item.key)
            return
        try:
            st = _write_new(target, data)
        except (FileNotFoundError, NotADirectoryError):
            _make_parent(self.spare, item.rel)
            st = _write_new(target, data)
        except FileExistsError:  # never write into a file: it may be a link to a live one
            temporary = target + _TEMPORARY
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)  # left by a killed build
            _write_new(temporary, data)
            _replace(temporary, target)
            st = os.stat(target)
        self._staged[item.rel] = FileRecord(digest, st.st_size, st.st_mtime_ns, st.st_ino, item.key)

    def _share_file(self, rel: str, record: FileRecord, live_prefix: str, spare_prefix: str) -> None:
        try:
            _share(live_prefix + rel, spare_prefix + rel, record.inode)
        except (FileNotFoundError, NotADirectoryError):
            _make_parent(self.spare, rel)
            _share(live_prefix + rel, spare_prefix + rel, record.inode)

    def _spare_names(self) -> set[str]:
        if not self.spare.is_dir():
            return set()
        manifest = self._manifest_of(self.spare)
        if manifest is not None:
            return set(manifest.records)
        names = set()
        for folder, _, files in os.walk(self.spare):
            base = Path(folder).relative_to(self.spare)
            names.update((base / name).as_posix() for name in files)
        return names

    def swap_into_place(self, inputs: bytes = b"", problems: tuple[Problem, ...] = ()) -> None:
        """Make the staged spare the live folder; the previous live folder becomes the spare.

        `inputs` and `problems` describe the build, for `built_from`."""
        try:
            previous = self._manifest_of(self.out)
            staged_inode, live_inode = _inode(self.spare), _inode(self.out)
            # Both manifests name their folders by inode, so they are right whether or not the
            # exchange below happens: the live folder's stays as it is (it describes the spare
            # after the exchange), the staged folder's is written first, in the other file.
            kept = next((path for path, manifest in self._manifests.items()
                         if manifest is previous and live_inode is not None), None)
            fresh = next(path for path in self._manifest_paths if path != kept)
            _write(fresh, _Manifest(staged_inode, self._staged, inputs, problems))
            if kept is None:  # no manifest describes the live folder: the other file describes nothing
                next(path for path in self._manifest_paths if path != fresh).unlink(missing_ok=True)
            if live_inode is None:
                os.rename(self.spare, self.out)
            elif not _exchange(self.spare, self.out):
                old = self.out.parent / f"{_PREFIX}{self.out.name}.old-{os.getpid()}"
                os.rename(self.out, old)
                os.rename(self.spare, self.out)
                os.rename(old, self.spare)
        finally:
            self.release()

    def _stop_writers(self) -> None:
        """Wait for the files being written (no thread is left running: a build forks workers);
        a failure other than the disk's (a bug) is raised here."""
        if self._writers is not None:
            writers, pending, self._writers, self._pending = self._writers, self._pending, None, []
            writers.shutdown(wait=True)
            for future in pending:
                future.result()

    def release(self) -> None:
        """Let another build use the folders (after a swap, or when a build stops before it)."""
        with contextlib.suppress(Exception):  # a build that stopped early has reported why
            self._stop_writers()
        self._manifests, self._staged, self._live = {}, {}, {}
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def _lock(self) -> None:
        if self._lock_file is None:
            self._lock_path.parent.mkdir(parents=True, exist_ok=True)
            self._lock_file = open(self._lock_path, "a")
            fcntl.flock(self._lock_file, fcntl.LOCK_EX)


def _write_new(path: str, data: bytes) -> os.stat_result:
    """Write a file that must not exist yet (FileExistsError otherwise); return its stat."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(descriptor, view):]
        return os.fstat(descriptor)
    finally:
        os.close(descriptor)


def _share(live: str, target: str, inode: int) -> None:
    """Make `target` the same file as `live` (a hard link; a copy keeping the mtime where links fail).

    Raises FileNotFoundError or NotADirectoryError when `target`'s folder is missing."""
    try:
        if os.lstat(target).st_ino == inode:
            return
    except (FileNotFoundError, NotADirectoryError):
        _link_or_copy(live, target)
        return
    temporary = target + _TEMPORARY
    try:
        _link_or_copy(live, temporary)
    except FileExistsError:  # left by a killed build
        os.unlink(temporary)
        _link_or_copy(live, temporary)
    _replace(temporary, target)


def _link_or_copy(live: str, path: str) -> None:
    try:
        os.link(live, path)
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise
        shutil.copy2(live, path)


def _replace(temporary: str, target: str) -> None:
    """Rename `temporary` to `target`, first removing a folder an older build left there."""
    if os.path.isdir(target) and not os.path.islink(target):
        shutil.rmtree(target)
    os.replace(temporary, target)


def _make_parent(root: Path, rel: str) -> None:
    """Create the folders of `rel`, replacing a file of an older build that stands where one goes."""
    try:
        os.makedirs(os.path.join(root, os.path.dirname(rel)), exist_ok=True)
        return
    except (FileExistsError, NotADirectoryError):
        pass
    parent = root
    for part in rel.split("/")[:-1]:
        parent = parent / part
        if parent.is_file() or parent.is_symlink():
            parent.unlink()
        parent.mkdir(exist_ok=True)


def _remove_with_empty_parents(root: Path, rel: str) -> None:
    path = root / rel
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    except OSError:
        pass  # already gone, or a folder of this build's files now stands in its place
    for parent in path.parents:
        if parent == root:
            break
        try:
            parent.rmdir()
        except OSError:
            break


def _inode(path: Path) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


_MANIFEST_FORMAT = "medsite-manifest-3"  # records as plain tuples (pickled several times faster than NamedTuples), SHA-256 digests


def _read(path: Path) -> _Manifest | None:
    try:
        with open(path, "rb") as stream:
            stored = pickle.load(stream)
        if isinstance(stored, _Manifest):  # written by an earlier version
            return stored
        tag, folder_inode, records, inputs, problems = stored
        if tag != _MANIFEST_FORMAT:
            return None
        return _Manifest(folder_inode, {rel: FileRecord._make(record) for rel, record in records.items()},
                         inputs, problems)
    except Exception:  # noqa: BLE001 - missing, torn or from another version: not a manifest
        return None


def _write(path: Path, manifest: _Manifest) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.{os.getpid()}{_TEMPORARY}")
    stored = (_MANIFEST_FORMAT, manifest.folder_inode, {rel: tuple(record) for rel, record in manifest.records.items()},
              manifest.inputs, manifest.problems)
    with open(temporary, "wb") as stream:
        pickle.dump(stored, stream, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(temporary, path)


def clean_leftovers(out: Path) -> None:
    """Remove the folders of builds by older medsite versions that were killed or crashed."""
    if not out.parent.is_dir():
        return
    for entry in out.parent.iterdir():
        name = entry.name
        if not name.startswith(f"{_PREFIX}{out.name}.") or name.endswith(".spare"):
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
    if ctypes.get_errno() in (errno.ENOSYS, errno.EINVAL, getattr(errno, "ENOTSUP", 95)):
        return False
    raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()), str(b))
