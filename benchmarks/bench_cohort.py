"""Scale benchmark of evalkit.cohort.proven_reoffending (not a test; prints timings).

Run:  .venv/bin/python benchmarks/bench_cohort.py [n_people ...]

Builds synthetic prison-leaver data (evalkit.datasets.synthetic.simulate_reoffending) for 100k
and 1M people (about 3.2 offence rows and 1.2 custody spells per person) and times the cohort
build: with date columns already parsed (as from parquet or a database), and with dates as ISO
text (as from CSV), where parsing the dates dominates.
"""

from __future__ import annotations

import sys
import time

from evalkit.cohort import proven_reoffending
from evalkit.datasets.synthetic import simulate_reoffending


def timed(label: str, fn, repeat: int = 1):
    best = float("inf")
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    print(f"  {label:<46} {best:7.2f} s")
    return out


def as_text(sim):
    """Dates as ISO strings, as read_table gives them from a CSV file."""
    out = {}
    for name, df in sim.items():
        df = df.copy()
        for col in df.columns:
            if str(df[col].dtype).startswith("datetime64"):
                df[col] = df[col].dt.strftime("%Y-%m-%d")
        out[name] = df
    return out


def main(sizes: list[int]) -> None:
    for n in sizes:
        print(f"n_people = {n:,}")
        sim = timed("simulate_reoffending", lambda n=n: simulate_reoffending(n, rng=1))
        print("  rows: " + ", ".join(f"{name} {len(df):,}" for name, df in sim.items()))
        repeat = 3 if n <= 200_000 else 1
        timed(
            "proven_reoffending (datetime columns)",
            lambda sim=sim: proven_reoffending(**sim),
            repeat,
        )
        c = timed(
            "  + data_end, at_risk='free'",
            lambda sim=sim: proven_reoffending(**sim, data_end="2024-06-30", at_risk="free"),
            repeat,
        )
        print(f"  cohort kept {len(c.data):,} people")
        text = as_text(sim)
        timed(
            "proven_reoffending (ISO text dates, as CSV)",
            lambda text=text: proven_reoffending(**text),
        )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100_000, 1_000_000])
