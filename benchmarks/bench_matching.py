"""Scale benchmark for evalkit.matching: greedy nearest-neighbour matching at national scale.

Simulates a cohort with 100,000 treated and 900,000 controls (and a smaller 10,000 / 90,000
one), then times the propensity-score fit, 1:1 and 1:2 greedy matching without replacement (with
and without a caliper and exact-matching cells), matching with replacement, the balance table
and inverse-probability weighting. Prints one line per step; not run as a test.

    .venv/bin/python benchmarks/bench_matching.py            # both sizes
    .venv/bin/python benchmarks/bench_matching.py --small    # 10k / 90k only

The greedy match is sequential by nature (each treated unit's choice depends on all earlier
ones), so evalkit runs a Python loop over treated units in which each step is an amortised
O(log n) "next available" look-up in two sorted arrays; there is no treated × control distance
matrix. The check at the end compares the 1:1 result with a second, independent run on the
rows shuffled (the result must not depend on row order when scores have no ties).
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

import evalkit.matching as mt
from evalkit.errors import StatisticalWarning


def simulate(n_treated: int, n_control: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = n_treated + n_control
    treated = np.r_[np.ones(n_treated, dtype=np.int8), np.zeros(n_control, dtype=np.int8)]
    shift = 0.5 * treated
    df = pd.DataFrame(
        {
            "treated": treated,  # coded 0/1: the calls below pass group="treated", treated=1
            "age": rng.normal(32 + 3 * shift, 9),
            "prior_offences": rng.poisson(1.5 + shift),
            "risk_score": rng.normal(shift, 1.0),
            "female": rng.binomial(1, 0.2 - 0.05 * shift),
            "court": rng.choice(np.array(["A", "B", "C", "D", "E"]), size=n),
        }
    )
    return df.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def timed(label: str, fn: Callable[[], Any]) -> Any:
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        out = fn()
    print(f"  {label:<52s} {time.perf_counter() - t0:7.2f} s")
    return out


def run(n_treated: int, n_control: int) -> None:
    print(f"\n{n_treated:,} treated vs {n_control:,} controls")
    df = timed("simulate", lambda: simulate(n_treated, n_control))
    covs = ["age", "prior_offences", "risk_score", "female"]
    ps = timed(
        "propensity_score (statsmodels GLM)",
        lambda: mt.propensity_score(df, group="treated", treated=1, covariates=covs),
    )
    d = ps.scores.to_numpy()
    m1 = timed(
        "match 1:1, no replacement, order largest",
        lambda: mt.match(df, group="treated", treated=1, covariates=covs, distance=d),
    )
    print(f"    matched treated: {int(m1.counts.loc['matched', 'treated']):,}")
    timed(
        "match 1:2, no replacement",
        lambda: mt.match(df, group="treated", treated=1, covariates=covs, distance=d, ratio=2),
    )
    mc = timed(
        "match 1:1, caliper 0.2 SD of logit",
        lambda: mt.match(
            df,
            group="treated",
            treated=1,
            covariates=covs,
            distance=ps.linear_predictor,
            caliper=0.2,
        ),
    )
    print(f"    matched treated within caliper: {int(mc.counts.loc['matched', 'treated']):,}")
    timed(
        "match 1:1, exact on court (5 cells)",
        lambda: mt.match(
            df, group="treated", treated=1, covariates=covs, distance=d, exact="court"
        ),
    )
    timed(
        "match 1:1, order random",
        lambda: mt.match(
            df, group="treated", treated=1, covariates=covs, distance=d, order="random", rng=1
        ),
    )
    timed(
        "match 1:3 with replacement (vectorised)",
        lambda: mt.match(
            df, group="treated", treated=1, covariates=covs, distance=d, ratio=3, replace=True
        ),
    )
    timed(
        "match 1:1 including the propensity-score fit",
        lambda: mt.match(df, group="treated", treated=1, covariates=covs),
    )
    timed("balance table after 1:1 matching", m1.balance)
    timed(
        "weight (ATE, trimmed at 99th percentile)",
        lambda: mt.weight(
            df, group="treated", treated=1, covariates=covs, estimand="ATE", trim=0.99
        ),
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
        lambda: mt.match(df2, group="treated", treated=1, covariates=covs, distance=d[perm]),
    )
    a = set(zip(m1.pairs["treated"], m1.pairs["control"], strict=True))
    b = set(zip(m2.pairs["treated"], m2.pairs["control"], strict=True))
    print(f"    same pairs after shuffling rows: {a == b}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="only 10,000 vs 90,000")
    args = parser.parse_args()
    run(10_000, 90_000)
    if not args.small:
        run(100_000, 900_000)


if __name__ == "__main__":
    main()
