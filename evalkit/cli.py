"""The ``evalkit`` command: build and check reports, start an analysis, run a JDL-style comparison.

Exit codes: 0 success; 1 a build, check or analysis failed, or an output path cannot be
written (the message says which and why); 2 the command was used wrongly (unknown option or
analysis name, missing file, no project, another configuration without ``--out``); 130
interrupted (Ctrl-C), with the previous reports left in place. User errors never print a
traceback; the detail goes to ``logs/evalkit.log`` in the project folder, a private (0600),
rotated file from which the data values shown on screen (person ids, codes) are removed.
"""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import os
import platform
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from evalkit._version import __version__
from evalkit.errors import EvalkitError, redact
from evalkit.report._base import INTERRUPTED, SCRATCH, BuildError, unwritable
from evalkit.report.jdl_options import INPUTS as JDL_INPUTS
from evalkit.report.jdl_options import add_arguments as add_jdl_arguments
from evalkit.report.jdl_options import from_command_line as jdl_options_of

__all__ = ["main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
INTERRUPTED_MESSAGE = "evalkit: interrupted; previous reports left in place"
NO_PROJECT = (
    "no analyses/ folder here or in any parent folder; run evalkit inside a project (a folder "
    "with analyses/, such as a clone of the evalkit repository), or use evalkit jdl on your files"
)
LOG_MAX_BYTES = 1_000_000
LOG_BACKUPS = 3
log = logging.getLogger("evalkit")


class UsageError(Exception):
    """The command line asks for something impossible (exit code 2)."""


def _project_root() -> Path:
    """The folder holding ``analyses/``: the current directory or the nearest parent with one.

    Outside a project: the nearest folder with a ``pyproject.toml``, else the current one
    (``build`` and ``list`` then refuse; ``jdl`` needs no project).
    """
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "analyses").is_dir():
            return folder
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file():
            return folder
    return here


class _RedactingFormatter(logging.Formatter):
    """Formats log records without the data values of error messages (see ``errors.redact``).

    Applied to the whole record as written (message, exception and traceback text), so that a
    log on disk keeps the rule, the column and the row positions, never person ids.
    """

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotated log whose files (current and backups) are readable by their owner only."""

    def _open(self) -> Any:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.fchmod(fd, 0o600)  # a file that existed before keeps its mode otherwise
            return os.fdopen(fd, self.mode, encoding=self.encoding, errors=self.errors)
        except BaseException:
            os.close(fd)
            raise


def _setup_logging(root: Path, log_file: str | None, verbose: bool) -> Path | None:
    """Append this run's log to ``logs/evalkit.log`` (git-ignored) or ``--log-file``.

    The file is created with mode 0600 (an existing one is made 0600), rotated at 1 MB with
    three backups, and every line goes through :func:`evalkit.errors.redact`.
    """
    path = Path(log_file) if log_file else root / "logs" / "evalkit.log"
    logger = logging.getLogger("evalkit")
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    for h in list(logger.handlers):
        if getattr(h, "_evalkit_cli", False):
            logger.removeHandler(h)
            h.close()
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handler: logging.Handler = _PrivateRotatingFileHandler(
            path, maxBytes=LOG_MAX_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
        )
        for i in range(1, LOG_BACKUPS + 1):  # backups written by an older evalkit
            backup = Path(f"{path}.{i}")
            if backup.is_file():
                backup.chmod(0o600)
    except OSError:
        return None
    handler.setFormatter(_RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler._evalkit_cli = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.propagate = False
    return path


class _InterruptHandler:
    """Ctrl-C while a command runs: set ``INTERRUPTED`` and raise KeyboardInterrupt.

    Python runs the handler in the main thread, which only waits for the command's thread (see
    :func:`_in_thread`); the flag tells the build (its threads and what they would still write)
    and :func:`main` that whatever fails from now on failed because of the interrupt. Ctrl-C
    while the message is printed is ignored.
    """

    def __init__(self) -> None:
        self.finishing = False
        self.previous: Any = None
        self.installed = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if self.finishing:
            return
        INTERRUPTED.set()
        raise KeyboardInterrupt

    def install(self) -> None:
        INTERRUPTED.clear()
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.getsignal(signal.SIGINT)
            signal.signal(signal.SIGINT, self)
            self.installed = True

    def restore(self) -> None:
        if self.installed:
            previous = self.previous if self.previous is not None else signal.default_int_handler
            signal.signal(signal.SIGINT, previous)
            self.installed = False


def _finish_interrupted(err: TextIO, *, hard_exit: bool) -> int:
    """Say that the command was interrupted; end the process if it is the ``evalkit`` command.

    Kernels may still be running for the command's thread or a build's worker threads, which
    cannot be cancelled and would keep the interpreter from exiting: the ``evalkit`` command
    ends with ``os._exit`` (the kernels notice that their parent has gone, and stop). Reports
    are written atomically, and nothing finished after the interrupt is written, so the
    previous ones are intact.
    """
    try:
        log.warning("interrupted (Ctrl-C); previous reports left in place")
        if err.isatty():
            print("\r\x1b[2K", end="", file=err)
        print(INTERRUPTED_MESSAGE, file=err)
    finally:
        if hard_exit:
            _stop_kernels()
            for folder in list(SCRATCH):  # e.g. the copy that `build --check` compares
                shutil.rmtree(folder, ignore_errors=True)
            for stream in (sys.stdout, sys.stderr, err):
                try:
                    stream.flush()
                except Exception:
                    pass
            for h in log.handlers:
                try:
                    h.flush()
                except Exception:
                    pass
            os._exit(EXIT_INTERRUPTED)
    return EXIT_INTERRUPTED


def _stop_kernels() -> None:
    """Kill this process' children that run in a session of their own: the kernels.

    Ctrl-C in a terminal reaches the processes of the terminal's process group only, and
    jupyter_client starts each kernel in a new session. Left alone, a kernel notices within a
    second that its parent has gone, and stops with a warning on the terminal; killing its
    process group (as ``KernelManager.shutdown_kernel(now=True)`` would) ends it quietly, with
    anything the analysis started. The kernel's connection file and its temporary folder
    (``evalkit-kernel-*``, see :func:`evalkit.report.notebook.execute`) are removed, as the
    kernel manager would. Linux only (``/proc``); elsewhere the kernels stop themselves.
    """
    me, my_group = os.getpid(), os.getpgrp()
    try:
        entries = [e for e in Path("/proc").iterdir() if e.name.isdigit()]
    except OSError:
        return
    for entry in entries:
        try:
            stat = (entry / "stat").read_text()
            state, ppid, group = stat[stat.rfind(")") + 2 :].split()[:3]
            if int(ppid) != me or int(group) == my_group or state == "Z":
                continue
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            if int(group) == int(entry.name):  # the leader of its own group: the kernel
                os.killpg(int(group), signal.SIGKILL)
            else:
                os.kill(int(entry.name), signal.SIGKILL)
        except (OSError, ValueError):
            continue
        _remove_kernel_files(argv)


def _remove_kernel_files(argv: list[bytes]) -> None:
    """Remove a killed kernel's connection file (``-f FILE``) and its evalkit temporary folder."""
    import json

    try:
        connection = Path(os.fsdecode(argv[argv.index(b"-f") + 1]))
        info = json.loads(connection.read_text(encoding="utf-8"))
    except (ValueError, IndexError, OSError):
        return
    connection.unlink(missing_ok=True)
    if info.get("transport") == "ipc":  # sockets at <evalkit-kernel-*>/kernel-ipc-N
        folder = Path(str(info.get("ip", ""))).parent
        if folder.name.startswith("evalkit-kernel-"):
            shutil.rmtree(folder, ignore_errors=True)


def _in_thread(command: Callable[[], int]) -> int:
    """Run ``command`` in a thread of its own; the main thread waits, ready for Ctrl-C.

    A build spends its time in calls that block in C (zmq polls of the kernel's messages), and
    the operating system may deliver SIGINT to any thread: Python then runs the handler only
    when the main thread next executes Python code, which a blocked poll can delay until the
    cell ends. Waiting here in short steps lets the handler run within a fraction of a second.
    """
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["code"] = command()
        except BaseException as exc:
            box["exc"] = exc

    thread = threading.Thread(target=target, name="evalkit-command", daemon=True)
    thread.start()
    while thread.is_alive():
        thread.join(0.1)
    if "exc" in box:
        raise box["exc"]
    return int(box["code"])


def _check_out(path: str, what: str) -> None:
    """Raise BuildError (exit 1) if ``--out`` cannot hold the output."""
    problem = unwritable(Path(path))
    if problem:
        raise BuildError(f"cannot write {what} to '{path}': {problem}")


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
        "(CSV, CSV.gz, parquet or Excel) and write a JDL-style report comparing the groups.",
        epilog='UK exports: --date-format %d/%m/%Y --columns "Person ID=person_id,'
        'Release Date=index_date,Group=group,Offence Date=offence_date,..."',
    )
    add_jdl_arguments(j)
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
    if config is not None:
        name = args.names[0]
        own = root / "analyses" / f"{name}.toml"
        committed = args.out is None or Path(args.out).resolve() == (root / "reports").resolve()
        if committed and config.resolve() != own.resolve():
            raise UsageError(
                f"--config {config} is not analyses/{name}.toml: its results must not "
                f"overwrite the committed reports/{name}.html and reports/index.html; "
                "give --out DIR to write the report elsewhere"
            )
    if args.out:
        _check_out(args.out, "reports")
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
    for table in JDL_INPUTS:
        given = getattr(args, table)
        if given and not Path(given).is_file():
            raise UsageError(f"--{table}: no such file: {given}")
    _check_out(args.out, "the report")
    from evalkit.report import jdl

    if not jdl.available():
        print(
            "evalkit jdl: not yet available: this version of evalkit has no evalkit.jdl module "
            "(the Justice-Data-Lab-style outcome set) and its report script. Meanwhile, build a "
            "cohort with evalkit.proven_reoffending() in an analysis script (evalkit new NAME).",
            file=err,
        )
        return EXIT_FAILED
    paths, out_dir, options = jdl_options_of(args)
    progress = _Progress(err, args.quiet)
    started = time.perf_counter()
    target = jdl.run_jdl(paths, out_dir, **options, progress=progress)
    progress.finish("jdl", True, time.perf_counter() - started)
    print(f"wrote {target}", file=out)
    return EXIT_OK


def main(
    argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run the command line; returns the exit code (0 ok, 1 failed, 2 usage error, 130 Ctrl-C).

    Called without ``argv`` (as the ``evalkit`` command, reading ``sys.argv``), an interrupted
    command ends the process with exit code 130 once it has said so, without waiting for the
    kernels of a build; called with ``argv`` (from Python), it returns 130.
    """
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    parser = _parser()
    try:
        args = parser.parse_args(None if argv is None else list(argv))
    except SystemExit as exc:  # argparse: --help/--version (0) or a usage error (2)
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE

    root = _project_root()
    if args.command in ("build", "list") and not (root / "analyses").is_dir():
        parser.print_usage(err)
        print(f"evalkit: error: {NO_PROJECT}", file=err)
        return EXIT_USAGE

    hard_exit = argv is None and stdout is None and stderr is None
    interrupts = _InterruptHandler()
    interrupts.install()
    log_path: Path | None = None
    try:
        try:
            log_path = _setup_logging(root, args.log_file, args.verbose)
            log.info(
                "evalkit %s on Python %s: %s (in %s)",
                __version__,
                platform.python_version(),
                " ".join(sys.argv[1:] if argv is None else argv),
                root,
            )
            code = _in_thread(lambda: _run(args, root, out, err))
        except Exception as exc:
            if INTERRUPTED.is_set():  # e.g. the kernel's connection broken by the interrupt
                code = EXIT_INTERRUPTED
            else:
                code = _failed(exc, parser, err, log_path)
    except KeyboardInterrupt:  # also while a failure is being reported
        code = EXIT_INTERRUPTED
    try:
        if code == EXIT_INTERRUPTED or INTERRUPTED.is_set():
            interrupts.finishing = True
            code = _finish_interrupted(err, hard_exit=hard_exit)
    finally:
        interrupts.restore()
    return code


def _run(args: argparse.Namespace, root: Path, out: TextIO, err: TextIO) -> int:
    if args.command == "list":
        return _cmd_list(root, out)
    if args.command == "new":
        return _cmd_new(root, args.name, out)
    if args.command == "build":
        return _cmd_build(args, root, out, err)
    if args.command == "jdl":
        return _cmd_jdl(args, root, out, err)
    raise UsageError(f"unknown command {args.command}")  # pragma: no cover


def _failed(
    exc: Exception, parser: argparse.ArgumentParser, err: TextIO, log_path: Path | None
) -> int:
    """One sentence on ``err`` (the detail in the log) and the exit code, for an exception."""
    if isinstance(exc, UsageError):
        parser.print_usage(err)
        print(f"evalkit: error: {exc}", file=err)
        return EXIT_USAGE
    if isinstance(exc, EvalkitError):  # InputError, BuildError, ...
        log.error("%s", exc, exc_info=True)
        print(f"evalkit: error: {exc}", file=err)
        return EXIT_FAILED
    if isinstance(exc, OSError) and exc.filename is not None:
        # a file or folder that cannot be read or written: say which, and why
        name = exc.filename
        path = os.fsdecode(name) if isinstance(name, str | bytes | os.PathLike) else str(name)
        reason = exc.strerror or type(exc).__name__
        reason = reason[:1].lower() + reason[1:]
        log.error("cannot access %r: %s", path, reason, exc_info=True)
        print(f"evalkit: error: cannot access '{path}': {reason}", file=err)
        return EXIT_FAILED
    if isinstance(exc, FileNotFoundError):
        log.error("%s", exc, exc_info=True)
        print(f"evalkit: error: {exc}", file=err)
        return EXIT_FAILED
    # a bug, not a user error: keep the traceback, in the log
    log.exception("unexpected error")
    where = f" (traceback in {log_path})" if log_path else ""
    print(f"evalkit: internal error: {type(exc).__name__}: {exc}{where}", file=err)
    return EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
