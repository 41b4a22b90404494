"""Write evalkit/datasets/<scheme>/: the synthetic data set shipped for each of the five schemes.

    python tools/make_scheme_data.py            # all five, into evalkit/datasets/
    python tools/make_scheme_data.py OUT_DIR    # into OUT_DIR/<scheme>/ instead

Each folder gets the scheme's tables from :func:`evalkit.datasets.simulate_scheme` with the
fixed arguments of :data:`evalkit.datasets.schemes.SHIPPED`, written as ISO-dated CSV by
:func:`evalkit.datasets.write_scheme` (which also writes ``truth.csv`` and the
``EVALKIT-SYNTHETIC`` marker), and a README.md saying what the data are and what the truth is.
The files are committed; a test checks that this script still writes exactly them.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

from evalkit.datasets import simulate_scheme, write_scheme
from evalkit.datasets.schemes import SCHEMES, SHIPPED, SchemeData

OUT = Path(__file__).resolve().parents[1] / "evalkit" / "datasets"

TITLES = {
    "fresh_start": "Fresh Start (Leicester, Leicestershire and Rutland)",
    "continuity_of_care": "Continuity of Care (Worcestershire)",
    "divert": "DIVERT (West Mercia and the West Midlands)",
    "portfolio": "Substance-misuse portfolio (Leicestershire)",
    "restart": "Restart Thames Valley",
}

ABOUT = {
    "fresh_start": (
        "People leaving prison (40%) or sentenced in the community in Leicester, "
        "Leicestershire and Rutland between April 2023 and March 2024, about a quarter of "
        "them referred to Fresh Start (`group` = programme). Engagement in the weekly groups "
        "starts 3–60 days after referral, and only if no proven reoffence or death comes "
        "first. The engagement table says who is `maintaining_abstinence`: the published "
        'claim is a count ("309 maintaining abstinence") with no denominator; here the '
        "denominator is known (`n_referred` below)."
    ),
    "continuity_of_care": (
        "Prison leavers with a substance-misuse need released between April 2021 and March "
        "2024; the scheme runs from April 2023 (`cohort_period` before/after, `group` "
        "programme for the after period). `engagement.csv` lists those referred to community "
        "treatment and when they started it (within three weeks of release: continuity of "
        "care). `monthly.csv` is the service series — referrals, people continuing "
        "treatment, the denominator — with seasonality, a trend and a true level change; "
        "its `claim` column marks the two months a headline would quote (the lowest before "
        "the launch, the highest after it), and the truth splits that rise into the scheme, "
        "the trend, seasonality and chance."
    ),
    "divert": (
        "People found in possession of small amounts of drugs in four West Midlands force "
        "areas from 1 August 2021 over a year. The index date is the diversion date "
        "(`group` = programme) or the date of the caution given instead (comparison): "
        "out-of-court, so there is no index custody. About 45% of those diverted would "
        "engage in the virtual sessions, which start 5–90 days after diversion: people who "
        "reoffend before then cannot engage (immortal time), and engagers have fewer "
        'previous offences, so "of those engaged" figures flatter the scheme. First '
        "reoffences within six months are proven within six months more, so six-month and "
        "one-year proven reoffending both have a known truth."
    ),
    "portfolio": (
        "The six services of the Police and Crime Commissioner's substance-misuse portfolio "
        "with their annual costs as published (about £0.5m a year). Participants a year, "
        "their proven reoffenders within a year, the design of each service's current "
        "evaluation and each service's true effect are synthetic."
    ),
    "restart": (
        "People released from prison to Thames Valley: a before cohort (May 2021 – April "
        "2022) and the 12-month pilot (May 2022 – April 2023), in which about 20% were "
        "referred to Restart before release (`group` = programme; women, shorter sentences "
        "and people with a substance-misuse need more often). 80% of them engaged, met at "
        "the gate on the release date. The comparison group's one-year proven reoffending "
        "is 57%, as for custodial sentences under 12 months."
    ),
}

FILES = {
    "people": "one row per person (`person_id`, `index_date`, `group`, covariates)",
    "offences": "offences with their disposal dates and codes",
    "custody": "custody spells (`start`, `end`)",
    "deaths": "dates of death",
    "engagement": "one row per referred person: `referral_date`, `engagement_start` and "
    "`engagement_end` (empty if never engaged), `completed`",
    "monthly": "the monthly service series",
    "services": "one row per service: cost, participants, reoffenders, current evaluation",
}


def _call(scheme: str) -> str:
    args = ", ".join(f"{k}={v!r}" for k, v in SHIPPED[scheme].items())
    return f'simulate_scheme("{scheme}", {args})'


def readme(data: SchemeData) -> str:
    """The README.md of a scheme's folder."""
    scheme = data.scheme
    rows = "\n".join(
        f"| `{r.parameter}` | {r.value:.6g} | {r.meaning} |" for r in data.to_frame().itertuples()
    )
    files = "\n".join(
        f"- `{name}.csv` ({len(df):,} rows): {FILES[name]}" for name, df in data.tables().items()
    )
    toml = ""
    if data.people is not None:
        toml = (
            "\n## Pointing an analysis at it\n\n"
            "In the analysis's TOML (paths relative to the TOML file):\n\n"
            "```toml\n[data]\n"
            + "".join(
                f'{name} = "../evalkit/datasets/{scheme}/{name}.csv"\n'
                for name in ("people", "offences", "custody", "deaths")
            )
            + '```\n\nor, in Python, `evalkit.datasets.scheme_path("'
            + scheme
            + '")`. A real extract goes in the same places.\n'
        )
    return f"""# {TITLES[scheme]} — SYNTHETIC DATA

**These data are synthetic.** No record describes a real person; the numbers are invented to
resemble the published shape of the scheme (`SCHEMES.md`) so that evalkit's methods can be
shown and checked against a truth known by construction. Reports built on them are labelled
synthetic (this folder holds the `EVALKIT-SYNTHETIC` marker).

{textwrap.fill(ABOUT[scheme], 95)}

Made by `evalkit.datasets.{_call(scheme)}`
and written by `tools/make_scheme_data.py` (`python tools/make_scheme_data.py` rewrites it byte
for byte; a test checks this). Load it with `evalkit.datasets.load_{scheme}()`, which returns the
tables and the truth.

## Files

{files}
- `truth.csv`: the true parameters below, to 10 significant digits

## The truth

Expected rates are closed-form expectations given the people drawn (their covariates,
frailty, referral and would-be engagement); see `simulate_scheme`'s docstring for the model.

| parameter | value | meaning |
|---|---|---|
{rows}
{toml}"""


def main(out: Path = OUT) -> int:
    for scheme in SCHEMES:
        data = simulate_scheme(scheme, **SHIPPED[scheme])
        folder = out / scheme
        write_scheme(data, folder, style="iso")  # tables, truth.csv and the marker
        (folder / "README.md").write_text(readme(data), encoding="utf-8", newline="\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT))
