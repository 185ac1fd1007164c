"""The command line: parse arguments, run one command, print problems, choose the exit code.

Exit codes: 0 success; 1 the content, config, templates or links are wrong; 2 bad usage.
"""
from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from pathlib import Path

from .build import BuildOptions, build
from .config import SiteConfig, display_path, load_config
from .problems import Problem, has_errors, sort_problems

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2

# What a command built, kept alive until the process ends when medsite runs as a program: freeing
# a large site object by object costs a third of a second at 10,000 pages, and os._exit skips it.
kept_until_exit: list | None = None


def run_as_program() -> None:
    """`main` for a whole process (build.py): exits as soon as the command is done."""
    global kept_until_exit
    kept_until_exit = []
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):  # a reader that went away, or a closed stream
            pass
    os._exit(code)


def keep_until_exit(value) -> None:
    """In a whole process (run_as_program): keep `value` (a built site) until the exit, which
    frees nothing; and what lives now, kept as well, is frozen out of the cyclic garbage
    collector, which would otherwise walk the whole site again while the report is made."""
    if kept_until_exit is not None:
        kept_until_exit.append(value)
        gc.freeze()


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("\nmedsite: stopped", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - a bug in medsite itself, not a user's mistake
        if os.environ.get("MEDSITE_DEBUG"):
            raise
        print(f"medsite: internal error: {type(exc).__name__}: {exc}\n"
              "This is a bug in medsite, not in your content. Run again with MEDSITE_DEBUG=1 "
              "for the details and report them.", file=sys.stderr)
        return EXIT_PROBLEMS


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="medsite", description="Build a patient-education website "
                                     "from Markdown articles.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str, run) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--config", default="config.yaml", type=Path, metavar="FILE",
                         help="the site's config file (default: ./config.yaml)")
        sub.set_defaults(run=run)
        return sub

    sub = command("build", "Build the site into the output folder.", run_build)
    sub.add_argument("--out", metavar="DIR", help="output folder (default: the config's output_dir)")
    sub.add_argument("--drafts", action="store_true", help="include articles marked draft: true")
    sub.add_argument("--jobs", type=_positive_int, metavar="N", help="processes for Markdown (default: cores)")
    sub.add_argument("--no-cache", action="store_true", help="ignore the build cache")

    sub = command("check", "Build, then check every link and the content.", run_check)
    sub.add_argument("--out", metavar="DIR", help="output folder (default: the config's output_dir)")
    sub.add_argument("--external", action="store_true", help="also check links to other websites")
    sub.add_argument("--format", choices=("text", "json"), default="text", help="report format")

    sub = command("serve", "Preview the site with live reload.", run_serve)
    sub.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    sub.add_argument("--port", type=_port, default=8000, help="port (default: 8000)")

    sub = command("new", "Create a new article from a template.", run_new)
    sub.add_argument("title", metavar="TITLE", help="the article's title")
    sub.add_argument("--topic", required=True, metavar="SLUG", help="the series folder, e.g. ketamine-lozenges")
    sub.add_argument("--kind", required=True, metavar="KIND", help="overview, mechanism, indications, risks, "
                     "treatment, faq or page")

    sub = command("lint", "Check the content against the patient-safety and quality rules.", run_lint)
    sub.add_argument("--format", choices=("text", "json"), default="text", help="report format")
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError("must be between 0 and 65535")
    return value


def report(problems: list[Problem], stream=None) -> None:
    """Print each problem as one `path:line: severity: message` line, then a count."""
    stream = stream or sys.stderr
    problems = sort_problems(problems)
    # One write: stderr writes each line on its own, which for a large site's tens of thousands of
    # warnings takes longer than finding them.
    stream.write("".join(f"{problem}\n" for problem in problems))
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    if problems:
        print(f"{errors} error(s), {warnings} warning(s)", file=stream)


def configure(args) -> SiteConfig | None:
    config, problems = load_config(args.config, getattr(args, "out", None))
    if problems:
        report(problems)
    return config if not has_errors(problems) else None


def run_build(args) -> int:
    config = configure(args)
    if config is None:
        return EXIT_PROBLEMS
    started = time.perf_counter()
    result = build(config, BuildOptions(drafts=args.drafts, jobs=args.jobs, use_cache=not args.no_cache,
                                        skip_when_unchanged=True, quick=True))
    keep_until_exit(result)
    report(result.problems)
    if not result.written:
        print("Build failed; the previous site was left as it was.", file=sys.stderr)
        return EXIT_PROBLEMS
    if result.up_to_date:
        print(f"Nothing changed since the last build: {display_path(config.output_path)}/ is up to date "
              f"({time.perf_counter() - started:.2f} s)")
        return EXIT_OK
    print(f"Built {result.page_count} pages into {display_path(config.output_path)}/ "
          f"in {time.perf_counter() - started:.2f} s")
    return EXIT_OK


# Each command beyond `build` lives in the module of its stage, imported when used.

def run_check(args) -> int:
    from . import links
    return links.command(args)


def run_serve(args) -> int:
    from . import serve
    return serve.command(args)


def run_new(args) -> int:
    from . import scaffold
    return scaffold.command(args)


def run_lint(args) -> int:
    from . import lint
    return lint.command(args)

