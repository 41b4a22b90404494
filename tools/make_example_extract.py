"""Write evalkit/datasets/example_extract/: the synthetic extract the analysis template runs on.

    python tools/make_example_extract.py

The tables come from :func:`evalkit.datasets.simulate_reoffending` with a fixed seed (synthetic
people, shaped like a prison-leaver scheme's MoJ extract), written as ISO-dated CSV files. The
files are committed; a test checks that this script still writes exactly them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from evalkit.datasets import simulate_reoffending
from evalkit.io import mark_synthetic

OUT = Path(__file__).resolve().parents[1] / "evalkit" / "datasets" / "example_extract"
SETTINGS = {
    "n_people": 800,
    "programme_share": 0.3,
    "effect_hr": 0.8,
    "base_rate": 0.57,
    "rng": 2024,
}


def tables() -> dict[str, pd.DataFrame]:
    """The example extract's tables, with dates as ISO text (as written to the CSV files)."""
    out = {}
    for name, df in simulate_reoffending(**SETTINGS).items():
        df = df.copy()
        for c in df.columns:
            if pd.api.types.is_datetime64_any_dtype(df[c]):
                df[c] = df[c].dt.strftime("%Y-%m-%d")
        out[name] = df
    return out


def main(out: Path = OUT) -> int:
    out.mkdir(parents=True, exist_ok=True)
    for name, df in tables().items():
        df.to_csv(out / f"{name}.csv", index=False, lineterminator="\n")
    mark_synthetic(out)  # reports built on these files are labelled synthetic
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT))
