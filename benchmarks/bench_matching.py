"""Scale benchmark for evalkit.matching: greedy nearest-neighbour matching at national scale.

Simulates a cohort with 100,000 programme people and 900,000 others and 11 covariates (and a
smaller 10,000 / 90,000 one), then times

* the headline call, ``match()`` 1:1 including the propensity-score fit, split into stages:
  input checks and the balance design, the logistic fit, the distance (and processing order),
  the greedy search and the assembly of the result — median of ``--repeat`` runs;
* the other options once each: 1:2, a caliper, exact-matching cells, random order, matching
  with replacement, the balance table, inverse-probability weighting and the matched effect.

Not run as a test. Timings on a shared machine vary from run to run: the stage table reports
the median and the range, and the CPU time of the process beside the wall-clock time.

    .venv/bin/python benchmarks/bench_matching.py              # both sizes
    .venv/bin/python benchmarks/bench_matching.py --small      # 10k / 90k only
    .venv/bin/python benchmarks/bench_matching.py --repeat 9   # more runs of the headline call

The check at the end compares the 1:1 result with a second run on the rows shuffled (the pairs
must not depend on row order when the scores have no ties).
"""

from __future__ import annotations

import argparse
import importlib
import time
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

import evalkit.matching as mt
from evalkit.errors import StatisticalWarning

# the module, not the function evalkit.matching.match that shadows it as an attribute
match_module = importlib.import_module("evalkit.matching.match")

COVARIATES = [
    "age",
    "prior_offences",
    "risk_score",
    "female",
    "employed",
    "housing_need",
    "substance_misuse",
    "ogrs_score",
    "sentence_length_days",
    "previous_custody",
    "years_since_first",
]
TARGET_SECONDS = 2.0  # issue 12: 1:1 matching of 100k against 900k, fit included


def simulate(n_treated: int, n_control: int, seed: int = 1) -> pd.DataFrame:
    """A cohort with 11 covariates (whole numbers, 0/1 flags and continuous scores) and a
    court for exact matching; the programme arm differs from the others on most of them."""
    rng = np.random.default_rng(seed)
    n = n_treated + n_control
    treated = np.r_[np.ones(n_treated, dtype=np.int8), np.zeros(n_control, dtype=np.int8)]
    s = 0.5 * treated
    df = pd.DataFrame(
        {
            "treated": treated,  # coded 0/1: the calls below pass group="treated", treated=1
            "age": rng.normal(32 + 3 * s, 9).round(),
            "prior_offences": rng.poisson(1.5 + s),
            "risk_score": rng.normal(s, 1.0),
            "female": rng.binomial(1, 0.2 - 0.05 * s),
            "employed": rng.binomial(1, 0.3 + 0.05 * s),
            "housing_need": rng.binomial(1, 0.25 + 0.1 * s),
            "substance_misuse": rng.binomial(1, 0.4 + 0.1 * s),
            "ogrs_score": rng.uniform(0, 100, n).round(),
            "sentence_length_days": rng.gamma(2.0, 60 + 20 * s).round(),
            "previous_custody": rng.poisson(0.8 + 0.3 * s),
            "years_since_first": rng.exponential(8 + s),
            "court": rng.choice(np.array(["A", "B", "C", "D", "E"]), size=n),
        }
    )
    return df.sample(frac=1.0, random_state=seed).reset_index(drop=True)


# Stage timers: the functions match() calls are wrapped in the module's namespace, so the split
# is measured inside one ordinary call. Whatever is not inside a wrapped function (the distance,
# the caliper and the processing order) is the "distance" stage.
STAGES = {
    "arms": "checks",
    "Covariates": "checks",
    "fit_propensity": "fit",
    "_prepare_pool": "greedy",
    "_greedy": "greedy",
    "_k_nearest": "greedy",
    "_assemble": "assembly",
}
STAGE_ORDER = ("checks", "fit", "distance", "greedy", "assembly")


@contextmanager
def stage_timers(wall: dict[str, float], cpu: dict[str, float]) -> Iterator[None]:
    """Wrap the functions named in STAGES, adding up their wall-clock and CPU seconds."""
    saved: dict[str, Any] = {}

    def wrap(fn: Callable[..., Any], stage: str) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            t0, c0 = time.perf_counter(), time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                wall[stage] += time.perf_counter() - t0
                cpu[stage] += time.process_time() - c0

        return timed

    class TimedCovariates:  # the balance design is built through Covariates' class methods
        def __getattr__(self, name: str) -> Any:
            return wrap(getattr(saved["Covariates"], name), "checks")

    for name, stage in STAGES.items():
        if hasattr(match_module, name):
            saved[name] = getattr(match_module, name)
            setattr(
                match_module,
                name,
                TimedCovariates() if name == "Covariates" else wrap(saved[name], stage),
            )
    try:
        yield
    finally:
        for name, fn in saved.items():
            setattr(match_module, name, fn)


def headline(df: pd.DataFrame, repeat: int, *, target: bool) -> None:
    """The 1:1 match with the propensity fit, ``repeat`` times after one warm-up run (which
    pays for first imports), split into stages: median, fastest and slowest wall-clock time,
    and the median CPU time of the process (what the stage costs when it has a core to
    itself)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        mt.match(df, group="treated", treated=1, covariates=COVARIATES)
    walls: list[dict[str, float]] = []
    cpus: list[dict[str, float]] = []
    for _ in range(repeat):
        wall: dict[str, float] = defaultdict(float)
        cpu: dict[str, float] = defaultdict(float)
        with stage_timers(wall, cpu), warnings.catch_warnings():
            warnings.simplefilter("ignore", StatisticalWarning)
            t0, c0 = time.perf_counter(), time.process_time()
            mt.match(df, group="treated", treated=1, covariates=COVARIATES)
            wall["total"], cpu["total"] = time.perf_counter() - t0, time.process_time() - c0
        for spent in (wall, cpu):
            spent["distance"] = spent["total"] - sum(spent[s] for s in set(STAGES.values()))
        walls.append(dict(wall))
        cpus.append(dict(cpu))
    w, c = pd.DataFrame(walls), pd.DataFrame(cpus)
    print(f"  match 1:1 with the propensity fit, {repeat} runs (seconds):")
    print(f"    {'stage':<10s} {'median':>7s} {'min':>7s} {'max':>7s} {'cpu':>7s}")
    for col in (*STAGE_ORDER, "total"):
        v = w[col]
        print(
            f"    {col:<10s} {v.median():7.3f} {v.min():7.3f} {v.max():7.3f} {c[col].median():7.3f}"
        )
    if target:
        verdict = "met" if w["total"].median() <= TARGET_SECONDS else "missed"
        print(f"    target {TARGET_SECONDS:.1f} s (median wall-clock): {verdict} on this run")


def timed(label: str, fn: Callable[[], Any]) -> Any:
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        out = fn()
    print(f"  {label:<52s} {time.perf_counter() - t0:7.2f} s")
    return out


def run(n_treated: int, n_control: int, repeat: int) -> None:
    print(f"\n{n_treated:,} treated vs {n_control:,} controls, {len(COVARIATES)} covariates")
    df = timed("simulate", lambda: simulate(n_treated, n_control))
    covs = COVARIATES
    arm = {"group": "treated", "treated": 1}
    headline(df, repeat, target=(n_treated, n_control) == (100_000, 900_000))
    ps = timed(
        "propensity_score",
        lambda: mt.propensity_score(df, covariates=covs, **arm),
    )
    d = ps.scores.to_numpy()
    m1 = timed(
        "match 1:1 on given scores, order largest",
        lambda: mt.match(df, covariates=covs, distance=d, **arm),
    )
    print(f"    matched treated: {int(m1.counts.loc['matched', 'treated']):,}")
    timed(
        "match 1:2, no replacement",
        lambda: mt.match(df, covariates=covs, distance=d, ratio=2, **arm),
    )
    mc = timed(
        "match 1:1, caliper 0.2 SD of logit",
        lambda: mt.match(df, covariates=covs, distance=ps.linear_predictor, caliper=0.2, **arm),
    )
    print(f"    matched treated within caliper: {int(mc.counts.loc['matched', 'treated']):,}")
    timed(
        "match 1:1, exact on court (5 cells)",
        lambda: mt.match(df, covariates=covs, distance=d, exact="court", **arm),
    )
    timed(
        "match 1:1, order random",
        lambda: mt.match(df, covariates=covs, distance=d, order="random", rng=1, **arm),
    )
    timed(
        "match 1:3 with replacement (vectorised)",
        lambda: mt.match(df, covariates=covs, distance=d, ratio=3, replace=True, **arm),
    )
    timed("balance table after 1:1 matching", m1.balance)
    timed(
        "weight (ATE, trimmed at 99th percentile)",
        lambda: mt.weight(df, covariates=covs, estimand="ATE", trim=0.99, **arm),
    )
    timed(
        "matched_rate_difference (cluster-robust)",
        lambda: mt.matched_rate_difference(m1, outcome="female"),
    )
    # row order must not matter (no ties in continuous scores)
    perm = np.random.default_rng(2).permutation(len(df))
    df2 = df.iloc[perm]
    m2 = timed(
        "match 1:1 on shuffled rows (check)",
        lambda: mt.match(df2, covariates=covs, distance=d[perm], **arm),
    )
    a = set(zip(m1.pairs["treated"], m1.pairs["control"], strict=True))
    b = set(zip(m2.pairs["treated"], m2.pairs["control"], strict=True))
    print(f"    same pairs after shuffling rows: {a == b}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="only 10,000 vs 90,000")
    parser.add_argument("--repeat", type=int, default=5, help="runs of the headline call")
    args = parser.parse_args()
    run(10_000, 90_000, args.repeat)
    if not args.small:
        run(100_000, 900_000, args.repeat)


if __name__ == "__main__":
    main()
