"""The whole-pipeline benchmark at national scale: evalkit stage by stage, against other tools.

Not a test. Run from the repository root (``make bench`` runs it)::

    .venv/bin/python benchmarks/pipeline.py                    # 1 million people
    .venv/bin/python benchmarks/pipeline.py --sizes 1e6 1e7    # and 10 million
    .venv/bin/python benchmarks/pipeline.py --sizes 1e5 --no-r --reps 3

For each size, a child process (so that its peak memory is its own) reads the synthetic
extract from parquet (written first by :mod:`extract` if missing) and times, in one process:

1. reading the four parquet files into pandas;
2. the cohort: ``ek.proven_reoffending`` (MoJ proven reoffending, calendar time);
3. ``ek.kaplan_meier`` by group (with medians and 6/12-month survival) and ``ek.logrank``;
4. ``ek.cox`` with the programme indicator and the ten covariates (11 terms), Efron ties;
5. the same with robust standard errors clustered on the person;
6. ``ek.match``: 1:1 nearest-neighbour matching on a logistic propensity score (fitted
   inside the call) of the ~100,000 programme people against everyone else;
7. ``ek.jdl_outcomes`` on the matched sample (matching weights, clustered on the pair).

The raw extract is freed once the cohort is built (a pipeline does not keep it). Then each
stage with a target (cohort, the two Cox fits, matching) is run once more under cProfile, and
on the same cohort and in the same process the Cox model of stage 4 is fitted by evalkit,
lifelines' ``CoxPHFitter`` and statsmodels' ``PHReg`` (the same rows and 11 terms, Efron ties
throughout) in interleaved rounds (the order rotates each round); the medians of the rounds
are compared, coefficients term by term. When ``Rscript`` is installed, R's ``coxph`` runs on
the whole cohort, and ``coxph(..., cluster = person_id)`` and ``MatchIt::matchit`` (nearest,
glm distance), whose time is quadratic in the rows, on a random subsample (``--r-subsample``,
20,000 rows) against evalkit on the same subsample; see :func:`run_r`.

Every stage records wall-clock and CPU time (``time.process_time``, all threads) and memory:
the resident set size when the stage starts and the kernel's exact peak during the stage
(``VmHWM``, reset per stage through ``/proc/self/clear_refs``; sampled every 10 ms where that
is not possible). Results go to ``benchmarks/results/pipeline_n<size>.json`` (not committed);
:mod:`report` turns those of the sizes just run into ``benchmarks/results.md`` and
``benchmarks/results.svg``. No test runs this; ``tests/test_bench_extract.py`` checks the
extract generator only.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import platform
import pstats
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import extract  # noqa: E402  (the generator beside this file)

RESULTS = HERE / "results"
COX_TERMS = ["programme", *extract.COVARIATES]
PAGE = os.sysconf("SC_PAGE_SIZE")
GIB = 2.0**30


class Memory:
    """Peak resident set size of this process over a block of code.

    On Linux the kernel's own peak (``VmHWM`` in ``/proc/self/status``) is reset at the start
    of each block by writing ``5`` to ``/proc/self/clear_refs``, so the peak is exact and costs
    nothing while the block runs. Where that is not possible, a thread samples the resident set
    size every ``interval`` seconds instead (``method`` says which was used).
    """

    def __init__(self, interval: float = 0.01) -> None:
        self.interval = interval
        self.method = "VmHWM" if self._reset_hwm() else f"sampled every {interval * 1e3:g} ms"
        self.peak = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        if self.method != "VmHWM":
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()

    @staticmethod
    def _reset_hwm() -> bool:
        try:
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")
            return Memory._hwm() is not None
        except OSError:
            return False

    @staticmethod
    def _hwm() -> int | None:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
        return None

    @staticmethod
    def rss() -> int:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * PAGE

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            value = self.rss()
            with self._lock:
                self.peak = max(self.peak, value)

    @contextmanager
    def window(self) -> Iterator[dict[str, float]]:
        """Peak RSS while the block runs (and RSS at its start), in bytes."""
        start = self.rss()
        if self.method == "VmHWM":
            self._reset_hwm()
        with self._lock:
            self.peak = start
        out: dict[str, float] = {"rss_start": start}
        try:
            yield out
        finally:
            if self.method == "VmHWM":
                out["rss_peak"] = max(self._hwm() or 0, self.rss())
            else:
                with self._lock:
                    out["rss_peak"] = max(self.peak, self.rss())
            out["rss_end"] = self.rss()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def machine_cpu() -> tuple[float, float]:
    """Seconds of CPU the whole machine has spent busy, and stolen by the hypervisor, so far.

    From the first line of ``/proc/stat`` (user, nice, system, irq and softirq; steal); the
    difference over a stage, less this process's own CPU time, is what other processes used
    while the stage ran: the measure of how quiet the machine was. ``(nan, nan)`` off Linux.
    """
    try:
        with open("/proc/stat") as fh:
            f = [int(x) for x in fh.readline().split()[1:9]]
    except (OSError, ValueError):
        return float("nan"), float("nan")
    tick = os.sysconf("SC_CLK_TCK")
    return (f[0] + f[1] + f[2] + f[5] + f[6]) / tick, f[7] / tick


def run_stage(mem: Memory, name: str, fn: Callable[[], Any], log: list[dict]) -> Any:
    """Time ``fn`` (wall and CPU) with its memory; record an error instead of raising.

    Also records ``others``: the cores other processes kept busy on average while ``fn`` ran,
    and ``steal``: the cores the hypervisor took (both 0 on a quiet machine).
    """
    rec: dict[str, Any] = {"name": name}
    out = None
    with mem.window() as m, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        busy0, steal0 = machine_cpu()
        t0, c0, s0 = time.perf_counter(), time.process_time(), os.times().system
        try:
            out = fn()
        except Exception as exc:  # another stage's failure must not stop the benchmark
            rec["error"] = f"{type(exc).__name__}: {exc}"[:400]
        rec["wall"] = time.perf_counter() - t0
        rec["cpu"] = time.process_time() - c0
        rec["sys"] = os.times().system - s0  # of the CPU time, in the kernel (page faults)
        busy1, steal1 = machine_cpu()
    rec["others"] = max(busy1 - busy0 - rec["cpu"], 0.0) / rec["wall"]
    rec["steal"] = (steal1 - steal0) / rec["wall"]
    rec.update(m)
    log.append(rec)
    peak = rec["rss_peak"] / GIB
    note = f"  ERROR {rec['error']}" if "error" in rec else ""
    print(
        f"  {name:<40} {rec['wall']:7.2f} s wall {rec['cpu']:7.2f} s CPU ({rec['sys']:.2f} sys)"
        f"  {peak:5.2f} GiB"
        f"  others {rec['others']:4.1f} cores, steal {rec['steal']:4.2f}{note}",
        file=sys.stderr,
        flush=True,
    )
    return out


def machine() -> dict[str, Any]:
    """Machine, software versions, date and load, for the record."""
    import lifelines
    import pyarrow
    import scipy
    import statsmodels

    import evalkit

    cpu = ""
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as fh:
        mem_kb = int(fh.readline().split()[1])
    return {
        "date": subprocess.run(["date"], capture_output=True, text=True).stdout.strip(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / 2**20, 1),
        "platform": platform.platform(),
        "load_average": os.getloadavg(),
        "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "unset"),
        # pyarrow's allocator: its first large reads cost seconds of kernel time here with
        # mimalloc (the default), much less with ARROW_DEFAULT_MEMORY_POOL=system
        "arrow_memory_pool": pyarrow.default_memory_pool().backend_name,
        "evalkit_source": _source(evalkit),
        "versions": {
            "python": platform.python_version(),
            "evalkit": evalkit.__version__,
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "pyarrow": pyarrow.__version__,
            "scipy": scipy.__version__,
            "lifelines": lifelines.__version__,
            "statsmodels": statsmodels.__version__,
        },
    }


def _short_paths(line: str) -> str:
    """A profile line with paths from the package (``evalkit/...``, ``pandas/...``) on."""
    line = re.sub(r"\S*/site-packages/", "", line)
    return re.sub(r"(?<![\w.-])/\S*?/(evalkit/)", r"\1", line)


def _source(module: Any) -> str:
    """Where a package was imported from, with the git commit of its tree (``+`` if edited)."""
    folder = Path(module.__file__).resolve().parent.parent
    git = ["git", "-C", str(folder)]
    try:
        head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True)
        dirty = subprocess.run([*git, "status", "--porcelain", "evalkit"], capture_output=True)
    except OSError:
        return str(folder)
    if head.returncode != 0:
        return str(folder)
    edited = "+" if dirty.stdout.strip() else ""
    return f"{folder} at {head.stdout.decode().strip()}{edited}"


def profile(fn: Callable[[], Any], top: int = 14) -> str:
    """cProfile's top entries by own time for one call of ``fn`` (CPU-time clock)."""
    prof = cProfile.Profile(time.process_time)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prof.runcall(fn)
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(top)
    text = buf.getvalue()
    lines = text.splitlines()
    start = next((i for i, ln in enumerate(lines) if ln.strip().startswith("ncalls")), 0)
    total = next((ln.strip() for ln in lines if "function calls" in ln), "")
    body = [_short_paths(ln) for ln in lines[start:] if ln.strip()]
    return "\n".join([total, *body])


# --------------------------------------------------------------------------------------------
# Comparisons: every tool fits the same model to the same rows (11 terms, Efron ties)
# --------------------------------------------------------------------------------------------
COX_COLUMNS = ["time", "event", *COX_TERMS]


def _fit_evalkit(frame: pd.DataFrame) -> tuple[pd.Series, int]:
    import evalkit as ek

    fit = ek.cox(frame, time="time", event="event", covariates=COX_TERMS, ties="efron")
    return fit.coef, int(fit.n)


def _fit_lifelines(frame: pd.DataFrame) -> tuple[pd.Series, int]:
    from lifelines import CoxPHFitter

    # only the model's columns: lifelines takes every other column as a covariate
    # (``person_id`` among them, which it cannot convert to float); its ties are Efron's
    cph = CoxPHFitter().fit(frame[COX_COLUMNS], "time", "event")
    return cph.params_, int(cph._n_examples)


def _fit_statsmodels(frame: pd.DataFrame) -> tuple[pd.Series, int]:
    from statsmodels.duration.hazard_regression import PHReg

    model = PHReg(
        frame["time"].to_numpy(float),
        frame[COX_TERMS].to_numpy(float),
        status=frame["event"].to_numpy(float),
        ties="efron",
    )
    return pd.Series(np.asarray(model.fit().params), index=COX_TERMS), int(model.nobs)


TOOLS: dict[str, Callable[[pd.DataFrame], tuple[pd.Series, int]]] = {
    "evalkit": _fit_evalkit,
    "lifelines": _fit_lifelines,
    "statsmodels": _fit_statsmodels,
}


def _coef(fit: tuple[pd.Series, int]) -> np.ndarray:
    """The coefficients in the order of ``COX_TERMS``, by name (an absent term is an error)."""
    coef = fit[0]
    missing = [t for t in COX_TERMS if t not in coef.index]
    if missing or len(coef) != len(COX_TERMS):
        raise ValueError(f"terms differ: got {list(coef.index)}")
    return coef[COX_TERMS].to_numpy(float)


def compare_cox(mem: Memory, frame: pd.DataFrame, reps: int, max_seconds: float) -> dict:
    """Interleaved rounds of the same Cox fit by each tool; the order rotates every round.

    Each tool gets the same data frame (one row per person, no missing values) and fits the
    same 11 terms with Efron's ties; the rows each tool used and its largest coefficient
    difference from evalkit's (terms matched by name) are recorded with the times.
    """
    out: dict[str, dict[str, Any]] = {
        name: {"wall": [], "cpu": [], "others": [], "rss_peak": 0} for name in TOOLS
    }
    coefs: dict[str, np.ndarray] = {}
    names = list(TOOLS)
    for r in range(reps):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            rec = out[name]
            if "error" in rec or (rec["wall"] and rec["wall"][0] > max_seconds):
                continue  # failed, or too slow to repeat: one run is reported
            log: list[dict] = []
            fit = run_stage(mem, f"round {r + 1}: {name} Cox", lambda n=name: TOOLS[n](frame), log)
            if "error" in log[0]:
                rec["error"] = log[0]["error"]
                continue
            rec["wall"].append(log[0]["wall"])
            rec["cpu"].append(log[0]["cpu"])
            rec["others"].append(log[0]["others"])
            rec["rss_peak"] = max(rec["rss_peak"], log[0]["rss_peak"])
            rec["rows"] = fit[1]
            try:
                coefs[name] = _coef(fit)
            except ValueError as exc:
                rec["error"] = str(exc)
    for name, rec in out.items():
        if name in coefs and "evalkit" in coefs:
            rec["max_coef_diff"] = float(np.max(np.abs(coefs[name] - coefs["evalkit"])))
    return out


def greedy_pairs(scores: pd.DataFrame, treated: np.ndarray) -> set[tuple[str, str]]:
    """Exact greedy 1:1 nearest-neighbour pairs without replacement, largest score first.

    The reference for the matching comparison, on R's own propensity scores (``scores``:
    ``person_id`` and ``ps`` in the rows' order; ``treated``: a boolean per row): each treated
    unit in turn, largest score first (ties in row order), takes the nearest control not yet
    taken (ties: the first in row order). One numpy pass over the controls per treated unit,
    so it is meant for the subsample only.
    """
    ps = scores["ps"].to_numpy(float)
    ids = scores["person_id"].to_numpy()
    tr, co = np.flatnonzero(treated), np.flatnonzero(~treated)
    taken = np.zeros(co.size, dtype=bool)
    pairs = set()
    for t in tr[np.argsort(-ps[tr], kind="stable")]:
        dist = np.abs(ps[co] - ps[t])
        dist[taken] = np.inf
        k = int(np.argmin(dist))
        if not np.isfinite(dist[k]):
            break
        taken[k] = True
        pairs.add((ids[t], ids[co[k]]))
    return pairs


def _r_call(
    rscript: str,
    csv: Path,
    steps: str,
    reps: int,
    max_seconds: float,
    timeout: float,
    pairs: Path | None = None,
) -> tuple[list[list[str]], str]:
    """Run ``r_bench.R``; its output lines split on tabs, and an error message or ``""``."""
    cmd = [rscript, str(HERE / "r_bench.R"), str(csv), str(reps), steps]
    cmd += [",".join(extract.COVARIATES), f"{max_seconds:g}", str(pairs or "")]
    print(f"  R: {steps} (up to {reps} run(s)) ...", file=sys.stderr, flush=True)
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        text, err = proc.stdout, proc.stderr if proc.returncode else ""
    except subprocess.TimeoutExpired as exc:
        text = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        err = f"stopped after {timeout:.0f} s"
    return [[*line.split("\t"), "", "", ""][:4] for line in text.splitlines()], err


def run_r(mem: Memory, data: pd.DataFrame, args: argparse.Namespace, fit: Any) -> dict[str, Any]:
    """R's coxph (plain, and clustered on the person) and MatchIt on the same data.

    Timed inside R with ``system.time`` (reading the CSV is not timed); a model whose first run
    takes longer than ``--max-seconds`` is not repeated. Plain ``coxph`` runs on the whole
    cohort. ``coxph(..., cluster = person_id)`` with Efron ties and ``matchit`` take time
    quadratic in the rows (survival 3.5's Efron score residuals: 1.5 s at 10,000 rows,
    7 s at 20,000, 34 s at 40,000, 249 s at 100,000; ``ties = "breslow"`` takes 2 s at 40,000;
    MatchIt's nearest-neighbour search compares every treated unit with every control), so
    they run on a random subsample of ``--r-subsample`` rows, and evalkit's clustered Cox and
    matching are timed on the same subsample (median of ``--reps`` runs) to compare with them.
    """
    rscript = shutil.which("Rscript")
    if rscript is None:
        return {"skipped": "Rscript not found"}
    import pyarrow as pa
    import pyarrow.csv as pacsv

    import evalkit as ek

    out: dict[str, Any] = {}
    reps = args.r_reps or args.reps
    cols = ["person_id", *COX_COLUMNS]
    sub = data[cols].sample(n=min(int(args.r_subsample), len(data)), random_state=20260601)
    sub = sub.reset_index(drop=True)
    sub_group = np.where(sub["programme"].to_numpy() == 1, "programme", "comparison")
    with tempfile.TemporaryDirectory() as tmp:
        full_csv, sub_csv, pairs = Path(tmp) / "full.csv", Path(tmp) / "sub.csv", Path(tmp) / "p"
        pacsv.write_csv(pa.Table.from_pandas(data[cols], preserve_index=False), full_csv)
        pacsv.write_csv(pa.Table.from_pandas(sub, preserve_index=False), sub_csv)
        lines: list[list[str]] = []
        for csv, steps, n, pp in (
            (full_csv, "coxph", reps, None),
            (sub_csv, "coxph_cluster", reps, None),
            (sub_csv, "matchit", 1, pairs),
        ):
            got, err = _r_call(rscript, csv, steps, n, args.max_seconds, args.r_timeout, pp)
            lines += got
            if err:
                out.setdefault("errors", []).append(f"{steps}: {err.strip()[-300:]}")
        r_pairs = pd.read_csv(pairs, sep="\t", dtype=str) if pairs.exists() else None
        ps_path = Path(f"{pairs}.ps")
        r_ps = None
        if ps_path.exists():
            r_ps = pd.read_csv(ps_path, sep="\t", dtype={"person_id": str})
    for step, wall, cpu, extra in lines:
        if step == "versions":
            out["versions"] = extra
            continue
        if step == "skipped":  # R is there, but not the packages
            out.setdefault("errors", []).append(f"skipped: {extra}")
            continue
        rec = out.setdefault(step, {"wall": [], "cpu": []})
        rec["wall"].append(float(wall))
        rec["cpu"].append(float(cpu))
        rec["rows"] = len(data) if step == "coxph" else len(sub)
        if extra:
            rec["extra"] = extra
    out.get("matchit", {}).pop("extra", None)  # the number of pairs: counted below
    out["rss_peak"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    if "extra" in out.get("coxph", {}):
        coef = np.array([float(v) for v in out["coxph"].pop("extra").split(",")])
        if fit is not None:
            diff = np.abs(coef - fit.coef[COX_TERMS].to_numpy())
            out["coxph"]["max_coef_diff"] = float(diff.max())

    # evalkit on the same subsample, for the quadratic R steps
    sub = sub.assign(group=sub_group)
    cox_kw = dict(time="time", event="event", covariates=COX_TERMS, ties="efron")
    ek_sub: dict[str, dict[str, Any]] = {"cox_cluster": {}, "match": {}}
    for key, fn in (
        ("cox_cluster", lambda: ek.cox(sub, cluster="person_id", **cox_kw)),
        ("match", lambda: ek.match(sub, group="group", covariates=extract.COVARIATES)),
    ):
        log: list[dict] = []
        res = None
        for r in range(reps):
            res = run_stage(mem, f"subsample {r + 1}: evalkit {key}", fn, log)
        ok = [x for x in log if "error" not in x]
        ek_sub[key] = {"wall": [x["wall"] for x in ok], "cpu": [x["cpu"] for x in ok]}
        if key == "cox_cluster" and res is not None and "extra" in out.get("coxph_cluster", {}):
            se_r = np.array([float(v) for v in out["coxph_cluster"].pop("extra").split(",")])
            se_ek = res.table.loc[COX_TERMS, "se"].to_numpy(float)
            out["coxph_cluster"]["max_se_rel_diff"] = float(np.max(np.abs(se_r / se_ek - 1)))
        if key == "match" and res is not None and r_pairs is not None:
            md = res.data
            treated = md.loc[md["group"] == "programme", ["subclass", "person_id"]]
            control = md.loc[md["group"] != "programme", ["subclass", "person_id"]]
            ours = treated.merge(control, on="subclass", suffixes=("_t", "_c"))
            ours_set = set(zip(ours["person_id_t"], ours["person_id_c"], strict=True))
            theirs = set(zip(r_pairs["treated"], r_pairs["control"], strict=True))
            out.setdefault("matchit", {})["pairs"] = len(theirs)
            out["matchit"]["evalkit_pairs"] = len(ours_set)
            out["matchit"]["identical_pairs"] = len(ours_set & theirs)
            if r_ps is not None:
                ref = greedy_pairs(r_ps, sub["programme"].to_numpy() == 1)
                out["matchit"]["greedy_pairs"] = len(ref)
                out["matchit"]["evalkit_as_greedy"] = len(ours_set & ref)
                out["matchit"]["matchit_as_greedy"] = len(theirs & ref)
    out["evalkit_subsample"] = ek_sub
    out["subsample_rows"] = len(sub)
    return out


def profiles(
    paths: dict[str, Path], stage_fns: dict[str, Callable[[], Any]], stages: list[dict]
) -> dict[str, str]:
    """cProfile of the stages with a target (each run once more, after the timed runs)."""
    import evalkit as ek

    tables = extract.read(paths)  # read again for the cohort's profile (the read not profiled)
    out = {"cohort: proven_reoffending": profile(lambda: ek.proven_reoffending(**tables))}
    tables.clear()
    gc.collect()
    for name, fn in stage_fns.items():
        if any(s["name"] == name and "error" not in s for s in stages):
            out[name] = profile(fn)
            gc.collect()
    return out


# --------------------------------------------------------------------------------------------
# One size
# --------------------------------------------------------------------------------------------
def run_one(n: int, args: argparse.Namespace) -> dict[str, Any]:
    import evalkit as ek

    info = machine()
    print(f"\n{n:,} people — {info['date']}", file=sys.stderr, flush=True)
    if info["load_average"][0] > 0.5:
        print(
            f"  note: load average {info['load_average'][0]:.1f} at the start: the machine is "
            "not quiet, so wall times are inflated",
            file=sys.stderr,
        )
    paths = extract.ensure(n)
    mem = Memory()
    info["memory_method"] = mem.method
    stages: list[dict] = []
    tables = run_stage(mem, "read parquet (4 tables)", lambda: extract.read(paths), stages)
    rows = {name: len(df) for name, df in tables.items()}
    cohort = run_stage(
        mem, "cohort: proven_reoffending", lambda: ek.proven_reoffending(**tables), stages
    )
    if cohort is None:
        raise SystemExit(f"the cohort failed: {stages[-1].get('error')}")
    # A pipeline does not keep the raw extract once the cohort is built: free it, so that the
    # later stages' memory is evalkit's, not the harness's (the cohort keeps what it needs).
    tables.clear()
    gc.collect()
    # pandas' copy-on-write: the new column is added without copying the cohort's data
    data = cohort.data.assign(programme=(cohort.data["group"] == "programme").astype(np.int8))
    del cohort
    rows["cohort"] = len(data)

    def km_logrank() -> Any:
        km = ek.kaplan_meier(data, time="time", event="event", by="group")
        km.median()
        km.at([182, 365])
        return ek.logrank(data, time="time", event="event", by="group")

    cox_kw = dict(time="time", event="event", covariates=COX_TERMS, ties="efron")
    match_kw = dict(group="group", covariates=extract.COVARIATES)
    stage_fns: dict[str, Callable[[], Any]] = {
        "Cox, 11 terms, Efron": lambda: ek.cox(data, **cox_kw),
        "Cox, robust, clustered on person": lambda: ek.cox(data, cluster="person_id", **cox_kw),
        "1:1 PS matching (fit included)": lambda: ek.match(data, **match_kw),
    }
    run_stage(mem, "KM + log-rank by group", km_logrank, stages)
    fit = run_stage(mem, "Cox, 11 terms, Efron", stage_fns["Cox, 11 terms, Efron"], stages)
    name = "Cox, robust, clustered on person"
    run_stage(mem, name, stage_fns[name], stages)
    name = "1:1 PS matching (fit included)"
    match = run_stage(mem, name, stage_fns[name], stages)
    if match is not None:
        rows["matched_pairs"] = int((match.data["group"] == "programme").sum())
        jdl_data, jdl_kw = match.data, dict(weights="weight", cluster="subclass")
    else:
        jdl_data, jdl_kw = data, {}
    run_stage(mem, "JDL outcomes", lambda: ek.jdl_outcomes(jdl_data, **jdl_kw), stages)
    match = jdl_data = None  # the matched sample is not needed any more
    gc.collect()
    result: dict[str, Any] = {
        "n": n,
        "machine": info,
        "rows": rows,
        "stages": stages,
        # the largest of the stages' exact peaks, stages 2-7 (getrusage's ru_maxrss is no
        # use here: resetting VmHWM for each stage resets it too)
        "pipeline_peak_rss": max(s["rss_peak"] for s in stages[1:]),
        "iterations": fit.iterations if fit is not None else None,
    }
    if args.profile:
        print("  profiling the target stages (cProfile, CPU time) ...", file=sys.stderr)
        result["profiles"] = profiles(paths, stage_fns, stages)
    if not args.no_compare:
        result["compare"] = compare_cox(mem, data, args.reps, args.max_seconds)
    if not args.no_r:
        result["r"] = run_r(mem, data, args, fit)
    mem.close()
    result["machine"]["load_average_end"] = os.getloadavg()
    result["machine"]["date_end"] = subprocess.run(
        ["date"], capture_output=True, text=True
    ).stdout.strip()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=float, default=[1e6])
    parser.add_argument("--reps", type=int, default=5, help="rounds of the Cox comparison")
    parser.add_argument("--r-reps", type=int, default=0, help="runs of each R model (--reps)")
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=60.0,
        help="a tool whose first run takes longer runs once (default 60 s)",
    )
    parser.add_argument("--r-timeout", type=float, default=3600.0)
    parser.add_argument(
        "--r-subsample",
        type=float,
        default=2e4,
        help="rows of the random subsample on which R's clustered coxph and MatchIt run "
        "(their time is quadratic in the rows), against evalkit on the same rows",
    )
    parser.add_argument("--no-compare", action="store_true", help="evalkit only")
    parser.add_argument("--no-r", action="store_true", help="skip R")
    parser.add_argument("--no-profile", dest="profile", action="store_false")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--no-report", action="store_true", help="do not rewrite results.md")
    args = parser.parse_args(argv)
    RESULTS.mkdir(exist_ok=True)
    if args.one:
        result = run_one(args.one, args)
        (RESULTS / f"pipeline_n{args.one}.json").write_text(json.dumps(result, indent=1))
        return 0
    import report

    for size in args.sizes:
        n = int(size)
        child = [sys.executable, str(Path(__file__).resolve()), "--one", str(n)]
        child += [a for a in (argv if argv is not None else sys.argv[1:]) if a != "--no-report"]
        child = _without_sizes(child)
        rc = subprocess.run(child).returncode
        if rc != 0:
            print(f"the {n:,}-person run failed (exit code {rc})", file=sys.stderr)
            return rc
        print(report.stage_table([json.loads((RESULTS / f"pipeline_n{n}.json").read_text())]))
    if not args.no_report:
        # only this run's sizes: results of earlier runs (other code, other load) stay out
        sizes = [int(size) for size in args.sizes]
        report.write(RESULTS, HERE / "results.md", HERE / "results.svg", sizes)
    return 0


def _without_sizes(cmd: list[str]) -> list[str]:
    """The child's command line: the parent's options without ``--sizes`` and its values."""
    out, skip = [], False
    for a in cmd:
        if a == "--sizes":
            skip = True
            continue
        if skip and not a.startswith("--"):
            continue
        skip = False
        out.append(a)
    return out


if __name__ == "__main__":
    raise SystemExit(main())
