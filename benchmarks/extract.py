"""National-scale synthetic extracts for the pipeline benchmark, written as parquet.

Run from the repository root (not a test)::

    .venv/bin/python benchmarks/extract.py 1e6            # -> $EVALKIT_BENCH_DATA/n1000000/
    .venv/bin/python benchmarks/extract.py 1e7 --out /tmp/x

The extract is built in chunks of up to a million people, each one
:func:`evalkit.datasets.simulate_reoffending` (vectorised, with a known programme effect) with
its own seed, so 10 million people never need to be simulated at once; each chunk is appended
to the parquet files as it is made. On top of what ``simulate_reoffending`` gives, every person
gets:

* a criminal history before the index offence: Poisson(1.65) earlier proven offences dated up to
  ten years before it, which ``proven_reoffending`` must see through (they never count), so the
  offence table holds about 5 records per person, as a multi-year national extract does;
* six more covariates, so that there are ten: ``female`` (0/1, from ``sex``), ``ogrs`` (a
  0–100 risk score rising with previous offences and falling with age), ``prior_custody``
  (previous custodial sentences), ``employed``, ``settled_accommodation`` and ``drug_misuse``
  (0/1 needs at release, related to the risk score). They do not change the known truth: the
  outcome of ``simulate_reoffending`` depends on age, sex, previous offences and sentence only.

The programme group is about 100,000 people whatever the size (``programme_share`` is
100,000 / n), as a national comparison pool against one scheme. Person identifiers are text
(``"K03RTV0012345"``: chunk, then ``simulate_reoffending``'s own identifier); all dates are
whole days. Tables: ``people``, ``offences``, ``custody`` and ``deaths`` (``person_id`` and
``date``), one parquet file each, in the input schema of :func:`evalkit.proven_reoffending`.
Data are synthetic; nothing in them describes real people.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from evalkit.datasets import simulate_reoffending

#: The ten covariates of the Cox model and the propensity score.
COVARIATES = [
    "age",
    "female",
    "prior_offences",
    "sentence_length_days",
    "ogrs",
    "prior_custody",
    "employed",
    "settled_accommodation",
    "drug_misuse",
    "months_since_first_offence",
]
TABLES = ("people", "offences", "custody", "deaths")
CHUNK = 1_000_000
PROGRAMME = 100_000
SEED = 20260601


def data_root() -> Path:
    """Where extracts are kept: ``$EVALKIT_BENCH_DATA``, else ``/tmp/evalkit-bench``."""
    return Path(os.environ.get("EVALKIT_BENCH_DATA", "/tmp/evalkit-bench"))


def extract_dir(n_people: int, root: Path | None = None) -> Path:
    return (root or data_root()) / f"n{n_people}"


def _text_ids(prefix: str, ids: pd.Series) -> pd.Series:
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(ids.to_numpy(dtype=object), type=pa.string())
    return pd.Series(pd.array(pc.binary_join_element_wise(prefix, arr, ""), dtype="str"))


def _covariates(people: pd.DataFrame, gen: np.random.Generator) -> pd.DataFrame:
    """The six added covariates (see the module docstring)."""
    n = len(people)
    age = people["age"].to_numpy(float)
    prior = people["prior_offences"].to_numpy(float)
    lin = -1.0 + 0.9 * np.log1p(prior) - 0.04 * (age - 33) + gen.normal(0.0, 0.6, n)
    ogrs = np.round(100.0 / (1.0 + np.exp(-lin)), 1)
    risk = (ogrs - 50.0) / 25.0
    first = np.maximum(age - 18.0 - gen.exponential(3.0, n), 0.0)

    def flag(base: float, slope: float) -> np.ndarray:
        return (gen.random(n) < 1.0 / (1.0 + np.exp(-(base + slope * risk)))).astype(np.int8)

    return people.assign(
        female=(people["sex"] == "F").to_numpy().astype(np.int8),
        ogrs=ogrs,
        prior_custody=gen.binomial(people["prior_offences"].to_numpy(), 0.25),
        employed=flag(-1.2, -0.5),
        settled_accommodation=flag(0.8, -0.6),
        drug_misuse=flag(-0.4, 0.8),
        months_since_first_offence=np.round(first * 12.0).astype(np.int64),
    )


def _history(
    people: pd.DataFrame, first_offence: pd.Series, gen: np.random.Generator
) -> pd.DataFrame:
    """Earlier proven offences, before each person's first offence of the extract."""
    n = len(people)
    k = gen.poisson(1.65, n)
    pos = np.repeat(np.arange(n), k)
    before = first_offence.to_numpy().astype("datetime64[D]")[pos]
    lag = gen.integers(30, 3650, pos.size)
    offence = before - lag.astype("timedelta64[D]")
    disposal = offence + gen.integers(1, 29, pos.size).astype("timedelta64[D]")
    codes = np.where(gen.random(pos.size) < 0.8, "conviction", "caution")
    return pd.DataFrame(
        {
            "person_id": people["person_id"].take(pos).reset_index(drop=True),
            "offence_date": offence.astype("datetime64[ns]"),
            "disposal_date": disposal.astype("datetime64[ns]"),
            "disposal": pd.array(codes, dtype="str"),
        }
    )


def chunks(n_people: int, seed: int = SEED) -> Iterator[dict[str, pd.DataFrame]]:
    """The extract of ``n_people`` people, in chunks of at most a million people."""
    share = min(PROGRAMME / n_people, 0.5)
    for k, start in enumerate(range(0, n_people, CHUNK)):
        size = min(CHUNK, n_people - start)
        sim = simulate_reoffending(size, programme_share=share, rng=seed + k)
        prefix = f"K{k:02d}"
        for name in TABLES:
            sim[name] = sim[name].assign(person_id=_text_ids(prefix, sim[name]["person_id"]))
        gen = np.random.default_rng([seed, k, 1])
        people = _covariates(sim["people"], gen)
        off = sim["offences"]
        first = off.groupby("person_id", sort=False)["offence_date"].min()
        first = first.reindex(people["person_id"]).fillna(
            people.set_index("person_id")["index_date"]
        )
        history = _history(people, first.reset_index(drop=True), gen)
        sim["offences"] = pd.concat([off, history], ignore_index=True)
        sim["people"] = people
        yield sim


def write(n_people: int, folder: Path, *, seed: int = SEED) -> dict[str, Path]:
    """Write the extract as one parquet file per table (row groups of one chunk each)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    paths = {name: folder / f"{name}.parquet" for name in TABLES}
    tmp = {name: p.with_suffix(".parquet.part") for name, p in paths.items()}
    writers: dict[str, pq.ParquetWriter] = {}
    try:
        for sim in chunks(n_people, seed):
            for name in TABLES:
                table = pa.Table.from_pandas(sim[name], preserve_index=False)
                if name not in writers:
                    writers[name] = pq.ParquetWriter(tmp[name], table.schema)
                writers[name].write_table(table)
    finally:
        for w in writers.values():
            w.close()
    for name in TABLES:
        tmp[name].replace(paths[name])
    return paths


def ensure(n_people: int, root: Path | None = None) -> dict[str, Path]:
    """The parquet files of the extract, written first if they are not there yet."""
    folder = extract_dir(n_people, root)
    paths = {name: folder / f"{name}.parquet" for name in TABLES}
    if not all(p.exists() for p in paths.values()):
        t0 = time.perf_counter()
        print(f"writing the {n_people:,}-person extract to {folder} ...", file=sys.stderr)
        write(n_people, folder)
        print(f"  written in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return paths


def read(paths: dict[str, Path]) -> dict[str, pd.DataFrame]:
    """Read the tables into pandas (Arrow-backed text columns)."""
    return {name: pd.read_parquet(path) for name, path in paths.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="+", type=float, help="numbers of people, e.g. 1e6 1e7")
    parser.add_argument("--out", type=Path, default=None, help="folder (default: data_root())")
    args = parser.parse_args(argv)
    for size in args.sizes:
        paths = ensure(int(size), args.out)
        for name, p in paths.items():
            print(f"{name:9s} {p}  {p.stat().st_size / 2**20:8.1f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
