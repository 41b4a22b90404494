"""Scale benchmark of the survival summaries (not a test; prints timings and checks a budget).

Run from the repository root::

    .venv/bin/python benchmarks/bench_survival.py            # 1M rows, 2 s budget
    .venv/bin/python benchmarks/bench_survival.py --rows 200000 --budget 1

Data: a million people, whole-day follow-up times cut at 365 days (so at most 365 distinct
times), two groups and three strata. Timed: ``kaplan_meier`` by group with ``at`` and
``median``, and the stratified ``logrank`` test. Each must finish within the budget (2 s by
default: well under two seconds on a laptop core); the script exits 1 when one does not. This
was a wall-clock assertion in tests/test_survival.py, moved here so the test suite does not
depend on the speed of the machine it runs on.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time

import numpy as np
import pandas as pd


def simulate(n: int, seed: int = 20240611) -> pd.DataFrame:
    """n people: whole-day times 1..365, half with an event, two groups, three strata."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "t": np.minimum(np.ceil(rng.exponential(400, n)), 365.0),
            "e": rng.integers(0, 2, n),
            "g": rng.choice(["programme", "comparison"], n),
            "s": rng.choice(["north", "south", "east"], n),
        }
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--budget", type=float, default=2.0, help="seconds allowed for each")
    args = parser.parse_args(argv)

    import evalkit
    from evalkit.survival import kaplan_meier, logrank

    d = simulate(args.rows)
    print(
        f"evalkit {evalkit.__version__}, numpy {np.__version__}, pandas {pd.__version__}, "
        f"Python {platform.python_version()}; {args.rows:,} rows"
    )
    start = time.perf_counter()
    km = kaplan_meier(d, time="t", event="e", by="g")
    km.at([182, 365])
    km.median()
    t_km = time.perf_counter() - start
    start = time.perf_counter()
    logrank(d, time="t", event="e", by="g", strata="s")
    t_lr = time.perf_counter() - start
    ok = True
    for label, seconds in (("kaplan_meier + at + median", t_km), ("stratified logrank", t_lr)):
        within = seconds < args.budget
        ok &= within
        verdict = "ok" if within else f"OVER the {args.budget:g} s budget"
        print(f"  {label:<28} {seconds:6.2f} s  {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
