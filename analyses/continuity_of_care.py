# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %%
# Setup: configuration, the monthly series and the person-level files. Everything is set in
# continuity_of_care.toml: pointing it at a real extract needs no change here.
import math

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import evalkit as ek
from evalkit import report as rp
from evalkit.claims import check_claim
from evalkit.cohort_comparison import compare_cohorts
from evalkit.engagement import engagement_days, per_protocol_bias
from evalkit.report.jdl import covariate_label
from evalkit.wording import fmt_number, fmt_percent, fmt_ratio_range, p_text, range_words

cfg = rp.load_config("continuity_of_care")
SDC = cfg.disclosure
LAUNCH = pd.Timestamp(str(cfg.param("launch_month")) + "-01")
FAMILY, HARMONICS = str(cfg.param("its_family")), int(cfg.param("its_harmonics"))
LANDMARK = float(cfg.param("landmark_day"))
COVARIATES = list(cfg.param("covariates"))
FOLLOW_UP, WAITING = int(cfg.param("follow_up_days")), int(cfg.param("waiting_days"))
PERIOD, BEFORE, AFTER = cfg.param("period_column"), cfg.param("before"), cfg.param("after")


monthly = cfg.read("monthly", dates=["month"]).sort_values("month").reset_index(drop=True)
monthly["post"] = (monthly["month"] >= LAUNCH).astype(int)
monthly["share"] = monthly["continuing"] / monthly["denominator"]


def month_name(t: pd.Timestamp) -> str:
    return t.strftime("%B %Y")


def points(lower: float, upper: float) -> str:
    """A range of differences in proportions, in percentage points."""
    return range_words(lower, upper, fewer="points lower", more="points higher")


# %%
# 1. The claim as published, checked by evalkit's claim rules over plausible denominators; the
# design it recommends is sized at the people released in a year since the launch (to the
# nearest 10: a planning figure, not a count to publish).
PER_YEAR = max(
    10, int(round(12 * float(monthly.loc[monthly["post"] == 1, "denominator"].mean()), -1))
)
claim = check_claim(
    cfg.param("claim"),
    float(cfg.param("claim_value")),
    kind="change",
    before=float(cfg.param("claim_before")),
    denominators=[int(n) for n in cfg.param("claim_denominators")],
    outcome="continued treatment within three weeks of release",
    counted="referred",
    comparison="before",
    baseline=cfg.param("national_baseline"),
    scheme_size=PER_YEAR,
)

# The two months the figures describe: as configured, or the lowest month of the year before the
# launch and the highest of the year after (how a headline picked from a monthly series reads).
year_before = monthly[
    (monthly["month"] < LAUNCH) & (monthly["month"] >= LAUNCH - pd.DateOffset(years=1))
]
year_after = monthly[
    (monthly["month"] >= LAUNCH) & (monthly["month"] < LAUNCH + pd.DateOffset(years=1))
]
given_months = [pd.Timestamp(str(m) + "-01") for m in cfg.param("claim_months")]
if given_months:
    picked = monthly.set_index("month").loc[given_months].reset_index()
    month_b, month_a = picked["month"].iloc[0], picked["month"].iloc[1]
else:
    month_b = year_before.loc[year_before["share"].idxmin(), "month"]
    month_a = year_after.loc[year_after["share"].idxmax(), "month"]
PICKED = (
    ""
    if given_months
    else " (the lowest month of the year before the launch and the highest of the year after)"
)
row_b = monthly.set_index("month").loc[month_b]
row_a = monthly.set_index("month").loc[month_a]
picked_change = ek.rate_difference(
    int(row_a["continuing"]),
    int(row_a["denominator"]),
    int(row_b["continuing"]),
    int(row_b["denominator"]),
)
pooled = {
    "before": (int(year_before["continuing"].sum()), int(year_before["denominator"].sum())),
    "after": (int(year_after["continuing"].sum()), int(year_after["denominator"].sum())),
}
pooled_change = ek.rate_difference(*pooled["after"], *pooled["before"])

# %%
# 2. The interrupted time series: monthly counts continuing, with the number released as the
# exposure (so effects are ratios of shares), the underlying trend, and seasonality as
# harmonics; the level change at the launch is the primary measure ([primary] in the TOML).
its = ek.its(
    monthly,
    outcome="continuing",
    time="month",
    post="post",
    exposure="denominator",
    family=FAMILY,
    harmonics=HARMONICS,
)
level = its.table.loc["level_change"]
trend = its.table.loc["trend"]
level_words = fmt_ratio_range(level["rr"], level["rr_lower"], level["rr_upper"])

# Regression to the mean, read from the fitted series: the rise between the two months split
# into the level change at the launch, the underlying trend, the seasonal pattern, and what is
# left, month-to-month chance, which picking the lowest and highest months collects.
fit = its.fitted.set_index("time")
fb, fa = fit.loc[month_b], fit.loc[month_a]
n_months = int(np.flatnonzero(fit.index == month_a)[0] - np.flatnonzero(fit.index == month_b)[0])
observed_log = math.log(row_a["share"] / row_b["share"])
scheme_log = math.log(fa["fitted"] / fa["counterfactual"])
trend_log = float(trend["estimate"]) * n_months
model_log = math.log((fa["fitted"] / fa["exposure"]) / (fb["fitted"] / fb["exposure"]))
season_log = model_log - scheme_log - trend_log
chance_log = observed_log - model_log
parts = pd.DataFrame(
    {
        "part": [
            "Level change at the launch (the scheme, as estimated)",
            f"Underlying trend over {n_months} months",
            "Season: the two months' places in the yearly cycle",
            "Chance: month-to-month variation around the model",
        ],
        "factor": np.exp([scheme_log, trend_log, season_log, chance_log]),
        "share": 100 * np.array([scheme_log, trend_log, season_log, chance_log]) / observed_log,
    }
)

# %%
# 3. Reoffending: people continuing treatment against people not, timed from release without
# immortal time, and the cohort released after the launch against the one before it.
tables = rp.read_cohort_tables(cfg)
engagement = cfg.read("engagement", dates=["engagement_start"])
cohort = rp.reoffending_cohort(cfg, tables, follow_up_days=FOLLOW_UP, waiting_days=WAITING)
people = cohort.data.copy()
people["engaged_day"] = engagement_days(people, engagement)
pp_crude = per_protocol_bias(people, horizon_days=FOLLOW_UP, landmark_day=LANDMARK)
pp = per_protocol_bias(people, horizon_days=FOLLOW_UP, landmark_day=LANDMARK, covariates=COVARIATES)
cohorts = compare_cohorts(
    people.assign(**{PERIOD: people[PERIOD].astype("string")}),
    period=PERIOD,
    before=BEFORE,
    after=AFTER,
    covariates=COVARIATES,
)

# %%
# The verdict: the primary measure (the ITS level change) judged by evalkit's rules with the
# design fixed in the TOML.
post = monthly[monthly["post"] == 1]
primary = ek.Measure(
    "rate ratio",
    "",
    float(level["rr"]),
    float(level["rr_lower"]),
    float(level["rr_upper"]),
    p=float(level["p"]),
    kind="ratio",
    unit="",
    conf_level=its.conf_level,
)
tv = pp.to_frame().set_index("analysis").loc["time-varying engagement"]
verdict = rp.judge(
    cfg,
    primary,
    secondary=[
        ek.Measure(
            "hazard ratio of continuing treatment (time-varying)",
            "proven reoffending within a year",
            float(tv["estimate"]),
            float(tv["lower"]),
            float(tv["upper"]),
            kind="ratio",
            unit="",
        ),
    ],
    diagnostics=ek.Diagnostics(
        n_programme=int(post["denominator"].sum()),
        programme_events=int(post["continuing"].sum()),
    ),
    subject=cfg.scheme or "the scheme",
    groups=("the months after the launch", "the trend before it, carried forward"),
)
rp.show(
    *rp.opening(
        cfg,
        verdict,
        note="This report asks what a rise from 25% to 51% can show, re-analyses the monthly "
        "series behind such a figure with its trend and seasons, and asks whether continuing "
        "treatment went with less reoffending, timed from release so that no immortal time is "
        "counted.",
    )
)

# %%
rp.scheme_summary(
    cfg,
    verdict,
    question=(
        "Did the share of prison leavers continuing drug treatment in the community rise when "
        "the scheme began, beyond its trend and seasons, and did continuing treatment go with "
        "less reoffending?"
    ),
    sample=(
        f"{len(monthly)} months ({month_name(monthly['month'].iloc[0])} to "
        f"{month_name(monthly['month'].iloc[-1])}), {SDC.count(int(monthly['denominator'].sum()))} "
        f"people released with a need; {SDC.count(len(people))} of them followed for proven "
        "reoffending."
    ),
    effect=(
        f"Level change at the launch: {level_words} times the share expected from the trend "
        "and seasons."
    ),
    caveats=[
        "The two published figures are single points: the months before and after the launch "
        "vary around their trend and seasonal pattern, and the lowest and highest months "
        "exaggerate any change.",
        "There is no comparison area or national series, so anything else that changed at "
        "the launch cannot be separated from the scheme.",
        "People who continue treatment differ from those who do not; removing immortal time "
        "does not remove that selection.",
    ],
)

# %% [markdown]
# ## What the published figures can and cannot show
#
# A rise from 25% to 51% sounds large, but its precision depends on how many people each figure
# describes, which was not published, and a before-and-after change has no comparison. evalkit's
# claim checker (`evalkit.claims.check_claim`) gives the interval of the change for a range of
# possible numbers of people and the reasons the figure cannot show an effect on its own.

# %%
rp.show(
    rp.claim_intervals(
        claim,
        caption="The change from 25% to 51%: its 95% interval for possible numbers of people "
        "behind each figure",
        labels={
            "denominator": "People in each period",
            "estimate": "Change (points)",
            "range": "95% interval",
        },
        range_text=lambda a, b: range_words(
            a, b, decimals=0, fewer="points lower", more="points higher"
        ),
        estimate_format="{:.0f}",
        disclosure=SDC,
        notes=[
            "Newcombe's hybrid score interval. The counts behind each row are the figures times "
            "the number of people, rounded, so the change shown can differ slightly from 26."
        ],
    ),
    rp.claim_findings(claim),
)

# %% [markdown]
# ## The monthly series, with its trend and seasons
#
# The share of people released with a substance-misuse need who started community treatment
# within three weeks is modelled month by month: an underlying trend, a yearly seasonal cycle,
# and a change of level when the scheme began (segmented regression, an interrupted time
# series). The model's counterfactual carries the trend and seasons of the years before into
# the year after: the level change is how far the months after the launch sit above or below it.

# %%
with mpl.rc_context(rp.report_style()):  # type: ignore[arg-type]
    fig, ax = plt.subplots(figsize=(4.3, 5.0))
    its.plot(ax=ax, per=100)
    ax.scatter(
        [month_b, month_a],
        [100 * row_b["share"], 100 * row_a["share"]],
        s=90,
        facecolors="none",
        edgecolors="#000000",
        zorder=4,
        label="the two months quoted",
    )
    ax.set_title("")
    ax.set_ylabel("Per cent continuing treatment")
    ax.set_xlabel("Month of release")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=1, frameon=False)
    ax.xaxis.set_major_locator(mpl.dates.YearLocator())
    ax.xaxis.set_major_formatter(mpl.dates.DateFormatter("%Y"))
    fig.tight_layout()
rows = its.to_frame()
rows = rows[rows["term"].isin(["level_change", "trend"])].reset_index(drop=True)
its_show = pd.DataFrame(
    {
        "term": ["Level change at the launch (ratio)", "Trend per month before it (ratio)"],
        "ratio": [
            fmt_ratio_range(r["rr"], r["rr_lower"], r["rr_upper"], 3) for _, r in rows.iterrows()
        ],
        "p": [p_text(p) for p in rows["p"]],
    }
)
rp.show(
    rp.figure(
        fig,
        alt=its.alt_text()
        + f" Circled: the two months a headline would compare, {month_name(month_b)} "
        f"({fmt_percent(row_b['share'], 0)}) and {month_name(month_a)} "
        f"({fmt_percent(row_a['share'], 0)}).",
        caption="Per cent of people released with a need who started community treatment within "
        "three weeks, by month: observed (dots), the fitted model (solid) and the counterfactual "
        "without the scheme (dashed). Circled: the two months behind the headline figures.",
    ),
    rp.table(
        its_show,
        caption=f"Interrupted time series ({FAMILY.replace('quasipoisson', 'quasi-Poisson')} "
        f"regression with {HARMONICS} seasonal harmonic{'s' if HARMONICS != 1 else ''})",
        labels={"term": "Term", "ratio": "Estimate (95% CI)", "p": "p"},
        disclosure=SDC,
    ),
    rp.paragraph(
        f"When the scheme began, the share continuing treatment was {level_words} times the "
        f"share the trend and seasons of the {its.n_pre} months before predicted "
        f"({p_text(level['p'])}). "
        f"Averaged over the year before and the year after the launch, the share went from "
        f"{fmt_percent(pooled['before'][0] / pooled['before'][1])} to "
        f"{fmt_percent(pooled['after'][0] / pooled['after'][1])} "
        f"({points(pooled_change.lower, pooled_change.upper)} "
        "for the change, before any allowance for the trend)."
    ),
)

# %% [markdown]
# ### Regression to the mean
#
# A headline built from a monthly series tends to set a low month before against a high month
# after. Months scatter around their trend and seasonal pattern by chance, so the lowest month
# of one year and the highest of the next are further apart than the underlying shares; the
# next months drift back towards the average (regression to the mean). The fitted series splits
# the rise between the two months into its parts.

# %%
rp.show(
    rp.paragraph(
        f"In this series the months behind the figures{PICKED} are {month_name(month_b)}, "
        f"{fmt_percent(row_b['share'])} ({SDC.count(int(row_b['continuing']))} of "
        f"{SDC.count(int(row_b['denominator']))}), and {month_name(month_a)}, "
        f"{fmt_percent(row_a['share'])} ({SDC.count(int(row_a['continuing']))} of "
        f"{SDC.count(int(row_a['denominator']))}): a change of "
        f"{fmt_number(100 * picked_change.estimate)} points (95% interval "
        f"{points(picked_change.lower, picked_change.upper)})."
    ),
    rp.table(
        parts,
        caption=f"The rise from {month_name(month_b)} to {month_name(month_a)}, split by the "
        "fitted series (factors multiply to the observed ratio)",
        labels={"part": "Part of the rise", "factor": "Factor", "share": "Share of the rise"},
        formats={"factor": "×{:.2f}", "share": "{:.0f}%"},
        disclosure=SDC,
        notes=[
            "Shares are of the logarithm of the ratio of the two months' shares; a negative "
            "share is a part that pulled the other way. The level change is estimated with the "
            "uncertainty shown above; the other parts are read from the same fitted model."
        ],
    ),
)

# %% [markdown]
# ## Did continuing treatment go with less reoffending?
#
# Treatment starts some days after release. A person who reoffends, or is recalled, before it
# starts cannot be counted as continuing, so comparing continuers with everyone else from the
# day of release credits treatment with days in which only those who stayed out of trouble could
# start it (immortal time). Two analyses avoid this: treatment counted only from the day it
# started (a time-varying covariate), and a landmark analysis that compares, from the end of the
# three-week window, the people who had started treatment with those who had not, among those
# still free of a proven reoffence on that day.

# %%
shares = pp.to_frame().set_index("analysis")
NAMED = {
    "ever engaged, from referral": "Ever started, timed from release (immortal time)",
    "time-varying engagement": "From the day treatment started (time-varying)",
    f"landmark at day {LANDMARK:g}": f"Started by day {LANDMARK:g}, from that day (landmark)",
}
hr_rows = shares[shares["scale"] == "hazard ratio"]
crude = pp_crude.to_frame().set_index("analysis")
hr_show = pd.DataFrame(
    {
        "analysis": [NAMED[a] for a in hr_rows.index],
        "people": hr_rows["n"].astype(int).to_numpy(),
        "crude": [
            fmt_ratio_range(*crude.loc[a, ["estimate", "lower", "upper"]]) for a in hr_rows.index
        ],
        "adjusted": [
            fmt_ratio_range(*hr_rows.loc[a, ["estimate", "lower", "upper"]]) for a in hr_rows.index
        ],
    }
)
continuing, everyone = shares.loc["of those engaged"], shares.loc["everyone referred"]
ADJUSTED_FOR = ", ".join(covariate_label(c).lower() for c in COVARIATES)
rp.show(
    rp.paragraph(
        f"Of the {SDC.count(int(everyone['n']))} people released, "
        f"{SDC.count(int(continuing['n']))} started community treatment; "
        f"{fmt_percent(continuing['estimate'])} of them had no "
        f"proven reoffence within {FOLLOW_UP} days of release, against "
        f"{fmt_percent(everyone['estimate'])} of everyone released. That gap mixes immortal "
        "time and who chooses treatment with anything treatment did."
    ),
    rp.table(
        hr_show,
        caption="Hazard ratio of a first proven reoffence, continuing treatment against not",
        labels={
            "analysis": "Analysis",
            "people": "People",
            "crude": "Unadjusted (95% CI)",
            "adjusted": "Adjusted (95% CI)",
        },
        disclosure=SDC,
        notes=[f"Cox models (Efron ties), one year from release; adjusted for {ADJUSTED_FOR}."],
    ),
    rp.forest_figure(
        hr_rows.assign(label=[NAMED[a] for a in hr_rows.index]).set_index("label"),
        estimate="estimate",
        lower="lower",
        upper="upper",
        caption="Hazard ratios of continuing treatment (adjusted), with 95% confidence intervals.",
        alt="Forest plot of three adjusted hazard ratios of continuing treatment: "
        + "; ".join(
            f"{NAMED[a]} {fmt_ratio_range(*hr_rows.loc[a, ['estimate', 'lower', 'upper']])}"
            for a in hr_rows.index
        )
        + ".",
    ),
    rp.paragraph(
        "The first row carries immortal time, which pushes its hazard ratio below 1 even when "
        "treatment does nothing (`evalkit.engagement.per_protocol_bias` shows this on data "
        "where the truth is known); the other two count treated time only from when it began. "
        "All three compare people who continued with people who did not, so they describe an "
        "association, not an effect of the scheme."
    ),
)

# %% [markdown]
# ### The cohort released after the launch against the one before
#
# If the scheme raised continuation and continuation lowers reoffending, the people released
# after the launch should reoffend less than those released before, once their case mix is
# allowed for. A model of reoffending fitted to the earlier cohort predicts the rate expected
# for the later cohort's people (the Ministry of Justice's method for local proven reoffending
# rates); the difference between observed and expected is the change.

# %%
cc = cohorts.to_frame().set_index("measure")
obs, exp_, adj = cc.loc["observed"], cc.loc["expected"], cc.loc["adjusted difference"]
rp.show(
    rp.paragraph(
        f"The cohort released after the launch ({SDC.count(int((people[PERIOD] == AFTER).sum()))} "
        f"people) had a one-year proven reoffending rate of {fmt_percent(obs['estimate'])}; a "
        "model of the earlier cohort predicts "
        f"{fmt_percent(exp_['estimate'])} for people like them. The case-mix-adjusted "
        f"difference is {fmt_number(100 * adj['estimate'], null=0.0)} points (95% interval "
        f"{points(adj['lower'], adj['upper'])}; "
        f"{p_text(adj['p'])}). Anything else that changed between the two periods is in this "
        "difference too."
    ),
)

# %% [markdown]
# ## What this evaluation can and cannot show
#
# **It can show** how precise the published change is for plausible numbers of people, how much
# of a rise between two months the trend, the seasons and chance account for, whether the
# monthly series stepped up when the scheme began beyond what its past predicted, and whether
# people who continued treatment reoffended less, with the immortal time of such comparisons
# removed.
#
# **It cannot show**
#
# - *that the scheme caused a change in continuation*: without a comparison area or the
#   national series, anything else that changed at the launch is mixed in (the verdict's rating
#   says how far the design goes; a national series as comparison would make it a difference
#   in differences);
# - *that continuing treatment prevents reoffending*: people who continue differ from those
#   who do not, in ways the data do not record;
# - *offending that was not detected or proven*, or effects on drug use and health;
# - *value for money*: the cost of the scheme is not in the configuration.
#
# ## Methods
#
# - **Claim check.** `evalkit.claims.check_claim` with the published figures: Newcombe's hybrid
#   score interval for the change at each plausible denominator (Newcombe 1998), biases flagged
#   by written rules (Barnett, van der Pols and Dobson 2005, on regression to the mean).
# - **Interrupted time series.** `evalkit.its`: log-linear regression of the monthly number
#   continuing with the number released as the offset, a linear trend, one sine-cosine pair per
#   harmonic for seasonality and a step at the launch; quasi-Poisson standard errors (Lopez
#   Bernal, Cummins and Gasparrini 2017; Wagner et al. 2002). The split of the two months' rise
#   reads each part from the fitted model: the step, the trend times the months between them,
#   the seasonal terms, and the residual.
# - **Reoffending.** Proven reoffending as the Ministry of Justice measures it
#   (`evalkit.proven_reoffending`), one year from release plus the waiting period;
#   `evalkit.engagement.per_protocol_bias`: Cox models of continuing treatment timed from
#   release, as a time-varying covariate in counting-process form (Andersen and Gill 1982), and
#   from a landmark at the day fixed in the configuration (Anderson, Cain and Gelber 1983);
#   before and after cohorts with case-mix adjustment (`evalkit.cohort_comparison`).
# - **Headline.** The primary measure, the level change of the monthly series at the launch,
#   is fixed in the configuration (`[primary]`) before the results are seen; the verdict, its
#   strength and the evidence rating follow evalkit's written rules (`evalkit.verdict`).
#
# **References.** Andersen, P.K. and Gill, R.D. (1982), *Annals of Statistics* 10, 1100–1120.
# Anderson, J.R., Cain, K.C. and Gelber, R.D. (1983), *Journal of Clinical Oncology* 1, 710–719.
# Barnett, A.G., van der Pols, J.C. and Dobson, A.J. (2005), *International Journal of
# Epidemiology* 34, 215–220. Lopez Bernal, J., Cummins, S. and Gasparrini, A. (2017),
# *International Journal of Epidemiology* 46, 348–355. Ministry of Justice (2019), *Guide to
# Proven Reoffending Statistics*. Newcombe, R.G. (1998), *Statistics in Medicine* 17, 873–890.
# Sherman, L.W. et al. (1997), *Preventing Crime: What Works, What Doesn't, What's Promising*.
# Suissa, S. (2008), *American Journal of Epidemiology* 167, 492–499. Wagner, A.K. et al.
# (2002), *Journal of Clinical Pharmacy and Therapeutics* 27, 299–309.
#
# ## Running this analysis on real data
#
# Everything the analysis reads is named in `analyses/continuity_of_care.toml`: copy it, point
# `[data]` at the monthly series and the person-level files (CSV, parquet or Excel), say in
# `[reader]` how they are written (for a UK export, `date_format = "%d/%m/%Y"` and a `columns`
# table mapping its headers to evalkit's names), set `synthetic = false`, the extract's date and
# the launch month, and run `evalkit build continuity_of_care --config YOUR.toml --out FOLDER`.
# The claim, the months it describes (if known), the landmark day and the characteristics
# adjusted for are set there too; no code needs editing.
