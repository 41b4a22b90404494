"""The ``evalkit`` command: build and check reports, start an analysis, run a JDL-style comparison.

Exit codes: 0 success; 1 a build, check or analysis failed (the message says which and why);
2 the command was used wrongly (unknown option or analysis name, missing file). User errors
never print a traceback; the full detail goes to ``logs/evalkit.log`` in the project folder.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from evalkit._version import __version__

__all__ = ["main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
log = logging.getLogger("evalkit")


class UsageError(Exception):
    """The command line asks for something impossible (exit code 2)."""


def _project_root() -> Path:
    """The folder holding ``analyses/``: the current directory or the nearest parent with one."""
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "analyses").is_dir():
            return folder
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file():
            return folder
    return here


def _setup_logging(root: Path, log_file: str | None, verbose: bool) -> Path | None:
    """Append this run's log to ``logs/evalkit.log`` (git-ignored) or ``--log-file``."""
    path = Path(log_file) if log_file else root / "logs" / "evalkit.log"
    logger = logging.getLogger("evalkit")
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    for h in list(logger.handlers):
        if getattr(h, "_evalkit_cli", False):
            logger.removeHandler(h)
            h.close()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler._evalkit_cli = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.propagate = False
    return path


class _Progress:
    """Progress for long builds: a bar redrawn in place on a terminal, plain lines otherwise.

    Analyses may run in parallel: on a terminal the bar shows whichever reported last.
    """

    def __init__(self, stream: TextIO, quiet: bool) -> None:
        self.stream = stream
        self.quiet = quiet
        self.tty = stream.isatty()
        self.announced: set[str] = set()
        self.drawn = False

    def __call__(self, name: str, done: int, total: int) -> None:
        if self.quiet:
            return
        if name not in self.announced:
            self.announced.add(name)
            if not self.tty:
                print(f"building {name} ({total} code cells) ...", file=self.stream, flush=True)
        if self.tty:
            width = 24
            filled = width * done // max(total, 1)
            bar = "#" * filled + "-" * (width - filled)
            line = f"\r\x1b[2K{name} [{bar}] {done}/{total} cells"
            print(line, end="", file=self.stream, flush=True)
            self.drawn = True

    def finish(self, name: str, ok: bool, seconds: float) -> None:
        if self.quiet:
            return
        if self.tty and self.drawn:
            print("\r\x1b[2K", end="", file=self.stream)
            self.drawn = False
        status = "ok" if ok else "FAILED"
        print(f"{name}: {status} ({seconds:.1f} s)", file=self.stream, flush=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="evalkit",
        description="Reproducible evaluation reports for criminal-justice diversion schemes.",
        epilog="Logs go to logs/evalkit.log in the project folder.",
    )
    parser.add_argument("--version", action="version", version=f"evalkit {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    parser.add_argument("-v", "--verbose", action="store_true", help="more detail in the log")
    parser.add_argument("--log-file", metavar="PATH", help="log here instead of logs/evalkit.log")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    b = sub.add_parser(
        "build",
        help="run analyses/*.py and write reports/*.html",
        description="Run the analysis scripts and write their reports (all of them by default).",
    )
    b.add_argument(
        "-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help="no progress output"
    )
    b.add_argument("names", nargs="*", metavar="NAME", help="analyses to build (default: all)")
    b.add_argument(
        "--check",
        action="store_true",
        help="rebuild into a temporary folder; fail if any committed report would change",
    )
    b.add_argument("--config", metavar="TOML", help="use this configuration (one NAME only)")
    b.add_argument("--out", metavar="DIR", help="write reports here instead of reports/")
    b.add_argument(
        "--timeout", type=int, default=600, metavar="SECONDS", help="time allowed for one cell"
    )
    b.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=min(2, os.cpu_count() or 1),
        metavar="N",
        help="analyses to run at once (default: 2, or 1 on a single core)",
    )

    sub.add_parser("list", help="list the analyses and whether each has a report")

    n = sub.add_parser("new", help="start an analysis from analyses/_template.py")
    n.add_argument("name", metavar="NAME", help="lower-case name, e.g. fresh_start_2024")

    j = sub.add_parser(
        "jdl",
        help="Justice-Data-Lab-style comparison of a programme group on your own files",
        description="Build a proven-reoffending cohort from a people table and an offence table "
        "(CSV or parquet) and write a JDL-style report comparing the groups.",
    )
    j.add_argument("--people", required=True, metavar="P", help="people table (CSV or parquet)")
    j.add_argument("--offences", required=True, metavar="O", help="offence table (CSV or parquet)")
    j.add_argument("--custody", metavar="C", help="custody spells table (optional)")
    j.add_argument("--deaths", metavar="D", help="deaths table (optional)")
    j.add_argument("--out", metavar="DIR", default="jdl-report", help="output folder")
    j.add_argument(
        "--programme",
        metavar="LABEL",
        default="programme",
        help="value of the people table's group column for the programme (default: programme)",
    )
    j.add_argument(
        "--comparison",
        metavar="LABEL",
        default="comparison",
        help="value of the group column for the comparison group (default: comparison)",
    )
    j.add_argument(
        "--data-date",
        metavar="YYYY-MM-DD",
        help="date of the extract (default: the latest disposal date in the offence table)",
    )
    return parser


def _cmd_list(root: Path, out: TextIO) -> int:
    from evalkit.report import list_analyses
    from evalkit.report.build import read_report_meta

    for name in list_analyses(root / "analyses"):
        report = root / "reports" / f"{name}.html"
        title = read_report_meta(report).get("title", "") if report.is_file() else ""
        status = title if title else "(no report yet)"
        print(f"{name}\t{status}", file=out)
    return EXIT_OK


def _cmd_new(root: Path, name: str, out: TextIO) -> int:
    from evalkit.errors import InputError
    from evalkit.report import new_analysis

    try:
        paths = new_analysis(root, name)
    except InputError as exc:
        raise UsageError(str(exc)) from None
    for p in paths:
        print(f"created {p.relative_to(root) if p.is_relative_to(root) else p}", file=out)
    print(f"edit them, then run: evalkit build {name}", file=out)
    return EXIT_OK


def _cmd_build(args: argparse.Namespace, root: Path, out: TextIO, err: TextIO) -> int:
    from evalkit.report import build, check
    from evalkit.report.build import list_analyses

    progress = _Progress(err, args.quiet)
    if args.check:
        if args.names or args.config or args.out:
            raise UsageError(
                "--check rebuilds every report as committed; give no NAME/--config/--out"
            )
        started = time.perf_counter()
        checked = check(root, progress=progress, jobs=args.jobs)
        for o in checked.outcomes:
            progress.finish(o.name, o.ok, o.seconds)
        for f in checked.failures:
            print(f"evalkit: {f.name} failed: {f.message}", file=err)
        if checked.changed:
            print("reports would change: " + ", ".join(checked.changed), file=err)
            print("run `make reports` (or `evalkit build`) and commit reports/", file=err)
        if not checked.ok:
            return EXIT_FAILED
        n = len(list_analyses(root / "analyses"))
        seconds = time.perf_counter() - started
        print(f"reports are up to date ({n} analyses rebuilt in {seconds:.0f} s)", file=out)
        return EXIT_OK

    if args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    config = Path(args.config) if args.config else None
    if config is not None and not config.is_file():
        raise UsageError(f"--config: no such file: {config}")
    if config is not None and len(args.names) != 1:
        raise UsageError("--config needs exactly one analysis NAME")
    available = list_analyses(root / "analyses")
    unknown = [n for n in args.names if n not in available]
    if unknown:
        listed = ", ".join(available) or "none"
        raise UsageError(f"no analysis called {', '.join(unknown)} (available: {listed})")
    result = build(
        root,
        Path(args.out) if args.out else None,
        names=args.names or None,
        config_path=config,
        progress=progress,
        timeout=args.timeout,
        jobs=args.jobs,
    )
    for o in result.outcomes:
        progress.finish(o.name, o.ok, o.seconds)
        if o.warnings:
            print(f"  {len(o.warnings)} warning(s) from {o.name}; see the log", file=err)
    for f in result.failures:
        print(f"evalkit: {f.name} failed: {f.message}", file=err)
        print(f"  the previous {f.name}.html (if any) was left in place", file=err)
    built = sum(o.ok for o in result.outcomes)
    print(f"built {built} of {len(result.outcomes)} report(s) in {result.out_dir}", file=out)
    return EXIT_OK if result.ok else EXIT_FAILED


def _cmd_jdl(args: argparse.Namespace, root: Path, out: TextIO, err: TextIO) -> int:
    paths = {"people": args.people, "offences": args.offences}
    if args.custody:
        paths["custody"] = args.custody
    if args.deaths:
        paths["deaths"] = args.deaths
    for table, p in paths.items():
        if not Path(p).is_file():
            raise UsageError(f"--{table}: no such file: {p}")
    from evalkit.report import jdl

    if not jdl.available():
        print(
            "evalkit jdl: not yet available: this version of evalkit has no evalkit.jdl module "
            "(the Justice-Data-Lab-style outcome set) and its report script. Meanwhile, build a "
            "cohort with evalkit.proven_reoffending() in an analysis script (evalkit new NAME).",
            file=err,
        )
        return EXIT_FAILED
    progress = _Progress(err, args.quiet)
    started = time.perf_counter()
    target = jdl.run_jdl(
        {k: Path(v) for k, v in paths.items()},
        Path(args.out),
        data_date=args.data_date,
        programme=args.programme,
        comparison=args.comparison,
        progress=progress,
    )
    progress.finish("jdl", True, time.perf_counter() - started)
    print(f"wrote {target}", file=out)
    return EXIT_OK


def main(
    argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run the command line; returns the exit code (0 ok, 1 failed, 2 usage error)."""
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    parser = _parser()
    try:
        args = parser.parse_args(None if argv is None else list(argv))
    except SystemExit as exc:  # argparse: --help/--version (0) or a usage error (2)
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE

    from evalkit.errors import EvalkitError, InputError
    from evalkit.report.build import BuildError

    root = _project_root()
    log_path = _setup_logging(root, args.log_file, args.verbose)
    log.info(
        "evalkit %s on Python %s: %s (in %s)",
        __version__,
        platform.python_version(),
        " ".join(sys.argv[1:] if argv is None else argv),
        root,
    )
    try:
        if args.command == "list":
            return _cmd_list(root, out)
        if args.command == "new":
            return _cmd_new(root, args.name, out)
        if args.command == "build":
            return _cmd_build(args, root, out, err)
        if args.command == "jdl":
            return _cmd_jdl(args, root, out, err)
        raise UsageError(f"unknown command {args.command}")  # pragma: no cover
    except UsageError as exc:
        parser.print_usage(err)
        print(f"evalkit: error: {exc}", file=err)
        return EXIT_USAGE
    except (InputError, BuildError, FileNotFoundError, EvalkitError) as exc:
        log.error("%s", exc, exc_info=True)
        print(f"evalkit: error: {exc}", file=err)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("evalkit: interrupted", file=err)
        return 130
    except Exception as exc:  # a bug, not a user error: keep the traceback, in the log
        log.exception("unexpected error")
        where = f" (traceback in {log_path})" if log_path else ""
        print(f"evalkit: internal error: {type(exc).__name__}: {exc}{where}", file=err)
        return EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
