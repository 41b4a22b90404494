# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# This report compares the proven reoffending of people who took part in a programme with that
# of a comparison group, in the way the Ministry of Justice's Justice Data Lab does: the
# proportion who committed a proven reoffence within a year, how many proven reoffences they
# committed, and — for those who reoffended — how soon. It was produced by `evalkit jdl` from
# the files named in the reproducibility section.

# %%
# Setup: configuration, input tables and the proven-reoffending cohort. Run by `evalkit jdl
# --people P --offences O`, which writes the configuration (jdl.toml) beside the report.
import warnings

import numpy as np
import pandas as pd

import evalkit as ek
from evalkit import report as rp
from evalkit.jdl import JDL_OUTCOMES, jdl_outcomes

cfg = rp.load_config("jdl")
PARAMS = dict(cfg.parameters)
PROGRAMME = PARAMS.get("programme", "programme")
COMPARISON = PARAMS.get("comparison", "comparison")
FOLLOW_UP = int(PARAMS.get("follow_up_days", 365))
WAITING = int(PARAMS.get("waiting_days", 182))
CALIPER = float(PARAMS.get("caliper", 0.2))
LISTED = list(PARAMS.get("covariates", []))
SDC = cfg.disclosure
LABELS = {PROGRAMME: "Programme", COMPARISON: "Comparison"}

# the input files, read with the configuration's [reader] options (column names, date format)
tables = {
    name: cfg.read(name) for name in ("people", "offences", "custody", "deaths") if name in cfg.data
}
# group labels are compared as text (a CSV column of 1s and 0s is read as numbers)
if "group" in tables["people"].columns:
    tables["people"]["group"] = tables["people"]["group"].astype("string")
# the extract date is the end of the data: people whose year of follow-up and six-month waiting
# period had not ended by then are excluded (and counted in the flow below)
DATA_END = cfg.data_date if len(cfg.data_date) == 10 else None
cohort = ek.proven_reoffending(
    tables["people"],
    tables["offences"],
    tables.get("custody"),
    tables.get("deaths"),
    follow_up_days=FOLLOW_UP,
    waiting_days=WAITING,
    data_end=DATA_END,
)
# the unmatched comparison; also checks the group labels and the JDL's minimum of 60 people
raw = jdl_outcomes(cohort.data, programme=PROGRAMME, comparison=COMPARISON)

# %%
# Covariates for the propensity score: only those listed in the configuration (by default the
# people table's columns of known meaning: age, sex, prior offences, sentence length...), never
# free text. A listed column that cannot be used is left out (never rows), with its reason.
covariates: list[str] = []
skipped: list[tuple[str, str]] = []
for col in LISTED:
    s = cohort.data[col]
    if s.isna().any():
        skipped.append((col, "has missing values"))
    elif pd.api.types.is_datetime64_any_dtype(s):
        skipped.append((col, "a date"))
    elif s.nunique() < 2:
        skipped.append((col, "the same for everyone"))
    else:
        covariates.append(col)
MATCHED = bool(covariates)
RATING = 3 if MATCHED else 2

data = cohort.data.assign(programme_member=(cohort.data["group"] == PROGRAMME).astype(int))
if MATCHED:
    with warnings.catch_warnings():
        # programme members without a partner within the caliper are counted below (with
        # disclosure control), not printed: the warning's own text gives exact counts
        warnings.simplefilter("ignore", ek.StatisticalWarning)
        m = ek.match(
            data,
            treatment="programme_member",
            covariates=covariates,
            caliper=CALIPER,
            link="linear.logit",
        )
    analysed = m.data
    res = jdl_outcomes(
        analysed,
        programme=PROGRAMME,
        comparison=COMPARISON,
        weights="weight",
        cluster="subclass",
    )
else:
    analysed = data
    res = raw
km = ek.kaplan_meier(
    analysed,
    time="time",
    event="event",
    by="group",
    weights="weight" if MATCHED else None,
)
rate = res.table.to_dict("records")[0]  # the reoffending-rate row
n_prog = int(rate["n_programme"])
n_comp = int(rate["n_comparison"])
n_prog_cohort = int((cohort.data["group"] == PROGRAMME).sum())
n_comp_cohort = int((cohort.data["group"] == COMPARISON).sum())
unmatched = n_prog_cohort - n_prog
# A small number of unmatched programme members would follow from the group sizes before and
# after matching (and the people total in the flow table): then only matched numbers are shown.
FEW_UNMATCHED = 0 < unmatched and SDC.is_small(unmatched)


def two_dp(v: float) -> str:
    """Two decimals without a negative zero ("-0.00")."""
    return f"{round(v, 2) + 0.0:.2f}"


def pct(x: float) -> str:
    return f"{np.floor(100 * abs(x) + 0.5):.0f}%"


def safe_rate(group_n: int, reoffenders: int) -> bool:
    """A group's rate may be published only if neither count behind it is small."""
    return not (SDC.is_small(reoffenders) or SDC.is_small(group_n - reoffenders))


x_prog = int(analysed.loc[analysed["group"] == PROGRAMME, "reoffended"].sum())
x_comp = int(analysed.loc[analysed["group"] == COMPARISON, "reoffended"].sum())
rates_safe = safe_rate(n_prog, x_prog) and safe_rate(n_comp, x_comp)

# %%
# The headline: the JDL's own sentence for the one-year proven reoffending rate.
if MATCHED:
    verdict = res.sentences["rate"]
    detail = (
        f"Programme members were compared with people matched to them on "
        f"{len(covariates)} recorded characteristic{'s' if len(covariates) != 1 else ''}. "
        "This is an observational comparison: it shows the effect of the support only if the "
        "matching captured everything that affects both joining the programme and reoffending."
    )
else:
    if rates_safe:
        verdict = (
            f"Without a matched comparison group this report cannot estimate the effect of the "
            f"support: {pct(rate['programme'])} of the programme group and "
            f"{pct(rate['comparison'])} of the comparison group committed a proven reoffence "
            "within a year."
        )
    else:
        verdict = (
            "Without a matched comparison group this report cannot estimate the effect of the "
            "support."
        )
    detail = (
        "No characteristics were given to match on, so the comparison group is "
        "unmatched: differences between the groups may come from who joined the programme "
        "rather than from the support."
    )
rp.headline(verdict, detail=detail, rating=RATING, synthetic=cfg.synthetic)

# %%
design = (
    "Observational comparison in the style of the Justice Data Lab: each programme member was "
    "matched to the comparison-group person with the nearest propensity score (1:1, without "
    f"replacement, within {CALIPER:g} standard deviations of its log-odds), using "
    + ", ".join(f"`{c}`" for c in covariates)
    + "."
    if MATCHED
    else "Observational comparison with an unmatched comparison group (no characteristics "
    "were given to match on)."
)
caveats = [
    "People were not assigned to the programme at random. "
    + (
        "Matching balances only the characteristics recorded in the data; differences in "
        "motivation, support, housing, substance use or anything else not recorded can explain "
        "part or all of any difference (Maryland Scientific Methods Scale level 3 at best)."
        if MATCHED
        else "With an unmatched comparison group any difference may reflect who joined "
        "rather than what the programme did (Maryland Scientific Methods Scale level 2)."
    ),
    "Proven reoffending counts only offences that led to a caution or conviction within the "
    "follow-up year or a further six-month waiting period; offences that were not detected or "
    "not proven are invisible to it.",
]
if MATCHED and unmatched > 0:
    caveats.append(
        "The results describe the programme members for whom a close match was found; "
        + (
            f"fewer than {SDC.threshold} could not be matched"
            if FEW_UNMATCHED
            else f"{SDC.count(unmatched)} of {SDC.count(n_prog_cohort)} could not be matched"
        )
        + ", and they may differ from the rest."
    )
rp.summary(
    question=(
        "Did people who took part in the programme commit fewer proven reoffences in the year "
        "after their index date than similar people who did not?"
    ),
    design=design,
    sample=(
        f"{SDC.count(n_prog)} programme members and {SDC.count(n_comp)} comparison-group "
        f"people{' after matching' if MATCHED else ''}."
    ),
    effect=res.sentences["rate"],
    rating=RATING,
    cost=cfg.cost,
    caveats=caveats,
)

# %% [markdown]
# ## Who was included
#
# Everyone in the people table starts a one-year follow-up period on their index date (release
# from custody, or a caution or non-custodial sentence). The tables account for every person
# and every offence in the input files.

# %%
flow = cohort.flow


def flow_table(table: str, unit: str) -> pd.DataFrame:
    """Input count (as the total row), each exclusion, and what was kept."""
    part = flow[flow["table"] == table].to_dict("records")
    rows = [(f"{unit} in the file", int(part[0]["n_remaining"]))]
    for r in part[1:-1]:
        rows.append((f"Excluded: {r['reason']}", int(r["n_removed"])))
    rows.append((str(part[-1]["reason"]).capitalize(), int(part[-1]["n_remaining"])))
    return pd.DataFrame(rows, columns=["step", "count"])


people_flow = flow_table("people", "People")
offence_flow = flow_table("offences", "Offences")
rp.show(
    rp.table(
        people_flow,
        caption="People: from the input file to the proven-reoffending cohort",
        labels={"step": "Step", "count": "People"},
        total_row=0,
        disclosure=SDC,
    ),
    rp.table(
        offence_flow,
        caption="Offences: which offences count as proven reoffences",
        labels={"step": "Step", "count": "Offences"},
        total_row=0,
        disclosure=SDC,
    ),
)

# %% [markdown]
# ## How the comparison group was formed

# %%
if MATCHED:
    matched_row = m.counts.to_dict("index")["matched"]
    matched_n = [int(matched_row["treated"]), int(matched_row["control"])]
    match_table = pd.DataFrame(
        {"group": [LABELS[PROGRAMME], LABELS[COMPARISON]], "matched": matched_n}
    )
    if not FEW_UNMATCHED:
        match_table.insert(1, "in_cohort", [n_prog_cohort, n_comp_cohort])
        match_table["not_matched"] = match_table["in_cohort"] - match_table["matched"]
    if unmatched == 0:
        unmatched_text = "Every programme member was matched."
    elif FEW_UNMATCHED:
        unmatched_text = (
            f"Fewer than {SDC.threshold} programme members had no such partner and were left "
            "out; the group sizes before matching are not shown, so that this small number "
            "cannot be worked out."
        )
    else:
        unmatched_text = (
            f"{SDC.count(unmatched)} programme members had no such partner and were left out."
        )
    bal = m.balance()
    # withhold balance rows of small categories: a proportion and its group size give a count
    before, after = data, analysed
    keep, withheld_rows = [], 0
    for name in bal.index:
        small = False
        for col in covariates:
            s = before[col]
            if pd.api.types.is_numeric_dtype(s) and set(pd.unique(s)) <= {0, 1}:
                level_of = {col: 1}
            elif not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)):
                level_of = {f"{col}_{v}": v for v in pd.unique(s)}
            else:
                continue
            if name in level_of:
                v = level_of[name]
                for frame in (before, after):
                    for g in (PROGRAMME, COMPARISON):
                        x = frame.loc[frame["group"] == g, col]
                        k = int((x == v).sum())
                        small |= SDC.is_small(k) or SDC.is_small(len(x) - k)
        if small:
            withheld_rows += 1
        else:
            keep.append(name)
    shown_bal = bal.loc[keep, ["smd_before", "smd_after", "vr_after"]].reset_index()
    shown_bal.columns = ["covariate", "smd_before", "smd_after", "vr_after"]
    shown_bal["covariate"] = shown_bal["covariate"].replace(
        {"distance": "Propensity score (log-odds)"}
    )
    worst = float(shown_bal["smd_after"].abs().max())
    notes = []
    if withheld_rows:
        notes.append(
            f"{withheld_rows} row(s) for small categories withheld to protect confidentiality."
        )
    fragments = [
        rp.table(
            match_table,
            caption="Matching: people in each group who were and were not used",
            labels={
                "group": "Group",
                "in_cohort": "In the cohort",
                "matched": "Matched",
                "not_matched": "Not matched",
            },
            row_total=None if FEW_UNMATCHED else "in_cohort",
            disclosure=SDC,
        ),
        rp.paragraph(
            "Each programme member was paired with the comparison-group person whose "
            "propensity score — the estimated chance of joining the programme given the "
            "characteristics below — was closest, provided it was within "
            f"{CALIPER:g} standard deviations (of the log-odds; Austin 2011). " + unmatched_text
        ),
        rp.table(
            shown_bal,
            caption=(
                "Balance of the characteristics before and after matching (standardised mean "
                "differences; below 0.1 is usually taken as balanced)"
            ),
            labels={
                "covariate": "Characteristic",
                "smd_before": "Difference before matching",
                "smd_after": "Difference after matching",
                "vr_after": "Variance ratio after",
            },
            formats={"smd_before": two_dp, "smd_after": two_dp, "vr_after": two_dp},
            notes=notes,
            disclosure=SDC,
            max_rows=80,
        ),
        rp.paragraph(
            f"After matching the largest standardised difference is {worst:.2f}"
            + (
                ": the groups are well balanced on what was recorded."
                if worst < 0.1
                else ": some imbalance remains, so the comparison may still be biased by it."
            )
        ),
    ]
    if skipped:
        fragments.append(
            rp.paragraph(
                "Not used for matching: " + "; ".join(f"`{c}` ({why})" for c, why in skipped) + "."
            )
        )
    rp.show(*fragments)
else:
    rp.show(
        rp.paragraph(
            "No characteristics were given to match on"
            + (
                " that could be used (" + "; ".join(f"`{c}`: {why}" for c, why in skipped) + ")"
                if skipped
                else " (the people table has none of known meaning, such as age, sex or prior "
                "offences, and none was listed with --covariates)"
            )
            + ", so no matched comparison group could be formed. The comparison below is with "
            "the whole comparison group, as recorded: it cannot separate the effect of the "
            "programme from differences between the people in the two groups."
        )
    )

# %% [markdown]
# ## Results
#
# ### The Justice Data Lab measures

# %%
summary_rows = []
for g in (PROGRAMME, COMPARISON):
    part = analysed[analysed["group"] == g]
    reoffenders = part[part["reoffended"].astype(bool)]
    summary_rows.append(
        {
            "group": LABELS[g],
            "people": len(part),
            "reoffenders": len(reoffenders),
            "rate": 100 * len(reoffenders) / len(part),
            "reoffences": int(part["n_reoffences"].sum()),
            "per_person": float(part["n_reoffences"].mean()),
            "days": float(reoffenders["time"].mean()) if len(reoffenders) else float("nan"),
        }
    )
measures = pd.DataFrame(summary_rows)

display = res.display.copy()
# a difference is withheld with the counts behind it (the rates table withholds the rates)
small_row = [
    any(SDC.is_small(int(x)) for x in (r["n_programme"], r["n_comparison"]))
    for _, r in display.iterrows()
]
if not rates_safe:
    small_row[0] = True
for i, small in enumerate(small_row):
    if small:
        for col in ("difference", "interval"):
            display.loc[i, col] = rp.SUPPRESSED
display["outcome"] = ["Reoffending rate", "Reoffences per person", "Days to first reoffence"]
display["unit"] = display["unit"].replace({"reoffences per person": "per person"})
display["difference"] = [
    d if d == rp.SUPPRESSED else f"{d} " + {"percentage points": "points"}.get(u, u)
    for d, u in zip(display["difference"], display["unit"], strict=True)
]
display["result"] = display["result"].map(
    lambda r: (
        r.replace("significant: lower", "lower (significant)")
        .replace("significant: higher", "higher (significant)")
        .replace("not reported: ", "not reported, ")
    )
)
display = display[["outcome", "difference", "interval", "p", "result"]]
level = f"{100 * res.conf_level:g}%"


def whole(v: float) -> str:
    """Half away from zero, as the JDL table (Python's format rounds half to even)."""
    return f"{np.floor(abs(v) + 0.5) * np.sign(v) + 0.0:.0f}"


rp.show(
    rp.table(
        measures,
        caption="Proven reoffending in the one-year follow-up, by group"
        + (" (matched)" if MATCHED else ""),
        labels={
            "group": "Group",
            "people": "People",
            "reoffenders": "Reoffended",
            "rate": "Percent",
            "reoffences": "Proven reoffences",
            "per_person": "Per person",
            "days": "Average days to first (reoffenders)",
        },
        percents={
            "rate": ("reoffenders", "people"),
            "per_person": ("reoffences", "people"),
            "days": "reoffenders",
        },
        complements={"reoffenders": "people"},
        formats={"rate": lambda v: whole(v) + "%", "per_person": "{:.2f}", "days": whole},
        disclosure=SDC,
    ),
    rp.table(
        display,
        caption=f"Programme minus comparison, with {level} confidence intervals",
        labels={
            "outcome": "Measure",
            "difference": "Difference",
            "interval": f"{level} confidence interval",
            "p": "p",
            "result": "Result",
        },
        notes=[
            "Rates in percentage points, reoffences per person to two decimals, days whole; "
            "a result is reported as significant only with at least 30 reoffenders in the "
            "programme group (Justice Data Lab rule)."
        ],
        disclosure=SDC,
    ),
    rp.markdown("\n\n".join(f"**{JDL_OUTCOMES[k]}.** {s}" for k, s in res.sentences.items())),
)

# %% [markdown]
# ### When the first proven reoffence happened
#
# The curves show, day by day, the proportion of each group who had not yet committed a proven
# reoffence. Unlike the average days to first reoffence above, which looks only at people who
# reoffended, they use everyone.

# %%
lr = ek.logrank(analysed, time="time", event="event", by="group")
rp.show(
    rp.km_figure(
        km,
        caption=(
            "Proportion without a proven reoffence, by days since the index date"
            + (" (matched groups)" if MATCHED else "")
            + ", with 95% confidence bands and the numbers still followed up."
        ),
        labels=LABELS,
        risk_times=[0, 91, 182, 273, FOLLOW_UP],
        xlabel="Days since the index date",
        ylabel="Proportion without a proven reoffence",
        disclosure=SDC,
    ),
    rp.paragraph(
        f"Log-rank test of the difference between the curves: chi-squared {lr.statistic:.2f} on "
        f"{lr.df:.0f} degree of freedom, p = {lr.p_value:.3f}"
        + (" (ignoring the matched pairing, which is conservative)." if MATCHED else ".")
    ),
)

# %% [markdown]
# ## What this comparison can and cannot show
#
# **It can show** whether proven reoffending in the year after the index date differed between
# the programme members and a comparison group that resembles them on the characteristics
# recorded in the data, with a range of plausible values for the difference.
#
# **It cannot show**
#
# - *that the programme caused the difference*: people were not assigned at random, and a
#   matched comparison balances only what was measured — the people who join a programme often
#   differ in motivation and circumstances that no data set records (Maryland Scientific
#   Methods Scale level 3 at best; level 2 without matching);
# - *offending that was not detected or proven*: the measure counts cautions and convictions;
# - *effects beyond one year*, or on the seriousness of offending;
# - *value for money*, unless the cost of the programme is added to the configuration.
#
# The Justice Data Lab calls a difference significant only when the programme group has at
# least 60 people, at least 30 of whom reoffended, and the test of no difference gives
# p ≤ 0.05; most of its published results are inconclusive. An inconclusive result means the
# data cannot tell the direction of any effect, not that there is none.
#
# ## Methods
#
# - **Cohort.** Proven reoffending as the Ministry of Justice measures it: an offence committed
#   in the year after the index date and proven by a caution or conviction in that year or in a
#   further six-month waiting period (`evalkit.proven_reoffending`). Penalty notices, community
#   resolutions and breaches do not count.
# - **Matching.** Logistic propensity score on the recorded characteristics; greedy 1:1
#   nearest-neighbour matching without replacement on its log-odds, largest scores first,
#   caliper 0.2 standard deviations (Rosenbaum and Rubin 1985; Austin 2011); balance as
#   standardised mean differences.
# - **Measures and tests.** The Justice Data Lab's three headline measures (Ministry of Justice
#   2013). In the matched sample each difference is a weighted difference of means with a
#   standard error clustered on the matched pairs (Abadie and Spiess 2022) and a normal
#   interval; without matching the rate uses Newcombe's hybrid score interval (Newcombe 1998)
#   and the other measures Welch's t interval, as the Justice Data Lab does
#   (`evalkit.jdl_outcomes`).
# - **Reporting rules and wording** follow the Justice Data Lab's own report pipeline
#   (Ministry of Justice, `moj-analytical-services/kpow2` on GitHub): 60 people, 30
#   reoffenders, n·p ≥ 10, p ≤ 0.05; rates to whole percentages and frequencies to two decimals.
# - **Survival curves.** Kaplan–Meier estimates (weighted after matching) with log-log
#   intervals; log-rank test.
# - **Disclosure control.** Counts below the configured threshold are withheld, with secondary
#   suppression so that they cannot be worked out from totals; percentages, averages and
#   balance rows based on withheld counts are withheld too.
#
# **References.** Abadie, A. and Spiess, J. (2022), *Journal of the American Statistical
# Association* 117, 983–995. Austin, P.C. (2011), *Multivariate Behavioral Research* 46,
# 399–424. Ministry of Justice (2013), *Justice Data Lab: Methodology Paper*. Newcombe, R.G.
# (1998), *Statistics in Medicine* 17, 873–890. Rosenbaum, P.R. and Rubin, D.B. (1985), *The
# American Statistician* 39, 33–38. Sherman, L.W. et al. (1997), *Preventing Crime: What
# Works, What Doesn't, What's Promising* (the Maryland Scientific Methods Scale). Welch, B.L.
# (1947), *Biometrika* 34, 28–35.
