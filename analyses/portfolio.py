# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %%
# Setup: configuration and the services file. Every number below comes from the file named in
# portfolio.toml and its parameters (the claims, the columns, the prices); nothing is typed in.
import math

import numpy as np
import pandas as pd

import evalkit as ek
from evalkit import report as rp
from evalkit.economics import portfolio_table, unit_cost, unit_costs
from evalkit.jdl import JDL_MIN_PROGRAMME
from evalkit.wording import fmt_number

cfg = rp.load_config("portfolio")
SDC = cfg.disclosure
COLUMNS = {
    key: cfg.param(f"{key}_column")
    for key in ("id", "service", "cost", "participants", "reoffenders", "design", "reported")
}
OFFENCES = list(cfg.param("offences"))
PER_REOFFENDER = float(cfg.param("offences_per_reoffender"))
INFLATION = float(cfg.param("inflation"))
POWER, ALPHA = float(cfg.param("power")), float(cfg.param("alpha"))
CLAIM, CLAIM_AMOUNT = str(cfg.param("claim")), float(cfg.param("claim_amount"))
PORTFOLIO_CLAIM = str(cfg.param("portfolio_claim"))
PORTFOLIO_AMOUNT = float(cfg.param("portfolio_amount"))

services = cfg.read("services")
for column in COLUMNS.values():
    if column not in services.columns:
        raise ek.InputError(column, "is missing (see the *_column parameters)", table="services")
n = services[COLUMNS["participants"]].astype(float)
x = services[COLUMNS["reoffenders"]].astype(float)
if ((x < 0) | (x > n)).any():
    raise ek.InputError(
        COLUMNS["reoffenders"], "must be between 0 and the number of participants", table="services"
    )
services = services.assign(no_reoffence=(n - x).astype("int64"))


def money(amount: float) -> str:
    """Whole pounds: ``£34,000``."""
    return "–" if not math.isfinite(amount) else f"£{amount:,.0f}"


def price_words(offence: str) -> str:
    """``criminal damage (£1,350)``: an offence type and its unit cost as used."""
    return f"{offence} ({money(unit_cost(offence, inflation=INFLATION))})"


# the portfolio table: spend, cost per participant and per participant without a proven
# reoffence, offences to prevent to break even, and the evidence rating each service's current
# evaluation earns (the verdict engine's design ratings, evalkit.verdict.DESIGNS)
tables = [
    portfolio_table(
        services,
        service=COLUMNS["service"],
        cost=COLUMNS["cost"],
        participants=COLUMNS["participants"],
        design=COLUMNS["design"],
        outcomes="no_reoffence",
        offence=offence,
        offences_per_reoffender=PER_REOFFENDER,
        inflation=INFLATION,
    )
    for offence in OFFENCES
]
main = tables[0]
PRICE_YEAR = unit_costs().set_index("offence").loc[OFFENCES[0], "price_year"]
TOTAL = main.total_cost

# %%
# The primary question, fixed in [primary] and [design] before the figures were seen: did the
# portfolio change proven reoffending, participants against similar people who did not take
# part? No service has such a comparison, so there is no estimate: the verdict engine is given
# none, and says what that means.
none = ek.Measure("rate difference", "", math.nan, math.nan, math.nan)
verdict = rp.judge(
    cfg,
    none,
    subject="the substance-misuse portfolio",
    groups=("participants", "similar people who did not take part"),
)
claimed = services[services[COLUMNS["id"]].astype("string") == cfg.param("claim_service")]
CLAIMED_COST = float(claimed[COLUMNS["cost"]].iloc[0]) if len(claimed) else math.nan

# %%
rp.show(
    *rp.opening(
        cfg,
        verdict,
        note=f"That is the spend on {cfg.param('claim_what')}, within a substance-misuse "
        f"portfolio of “{PORTFOLIO_CLAIM}”. These are figures of spend. This report sets each "
        "service's spend against the people it serves, the offences it would have to prevent "
        "to repay its cost, and the evidence its current evaluation can give.",
    )
)

# %%
ratings = main.to_frame()["rating"]
rp.scheme_summary(
    cfg,
    verdict,
    question=(
        "Do the portfolio's services reduce reoffending, and would they repay their cost in "
        "crime prevented?"
    ),
    sample=(
        f"{len(services)} services with {SDC.count(main.total_participants)} participants a "
        "year between them."
    ),
    effect=verdict.headline,
    cost=(
        f"{money(TOTAL)} a year for the {len(services)} services in the file (published: "
        f"{PORTFOLIO_CLAIM}); {money(CLAIMED_COST)} of it for the service the claim names "
        f"(published: {CLAIM})."
    ),
    caveats=[
        "Break-even numbers are what a service would have to achieve to repay its cost, not "
        "what it achieves.",
        f"Avoided offences are priced at Home Office unit costs in {PRICE_YEAR} prices"
        + (f" times {INFLATION:g}" if INFLATION != 1 else "")
        + "; the mix of offences participants would commit is not known, and the answer "
        "depends on it.",
        "Reoffending among participants is shown for context only: without a comparison "
        "group it cannot show what would have happened without the service.",
    ],
)

# %% [markdown]
# ## The portfolio in one table
#
# For each service: what it costs a year, how many people it serves, the cost per participant
# and per participant without a proven reoffence within a year, how many offences it would have
# to prevent each year to repay its cost, and the evidence rating its current evaluation earns on
# the Maryland Scientific Methods Scale (1 = no comparison group, 5 = randomised).

# %%
shown = main.to_frame()
small_n = services[COLUMNS["participants"]].map(SDC.is_small).to_numpy(dtype=bool)
small_outcome = (
    services["no_reoffence"].map(SDC.is_small) | services[COLUMNS["reoffenders"]].map(SDC.is_small)
).to_numpy(dtype=bool)
# a cost per person would reveal a withheld count: withhold it with the count
shown.loc[small_n, "cost_per_participant"] = math.nan
shown.loc[small_n | small_outcome, "cost_per_outcome"] = math.nan
shown["evaluation"] = [f"Level {r} of 5" for r in shown["rating"]]
LEVELS = " ".join(f"Level {r}: {rp.SMS_LEVELS[r]}." for r in sorted(set(shown["rating"])))
total = pd.DataFrame(
    [
        {
            "service": f"All {len(shown)} services",
            "cost": TOTAL,
            "participants": main.total_participants,
            "cost_per_participant": TOTAL / main.total_participants,
            "cost_per_outcome": TOTAL / int(services["no_reoffence"].sum()),
            "break_even_offences": main.total_break_even_offences,
            "evaluation": "–",
        }
    ]
)
columns = [
    "service",
    "cost",
    "participants",
    "cost_per_participant",
    "cost_per_outcome",
    "break_even_offences",
    "evaluation",
]
panel = pd.concat([shown[columns], total[columns]], ignore_index=True)
rp.show(
    rp.table(
        panel,
        caption="The substance-misuse portfolio: spend, cost per participant and per outcome, "
        "break-even and the evidence rating of each service's current evaluation",
        labels={
            "service": "Service",
            "cost": "Spend a year",
            "participants": "People a year",
            "cost_per_participant": "Spend per person",
            "cost_per_outcome": "Spend per person not reoffending",
            "break_even_offences": "Offences to prevent to break even",
            "evaluation": "Evidence rating of its evaluation",
        },
        formats={
            "cost": money,
            "cost_per_participant": money,
            "cost_per_outcome": money,
            "break_even_offences": lambda v: fmt_number(v, 0),
        },
        counts=["participants"],
        total_row=len(panel) - 1,
        disclosure=SDC,
        notes=[
            "Not reoffending: no proven reoffence within a year (Ministry of Justice measure).",
            f"Break-even: an avoided offence priced as {price_words(OFFENCES[0])}, the Home "
            f"Office economic and social cost in {PRICE_YEAR} prices"
            + (f" times {INFLATION:g}" if INFLATION != 1 else "")
            + " (Heeks et al. 2018).",
            "Evidence rating: the Maryland Scientific Methods Scale level that the design of "
            f"the service's current evaluation earns at best under evalkit's verdict rules. "
            f"{LEVELS}",
        ],
    )
)

# %%
# the claims set against the file
within = abs(TOTAL - PORTFOLIO_AMOUNT) <= 0.1 * PORTFOLIO_AMOUNT
rp.show(
    rp.paragraph(
        f"In this file the service the claim names costs {money(CLAIMED_COST)} a year "
        f"(published: {money(CLAIM_AMOUNT)}), {fmt_number(100 * CLAIMED_COST / TOTAL, 0)}% "
        f"of the portfolio's {money(TOTAL)}; the portfolio was published as "
        f"{PORTFOLIO_CLAIM}"
        + (", which the file's total matches to within 10%." if within else ".")
    ),
)

# %% [markdown]
# ## What an evaluation of each service could show
#
# To know whether a service repays its cost, an evaluation would have to detect a fall in
# reoffending at least as large as the break-even fall. The table gives that fall per 100
# participants at two prices of an offence, next to the smallest fall a matched comparison of
# one year's participants (with as many similar non-participants, on proven reoffending, as the
# Justice Data Lab does) could detect.

# %%
rate = (x / n).to_numpy()
# the smallest detectable fall needs a baseline strictly between 0 and 1: the participants'
# own rate, kept away from the ends
base = np.clip(rate, 0.01, 0.99)
detectable = np.asarray(
    ek.mde_two_proportions(base, n.to_numpy(), n.to_numpy(), power=POWER, alpha=ALPHA)
)
evaluation = pd.DataFrame(
    {
        "service": shown["service"],
        "reported": services[COLUMNS["reported"]].astype("string").to_numpy(),
        "rate": np.where(small_outcome | small_n, math.nan, 100 * rate),
        "low": tables[0].to_frame()["break_even_per_100"],
        "high": tables[-1].to_frame()["break_even_per_100"],
        "detectable": 100 * (base - detectable),
    }
)
few = [str(s) for s, k in zip(shown["service"], n, strict=True) if k < JDL_MIN_PROGRAMME]
rp.show(
    rp.table(
        evaluation,
        caption="Fall in reoffending needed to break even, and the smallest fall a one-year "
        "matched comparison could detect (per 100 participants)",
        labels={
            "service": "Service",
            "reported": "What it reports now",
            "rate": "Reoffended within a year (%)",
            "low": f"Break-even fall, {OFFENCES[0]}",
            "high": f"Break-even fall, {OFFENCES[-1]}",
            "detectable": "Smallest detectable fall",
        },
        formats={
            "rate": "{:.0f}",
            "low": lambda v: fmt_number(v, 1),
            "high": lambda v: fmt_number(v, 1),
            "detectable": lambda v: "–" if not math.isfinite(v) else fmt_number(v, 1),
        },
        disclosure=SDC,
        notes=[
            f"Break-even falls assume {fmt_number(PER_REOFFENDER, 1)} proven reoffences per "
            f"reoffender and price an avoided offence as {price_words(OFFENCES[0])} or "
            f"{price_words(OFFENCES[-1])}.",
            f"Smallest detectable fall: {POWER:.0%} power, two-sided {ALPHA:.0%} test (Fleiss, "
            "Levin and Paik 2003), baseline the participants' own rate; a break-even fall "
            "above it could be detected by such an evaluation, one below it could not.",
        ],
    ),
    rp.paragraph(
        (
            f"{'; '.join(few)}: fewer than {JDL_MIN_PROGRAMME} participants a year, the "
            "Justice Data Lab's minimum, so an evaluation would have to pool more than one "
            "year's participants."
        )
        if few
        else f"Every service has at least {JDL_MIN_PROGRAMME} participants a year, the "
        "Justice Data Lab's minimum for a matched comparison."
    ),
)

# %% [markdown]
# ## What this report can and cannot show
#
# **It can show** what each service costs per participant and per participant not reoffending,
# how many offences each would have to prevent to repay its cost at a stated price of an
# offence, and what evidence each service's current evaluation can give.
#
# **It cannot show**
#
# - *whether any service reduces reoffending*: that needs each service's participants compared
#   with similar people who did not take part (the headline says why the portfolio's effect
#   cannot be assessed), so no effect, and no value for money, is estimated here;
# - *that a service with a high cost per participant is poor value*: services serve different
#   people (street drinkers, prisoners, young people) with different risks of reoffending;
# - *the value of outcomes other than crime* (health, housing, employment), which the Home
#   Office unit costs do not count.
#
# **Synthetic data.** The services and annual costs in the shipped file are as published; the
# participants, reoffending and evaluation designs in it were made up by
# `evalkit.datasets.simulate_scheme("portfolio")` and say nothing about the real services. To
# run this report on the real figures, edit only `analyses/portfolio.toml`: point `[data]` at a
# table with one row per service, name its columns in `[parameters]` (`*_column`), put each
# service's evaluation design in its design column, set `synthetic = false` and `data_date`,
# and run `evalkit build portfolio`.
#
# ## Methods
#
# - **Cost per participant and per outcome, break-even**
#   (`evalkit.economics.portfolio_table`, one `value_for_money` per service): break-even
#   offences = annual cost / unit cost of an offence (Heeks et al. 2018, with an inflation
#   factor to the price year of the costs, HM Treasury Green Book annex A6); the break-even fall
#   per 100 participants = 100 × break-even offences / (participants × reoffences per
#   reoffender).
# - **Evidence rating**: the Maryland Scientific Methods Scale (Sherman et al. 1997; Farrington
#   et al. 2002) level that the design of each service's current evaluation earns at best under
#   evalkit's verdict rules (`evalkit.verdict.DESIGNS`: randomised 5, difference in differences
#   4, matched 3, unmatched or before and after 2, none 1).
# - **Headline**: evalkit's verdict rules (`evalkit.verdict`) applied to the primary measure and
#   design fixed in the configuration; with no comparison there is no estimate to judge.
# - **Smallest detectable fall**: Fleiss, Levin and Paik (2003), eq. 4.14
#   (`evalkit.mde_two_proportions`), one year's participants against as many comparison people.
#
# **References.** Farrington, D.P. et al. (2002), The Maryland Scientific Methods Scale, in
# *Evidence-Based Crime Prevention*, Routledge. Fleiss, J.L., Levin, B. and Paik, M.C. (2003),
# *Statistical Methods for Rates and Proportions*, 3rd ed. Heeks, M. et al. (2018), *The
# economic and social costs of crime*, Home Office Research Report 99. HM Treasury (2022), *The
# Green Book*. Sherman, L.W. et al. (1997), *Preventing Crime: What Works, What Doesn't, What's
# Promising*.
