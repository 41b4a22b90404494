"""Scale benchmark of evalkit.read_table (not a test; prints timings).

Run:  .venv/bin/python benchmarks/bench_reader.py [n_people ...]

Writes a synthetic extract (``simulate_reoffending``: about 3.2 offence rows per person) as ISO
CSV and as a UK CSV (headers in words, ``dd/mm/yyyy`` dates) and times reading the people and
offence tables: ISO dates (no option), UK dates with ``date_format``, UK dates with
``dayfirst=True``, and UK dates with no option (the column settles day first by itself, which
needs the day/month check over every value), plus parquet for comparison.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from evalkit.datasets import UK_COLUMNS, simulate_reoffending, write_extract
from evalkit.io import read_table


def timed(label: str, paths: dict[str, Path], **options) -> None:
    """Read every table of ``paths`` with ``options`` and print the time taken."""
    t0 = time.perf_counter()
    for name, path in paths.items():
        read_table(path, table=name, **options)
    print(f"  {label:<52} {time.perf_counter() - t0:7.2f} s")


def main(sizes: list[int]) -> None:
    for n in sizes:
        sim = simulate_reoffending(n, rng=1)
        tables = {k: sim[k] for k in ("people", "offences")}
        rows = sum(len(v) for v in tables.values())
        print(f"n_people = {n:,} ({rows:,} rows in people + offences)")
        with tempfile.TemporaryDirectory() as tmp:
            iso = write_extract(tables, Path(tmp) / "iso", "iso")
            uk = write_extract(tables, Path(tmp) / "uk", "uk")
            pq = {}
            for name, df in tables.items():
                pq[name] = Path(tmp) / f"{name}.parquet"
                df.to_parquet(pq[name])
            timed("ISO CSV, no option", iso)
            timed("UK CSV, date_format='%d/%m/%Y'", uk, columns=UK_COLUMNS, date_format="%d/%m/%Y")
            timed("UK CSV, dayfirst=True", uk, columns=UK_COLUMNS, dayfirst=True)
            timed("UK CSV, no option (order settled by the data)", uk, columns=UK_COLUMNS)
            timed("parquet", pq)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100_000, 1_000_000])
