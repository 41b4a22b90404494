# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %%
# Setup: configuration, the five input files and two proven-reoffending cohorts (six months,
# the claim's horizon, and twelve months, the primary one). Everything is set in divert.toml:
# pointing it at a real extract needs no change here.
import pandas as pd

import evalkit as ek
from evalkit import report as rp
from evalkit.claims import check_claim
from evalkit.engagement import engagement_days, per_protocol_bias
from evalkit.report.jdl import covariate_label
from evalkit.wording import fmt_percent, fmt_ratio_range, p_text, per100, range_words

cfg = rp.load_config("divert")
PROGRAMME, COMPARISON = cfg.param("programme"), cfg.param("comparison")
COVARIATES = list(cfg.param("covariates"))
ENGAGEMENT_COVARIATES = list(cfg.param("engagement_covariates"))
FOLLOW_UP, SHORT = int(cfg.param("follow_up_days")), int(cfg.param("short_follow_up_days"))
WAITING = int(cfg.param("waiting_days"))
HORIZON = int(cfg.param("claim_horizon_days"))
LANDMARK = float(cfg.param("landmark_day"))
CALIPER = float(cfg.param("caliper"))
SDC = cfg.disclosure
NAMES = {PROGRAMME: "Diverted", COMPARISON: "Matched comparison"}


tables = rp.read_cohort_tables(cfg)
tables["people"]["group"] = tables["people"]["group"].astype("string")
engagement = cfg.read("engagement", dates=["engagement_start"])
year, half = (
    rp.reoffending_cohort(cfg, tables, follow_up_days=days, waiting_days=WAITING)
    for days in (FOLLOW_UP, SHORT)
)
labels = year.data["group"]
if set(labels.unique()) != {PROGRAMME, COMPARISON}:
    raise ek.InputError(
        "group",
        f"must hold the labels {PROGRAMME!r} (diverted) and {COMPARISON!r} set in [parameters], "
        "both present",
        table="people",
    )
# one row per person of the twelve-month cohort, with the six-month outcome beside it (everyone
# followed for a year is followed for six months) and the day engagement started
data = year.data.copy()
six = half.data.set_index("person_id")
for col in ("reoffended", "n_reoffences", "time", "event"):
    data[f"{col}_6m"] = data["person_id"].map(six[col]).to_numpy()
data["engaged_day"] = engagement_days(data, engagement)
diverted = data[data["group"] == PROGRAMME].reset_index(drop=True)
N_DIVERTED, N_COMPARISON = len(diverted), int((data["group"] == COMPARISON).sum())

# %%
# 1. The claim as published, checked by evalkit's claim rules (evalkit.claims): its interval over
# plausible denominators, the biases it is exposed to, and the design that would answer it, at
# the scheme's size in this extract (people diverted per year).
days_covered = (diverted["index_date"].max() - diverted["index_date"].min()).days + 1
PER_YEAR = max(10, int(round(N_DIVERTED * 365 / max(days_covered, 365), -1)))  # nearest 10
claim = check_claim(
    cfg.param("claim"),
    float(cfg.param("claim_value")),
    counted=cfg.param("claim_counted"),
    horizon_days=HORIZON,
    baseline=cfg.param("national_baseline"),
    scheme_size=PER_YEAR,
)

# 2. Intention to treat against "of those engaged", and engagement timed from the day it
# started (time-varying, Andersen-Gill) or from a landmark day: people diverted only.
pp_crude = per_protocol_bias(
    diverted, horizon_days=HORIZON, landmark_day=LANDMARK, engaged_at="engaged_day"
)
pp = per_protocol_bias(
    diverted,
    horizon_days=HORIZON,
    landmark_day=LANDMARK,
    engaged_at="engaged_day",
    covariates=ENGAGEMENT_COVARIATES,
)
shares = pp.to_frame().set_index("analysis")
ENGAGED_SHARE = shares.loc["of those engaged"]
ITT_SHARE = shares.loc["everyone referred"]
N_ENGAGED = int(ENGAGED_SHARE["n"])
engaged_days = diverted["engaged_day"].dropna()
MEDIAN_WAIT = float(engaged_days.median()) if len(engaged_days) else float("nan")
EARLY = int(((diverted["event"] == 1) & (diverted["time"] <= MEDIAN_WAIT)).sum())

# 3. The matched comparison: everyone diverted against people given an out-of-court disposal
# instead, matched on the listed characteristics (1:1 nearest neighbour on the logit of the
# propensity score within the caliper, without replacement), at six and twelve months.
mc = rp.matched_comparison(data, treated=PROGRAMME, covariates=COVARIATES, caliper=CALIPER)
m, matched = mc.match, mc.data
res = {
    FOLLOW_UP: mc.outcomes(),
    SHORT: mc.outcomes(reoffended="reoffended_6m", frequency="n_reoffences_6m", time="time_6m"),
}
# people and reoffenders of each matched group, at each horizon
COUNTS = {h: mc.counts(col) for h, col in ((FOLLOW_UP, "reoffended"), (SHORT, "reoffended_6m"))}
N_MATCHED = COUNTS[FOLLOW_UP][PROGRAMME][0]
primary = mc.rate_measure(
    res[FOLLOW_UP], outcome=cfg.primary.outcome if cfg.primary else "", disclosure=SDC
)
six_month = mc.rate_measure(
    res[SHORT],
    outcome="proven reoffending within 6 months",
    disclosure=SDC,
    reoffended="reoffended_6m",
)
hr = mc.hazard_ratio()
HR_WORDS = fmt_ratio_range(hr["hr"], hr["hr_lower"], hr["hr_upper"])
km = ek.kaplan_meier(matched, time="time", event="event", by="group", weights="weight")
verdict = rp.judge(
    cfg,
    primary,
    secondary=[rp.hazard_ratio_measure(hr), six_month],
    diagnostics=mc.diagnostics(),
    subject=cfg.scheme or "the scheme",
    groups=("people diverted", "the matched comparison group"),
)

# %%
rp.show(
    *rp.opening(
        cfg,
        verdict,
        note="This report asks what that figure can show, and re-analyses it on an extract "
        "shaped like the scheme's: everyone diverted rather than only those who engaged, "
        "engagement timed from the day it started, and a matched comparison at six and twelve "
        "months.",
    )
)

# %%
rp.scheme_summary(
    cfg,
    verdict,
    question=(
        "Did people diverted to DIVERT commit fewer proven reoffences within twelve months than "
        "similar people given an out-of-court disposal instead?"
    ),
    sample=(
        f"{SDC.count(N_DIVERTED)} people diverted and {SDC.count(N_COMPARISON)} given another "
        f"out-of-court disposal; {SDC.count(N_MATCHED)} diverted people matched."
    ),
    effect=primary.words(),
    caveats=[
        f"The published figure counts only people who engaged. Among everyone diverted, "
        f"{fmt_percent(ITT_SHARE['estimate'], 0)} had no proven reoffence within "
        f"{HORIZON} days, against {fmt_percent(ENGAGED_SHARE['estimate'], 0)} of those who "
        "engaged.",
        "People were not diverted at random: matching balances the characteristics recorded, "
        "not motivation or circumstances that no extract records.",
        "Proven reoffending counts only offences that were detected and proven by a caution or "
        "conviction.",
    ],
)

# %% [markdown]
# ## What the published figure can and cannot show
#
# The figure describes the people who engaged in the virtual sessions, over six months, with no
# comparison. evalkit's claim checker (`evalkit.claims.check_claim`) sets out what such a figure
# can support. Its denominator was not published, so its precision is shown for a range of
# possible numbers of people behind it.

# %%
rp.show(
    rp.claim_intervals(
        claim,
        caption=f"“{cfg.param('claim')}”: its 95% interval for possible numbers of people engaged",
        labels={
            "denominator": "People engaged",
            "estimate": "Did not reoffend",
            "range": "95% interval",
        },
        range_text=lambda a, b: f"{100 * a:.0f}% to {100 * b:.0f}%",
        disclosure=SDC,
        notes=["Wilson score intervals; the count behind each row is the figure times the number."],
    ),
    rp.claim_findings(claim),
    rp.paragraph(
        f"In this extract, {SDC.count(N_ENGAGED)} of the {SDC.count(N_DIVERTED)} people diverted "
        f"engaged, and {fmt_percent(ENGAGED_SHARE['estimate'])} of them had no proven reoffence "
        f"within {HORIZON} days of diversion (95% interval "
        f"{fmt_percent(ENGAGED_SHARE['lower'])} to {fmt_percent(ENGAGED_SHARE['upper'])}): the "
        "same kind of figure as the published one."
    ),
)

# %% [markdown]
# ## Everyone diverted, not only those who engaged
#
# Sessions start some days after diversion. Someone who reoffends, or is remanded, before their
# first session can never be counted among "those engaged": the engaged group is selected for
# having stayed out of trouble long enough to engage. This is *immortal time* (Suissa 2008). The
# figure that shows what diversion did for the people it reached counts **everyone diverted**
# (intention to treat).

# %%
share_rows = pd.DataFrame(
    {
        "who": ["People who engaged (the published kind of figure)", "Everyone diverted"],
        "people": [N_ENGAGED, int(ITT_SHARE["n"])],
        "share": [100 * ENGAGED_SHARE["estimate"], 100 * ITT_SHARE["estimate"]],
        "range": [
            f"{fmt_percent(r['lower'])} to {fmt_percent(r['upper'])}"
            for r in (ENGAGED_SHARE, ITT_SHARE)
        ],
    }
)
rp.show(
    rp.table(
        share_rows,
        caption=f"People diverted with no proven reoffence within {HORIZON} days",
        labels={
            "who": "Counted",
            "people": "People",
            "share": "No proven reoffence",
            "range": "95% interval",
        },
        formats={"share": "{:.1f}%"},
        disclosure=SDC,
        notes=["Wilson score intervals. Neither figure has a comparison group."],
    ),
    rp.paragraph(
        f"Half of those who engaged waited {MEDIAN_WAIT:.0f} days or more for their first "
        f"session. {SDC.count(EARLY)} diverted people had a proven reoffence within "
        f"{MEDIAN_WAIT:.0f} days of diversion, before half of those who engaged had started: "
        "people whose reoffence came before their first session cannot appear in a figure "
        "about those who engaged, whatever the sessions would have done for them."
    ),
)

# %% [markdown]
# ### Engagement timed from the day it started
#
# Comparing people who engaged with those who did not, from the day of diversion, credits
# engagement with the days before it began. Two analyses avoid this: a Cox model in which a
# person counts as engaged only from the day of their first session (engagement as a
# time-varying covariate), and a **landmark** analysis that fixes a day in advance, keeps the
# people still free of a proven reoffence on it, and compares those who had engaged by then
# with those who had not, from that day on. Both remove immortal time; neither removes the
# selection of who chooses to engage, which only a comparison group can address.

# %%
hr_rows = pp.to_frame()
hr_rows = hr_rows[hr_rows["scale"] == "hazard ratio"].reset_index(drop=True)
crude = pp_crude.to_frame().set_index("analysis")
NAMED = {
    "ever engaged, from referral": "Ever engaged, timed from diversion (immortal time)",
    "time-varying engagement": "From the day of the first session (time-varying)",
    f"landmark at day {LANDMARK:g}": f"Engaged by day {LANDMARK:g}, from that day (landmark)",
}


hr_show = pd.DataFrame(
    {
        "analysis": [NAMED[a] for a in hr_rows["analysis"]],
        "people": hr_rows["n"].astype(int),
        "crude": [
            fmt_ratio_range(*crude.loc[a, ["estimate", "lower", "upper"]])
            for a in hr_rows["analysis"]
        ],
        "adjusted": [
            fmt_ratio_range(e, lo, up)
            for e, lo, up in zip(
                hr_rows["estimate"], hr_rows["lower"], hr_rows["upper"], strict=True
            )
        ],
    }
)
ADJUSTED_FOR = ", ".join(covariate_label(c).lower() for c in ENGAGEMENT_COVARIATES)
rp.show(
    rp.table(
        hr_show,
        caption="Hazard ratio of a first proven reoffence, engaged against not engaged, among "
        "people diverted",
        labels={
            "analysis": "Analysis",
            "people": "People",
            "crude": "Unadjusted (95% CI)",
            "adjusted": "Adjusted (95% CI)",
        },
        disclosure=SDC,
        notes=[
            f"Cox models (Efron ties), twelve months from diversion; adjusted for {ADJUSTED_FOR}."
        ],
    ),
    rp.forest_figure(
        hr_rows.assign(label=[NAMED[a] for a in hr_rows["analysis"]]).set_index("label"),
        estimate="estimate",
        lower="lower",
        upper="upper",
        caption="Hazard ratios of engagement among people diverted (adjusted), with 95% "
        "confidence intervals.",
        alt=(
            "Forest plot of three adjusted hazard ratios of engaging: "
            + "; ".join(
                f"{NAMED[a]} {fmt_ratio_range(e, lo, up)}"
                for a, e, lo, up in hr_rows[["analysis", "estimate", "lower", "upper"]].itertuples(
                    index=False
                )
            )
            + "."
        ),
    ),
    rp.paragraph(
        "The first row times engagement from diversion and so carries immortal time; its hazard "
        "ratio is pushed below 1 even when the sessions do nothing (evalkit's per-protocol "
        "demonstration, `evalkit.engagement.per_protocol_bias`, shows this on data where the "
        "truth is known). The other two rows count engaged time only from when it began."
    ),
)

# %% [markdown]
# ## Diverted against not diverted: a matched comparison
#
# The primary comparison, fixed in the configuration before the results were seen, is between
# **everyone diverted**, whether or not they engaged, and people found in possession in the
# same areas and year who were given another out-of-court disposal, matched on the
# characteristics recorded at the time. The index date is the date of diversion or of the
# disposal given instead; there is no custody to leave.

# %%
bal = m.balance().drop(index=[i for i in m.balance().index if i == "distance"])
bal_show = pd.DataFrame(
    {
        "characteristic": [rp.term_label(i) for i in bal.index],
        "before": bal["smd_before"].to_numpy(),
        "after": bal["smd_after"].to_numpy(),
    }
)
counts = m.counts
UNMATCHED = int(counts.loc["all", "treated"] - counts.loc["matched", "treated"])
rp.show(
    rp.paragraph(
        f"{SDC.count(N_MATCHED)} of the {SDC.count(N_DIVERTED)} people diverted were matched "
        f"with a comparison person within {CALIPER:g} standard deviations of the logit of the "
        f"propensity score; {SDC.count(UNMATCHED)} had no comparison person close enough and "
        "are left out, so the comparison describes the diverted people who could be matched."
    ),
    rp.table(
        bal_show,
        caption="Standardised differences between people diverted and the comparison group, "
        "before and after matching",
        labels={
            "characteristic": "Characteristic",
            "before": "Before matching",
            "after": "After matching",
        },
        formats={"before": "{:+.2f}", "after": "{:+.2f}"},
        disclosure=SDC,
        notes=["Differences below 0.1 in absolute value are taken as balanced (Austin 2009)."],
    ),
)

# %%
level = f"{100 * primary.conf_level:g}%"
rp.show(
    rp.reoffending_table(
        {
            f"{NAMES[g]}, {months} months": COUNTS[h][g]
            for h, months in ((SHORT, round(SHORT / 30.4)), (FOLLOW_UP, round(FOLLOW_UP / 30.4)))
            for g in (PROGRAMME, COMPARISON)
        },
        caption="Proven reoffending within six and twelve months, matched groups",
        labels={"group": "Group, follow-up"},
        disclosure=SDC,
    ),
    rp.paragraph(
        f"Within twelve months (the primary measure), diverted minus matched comparison: "
        f"**{per100(primary.estimate)} per 100 people** ({level} confidence interval "
        f"{range_words(primary.lower, primary.upper)}; {p_text(primary.p)}). Within six "
        f"months: {per100(six_month.estimate)} per 100 "
        f"({range_words(six_month.lower, six_month.upper)}; "
        f"{p_text(six_month.p)}). Intervals use robust standard errors clustered on the matched "
        "pairs."
    ),
    rp.km_figure(
        km,
        caption="Proportion without a proven reoffence by days since diversion (or the disposal "
        "given instead), matched groups, with 95% confidence bands and the numbers still "
        "followed up.",
        labels=NAMES,
        risk_times=[0, 91, SHORT, 273, FOLLOW_UP],
        landmarks=[SHORT, FOLLOW_UP],
        xlabel="Days since the index date",
        ylabel="Proportion without a proven reoffence",
        disclosure=SDC,
    ),
    rp.paragraph(
        "Over the year, the hazard of a first proven reoffence among people diverted relative "
        f"to the matched comparison group is {HR_WORDS} "
        f"({p_text(hr['p'])}; Cox model, robust errors by matched pair)."
    ),
)

# %% [markdown]
# ## What this evaluation can and cannot show
#
# **It can show** how often the people DIVERT reached — everyone diverted who could be matched,
# not only those who engaged — had a proven reoffence within six and twelve months, beside
# similar people who were dealt with in another way, with a range of plausible values for the
# difference; and how much of the published figure is the selection of who engages.
#
# **It cannot show**
#
# - *that diversion caused a difference*: people were not diverted at random, and a matched
#   comparison balances only what was recorded; the verdict's evidence rating says how far the
#   design goes (Maryland Scientific Methods Scale);
# - *what the sessions themselves achieve*: comparing engagers with non-engagers, even without
#   immortal time, compares people who chose to engage with people who did not;
# - *offending that was not detected or proven*, or effects on drug use and health;
# - *value for money*: the cost of the scheme is not in the configuration.
#
# ## Methods
#
# - **Cohorts.** Proven reoffending as the Ministry of Justice measures it
#   (`evalkit.proven_reoffending`): an offence in the follow-up period proven by a caution or
#   conviction within it or a further waiting period; six and twelve months of follow-up, each
#   with the waiting period set in the configuration. Out-of-court disposals: the index date is
#   the date of diversion or of the disposal given instead.
# - **Claim check.** `evalkit.claims.check_claim`: Wilson intervals over plausible
#   denominators (Wilson 1927); the biases are flagged by written rules; the minimum detectable
#   effect is that of a 1:1 matched comparison at the scheme's yearly size (80% power, 5%
#   two-sided).
# - **Engagement.** `evalkit.engagement.per_protocol_bias`: the share not reoffending among
#   those engaged and among everyone diverted (Wilson intervals), and three Cox models of a
#   first proven reoffence among people diverted — ever engaged timed from diversion (with
#   immortal time), engagement as a time-varying covariate in counting-process form (Andersen
#   and Gill 1982), and a landmark analysis at the day fixed in the configuration (Anderson,
#   Cain and Gelber 1983).
# - **Matching.** Logistic propensity score on the listed characteristics; greedy 1:1
#   nearest-neighbour matching on its logit within the caliper, without replacement (Austin
#   2011); balance as standardised differences (Austin 2009). Rate differences are weighted
#   differences with standard errors clustered on matched pairs (Abadie and Spiess 2022)
#   (`evalkit.jdl_outcomes`); the hazard ratio is from a Cox model with the same clustering.
# - **Headline.** The primary measure, the twelve-month rate difference of everyone diverted
#   against the matched comparison group, is fixed in the configuration (`[primary]`) before
#   the results are seen; the verdict, its strength and the evidence rating follow evalkit's
#   written rules (`evalkit.verdict`).
#
# **References.** Abadie, A. and Spiess, J. (2022), *JASA* 117, 983–995. Andersen, P.K. and
# Gill, R.D. (1982), *Annals of Statistics* 10, 1100–1120. Anderson, J.R., Cain, K.C. and
# Gelber, R.D. (1983), *Journal of Clinical Oncology* 1, 710–719. Austin, P.C. (2009),
# *Statistics in Medicine* 28, 3083–3107; (2011), *Multivariate Behavioral Research* 46,
# 399–424. Ministry of Justice (2019), *Guide to Proven Reoffending Statistics*. Sherman, L.W.
# et al. (1997), *Preventing Crime: What Works, What Doesn't, What's Promising*. Suissa, S.
# (2008), *American Journal of Epidemiology* 167, 492–499. Wilson, E.B. (1927), *JASA* 22,
# 209–212.
#
# ## Running this analysis on real data
#
# Everything the analysis reads is named in `analyses/divert.toml`: copy it, point `[data]` at
# the extract's five files (people, offences, custody, deaths and engagement; CSV, parquet or
# Excel), say in `[reader]` how they are written (for a UK export, `date_format = "%d/%m/%Y"`
# and a `columns` table mapping its headers to evalkit's names), set `synthetic = false` and the
# extract's date, and run `evalkit build divert --config YOUR.toml --out FOLDER`. The claim, the
# horizons, the landmark day and the characteristics matched on are set there too; no code
# needs editing.
