"""Scale benchmark of evalkit.cohort.proven_reoffending (not a test; prints timings).

Run:  .venv/bin/python benchmarks/bench_cohort.py [n_people ...] [--repeat N]

Builds synthetic prison-leaver data (evalkit.datasets.synthetic.simulate_reoffending) for 100k
and 1M people (about 3.2 offence rows and 1.2 custody spells per person) and times, in one
process and interleaved (median of ``--repeat`` runs, so that a busy machine slows each alike):

- ``oracle``: the vectorised pandas/numpy implementation that was evalkit's until issue 12
  (tests/oracles/cohort_pandas.py);
- ``duckdb``: evalkit's cohort from the same DataFrames — validated in pandas, the rules run by
  embedded DuckDB (the default path);
- ``parquet``: the same tables written as parquet and read with Ibis' DuckDB backend
  (validated with SQL aggregates; what a file larger than memory goes through), once;
- ISO text dates (as from CSV), where parsing the dates dominates, once each.

The ratio duckdb / oracle of wall-clock medians is the figure to compare with the issue's target
(within 1.3); the ratio of CPU seconds (every thread of the process) is printed beside it, as it
varies less when other work shares the machine. ``--extract DIR`` adds the parquet extract of
benchmarks/extract.py (5 offences per person), read into pandas as benchmarks/pipeline.py reads
it; ``--profile`` prints where one 1M run spends its time.

Measured (issue 12, 2026-11-30, 2 cores, 24 GiB; duckdb 1.4.5, ibis 12.0.0, pandas 3.1.1,
pyarrow 26.0.1; three other sessions' test suites sharing the two cores, load average 3-6,
so single runs varied by 2-3x: read the CPU ratios and the medians, not single figures)::

    1M simulated (3.2M offences, 1.2M spells), median of 5 interleaved, wall (CPU) seconds
      datetime columns            oracle 2.51 (2.29)  duckdb 4.26 (3.55)  ratio 1.69 (cpu 1.55)
      + data_end, at_risk='free'  oracle 2.74 (2.53)  duckdb 3.54 (3.14)  ratio 1.29 (cpu 1.24)
      ISO text dates, once        oracle 5.04 (3.07)  duckdb 5.69 (3.61)  ratio 1.13 (cpu 1.18)
      parquet via Ibis/DuckDB, once: 8.08
    a later run (load 2.7):
      datetime columns            oracle 3.78 (3.41)  duckdb 4.26 (4.06)  ratio 1.13 (cpu 1.19)
      + data_end, at_risk='free'  oracle 4.53 (3.72)  duckdb 4.94 (4.42)  ratio 1.09 (cpu 1.19)
      ISO text dates, once        oracle 2.44 (2.24)  duckdb 4.33 (4.08)  ratio 1.78 (cpu 1.82)
      parquet via Ibis/DuckDB, once: 7.75
    an earlier run, datetime columns: oracle 8.07 (3.81), duckdb 6.13 (3.04): 0.76 (cpu 0.80)
    1M extract (5.0M offences, 1.2M spells), 5 interleaved, three runs
      oracle 5.26 (3.38)  duckdb 5.97 (3.63)  ratio 1.14 (cpu 1.07)
      oracle 6.43 (5.52)  duckdb 4.09 (3.95)  ratio 0.64 (cpu 0.72)
      oracle 6.11 (2.78)  duckdb 6.71 (4.15)  ratio 1.10 (cpu 1.49)

So the target (within 1.3x of the pandas path) is met by the median of the runs (1M simulated,
datetime columns: 0.76, 1.13, 1.69, median 1.13, CPU 1.19; extract: 0.64, 1.10, 1.14, median
1.10, CPU 1.07), but not in every run: the DuckDB path costs 0.7-1.5x the pandas path's CPU.
(The 1.1 s of the issue was measured on an idle machine; nothing here was idle.)

Where one run on the extract goes (CPU seconds of each part measured alone, 3 runs; DuckDB's
figures with its 2 threads)::

    pandas checks: person_id unique (Arrow factorize)      0.16 per table (people, deaths)
    disposal codes known / proven (isin, 5M strings)       0.09 x 2
    dates to day numbers, narrowing to 32 bits             0.3
    ids to the people table's row positions (index_in)    0.5   (0.43 as one pandas.factorize)
    DuckDB stage 1, people and deaths                      0.1-0.2
    DuckDB stage 2, offences: hash join 5M x 1M (0.42 on
      one thread) + GROUP BY (category, person) (0.6-0.8)  1.1-1.2
    DuckDB stage 3, custody: join, window, GROUP BY        0.5-0.6
    DuckDB outcomes (3 joins, 1M rows out) + flow counts   0.25-0.35
    assembling Cohort.data                                 0.07

What limits it: the pandas path's validation (the first four lines) is the same as the oracle's,
and the oracle does its joins and per-person sums with numpy on dense row positions
(``numpy.bincount``: no hashing), where DuckDB hashes the 5M offence rows twice (the join and the
per-person GROUP BY). Tried: splitting stage 2 into a per-category count and a per-person
GROUP BY of the proven rows only (a MATERIALIZED CTE) saved 10-25% of that stage on one
thread, within the noise of this machine; grouping by one integer key (the person for proven
reoffences, minus the category otherwise) 0.84 against 0.98 CPU seconds (median of 5, one
thread), 3% of a whole run; ``preserve_insertion_order=false`` and one DuckDB
thread made no difference beyond the noise. The rules were kept as they are (one expression
for every engine).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the oracle lives with the tests

from oracles.cohort_pandas import proven_reoffending as oracle  # noqa: E402

from evalkit.cohort import proven_reoffending  # noqa: E402
from evalkit.datasets.synthetic import simulate_reoffending  # noqa: E402


def seconds(fn: Any) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def wall_and_cpu(fn: Any) -> tuple[float, float]:
    """Wall-clock seconds, and CPU seconds of the whole process (every thread)."""
    c0, t0 = time.process_time(), time.perf_counter()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def as_text(sim: dict[str, Any]) -> dict[str, Any]:
    """Dates as ISO strings, as read_table gives them from a CSV file."""
    out = {}
    for name, df in sim.items():
        df = df.copy()
        for col in df.columns:
            if str(df[col].dtype).startswith("datetime64"):
                df[col] = df[col].dt.strftime("%Y-%m-%d")
        out[name] = df
    return out


def interleaved(runs: dict[str, Any], repeat: int) -> dict[str, list[tuple[float, float]]]:
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, fn in runs.items():
            times[name].append(wall_and_cpu(fn))
    return times


def report(label: str, times: dict[str, list[tuple[float, float]]]) -> None:
    """Median wall and CPU seconds of each, the ratios duckdb / oracle, and every wall time."""
    wall = {name: statistics.median(t[0] for t in ts) for name, ts in times.items()}
    cpu = {name: statistics.median(t[1] for t in ts) for name, ts in times.items()}
    parts = [f"{name} {wall[name]:5.2f} s (cpu {cpu[name]:5.2f})" for name in times]
    ratios = (
        f"ratio {wall['duckdb'] / wall['oracle']:4.2f} (cpu {cpu['duckdb'] / cpu['oracle']:4.2f})"
    )
    spread = "; ".join(
        f"{name} " + "/".join(f"{t[0]:.2f}" for t in ts) for name, ts in times.items()
    )
    print(f"  {label:<28} " + "  ".join(parts) + f"  {ratios}  [{spread}]")


def bench(n: int, repeat: int) -> None:
    import ibis

    print(f"n_people = {n:,}")
    t0 = time.perf_counter()
    sim = simulate_reoffending(n, rng=1)
    rows = ", ".join(f"{name} {len(df):,}" for name, df in sim.items())
    print(f"  simulate_reoffending {time.perf_counter() - t0:.1f} s; rows: {rows}")
    proven_reoffending(**sim)  # compile the rules once (cached per input schema)
    kw: dict[str, Any] = dict(data_end="2024-06-30", at_risk="free")
    runs = {"oracle": lambda: oracle(**sim), "duckdb": lambda: proven_reoffending(**sim)}
    report("datetime columns", interleaved(runs, repeat))
    runs = {
        "oracle": lambda: oracle(**sim, **kw),
        "duckdb": lambda: proven_reoffending(**sim, **kw),
    }
    report("+ data_end, at_risk='free'", interleaved(runs, repeat))
    text = as_text(sim)
    runs = {"oracle": lambda: oracle(**text), "duckdb": lambda: proven_reoffending(**text)}
    report("ISO text dates (as CSV)", interleaved(runs, 1))
    with tempfile.TemporaryDirectory() as tmp:
        for name, df in sim.items():
            df.to_parquet(Path(tmp) / f"{name}.parquet")
        con = ibis.duckdb.connect()
        files = {name: con.read_parquet(Path(tmp) / f"{name}.parquet") for name in sim}
        took = seconds(lambda: proven_reoffending(**files, **kw))
        print(f"  parquet via Ibis/DuckDB (+ data_end, free) {took:6.2f} s (once)")
        con.disconnect()


def bench_extract(folder: Path, repeat: int) -> None:
    """The national-scale extract of benchmarks/extract.py (parquet), read into pandas as the
    pipeline benchmark reads it, then the two paths interleaved."""
    import pandas as pd

    tables = {
        name: pd.read_parquet(folder / f"{name}.parquet")
        for name in ("people", "offences", "custody", "deaths")
    }
    rows = ", ".join(f"{name} {len(df):,}" for name, df in tables.items())
    print(f"extract {folder}: {rows}")
    proven_reoffending(**tables)  # compile the rules once for this schema
    runs = {"oracle": lambda: oracle(**tables), "duckdb": lambda: proven_reoffending(**tables)}
    report("extract (pandas from parquet)", interleaved(runs, repeat))


def profile(fn: Any, top: int = 12) -> None:
    """Where one run of ``fn`` spends its time (cProfile, cumulative)."""
    import cProfile
    import pstats

    prof = cProfile.Profile()
    prof.runcall(fn)
    pstats.Stats(prof).sort_stats("cumulative").print_stats(r"evalkit|duckdb|compute", top)


def main(sizes: list[int], repeat: int, extract: Path | None, show_profile: bool) -> None:
    import duckdb
    import ibis

    print(
        f"cores {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}; "
        f"duckdb {duckdb.__version__}, ibis {ibis.__version__}; median of {repeat} interleaved"
    )
    for n in sizes:
        bench(n, repeat)
    if extract is not None:
        bench_extract(extract, repeat)
    if show_profile:
        sim = simulate_reoffending(max(sizes, default=1_000_000), rng=1)
        proven_reoffending(**sim)
        profile(lambda: proven_reoffending(**sim))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--extract", type=Path, default=None, help="a folder of benchmarks/extract.py's parquet"
    )
    parser.add_argument("--profile", action="store_true", help="profile one run (cProfile)")
    args = parser.parse_args()
    main(args.sizes, args.repeat, args.extract, args.profile)
