"""Build and check the reports folder.

Pipeline for each ``analyses/<name>.py`` (a jupytext percent script) and its ``<name>.toml``:

1. read the configuration and check that every input file exists;
2. script → notebook (jupytext), with stable cell ids ``cell-0``, ``cell-1``…;
3. execute in a fresh kernel (nbclient; no timing metadata) whose environment fixes everything
   that could change the output: ``PYTHONHASHSEED=0``, one BLAS/OpenMP thread, ``TZ=UTC``,
   ``LC_ALL=C.UTF-8``, the Agg matplotlib backend, an empty IPython profile;
4. keep only evalkit fragments (tables, figures, text made by :mod:`evalkit.report`): a cell that
   prints or displays anything else fails the build, so disclosure control cannot be bypassed;
5. HTML through nbconvert with evalkit's own template (inline CSS and SVG, no scripts, no CDN);
6. scan the HTML for the person identifiers of every input with a ``person_id`` column (or a
   declared ``id_column``), and for external resources;
7. write ``reports/<name>.html`` atomically, then ``reports/index.html``.

A failure in one analysis names the cell (and its line in the script) and leaves that report's
previous version in place; the others still build.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from evalkit._version import __version__
from evalkit.errors import InputError
from evalkit.report._base import (
    ANSI,
    INTERRUPTED,
    SCRATCH,
    BuildError,
    Progress,
    log,
    unwritable,
    write_atomic,
)
from evalkit.report.config import read_config
from evalkit.report.index import read_report_meta, write_index
from evalkit.report.notebook import cell_lines, check_outputs, execute, read_script
from evalkit.report.page import scan_for_identifiers, scan_page, to_html
from evalkit.report.provenance import collect

__all__ = [
    "BuildError",
    "BuildResult",
    "CheckResult",
    "RenderedReport",
    "ReportOutcome",
    "build",
    "check",
    "list_analyses",
    "new_analysis",
    "read_report_meta",
    "render_report",
    "scan_for_identifiers",
]

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class ReportOutcome:
    """The result of building one analysis."""

    name: str
    ok: bool
    message: str = ""
    seconds: float = 0.0
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class BuildResult:
    """What a build wrote: the output folder, the files in it, and each analysis' outcome."""

    out_dir: Path
    files: tuple[str, ...]
    outcomes: tuple[ReportOutcome, ...] = ()

    @property
    def ok(self) -> bool:
        """True if every analysis built."""
        return all(o.ok for o in self.outcomes)

    @property
    def failures(self) -> tuple[ReportOutcome, ...]:
        """The analyses that failed."""
        return tuple(o for o in self.outcomes if not o.ok)


@dataclass(frozen=True)
class CheckResult:
    """What ``evalkit build --check`` found: files that would change, and analyses that fail."""

    changed: tuple[str, ...] = ()
    failures: tuple[ReportOutcome, ...] = ()
    outcomes: tuple[ReportOutcome, ...] = ()

    @property
    def ok(self) -> bool:
        """True if the committed reports are exactly what the code builds."""
        return not self.changed and not self.failures


@dataclass(frozen=True)
class RenderedReport:
    """One report's HTML and the facts the index shows."""

    name: str
    html: str
    title: str
    verdict: str
    rating: int
    data_date: str
    synthetic: bool
    warnings: tuple[str, ...] = field(default=())


# --------------------------------------------------------------------------------------------
# discovery
# --------------------------------------------------------------------------------------------


def list_analyses(analyses_dir: Path) -> list[str]:
    """Names of the analysis scripts (``analyses/<name>.py``, excluding ``_``-prefixed ones)."""
    if not analyses_dir.is_dir():
        return []
    return sorted(p.stem for p in analyses_dir.glob("*.py") if not p.name.startswith("_"))


def _select(root: Path, names: Sequence[str] | None) -> list[str]:
    available = list_analyses(root / "analyses")
    if not names:
        return available
    unknown = [n for n in names if n not in available]
    if unknown:
        listed = ", ".join(available) or "none"
        raise InputError(
            None,
            f"no analysis called {', '.join(map(repr, unknown))} in {root / 'analyses'} "
            f"(available: {listed})",
            table="analyses",
        )
    return list(dict.fromkeys(names))


# --------------------------------------------------------------------------------------------
# one report
# --------------------------------------------------------------------------------------------


def _raise_cell_failure(where: str, err: Any, timeout: int) -> NoReturn:
    reason = (
        f"{err.ename}: {ANSI.sub('', err.evalue)}"
        if err is not None
        else f"timed out after {timeout} s"
    )
    raise BuildError(f"{where} failed: {reason}") from None


def render_report(
    root: Path,
    name: str,
    *,
    config_path: Path | None = None,
    script_path: Path | None = None,
    timeout: int = 600,
    progress: Progress | None = None,
) -> RenderedReport:
    """Run ``analyses/<name>.py`` and return its report HTML (nothing is written).

    ``config_path`` replaces ``analyses/<name>.toml`` and ``script_path`` the script (used by
    ``evalkit jdl``, whose analysis ships with evalkit). The kernel runs in ``root``.

    Raises
    ------
    BuildError
        If the configuration is invalid, an input is missing, a cell fails, a cell shows
        something other than a report fragment, or the page would leak an identifier.
    """
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    root = root.resolve()
    script = script_path.resolve() if script_path else root / "analyses" / f"{name}.py"
    if not script.is_file():
        raise BuildError(f"no analysis script {script}")
    cfg_path = (config_path or script.with_suffix(".toml")).resolve()
    if not cfg_path.is_file():
        raise BuildError(
            f"{name}: no configuration {cfg_path.name} (every analysis has a TOML file beside "
            "it; `evalkit new NAME` makes one)"
        )
    try:
        config = read_config(cfg_path)
    except InputError as exc:
        raise BuildError(f"{name}: {exc}") from None
    missing = [s for s in config.data.values() if not s.path.is_file()]
    if missing:
        listed = "; ".join(f"{s.name} = {s.written!r} (looked for {s.path})" for s in missing)
        raise BuildError(f"{name}: input file not found: {listed}")
    log.info("%s: config %s; parameters %s", name, cfg_path, dict(config.parameters))

    nb = read_script(script)
    lines = cell_lines(script, nb)
    try:
        execute(
            nb,
            root=root,
            config_path=cfg_path,
            name=name,
            timeout=timeout,
            progress=progress,
        )
    except (CellExecutionError, CellTimeoutError) as exc:
        failed = next(
            (
                i
                for i, c in enumerate(nb.cells)
                if c.cell_type == "code" and any(o.output_type == "error" for o in c.outputs)
            ),
            None,
        )
        if failed is None and isinstance(exc, CellTimeoutError):
            failed = next(
                (
                    i
                    for i, c in reversed(list(enumerate(nb.cells)))
                    if c.cell_type == "code" and c.get("execution_count") is not None
                ),
                None,
            )
        if failed is None:
            log.error("%s failed:\n%s", name, ANSI.sub("", str(exc)))
            raise BuildError(f"{script.name}: {ANSI.sub('', str(exc)).strip()[:500]}") from None
        where = f"{script.name}, cell {failed + 1}" + (
            f" (line {lines[failed]})" if lines[failed] else ""
        )
        err = next((o for o in nb.cells[failed].outputs if o.output_type == "error"), None)
        if err is not None and err.ename == "ReportEnds":  # rp.end_report(): publish so far
            nb.cells[failed].outputs = [o for o in nb.cells[failed].outputs if o is not err]
            del nb.cells[failed + 1 :]
            lines = lines[: failed + 1]
            log.info("%s: the report ends at cell %d (rp.end_report)", name, failed + 1)
        else:
            log.error("%s failed:\n%s", name, ANSI.sub("", str(exc)))
            _raise_cell_failure(where, err, timeout)
    except DeadKernelError as exc:
        raise BuildError(f"{script.name}: the kernel died: {exc}") from None

    warnings, meta = check_outputs(nb, script, lines)
    for w in warnings:
        log.warning("%s", w)
    provenance = collect(config, script, root)

    def rel(p: Path) -> str:
        try:
            return p.relative_to(root).as_posix()
        except ValueError:
            return p.name

    page = to_html(
        nb,
        config=config,
        meta=meta,
        provenance=provenance,
        script_rel=rel(script),
        config_rel=rel(cfg_path),
        source=script.read_text(encoding="utf-8"),
    )
    scan_page(page, config)
    return RenderedReport(
        name=name,
        html=page,
        title=config.title,
        verdict=str(meta.get("verdict", "")),
        rating=int(meta.get("rating", 0)),
        data_date=config.data_date,
        synthetic=config.synthetic,
        warnings=tuple(warnings),
    )


# --------------------------------------------------------------------------------------------
# build, check, new
# --------------------------------------------------------------------------------------------


def build(
    root: Path,
    out_dir: Path | None = None,
    *,
    names: Sequence[str] | None = None,
    config_path: Path | None = None,
    progress: Progress | None = None,
    timeout: int = 600,
    jobs: int = 1,
) -> BuildResult:
    """Build reports of the project at ``root`` into ``out_dir`` (default ``root/reports``).

    Parameters
    ----------
    root
        Folder holding ``analyses/``.
    out_dir
        Where to write (default ``root/reports``).
    names
        Analyses to build (default: all). The index always lists every built report.
    config_path
        Use this configuration instead of ``analyses/<name>.toml`` (one name only). Another
        configuration than the committed one needs an ``out_dir`` other than ``reports/``:
        committed reports are never overwritten with another data set's results.
    progress
        Callback ``progress(name, cells_done, cells_total)``.
    timeout
        Seconds allowed for one cell.
    jobs
        Analyses to run at the same time (each in its own kernel). The output does not depend
        on it.

    Raises
    ------
    InputError
        If a name is unknown, or ``config_path`` is not the analysis' own configuration while
        the reports would go to ``root/reports``.
    BuildError
        If ``out_dir`` cannot be written (a file, or a folder without write permission).
    KeyboardInterrupt
        If :data:`~evalkit.report._base.INTERRUPTED` is set during the build; reports already
        on disk are left as they were.
    """
    root = root.resolve()
    committed = root / "reports"
    out = (out_dir if out_dir is not None else committed).resolve()
    selected = _select(root, names)
    if config_path is not None and len(selected) != 1:
        raise InputError(None, "--config needs exactly one analysis name", table="arguments")
    if config_path is not None and out == committed.resolve():
        own = root / "analyses" / f"{selected[0]}.toml"
        if config_path.resolve() != own.resolve():
            raise InputError(
                None,
                f"configuration {config_path} is not analyses/{selected[0]}.toml, so its "
                f"results must not overwrite the committed reports/{selected[0]}.html and "
                "reports/index.html; give --out DIR to write the report elsewhere",
                table="arguments",
            )
    problem = unwritable(out)
    if problem:
        raise BuildError(f"cannot write reports to '{out}': {problem}")
    log.info("evalkit %s: building %s into %s", __version__, ", ".join(selected) or "-", out)

    def one(name: str) -> tuple[ReportOutcome, RenderedReport | None]:
        if INTERRUPTED.is_set():
            raise KeyboardInterrupt
        start = time.perf_counter()
        try:
            report = render_report(
                root, name, config_path=config_path, timeout=timeout, progress=progress
            )
        except BuildError as exc:
            if INTERRUPTED.is_set():  # the kernel failed because of the interrupt
                raise KeyboardInterrupt from None
            log.error("%s: %s", name, exc)
            return ReportOutcome(name, False, str(exc), time.perf_counter() - start), None
        if INTERRUPTED.is_set():  # nothing finished after an interrupt is written
            raise KeyboardInterrupt
        write_atomic(out / f"{name}.html", report.html)
        seconds = time.perf_counter() - start
        log.info("%s: wrote %s in %.1f s", name, out / f"{name}.html", seconds)
        return ReportOutcome(name, True, "", seconds, report.warnings), report

    workers = max(1, min(jobs, len(selected)))
    if workers == 1:
        results = [one(name) for name in selected]
    else:  # each analysis runs in its own kernel process; threads only wait for them
        pool = ThreadPoolExecutor(max_workers=workers)
        try:
            results = list(pool.map(one, selected))
        except BaseException as exc:
            # On Ctrl-C return at once: a running kernel cannot be cancelled from here, and
            # INTERRUPTED keeps its thread from writing anything when the kernel finishes.
            stop = isinstance(exc, KeyboardInterrupt) or INTERRUPTED.is_set()
            pool.shutdown(wait=not stop, cancel_futures=True)
            raise
        pool.shutdown()
    if INTERRUPTED.is_set():
        raise KeyboardInterrupt
    outcomes = [r[0] for r in results]
    written = [f"{o.name}.html" for o in outcomes if o.ok]
    if names is None and out_dir is None:
        _remove_orphans(out, list_analyses(root / "analyses"))
    write_index(out, list_analyses(root / "analyses"))
    written.append("index.html")
    return BuildResult(out_dir=out, files=tuple(written), outcomes=tuple(outcomes))


def _orphans(out: Path, names: Sequence[str]) -> list[Path]:
    keep = {f"{n}.html" for n in names} | {"index.html"}
    return sorted(
        p for p in out.glob("*.html") if p.name not in keep and "name" in read_report_meta(p)
    )


def _remove_orphans(out: Path, names: Sequence[str]) -> None:
    for p in _orphans(out, names):
        log.info("removing %s: its analysis no longer exists", p)
        p.unlink()


def check(root: Path, *, progress: Progress | None = None, jobs: int = 1) -> CheckResult:
    """Rebuild every report into a temporary folder; list the committed files that would change.

    A report "would change" if its bytes differ, if it is missing from ``reports/``, or if
    ``reports/`` holds a report whose analysis no longer exists. Analyses that fail are listed
    as failures.
    """
    root = root.resolve()
    committed = root / "reports"
    names = list_analyses(root / "analyses")
    with tempfile.TemporaryDirectory(prefix="evalkit-check-") as tmp:
        fresh = Path(tmp)
        SCRATCH.add(fresh)
        try:
            # failed analyses keep their committed report in the index, as a real build would
            for n in names:
                if (committed / f"{n}.html").is_file():
                    shutil.copyfile(committed / f"{n}.html", fresh / f"{n}.html")
            result = build(root, fresh, names=names, progress=progress, jobs=jobs)
            changed = []
            for fname in result.files:
                old, new = committed / fname, fresh / fname
                if not old.is_file() or old.read_bytes() != new.read_bytes():
                    changed.append(fname)
            changed += [p.name for p in _orphans(committed, names)]
        finally:
            SCRATCH.discard(fresh)
    return CheckResult(changed=tuple(changed), failures=result.failures, outcomes=result.outcomes)


TEMPLATE_NAME = "_template"


def new_analysis(root: Path, name: str) -> list[Path]:
    """Copy ``analyses/_template.py`` and ``_template.toml`` to ``analyses/<name>.*``.

    Raises
    ------
    InputError
        If ``name`` is not a lower-case Python identifier, the analysis exists, or the template
        is missing.
    """
    if not _NAME.match(name):
        raise InputError(
            "NAME",
            f"{name!r} is not a valid analysis name: use lower-case letters, digits and "
            "underscores, starting with a letter (e.g. fresh_start_2024)",
        )
    folder = root / "analyses"
    targets = [folder / f"{name}.py", folder / f"{name}.toml"]
    existing = [t for t in targets if t.exists()]
    if existing:
        raise InputError(
            "NAME", f"{existing[0]} already exists; choose another name or edit that file"
        )
    sources = [folder / f"{TEMPLATE_NAME}.py", folder / f"{TEMPLATE_NAME}.toml"]
    absent = [s for s in sources if not s.is_file()]
    if absent:
        raise InputError(None, f"template {absent[0]} not found", table="analyses")
    script = sources[0].read_text(encoding="utf-8")
    cfg = sources[1].read_text(encoding="utf-8")
    title = name.replace("_", " ").capitalize()
    cfg = re.sub(r"(?m)^title\s*=.*$", f'title = "{title}"', cfg, count=1)
    script = script.replace(f'"{TEMPLATE_NAME}"', f'"{name}"')
    write_atomic(targets[0], script)
    write_atomic(targets[1], cfg)
    return targets
