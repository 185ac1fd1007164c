"""medsite's build times against the targets of issue 8, on generated corpora (bench/corpus.py).

    python bench/run.py [--sizes 1000,10000] [--runs 3] [--work DIR] [--peers [pelican,mkdocs,hugo]]

For each size: a clean build without cache, the first build that fills the cache, a rebuild with
nothing changed, a rebuild after one article's text was edited (its output compared byte for
byte with a clean build of the same inputs), after one title was edited, after a template was
edited, the same one-article edit in a warm process (a `Builder` kept between builds, as the
preview server does), and `check` after that build: first with the caches of the link and content
checks emptied before each run, then again with nothing changed, as an editor's next check is.
Builds run as `python build.py` subprocesses (median of --runs); peak RSS is the largest process
of a build. A second table gives each stage's time from an in-process run. --peers also times Pelican, MkDocs and Hugo on the same
articles when they are installed (it installs nothing), and prints how many times faster medsite is.
Before and after, a fixed loop is timed in one process and in two at once: how fast this machine
was, and whether its two cores were both free (a shared host's are not always).
"""
from __future__ import annotations

import argparse
import contextlib
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
sys.path[:0] = [str(PROJECT), str(BENCH)]

import corpus  # noqa: E402
from medsite.build import BuildOptions, Builder, build  # noqa: E402
from medsite.config import load_config  # noqa: E402

# (scenario, articles) -> seconds
TARGETS = {("clean build, no cache", 1000): 2.0, ("clean build, no cache", 10000): 15.0,
           ("rebuild, nothing changed", 10000): 2.0, ("rebuild, one article edited", 10000): 0.5,
           ("warm process, one article edited", 10000): 0.3,
           ("first check after a build", 10000): 5.0}
RSS_TARGET_MB = {10000: 600}
STAGES = ("load", "markdown", "assemble", "templates", "write", "check")


@dataclass
class Row:
    articles: int
    scenario: str
    seconds: list[float]
    rss_mb: float | None = None
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


@dataclass
class Site:
    """One generated corpus with its own copies of the templates and static files (the benchmark
    edits a template, and must not touch the project's)."""

    folder: Path
    articles: int
    config: Path = field(init=False)

    def __post_init__(self):
        if (self.folder / "templates").exists():
            shutil.rmtree(self.folder / "templates")
            shutil.rmtree(self.folder / "static")
        self.folder.mkdir(parents=True, exist_ok=True)
        shutil.copytree(PROJECT / "templates", self.folder / "templates")
        shutil.copytree(PROJECT / "static", self.folder / "static")
        self.config = corpus.generate(self.folder, self.articles, self.folder / "templates", self.folder / "static")

    def reset(self) -> None:
        """Remove the output, its spare and the cache: the next build starts from nothing."""
        for entry in self.folder.iterdir():
            if entry.name.startswith((".medsite-", "_site", "_clean")):
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        # Deleting 10,000 files leaves the disk busy for seconds (the file system discards the
        # freed blocks at its next commit): finish that here, not in the build timed next.
        os.sync()

    def forget_checks(self) -> None:
        """Empty the caches of the link check and the content checks (the build's stay)."""
        for store in ("links", "lint"):
            for path in (self.folder / ".medsite-cache").glob(f"{store}-*.pickle"):
                path.unlink()

    def article(self, index: int) -> Path:
        topic, name = corpus.layout(self.articles)[index]
        return self.folder / "content" / topic / name


TIME = shutil.which("time") or "/usr/bin/time"


def run_medsite(site: Site, *args: str) -> tuple[float, float | None]:
    """Run `python build.py ARGS --config CONFIG`; return (seconds, peak RSS in MB of its largest process).

    The RSS comes from /usr/bin/time: the rusage of a child forked from this (large) process would
    count this process's memory too.
    """
    command = [sys.executable, str(PROJECT / "build.py"), *args, "--config", str(site.config)]
    measured = os.path.exists(TIME)
    if measured:
        command = [TIME, "-f", "peak-rss-kb %M", *command]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=site.folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"medsite {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    rss = [line.split()[-1] for line in done.stderr.splitlines() if line.startswith("peak-rss-kb ")]
    return seconds, int(rss[-1]) / 1024 if measured and rss else None


def timed(site: Site, runs: int, *args: str, before=None) -> tuple[list[float], float | None]:
    seconds, peaks = [], []
    for run in range(runs):
        if before is not None:
            before(run)
        elapsed, rss = run_medsite(site, *args)
        seconds.append(elapsed)
        peaks += [rss] if rss is not None else []
    return seconds, max(peaks, default=None)


def edit_text(site: Site, run: int) -> None:
    path = site.article(7 + run)
    path.write_text(path.read_text(encoding="utf-8") + f"\nEdited in run {run}.\n", encoding="utf-8")


def edit_title(site: Site, run: int) -> None:
    path = site.article(11 + run)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('title: "', f'title: "Renamed {run} ', 1), encoding="utf-8")


def edit_template(site: Site, run: int) -> None:
    path = site.folder / "templates/topic.html"
    path.write_text(path.read_text(encoding="utf-8").replace("<h1", f"<h1 data-run=\"{run}\"", 1), encoding="utf-8")


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def same_as_clean_build(site: Site) -> str:
    """Compare the output with a clean --no-cache build of the same inputs, file for file."""
    run_medsite(site, "build", "--no-cache", "--out", str(site.folder / "_clean"))
    built, clean = tree(site.folder / "_site"), tree(site.folder / "_clean")
    shutil.rmtree(site.folder / "_clean")
    differing = sorted(set(built) ^ set(clean) | {name for name in built.keys() & clean.keys()
                                                   if built[name] != clean[name]})
    return "identical to a clean build" if not differing else f"DIFFERS from a clean build: {differing[:5]}"


@dataclass
class Stages:
    timings: dict[str, float]
    stats: dict[str, int]


def in_process(site: Site, use_cache: bool = True) -> Stages:
    """One build in this process, for its stage timings (only those are kept: memory stays low).
    It runs in the site's folder, as the commands do: paths in problems, and so the state a
    build leaves for the next (quick.py), depend on the folder a build runs in."""
    config, problems = load_config(site.config)
    assert config is not None, problems
    with contextlib.chdir(site.folder):
        result = build(config, BuildOptions(use_cache=use_cache))
    return Stages(result.timings, result.stats)


def output_bytes(site: Site) -> int:
    return sum(p.stat().st_size for p in (site.folder / "_site").rglob("*") if p.is_file())


def bench_size(site: Site, runs: int, rows: list[Row], stages: dict, sizes: dict) -> None:
    n = site.articles
    site.reset()
    seconds, rss = timed(site, runs, "build", "--no-cache", before=lambda run: site.reset())
    rows.append(Row(n, "clean build, no cache", seconds, rss))
    sizes[n] = output_bytes(site)
    site.reset()
    stages[(n, "clean build, no cache")] = in_process(site, use_cache=False)

    site.reset()
    seconds, rss = timed(site, 1, "build")
    rows.append(Row(n, "first build, filling the cache", seconds, rss))
    seconds, rss = timed(site, runs, "build")
    rows.append(Row(n, "rebuild, nothing changed", seconds, rss))
    stages[(n, "nothing changed, without early stop")] = in_process(site)

    seconds, rss = timed(site, runs, "build", before=lambda run: edit_text(site, run))
    rows.append(Row(n, "rebuild, one article edited", seconds, rss, same_as_clean_build(site)))
    edit_text(site, runs)
    stages[(n, "rebuild, one article edited")] = in_process(site)

    seconds, rss = timed(site, runs, "build", before=lambda run: edit_title(site, run))
    rows.append(Row(n, "rebuild, one title edited", seconds, rss, same_as_clean_build(site)))

    seconds, rss = timed(site, runs, "build", before=lambda run: edit_template(site, run))
    edit_template(site, runs)
    result = in_process(site)
    rows.append(Row(n, "rebuild, topic.html edited", seconds, rss,
                    f"{result.stats['pages_rendered']} pages rendered, "
                    f"{result.stats['bodies_converted']} bodies converted"))

    config, _ = load_config(site.config)
    builder = Builder(config, BuildOptions(quick=True))  # as the preview server keeps one
    warm = []
    with contextlib.chdir(site.folder):
        builder.build()
        for run in range(runs):
            edit_text(site, 20 + run)
            started = time.perf_counter()
            result = builder.build()
            warm.append(time.perf_counter() - started)
    rows.append(Row(n, "warm process, one article edited", warm, None,
                    f"{result.stats['pages_rendered']} pages rendered; {same_as_clean_build(site)}"))
    stages[(n, "warm process, one article edited")] = Stages(result.timings, result.stats)
    del builder, result

    # Every check after a build finds nothing of its own cached: the link check's and content checks'
    # findings are emptied before each run. An editor's next check has them.
    seconds, rss = timed(site, runs, "check", before=lambda run: site.forget_checks())
    rows.append(Row(n, "first check after a build", seconds, rss))
    seconds, rss = timed(site, runs, "check")
    rows.append(Row(n, "check again, nothing changed", seconds, rss))


# --- Peers -------------------------------------------------------------------------------------

def front_matter(text: str) -> tuple[dict[str, str], str]:
    head, _, body = text.removeprefix("---\n").partition("\n---\n")
    meta = {}
    for line in head.split("\n"):
        if line and not line.startswith(" ") and ":" in line:
            key, _, value = line.partition(":")
            meta[key.strip()] = value.strip().strip('"')
    return meta, body


@dataclass
class Peer:
    build: list[str]  # a full build
    rebuild: list[str]  # a build after an edit, with the peer's own cache or incremental mode
    folder: Path
    edited: Path  # the article the rebuild follows an edit of
    made: list[Path]  # what a clean build starts without: output and caches


def peer_sites(site: Site) -> dict[str, Peer]:
    """Each installed peer set up on a copy of the corpus, the way the issue measured it: MkDocs
    rebuilds with --dirty (only the edited page), Pelican with its content cache, Hugo in full."""
    peers = {}
    root = site.folder / "peers"
    shutil.rmtree(root, ignore_errors=True)
    articles = [p for p in sorted((site.folder / "content").rglob("*.md")) if not p.name.startswith("_")]
    if shutil.which("mkdocs"):
        folder = root / "mkdocs"
        shutil.copytree(site.folder / "content", folder / "docs", ignore=shutil.ignore_patterns("_*"))
        (folder / "mkdocs.yml").write_text("site_name: Bench\nmarkdown_extensions: [tables, toc, admonition]\n")
        peers["MkDocs"] = Peer(["mkdocs", "build", "-q"], ["mkdocs", "build", "-q", "--dirty"], folder,
                               folder / "docs" / articles[7].relative_to(site.folder / "content"), [folder / "site"])
    if shutil.which("pelican"):
        folder = root / "pelican"
        for path in articles:
            meta, body = front_matter(path.read_text(encoding="utf-8"))
            rel = path.relative_to(site.folder / "content")
            target = folder / "content" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            header = (f"Title: {meta.get('title', rel.stem)}\nDate: {meta.get('last_reviewed', '2026-01-01')}\n"
                      f"Category: {rel.parts[0] if len(rel.parts) > 1 else 'pages'}\n"
                      f"Summary: {meta.get('summary', '')}\nSlug: page-{rel.as_posix()[:-3].replace('/', '-')}\n\n")
            target.write_text(header + body, encoding="utf-8")
        (folder / "pelicanconf.py").write_text("SITENAME = 'Bench'\nPATH = 'content'\nTIMEZONE = 'UTC'\n"
                                              "FEED_ALL_ATOM = None\nRELATIVE_URLS = True\n"
                                              "CACHE_CONTENT = True\nLOAD_CONTENT_CACHE = True\n")
        command = ["pelican", "content", "-o", "output", "-s", "pelicanconf.py", "-q"]
        peers["Pelican"] = Peer(command, command, folder, folder / "content" / articles[7].relative_to(
            site.folder / "content"), [folder / "output", folder / "cache"])
    if shutil.which("hugo"):
        folder = root / "hugo"
        shutil.copytree(site.folder / "content", folder / "content", ignore=shutil.ignore_patterns("_*"))
        layouts = folder / "layouts/_default"
        layouts.mkdir(parents=True)
        (layouts / "single.html").write_text("<!doctype html><title>{{ .Title }}</title><h1>{{ .Title }}</h1>"
                                             "{{ .Content }}")
        (layouts / "list.html").write_text("<!doctype html><title>{{ .Title }}</title><ul>{{ range .Pages }}"
                                           "<li><a href=\"{{ .RelPermalink }}\">{{ .Title }}</a>{{ end }}</ul>")
        (folder / "hugo.toml").write_text("baseURL = 'https://bench.example/'\ntitle = 'Bench'\n")
        peers["Hugo"] = Peer(["hugo", "--quiet"], ["hugo", "--quiet"], folder, folder / "content" / articles[7].relative_to(
            site.folder / "content"), [folder / "public", folder / "resources"])
    return peers


PEERS = ("Pelican", "MkDocs", "Hugo")


def bench_peers(site: Site, runs: int, rows: list[Row], names: list[str]) -> None:
    """Each peer's clean build (its output removed first, as for medsite) and its rebuild after
    one article's text was edited, with its own cache or incremental mode where it has one."""
    peers = peer_sites(site)
    for name in names:
        if name not in peers:
            print(f"{name}: not installed")
            continue
        peer = peers[name]

        def run(command: list[str]) -> float:
            started = time.perf_counter()
            subprocess.run(command, cwd=peer.folder, check=True, capture_output=True)
            return time.perf_counter() - started
        seconds = []
        for _ in range(runs):
            for made in peer.made:
                shutil.rmtree(made, ignore_errors=True)
            os.sync()
            seconds.append(run(peer.build))
        rows.append(Row(site.articles, f"{name}: clean build", seconds))
        times = []
        for index in range(runs):
            peer.edited.write_text(peer.edited.read_text(encoding="utf-8") + f"\nEdited {index}.\n", encoding="utf-8")
            times.append(run(peer.rebuild))
        rows.append(Row(site.articles, f"{name}: rebuild, one article edited", times))


def print_ratios(rows: list[Row]) -> None:
    """How many times faster medsite is than each peer that ran, scenario by scenario."""
    medians = {(row.articles, row.scenario): row.median for row in rows}
    pairs = [("clean build", "clean build, no cache"), ("rebuild, one article edited", "rebuild, one article edited")]
    lines = []
    for (articles, scenario), seconds in medians.items():
        name, _, peer_scenario = scenario.partition(": ")
        for peer_name, ours in pairs:
            if name in PEERS and peer_scenario == peer_name and (articles, ours) in medians:
                mine = medians[(articles, ours)]
                lines.append(f"{articles:>8}  {peer_scenario:<30} {name:<8} {seconds:>8.2f} s  medsite {mine:>6.2f} s"
                             f"  {name} / medsite = {seconds / mine:.1f}")
    if lines:
        print("\nagainst the peers (medians; a ratio above 1: medsite is faster)\n" + "\n".join(lines))


# --- The machine ---------------------------------------------------------------------------------

SPIN = "import time\nstarted = time.perf_counter()\nfor _ in range(10_000_000): pass\nprint(time.perf_counter() - started)"


def machine_speed() -> tuple[float, float]:
    """(seconds of one process running a fixed loop alone, seconds of each of two running it at
    once). Virtual machines differ, and a busy host can leave two cores the work of one: these
    say what machine the figures come from."""
    def spin(count: int) -> list[float]:
        running = [subprocess.Popen([sys.executable, "-c", SPIN], stdout=subprocess.PIPE, text=True)
                   for _ in range(count)]
        return [float(process.communicate()[0]) for process in running]
    alone = statistics.median(spin(1)[0] for _ in range(3))
    together = statistics.median(seconds for _ in range(3) for seconds in spin(2))
    return alone, together


def describe_speed(when: str, speed: tuple[float, float]) -> str:
    alone, together = speed
    return (f"CPU {when}: a fixed loop takes {alone:.2f} s alone, {together:.2f} s each with two at once "
            f"(two cores do the work of {2 * alone / together:.1f})")


# --- Report ------------------------------------------------------------------------------------

def print_tables(rows: list[Row], stages: dict, sizes: dict, speeds: list[str]) -> None:
    print(f"\nmedsite benchmark on {platform.node()}: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M')}")
    print("\n".join(speeds))
    print(f"load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())} "
          "(other work on the machine slows every figure)\n")
    print(f"{'articles':>8}  {'scenario':<34} {'median s':>8}  {'runs s':<20} {'target':>8}  {'met':<4} {'RSS MB':>6}  note")
    for row in rows:
        target = TARGETS.get((row.scenario, row.articles))
        met = "" if target is None else ("yes" if row.median <= target else "NO")
        rss = "" if row.rss_mb is None else f"{row.rss_mb:.0f}"
        rss_target = RSS_TARGET_MB.get(row.articles)
        if rss and rss_target and row.rss_mb > rss_target:
            rss += "!"
        runs = " ".join(f"{s:.2f}" for s in row.seconds)
        print(f"{row.articles:>8}  {row.scenario:<34} {row.median:>8.2f}  {runs:<20} "
              f"{'' if target is None else f'≤ {target:g} s':>8}  {met:<4} {rss:>6}  {row.note}")
    if len(sizes) > 1:
        small, large = min(sizes), max(sizes)
        print(f"\noutput size: {small} articles {sizes[small] / 1e6:.1f} MB, {large} articles "
              f"{sizes[large] / 1e6:.1f} MB: x{sizes[large] / sizes[small]:.1f} for x{large / small:g} articles")
    print(f"\nstages (seconds, one in-process run)\n{'articles':>8}  {'scenario':<34} "
          + " ".join(f"{s:>9}" for s in STAGES) + "  redone")
    for (articles, scenario), result in stages.items():
        stats = result.stats
        print(f"{articles:>8}  {scenario:<34} " + " ".join(f"{result.timings.get(s, 0):>9.2f}" for s in STAGES)
              + f"  parsed {stats.get('articles_parsed', 0)}, converted {stats.get('bodies_converted', 0)}, "
                f"rendered {stats.get('pages_rendered', 0)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="numbers of articles, comma-separated")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (the median is shown)")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "medsite-bench",
                        help="folder for the generated sites")
    parser.add_argument("--peers", nargs="?", const=",".join(PEERS), default="",
                        help="also time these peers when installed (default: Pelican,MkDocs,Hugo)")
    args = parser.parse_args()
    rows: list[Row] = []
    stages: dict = {}
    sizes: dict = {}
    speeds = [describe_speed("at the start", machine_speed())]
    for articles in (int(text) for text in args.sizes.split(",")):
        print(f"generating and building {articles} articles ...", file=sys.stderr)
        site = Site(args.work / str(articles), articles)
        bench_size(site, args.runs, rows, stages, sizes)
        if args.peers:
            names = {name.lower(): name for name in PEERS}
            bench_peers(site, args.runs, rows, [names[name.strip().lower()] for name in args.peers.split(",")])
    speeds.append(describe_speed("at the end", machine_speed()))
    print_tables(rows, stages, sizes, speeds)
    print_ratios(rows)


if __name__ == "__main__":
    main()
