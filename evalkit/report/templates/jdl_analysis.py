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
# the files named in the reproducibility section; the command that rebuilds it is at the end.

# %%
# Setup: configuration, input tables and the proven-reoffending cohort. Run by `evalkit jdl
# --people P --offences O`, which writes the configuration (jdl.toml) beside the report. The
# tables and paragraphs are built by evalkit.report.jdl_sections and jdl_text (tested there).
import dataclasses
import warnings

import pandas as pd

import evalkit as ek
from evalkit import report as rp
from evalkit.jdl import JDL_MIN_PROGRAMME, JDL_OUTCOMES, jdl_outcomes
from evalkit.report import jdl_sections as js
from evalkit.report import jdl_text as jt
from evalkit.report.jdl import PRIMARY_OUTCOME
from evalkit.wording import fmt_ratio_range, p_text

cfg = rp.load_config("jdl")
PARAMS = dict(cfg.parameters)
PROGRAMME = PARAMS.get("programme", "programme")
COMPARISON = PARAMS.get("comparison", "comparison")
FOLLOW_UP = int(PARAMS.get("follow_up_days", 365))
WAITING = int(PARAMS.get("waiting_days", 182))
CALIPER = float(PARAMS.get("caliper", 0.2))
REPLACE = bool(PARAMS.get("replace", False))
LISTED = list(PARAMS.get("covariates", []))
AREA = str(PARAMS.get("area", ""))
SCHEME = cfg.scheme
SDC = cfg.disclosure
S = js.JDLSetting(
    programme=PROGRAMME,
    comparison=COMPARISON,
    disclosure=SDC,
    labels=dict(PARAMS.get("labels", {})),
    replace=REPLACE,
    caliper=CALIPER,
)
LABELS = S.names
SUBJECT = SCHEME if SCHEME else "the programme"

# the input files, read with the configuration's [reader] options (column names, date format)
tables = rp.read_cohort_tables(cfg)
# group labels are compared as text (a CSV column of 1s and 0s is read as numbers)
if "group" in tables["people"].columns:
    tables["people"]["group"] = tables["people"]["group"].astype("string")
# the extract date is the end of the data: people whose year of follow-up and six-month waiting
# period had not ended by then are excluded (and counted in the flow below)
cohort = rp.reoffending_cohort(cfg, tables, follow_up_days=FOLLOW_UP, waiting_days=WAITING)
# Below the Justice Data Lab's minimum of 60 programme people nothing is analysed: the report
# says so (a "not assessable" verdict from the library's rules) and ends here.
in_programme = cohort.data["group"] == PROGRAMME
N_COHORT_PROGRAMME = int(in_programme.sum())
if 0 < N_COHORT_PROGRAMME < JDL_MIN_PROGRAMME and (cohort.data["group"] == COMPARISON).any():
    in_comparison = cohort.data["group"] == COMPARISON
    too_few = rp.judge(
        # nothing was matched: the design is an unmatched comparison
        dataclasses.replace(
            cfg,
            design=dataclasses.replace(
                cfg.design,
                kind="unmatched",
                justification="No matching: the programme group is below the minimum.",
            ),
        )
        if cfg.design is not None
        else cfg,
        ek.Measure.rate_difference(
            int(cohort.data.loc[in_programme, "reoffended"].sum()),
            N_COHORT_PROGRAMME,
            int(cohort.data.loc[in_comparison, "reoffended"].sum()),
            int(in_comparison.sum()),
            outcome=PRIMARY_OUTCOME,
        ),
        diagnostics=ek.Diagnostics(n_programme=N_COHORT_PROGRAMME),
        subject=SUBJECT,
    )
    rp.show(
        rp.headline(too_few, synthetic=cfg.synthetic),
        rp.paragraph(jt.too_few_text(N_COHORT_PROGRAMME, SDC)),
    )
    rp.end_report()
# the unmatched comparison; also checks the group labels (the programme's and one other, which
# must be the comparison group's)
raw = jdl_outcomes(cohort.data, group="group", treated=PROGRAMME)
if raw.control_label != COMPARISON:
    raise ek.InputError(
        "group",
        f"must be {PROGRAMME!r} (programme) or {COMPARISON!r} (comparison); found the other "
        f"label {raw.control_label!r}",
        table="people",
    )

# the participation period: the first and last index date in the programme group, as month and
# year (never exact days)
prog_dates = pd.to_datetime(cohort.data.loc[cohort.data["group"] == PROGRAMME, "index_date"])
PERIOD_FIRST, PERIOD_LAST = js.month_year(prog_dates.min()), js.month_year(prog_dates.max())
PERIOD = (
    f"in {PERIOD_FIRST}"
    if PERIOD_FIRST == PERIOD_LAST
    else f"between {PERIOD_FIRST} and {PERIOD_LAST}"
)
WHERE = f" in {AREA}" if AREA and AREA.lower() not in SUBJECT.lower() else ""

# %%
# Covariates for the propensity score: only those listed in the configuration (by default the
# people table's columns of known meaning: age, sex, prior offences, sentence length...), never
# free text. A listed column that cannot be used is left out (never rows), with its reason.
covariates, skipped = js.usable_covariates(cohort.data, LISTED)
MATCHED = bool(covariates)
DESIGN = "matched" if MATCHED else "unmatched"

data = cohort.data
if MATCHED:
    with warnings.catch_warnings():
        # programme members without a partner within the caliper are counted below (with
        # disclosure control), not printed: the warning's own text gives exact counts
        warnings.simplefilter("ignore", ek.StatisticalWarning)
        m = ek.match(
            data,
            group="group",
            treated=PROGRAMME,
            covariates=covariates,
            caliper=CALIPER,
            link="linear.logit",
            replace=REPLACE,
        )
    analysed = m.data
    # Standard errors. Without replacement each matched pair is a cluster (`subclass`; Austin
    # 2011, Abadie and Spiess 2022). With replacement a comparison person can be in several
    # pairs, so there is no one pair to cluster on (`subclass` is missing for every row, and
    # jdl_outcomes refuses it): each person is one row of m.data whose weight counts their
    # matches, and the robust (HC1) error by person accounts for their re-use. It is close to,
    # and when matched partners' outcomes are alike conservative against, the two-way (pair
    # and person) clustering of evalkit.matched_rate_difference.
    res = jdl_outcomes(
        analysed,
        group="group",
        treated=PROGRAMME,
        weights="weight",
        cluster=None if REPLACE else "subclass",
    )
    if REPLACE:
        # one row per match: programme members once, each comparison person once per match,
        # so that counts are whole numbers and the comparison rate is the weighted one
        per_match = pd.concat(
            [
                analysed[analysed["group"] == PROGRAMME],
                data.loc[m.pairs["control"].to_numpy()],
            ]
        )
    else:
        per_match = analysed
else:
    analysed = data
    per_match = data
    res = raw
km = ek.kaplan_meier(
    analysed,
    time="time",
    event="event",
    by="group",
    weights="weight" if MATCHED else None,
)
rate = res.table.to_dict("records")[0]  # the reoffending-rate row
# programme and comparison people in the cohort and analysed (distinct people after matching);
# a small number left unmatched is not shown, and a comparison pool smaller than twice the
# programme group is explained (1:1 matching without replacement has few partners to choose)
SIZES = js.GroupSizes(
    cohort=(int((data["group"] == PROGRAMME).sum()), int((data["group"] == COMPARISON).sum())),
    analysed=(int(rate["n_programme"]), int(rate["n_comparison"])),
    disclosure=SDC,
)
n_prog, n_comp = SIZES.analysed


def safe_rate(group_n: int, reoffenders: int) -> bool:
    """A group's rate may be published only if neither count behind it is small."""
    return not (SDC.is_small(reoffenders) or SDC.is_small(group_n - reoffenders))


n_prog_matches = int((per_match["group"] == PROGRAMME).sum())
n_comp_matches = int((per_match["group"] == COMPARISON).sum())  # = n_comp without replacement
x_prog = int(per_match.loc[per_match["group"] == PROGRAMME, "reoffended"].sum())
x_comp = int(per_match.loc[per_match["group"] == COMPARISON, "reoffended"].sum())
rates_safe = safe_rate(n_prog_matches, x_prog) and safe_rate(n_comp_matches, x_comp)

# %%
# Survival: time to the first proven reoffence, compared with a Cox model of the group (weighted
# by the matching weights, robust errors by matched pair, or by person after matching with
# replacement). Unlike a log-rank test it uses the weights, so it suits every design here.
hr_fit = ek.cox(
    analysed,
    time="time",
    event="event",
    covariates=["group"],
    reference={"group": COMPARISON},  # the hazard ratio of the programme group
    weights="weight" if MATCHED else None,
    robust=MATCHED and REPLACE,
    cluster="subclass" if MATCHED and not REPLACE else None,
)
hr_row = hr_fit.table.to_dict("index")[f"group[{PROGRAMME}]"]
HR, HR_LOWER, HR_UPPER, HR_P = (float(hr_row[k]) for k in ("hr", "hr_lower", "hr_upper", "p"))

# %%
# The group profile before and after matching (a row per number, yes/no column or category, and
# the propensity score; small categories withheld), and the balance diagnostics the verdict
# uses: the largest standardised difference after matching over every row, withheld rows and
# the propensity score included, the variance ratios, and the share left unmatched.
profile = (
    js.profile_rows(m.balance(), covariates, [data, analysed] + ([per_match] if REPLACE else []), S)
    if MATCHED
    else []
)
BALANCE = js.balance_summary(profile)
UNMATCHED_SHARE = SIZES.unmatched / SIZES.cohort[0] if MATCHED else None

# %%
# The headline: judged by the verdict engine from the pre-specified primary measure (the
# one-year proven reoffending rate difference, programme minus comparison; [primary] in the
# configuration), the design, the secondary estimates and the diagnostics.
RATE_PROGRAMME, RATE_COMPARISON = float(rate["programme"]), float(rate["comparison"])
primary = ek.Measure(
    name="rate difference",
    outcome=PRIMARY_OUTCOME,
    estimate=float(rate["estimate"]),
    lower=float(rate["lower"]),
    upper=float(rate["upper"]),
    p=float(rate["p"]),
    kind="difference",
    good="lower",
    unit="per 100",
    # the two rates appear in the headline only when the counts behind them may be published
    programme=RATE_PROGRAMME if rates_safe else None,
    comparison=RATE_COMPARISON if rates_safe else None,
    conf_level=res.conf_level,
)
frequency = res.table.to_dict("records")[1]
secondary = [
    # the same outcome (a first proven reoffence within the year), as a hazard ratio
    ek.Measure(
        "hazard ratio",
        PRIMARY_OUTCOME,
        HR,
        HR_LOWER,
        HR_UPPER,
        p=HR_P,
        kind="ratio",
        unit="",
        conf_level=res.conf_level,
    ),
    ek.Measure(
        "difference in proven reoffences per person",
        "proven reoffences per person within one year",
        float(frequency["estimate"]),
        float(frequency["lower"]),
        float(frequency["upper"]),
        p=float(frequency["p"]),
        unit="",
        conf_level=res.conf_level,
    ),
]
diagnostics = ek.Diagnostics(
    max_smd_after=BALANCE.max_smd_after,
    worst_covariate=BALANCE.worst_covariate,
    vr_after=BALANCE.vr_worst,
    worst_vr_covariate=BALANCE.vr_worst_covariate,
    n_programme=n_prog,
    programme_events=x_prog,
    min_expected=float(min(x_prog, n_prog - x_prog)),
    unmatched_share=UNMATCHED_SHARE,
    remedy="matching with replacement" if MATCHED and REPLACE else None,
)
GROUP_NAMES = (
    "the programme group",
    "the matched comparison group" if MATCHED else "the comparison group",
)
judged = cfg
if cfg.design is not None and cfg.design.kind != DESIGN:
    # the configuration expected a matched comparison, but no listed characteristic could be
    # used (see "How the comparison group was formed"): the design is what was done
    judged = dataclasses.replace(
        cfg,
        design=dataclasses.replace(
            cfg.design,
            kind=DESIGN,
            justification="No listed characteristic could be used for matching.",
        ),
    )
if judged.primary is not None and judged.design is not None:
    VERDICT = rp.judge(
        judged,
        primary,
        secondary=secondary,
        diagnostics=diagnostics,
        subject=SUBJECT,
        groups=GROUP_NAMES,
    )
else:  # a configuration written before [primary] and [design]: the JDL's fixed measure
    VERDICT = ek.verdict(
        primary,
        design=DESIGN,
        secondary=secondary,
        diagnostics=diagnostics,
        subject=SUBJECT,
        groups=GROUP_NAMES,
        prespecified="evalkit jdl's fixed outcome set (the Justice Data Lab's)",
    )
RATING = VERDICT.rating
# the two rates, as the Justice Data Lab gives them ("for every 100 people")
RATES_SENTENCE = (
    jt.rates_sentence(RATE_PROGRAMME, RATE_COMPARISON, GROUP_NAMES[1]) if rates_safe else ""
)
UNMATCHED_SENTENCE = "" if MATCHED else jt.UNMATCHED_SENTENCE
rp.show(
    rp.headline(VERDICT, synthetic=cfg.synthetic),
    *[rp.paragraph(t) for t in (RATES_SENTENCE, UNMATCHED_SENTENCE) if t],
)

# %%
rp.summary(
    question=(
        f"Did people who took part in {SUBJECT}{WHERE} ({PERIOD_FIRST} to {PERIOD_LAST}) "
        "commit fewer proven reoffences in the year after their index date than similar "
        "people who did not?"
        if PERIOD_FIRST != PERIOD_LAST
        else f"Did people who took part in {SUBJECT}{WHERE} in {PERIOD_FIRST} commit fewer "
        "proven reoffences in the year after their index date than similar people who did not?"
    ),
    design=jt.design_text(S, covariates, PERIOD),
    sample=(
        f"{SDC.count(n_prog)} programme members and {SDC.count(n_comp)} comparison-group "
        f"people{' after matching' if MATCHED else ''}; programme members' index dates fell "
        f"{PERIOD}."
    ),
    effect=" ".join(
        t
        for t in (
            RATES_SENTENCE,
            res.sentences["rate"] if VERDICT.conclusion != "not assessable" else VERDICT.headline,
        )
        if t
    ),
    rating=RATING,
    cost=cfg.cost,
    caveats=jt.caveats(S, SIZES, BALANCE if MATCHED else None),
)

# %% [markdown]
# ## Who was included
#
# Everyone in the people table starts a one-year follow-up period on their index date (release
# from custody, or a caution or non-custodial sentence). The tables account for every person,
# every offence, and every custody spell and death in the input files.

# %%
# Custody: the days each person spent in custody during the follow-up year are counted; the
# follow-up clock runs on in custody (calendar time, as the Ministry of Justice measure).
# Deaths end the follow-up (censoring).
flow = cohort.flow
FLOWS = {
    "people": ("People", "People", "People: from the input file to the proven-reoffending cohort"),
    "offences": (
        "Offences",
        "Offences",
        "Offences: which offences count as proven reoffences",
    ),
    "custody": ("Custody spells", "Spells", "Custody spells: which fall in the follow-up year"),
    "deaths": ("Deaths", "Deaths", "Deaths: which fall in the follow-up year"),
}
custody_text = (
    jt.custody_text(
        js.kept(flow, "custody"),
        js.custody_days(analysed, "weight" if MATCHED else None, S),
        GROUP_NAMES[1],
        SDC,
    )
    if "custody" in tables
    else jt.NO_CUSTODY
)
deaths_text = jt.deaths_text(js.kept(flow, "deaths"), SDC) if "deaths" in tables else jt.NO_DEATHS
rp.show(
    *[js.flow_fragment(flow, t, *FLOWS[t], SDC) for t in FLOWS if t in tables],
    rp.paragraph(custody_text),
    rp.paragraph(deaths_text),
)

# %% [markdown]
# ## How the comparison group was formed

# %%
if MATCHED:
    counts = m.counts.to_dict("index")
    matched_n = (int(counts["matched"]["treated"]), int(counts["matched"]["control"]))
    ess = float(counts["matched_ess"]["control"]) if REPLACE else None
    fragments = [
        js.matching_fragment(matched_n, SIZES, S),
        rp.paragraph(jt.method_text(S, SIZES, matched_n, ess=ess)),
    ]
    if SIZES.small_pool:
        fragments.append(rp.paragraph(jt.small_pool_text(S, SIZES, BALANCE)))
    fragments += [
        jt.profile_fragment(profile, S),
        rp.paragraph(jt.balance_text(profile, BALANCE)),
    ]
    if skipped:
        fragments.append(rp.paragraph(jt.skipped_text(skipped, S)))
    rp.show(*fragments)
else:
    rp.show(rp.paragraph(jt.no_matching_text(skipped, S)))

# %% [markdown]
# ## Results
#
# ### The Justice Data Lab measures

# %%
level = f"{100 * res.conf_level:g}%"
NOT_ASSESSABLE = VERDICT.conclusion == "not assessable"
rp.show(
    jt.measures_fragment(js.measures_table(per_match, S), S, matched=MATCHED, n_comparison=n_comp),
    jt.differences_fragment(
        js.differences_table(res.display, res.table["p"], SDC, rates_safe=rates_safe),
        level,
        SDC,
        not_assessable=NOT_ASSESSABLE,
    ),
    *([rp.paragraph(jt.NOT_EFFECTS)] if NOT_ASSESSABLE else []),
    rp.markdown("\n\n".join(f"**{JDL_OUTCOMES[k]}.** {s}" for k, s in res.sentences.items())),
)

# %% [markdown]
# ### When the first proven reoffence happened
#
# The curves show, day by day, the proportion of each group who had not yet committed a proven
# reoffence. Unlike the average days to first reoffence above, which looks only at people who
# reoffended, they use everyone.

# %%
rp.show(
    rp.km_figure(
        km,
        caption=(
            "Proportion without a proven reoffence, by days since the index date"
            + (" (matched groups, weighted)" if MATCHED else "")
            + ", with 95% confidence bands and the numbers still followed up."
        ),
        labels=LABELS,
        risk_times=[0, 91, 182, 273, FOLLOW_UP],
        xlabel="Days since the index date",
        ylabel="Proportion without a proven reoffence",
        disclosure=SDC,
    ),
    rp.paragraph(
        "Compared over the whole year, the hazard of a first proven reoffence in the programme "
        "group relative to the "
        + ("matched " if MATCHED else "")
        + f"comparison group (hazard ratio, {level} confidence interval) is "
        f"{fmt_ratio_range(HR, HR_LOWER, HR_UPPER)}, {p_text(HR_P)}"
        + (
            " (Cox model weighted by the matching weights, "
            + (
                "with robust errors by person, since a comparison person can be in several "
                "matched pairs)."
                if REPLACE
                else "with robust errors by matched pair)."
            )
            if MATCHED
            else " (Cox model)."
        )
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
#   resolutions and breaches do not count. Days in custody during the follow-up year are
#   counted but do not stop the clock; a death during the follow-up ends it (censoring).
# - **Matching.** Logistic propensity score on the recorded characteristics; greedy 1:1
#   nearest-neighbour matching on its log-odds, largest scores first, caliper 0.2 standard
#   deviations (Rosenbaum and Rubin 1985; Austin 2011); without replacement, or with
#   replacement when the report says so (`--replace`: a comparison person can be matched to
#   several programme members and is weighted by how often). Balance as standardised mean
#   differences and variance ratios (Austin 2009; Stuart 2010).
# - **Measures and tests.** The Justice Data Lab's three headline measures (Ministry of Justice
#   2013). In the matched sample each difference is a weighted difference of means with a
#   robust standard error — clustered on the matched pairs without replacement (Abadie and
#   Spiess 2022), by person with replacement — and a normal interval; without matching the rate
#   uses Newcombe's hybrid score interval (Newcombe 1998) and the other measures Welch's t
#   interval, as the Justice Data Lab does (`evalkit.jdl_outcomes`).
# - **Headline.** The primary measure — the difference in the one-year proven reoffending rate,
#   programme minus comparison — is fixed in the configuration before the analysis runs; the
#   verdict (what may be concluded, how strongly, and the evidence rating earned) follows
#   evalkit's written rules (`evalkit.verdict`), which withhold a conclusion when the matched
#   groups are not balanced or the numbers are below the Justice Data Lab's minimums.
# - **Reporting rules and wording** follow the Justice Data Lab's own report pipeline
#   (Ministry of Justice, `moj-analytical-services/kpow2` on GitHub): 60 people, 30
#   reoffenders, n·p ≥ 10, p ≤ 0.05; rates to whole percentages and frequencies to two decimals.
# - **Survival curves.** Kaplan–Meier estimates (weighted after matching) with log-log
#   intervals; a Cox model of the group gives the hazard ratio (weighted after matching, with
#   robust errors).
# - **Disclosure control.** Counts below the configured threshold are withheld, with secondary
#   suppression so that they cannot be worked out from totals; percentages, averages and
#   profile rows based on withheld counts are withheld too.
#
# **References.** Abadie, A. and Spiess, J. (2022), *Journal of the American Statistical
# Association* 117, 983–995. Austin, P.C. (2009), *Statistics in Medicine* 28, 3083–3107.
# Austin, P.C. (2011), *Multivariate Behavioral Research* 46, 399–424. Ministry of Justice
# (2013), *Justice Data Lab: Methodology Paper*. Newcombe, R.G. (1998), *Statistics in
# Medicine* 17, 873–890. Rosenbaum, P.R. and Rubin, D.B. (1985), *The American Statistician*
# 39, 33–38. Sherman, L.W. et al. (1997), *Preventing Crime: What Works, What Doesn't, What's
# Promising* (the Maryland Scientific Methods Scale). Stuart, E.A. (2010), *Statistical
# Science* 25, 1–21. Welch, B.L. (1947), *Biometrika* 34, 28–35.
#
# ## How to rebuild this report

# %%
rp.show(*jt.rebuild_fragments(str(PARAMS.get("command", "")), PARAMS.get("command_omits", [])))
