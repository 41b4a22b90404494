"""Scale benchmark: evalkit's Cox model against lifelines' CoxPHFitter.

Not a test. Run from the repository root::

    python benchmarks/bench_cox.py                      # 100k and 1M rows
    python benchmarks/bench_cox.py --rows 100000        # one size
    python benchmarks/bench_cox.py --lifelines-timeout 60
    python benchmarks/bench_cox.py --extract /tmp/evalkit-bench/n1000000 --reps 5

``--extract DIR`` fits instead the model of ``benchmarks/pipeline.py``'s Cox stage (the
programme indicator and the ten covariates of ``extract.py``, Efron ties) on ``DIR/cohort.parquet``:
evalkit and lifelines' ``CoxPHFitter`` in the same process in interleaved rounds (the order
alternates), then evalkit with robust standard errors clustered on the person; it prints the
medians of wall-clock, user and system CPU time and the largest coefficient difference
(``--no-lifelines`` for evalkit only, e.g. at 10M rows).

Data: simulated cohort with 10 covariates (5 standard normal, 5 binary with prevalence 0.3),
Weibull(0.9) event times rounded up to whole days and cut at 365 (so at most 365 distinct
times: heavy ties), uniform censoring; about 30% events. Efron ties throughout.

Timed: evalkit ``cox`` (plain fit), ``cox(..., robust=True)``, the concordance of the plain fit
(computed on first access of ``fit.concordance``), lifelines ``CoxPHFitter().fit`` (plain) and,
at 100k rows only, lifelines with ``robust=True``. Counting-process case (``start=``): the same
rows with the first 5 covariates, fitted once as they are and once with delayed entry, each row
entering at a uniformly drawn whole day before its end (``start = floor(U * time)``), so the
risk sets differ at nearly every event time; plus that fit's concordance. lifelines runs in a
child process with a time limit and is reported as skipped, with the reason, when it does not
finish in time. Prints a markdown table, plus the largest coefficient difference between the
two packages.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

P = 10


def simulate(n: int, seed: int = 20240611) -> pd.DataFrame:
    """Simulated cohort: 10 covariates, whole-day times 1..365, about 30% events."""
    rng = np.random.default_rng(seed)
    cols = {}
    for j in range(P):
        cols[f"x{j}"] = rng.normal(size=n) if j % 2 == 0 else (rng.random(n) < 0.3).astype(float)
    df = pd.DataFrame(cols)
    beta = np.linspace(-0.3, 0.3, P)
    lp = df.to_numpy() @ beta
    t_event = rng.weibull(0.9, n) * np.exp(-lp / 0.9) * 1100.0
    t_cens = rng.uniform(0.0, 1500.0, n)
    t = np.minimum(t_event, t_cens)
    df["time"] = np.minimum(np.ceil(t), 365.0)
    df["event"] = ((t_event <= t_cens) & (np.ceil(t_event) <= 365.0)).astype(int)
    return df


def with_delayed_entry(df: pd.DataFrame, seed: int = 20261130) -> pd.DataFrame:
    """The same rows, each entering follow-up at a whole day drawn uniformly before its end."""
    rng = np.random.default_rng(seed)
    return df.assign(start=np.floor(rng.random(len(df)) * df["time"].to_numpy()))


def _lifelines_worker(df: pd.DataFrame, robust: bool, queue: Any) -> None:
    from lifelines import CoxPHFitter

    t0 = time.perf_counter()
    cph = CoxPHFitter().fit(df, duration_col="time", event_col="event", robust=robust)
    queue.put((time.perf_counter() - t0, cph.params_.to_numpy()))


def run_lifelines(df: pd.DataFrame, robust: bool, timeout: float) -> tuple[float | None, Any, str]:
    """Fit lifelines in a child process; (seconds, coefficients, note)."""
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_lifelines_worker, args=(df, robust, queue))
    proc.start()
    proc.join(timeout)
    if proc.is_alive():
        proc.terminate()
        proc.join()
        return None, None, f"skipped: did not finish within {timeout:.0f} s"
    if proc.exitcode != 0:
        return None, None, f"skipped: lifelines failed (exit code {proc.exitcode})"
    seconds, coef = queue.get()
    return seconds, coef, ""


def _terms() -> list[str]:
    """The pipeline's 11 terms: the programme indicator and the extract's ten covariates."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import extract  # the generator beside this file

    return ["programme", *extract.COVARIATES]


def _clock(fn: Any) -> tuple[tuple[float, float, float], Any]:
    """(wall, user CPU, system CPU) seconds of ``fn()``, and its result."""
    import resource

    r0, w0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    out = fn()
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    return (time.perf_counter() - w0, r1.ru_utime - r0.ru_utime, r1.ru_stime - r0.ru_stime), out


def compare_extract(folder: str, reps: int, lifelines: bool) -> None:
    """Interleaved rounds on an extract's cohort (see the module docstring)."""
    import resource

    from evalkit.survival import cox

    terms = _terms()
    d = pd.read_parquet(f"{folder}/cohort.parquet")
    d["programme"] = (d["group"] == "programme").astype(np.int8)
    frame = d[["person_id", "time", "event", *terms]]
    del d

    def fit_evalkit() -> np.ndarray:
        return cox(frame, time="time", event="event", covariates=terms).coef.to_numpy()

    def fit_robust() -> np.ndarray:
        fit = cox(frame, time="time", event="event", covariates=terms, cluster="person_id")
        return fit.coef.to_numpy()

    def fit_lifelines() -> np.ndarray:
        from lifelines import CoxPHFitter

        cph = CoxPHFitter().fit(frame[["time", "event", *terms]], "time", "event")
        return cph.params_[terms].to_numpy()

    tools = {"evalkit": fit_evalkit, "evalkit robust (cluster)": fit_robust}
    if lifelines:
        tools["lifelines"] = fit_lifelines
    times: dict[str, list[tuple[float, float, float]]] = {k: [] for k in tools}
    coefs: dict[str, np.ndarray] = {}
    names = list(tools)
    print(f"{len(frame):,} rows, {int(frame['event'].sum()):,} events", file=sys.stderr)
    for r in range(reps):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            t, coefs[name] = _clock(tools[name])
            times[name].append(t)
            print(f"round {r + 1} {name}: wall {t[0]:.2f} s, user {t[1]:.2f} s, sys {t[2]:.2f} s",
                  file=sys.stderr, flush=True)  # fmt: skip
    print("| method | wall (median) | user CPU | system CPU | rounds |\n|---|---:|---:|---:|---:|")
    med = {k: np.median(np.array(v), axis=0) for k, v in times.items()}
    for name, m in med.items():
        print(f"| {name} | {m[0]:.2f} | {m[1]:.2f} | {m[2]:.2f} | {len(times[name])} |")
    if lifelines:
        wall = med["lifelines"][0] / med["evalkit"][0]
        cpu = med["lifelines"][1:].sum() / med["evalkit"][1:].sum()
        diff = float(np.max(np.abs(coefs["lifelines"] - coefs["evalkit"])))
        print(f"\nlifelines / evalkit: {wall:.2f}x (wall), {cpu:.2f}x (CPU); "
              f"max |coefficient difference| {diff:.1e}")  # fmt: skip
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"process peak resident memory {peak:.2f} GiB")


def timed(fn: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument(
        "--lifelines-timeout",
        type=float,
        default=240.0,
        help="seconds allowed for each lifelines fit (default 240)",
    )
    parser.add_argument("--no-lifelines", action="store_true", help="time evalkit only")
    parser.add_argument("--extract", default=None, help="folder with an extract's cohort.parquet")
    parser.add_argument("--reps", type=int, default=5, help="interleaved rounds (--extract)")
    args = parser.parse_args(argv)
    if args.extract:
        compare_extract(args.extract, args.reps, not args.no_lifelines)
        return 0

    import evalkit
    from evalkit.survival import cox

    covs = [f"x{j}" for j in range(P)]
    lines = [
        f"evalkit {evalkit.__version__}, numpy {np.__version__}, pandas {pd.__version__}, "
        f"Python {platform.python_version()}, {mp.cpu_count()} cores",
        "",
        "| rows | events | distinct times | method | seconds | note |",
        "|---:|---:|---:|---|---:|---|",
    ]
    for n in args.rows:
        df = simulate(n)
        n_ev = int(df["event"].sum())
        n_t = int(df["time"].nunique())
        head = f"| {n:,} | {n_ev:,} | {n_t} |"

        def row(method: str, seconds: float | None, note: str = "", head: str = head) -> None:
            sec = f"{seconds:.2f}" if seconds is not None else "—"
            lines.append(f"{head} {method} | {sec} | {note} |")
            print(lines[-1], file=sys.stderr, flush=True)

        s_plain, fit = timed(lambda df=df: cox(df, time="time", event="event", covariates=covs))
        row("evalkit cox (plain)", s_plain, f"{fit.iterations} Newton iterations")
        s_conc, conc = timed(lambda fit=fit: fit.concordance)
        row("evalkit concordance (C and its IJ se)", s_conc, f"C = {conc.estimate:.4f}")
        s_rob, _ = timed(
            lambda df=df: cox(df, time="time", event="event", covariates=covs, robust=True)
        )
        row("evalkit cox (robust=True)", s_rob, f"{s_rob / s_plain:.1f}× plain")
        dfc = with_delayed_entry(df)
        kw = dict(time="time", event="event", covariates=covs[:5])
        s5, _ = timed(lambda dfc=dfc, kw=kw: cox(dfc, **kw))
        row("evalkit cox, 5 covariates (plain)", s5)
        s5c, fit_c = timed(lambda dfc=dfc, kw=kw: cox(dfc, start="start", **kw))
        row("evalkit cox, 5 covariates, start= (delayed entry)", s5c, f"{s5c / s5:.1f}× plain")
        s_cc, conc_c = timed(lambda fit_c=fit_c: fit_c.concordance)
        row("evalkit concordance, start=", s_cc, f"C = {conc_c.estimate:.4f}")
        if args.no_lifelines:
            continue
        s_ll, coef_ll, note = run_lifelines(
            df[[*covs, "time", "event"]], False, args.lifelines_timeout
        )
        if coef_ll is not None and s_ll is not None:
            diff = float(np.max(np.abs(coef_ll - fit.coef.to_numpy())))
            note = f"max abs Δcoef vs evalkit {diff:.1e}; {s_ll / s_plain:.0f}× evalkit"
        row("lifelines CoxPHFitter (plain)", s_ll, note)
        if n <= 100_000:
            s_llr, coef_llr, note = run_lifelines(
                df[[*covs, "time", "event"]], True, args.lifelines_timeout
            )
            if coef_llr is not None and s_llr is not None:
                note = f"{s_llr / s_rob:.0f}× evalkit robust"
            row("lifelines CoxPHFitter (robust=True)", s_llr, note)
        else:
            row("lifelines CoxPHFitter (robust=True)", None, "not run above 100k rows (by design)")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
