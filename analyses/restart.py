# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %%
# Setup: configuration, the four input tables and the proven-reoffending cohort. Every number
# below comes from the files named in restart.toml and its [parameters]; nothing is typed in.
import numpy as np
import pandas as pd

import evalkit as ek
from evalkit import report as rp
from evalkit.claims import BASELINES, check_claim
from evalkit.cohort_comparison import compare_cohorts
from evalkit.proportions import wilson_interval
from evalkit.verdict import MIN_EVENTS, MIN_PROGRAMME
from evalkit.verdict import verdict as judge_measure
from evalkit.wording import (
    fmt_number,
    fmt_p,
    fmt_percent,
    fmt_ratio_range,
    p_text,
    per100,
    range_words,
)

cfg = rp.load_config("restart")
P = cfg.param
PROGRAMME, COMPARISON = P("programme"), P("comparison")
PERIOD, BEFORE, AFTER = P("period"), P("before"), P("after")
FOLLOW_UP, WAITING = int(P("follow_up_days")), int(P("waiting_days"))
COVARIATES = list(P("covariates"))
EXACT = list(P("exact"))
WOMEN, SHORT = P("women"), int(P("short_sentence_days"))
TAU = float(P("tau"))
BASE_RATE, BASE_SOURCE = BASELINES[P("baseline")]
SDC = cfg.disclosure
ARM = {PROGRAMME: "Restart participants", COMPARISON: "Matched comparison"}
BAND_SHORT = f"under {SHORT // 30} months" if SHORT % 365 else f"under {SHORT // 365 * 12} months"
BAND_LONG = BAND_SHORT.replace("under", "at least")

# column headings of every table in the report
LABELS = {
    "group": "Group", "people": "People", "reoffended": "Reoffended", "percent": "Percent",
    "label": "Characteristic", "smd_before": "Before matching", "smd_after": "After matching",
    "any_custody": "Any days in custody", "custody_first": "In custody before a reoffence",
    "mean_days": "Average days in custody", "time": "Time counted", "hr": "Hazard ratio",
    "lower": "95% CI from", "upper": "to", "p": "p", "cohort": "Cohort", "measure": "Measure",
    "estimate": "Per 100", "subgroup": "Subgroup", "n1": "Participants", "x1": "Reoffended",
    "p1": "Percent", "n0": "Comparison", "x0": "Reoffended ", "p0": "Percent ",
    "difference": "Per 100 people (95% CI)", "mde": "Smallest detectable fall (points)",
    "rules": "What the rules allow",
}  # fmt: skip

tables = rp.read_cohort_tables(cfg)
people = tables["people"]
for column in dict.fromkeys(["group", PERIOD, "sex", "sentence_length_days", *COVARIATES]):
    if column not in people.columns:
        raise ek.InputError(
            column,
            "is missing from the people file (the groups, the cohorts, the subgroups and the "
            "characteristics in [parameters] need it; map its header in [reader] columns)",
            table="people",
        )
people["group"] = people["group"].astype("string")
people[PERIOD] = people[PERIOD].astype("string")
# the sentence band defines the "short sentences" subgroup and is matched on exactly
people["sentence_band"] = np.where(people["sentence_length_days"] < SHORT, BAND_SHORT, BAND_LONG)


def cohort_of(at_risk: str) -> ek.Cohort:
    return rp.reoffending_cohort(
        cfg, tables, follow_up_days=FOLLOW_UP, waiting_days=WAITING, at_risk=at_risk
    )


cohort = cohort_of("calendar")
data = cohort.data
labels = set(data["group"].unique())
if labels - {PROGRAMME, COMPARISON} or PROGRAMME not in labels:
    raise ek.InputError(
        "group", f"must hold {PROGRAMME!r} and {COMPARISON!r} (set in [parameters])", table="people"
    )
periods = set(data[PERIOD].unique())
if periods != {BEFORE, AFTER}:
    raise ek.InputError(
        PERIOD, f"must hold the two cohorts {BEFORE!r} and {AFTER!r} ([parameters])", table="people"
    )
pilot = data[data[PERIOD] == AFTER]
before = data[data[PERIOD] == BEFORE]
N_PILOT_REFERRED = int((pilot["group"] == PROGRAMME).sum())

# %%
# The primary comparison, fixed in [primary] before the results were seen: people referred to
# Restart during the pilot against people released in the same year and not referred, matched
# 1:1 on the characteristics listed in [parameters] (exactly on sex and sentence band).
mc = rp.matched_comparison(
    pilot, treated=PROGRAMME, covariates=COVARIATES, exact=EXACT, caliper=float(P("caliper"))
)
m = mc.match
rd = ek.matched_rate_difference(m, outcome="reoffended")
(n_prog, x_prog), (n_comp, x_comp) = mc.counts().values()
primary = ek.Measure(
    "rate difference",
    "",
    rd.estimate,
    rd.lower,
    rd.upper,
    p=rd.p,
    programme=x_prog / n_prog,
    comparison=x_comp / n_comp,
)

# time to first proven reoffence: Kaplan-Meier, Cox (robust by matched pair), restricted mean
km = ek.kaplan_meier(mc.data, time="time", event="event", by="group", weights="weight")
hr = mc.hazard_ratio()
rmd = ek.rmst_difference(mc.data, time="time", event="event", group="group", tau=TAU)

# time at liberty: the same people, with days in custody (recalls, new sentences) removed
free = cohort_of("free").data.set_index("person_id")["time"]
matched = mc.data.assign(time_free=mc.data["person_id"].map(free).to_numpy())
hr_free = rp.matched_hazard_ratio(matched, treated=PROGRAMME, time="time_free")

HR, HR_LOWER, HR_UPPER = hr["hr"], hr["hr_lower"], hr["hr_upper"]
secondary = [
    rp.hazard_ratio_measure(hr),
    rp.rmst_measure(rmd, name="difference in days without a proven reoffence", unit="days"),
]


balance = m.balance().drop(index="distance")
diagnostics = mc.diagnostics()
verdict = rp.judge(
    cfg,
    primary,
    secondary=secondary,
    diagnostics=diagnostics,
    subject="Restart",
    groups=("Restart participants", "their matched comparison group"),
)

# %%
# Before and after: the pilot year's cohort against the year before, adjusted for case mix as
# the Ministry of Justice adjusts local rates (a model fitted on the year before predicts the
# rate expected for the later cohort). Twice: everyone released, and Restart participants.
national = [int(v) for v in P("national_counts")] or None
ba_all = compare_cohorts(
    data,
    outcome="reoffended",
    period=PERIOD,
    before=BEFORE,
    after=AFTER,
    covariates=COVARIATES,
    comparison=tuple(national) if national else None,
)
participants = data[(data[PERIOD] == BEFORE) | (data["group"] == PROGRAMME)]
ba_prog = compare_cohorts(
    participants,
    outcome="reoffended",
    period=PERIOD,
    before=BEFORE,
    after=AFTER,
    covariates=COVARIATES,
)

# the published context claim, checked by evalkit's claim rules
claim = check_claim(
    P("claim"),
    float(P("claim_figure")),
    outcome="reoffended within 12 months",
    horizon_days=int(P("claim_horizon_days")),
    comparison="national",
    baseline=P("baseline"),
    scheme_size=N_PILOT_REFERRED,
)
x_before, n_before = int(before["reoffended"].sum()), len(before)
before_ci = wilson_interval(x_before, n_before)

# minimum detectable effect of a 12-month pilot of this size (1:1 matched comparison)
plan = ek.plan_pilot(
    N_PILOT_REFERRED / float(P("pilot_months")),
    float(P("pilot_months")),
    BASE_RATE,
    power=float(P("power")),
    alpha=float(P("alpha")),
)

# subgroups named by the scheme (secondary): within the matched pairs, which agree exactly on
# sex and sentence band, so each subgroup compares like with like. Each partition is one table
# with its total row, so that disclosure control sees that the rows add up to the total.
PARTITIONS = {
    "sex": [("Women", matched["sex"] == WOMEN), ("Men", matched["sex"] != WOMEN)],
    "sentence": [
        (f"Sentences {BAND_SHORT}", matched["sentence_band"] == BAND_SHORT),
        (f"Sentences {BAND_LONG}", matched["sentence_band"] == BAND_LONG),
    ],
}
COUNTS = ["n1", "x1", "n0", "x0"]
SUB_RELATIONS = {
    "percents": {"p1": ("x1", "n1"), "p0": ("x0", "n0")},
    "complements": {"x1": "n1", "x0": "n0"},
}


def subgroup_counts(name: str, mask: pd.Series) -> dict:
    sub = matched[mask]
    on = sub["group"] == PROGRAMME
    n1, n0 = int(on.sum()), int((~on).sum())
    x1, x0 = int(sub.loc[on, "reoffended"].sum()), int(sub.loc[~on, "reoffended"].sum())
    return {"subgroup": name, "n1": n1, "x1": x1, "n0": n0, "x0": x0}


def partition_table(parts: list) -> pd.DataFrame:
    rows = [subgroup_counts(name, mask) for name, mask in parts]
    rows.append(subgroup_counts("All matched pairs", pd.Series(True, index=matched.index)))
    t = pd.DataFrame(rows)
    t["p1"] = 100 * t["x1"] / t["n1"].clip(lower=1)
    t["p0"] = 100 * t["x0"] / t["n0"].clip(lower=1)
    return t


def subgroup_estimate(row: pd.Series, withheld: bool) -> dict:
    """The subgroup's difference, smallest detectable fall and what the verdict rules allow."""
    n1, x1, n0, x0 = (int(row[c]) for c in COUNTS)
    if withheld or min(n1, n0) == 0:
        # a difference computed from a withheld count would give it back
        return {
            "subgroup": row["subgroup"],
            "difference": "withheld",
            "mde": np.nan,
            "rules": "not shown: too few people",
        }
    meas = ek.Measure.rate_difference(x1, n1, x0, n0, outcome=cfg.primary.outcome)
    judged = judge_measure(
        meas,
        design=cfg.design.kind,
        diagnostics=ek.Diagnostics(
            n_programme=n1, programme_events=x1, min_expected=float(min(x1, n1 - x1))
        ),
    )
    rules = judged.conclusion
    if rules == "not assessable":
        rules += (
            f": fewer than {MIN_PROGRAMME} participants"
            if n1 < MIN_PROGRAMME
            else f": fewer than {MIN_EVENTS} reoffenders"
            if x1 < MIN_EVENTS
            else ""
        )
    detectable = float(ek.mde_two_proportions(x0 / n0, n1, n0))
    return {
        "subgroup": row["subgroup"],
        "difference": f"{per100(meas.estimate)} ({range_words(meas.lower, meas.upper)})",
        "mde": 100 * (x0 / n0 - detectable),
        "rules": rules,
    }


sub_tables = {k: partition_table(parts) for k, parts in PARTITIONS.items()}
sub_estimates = []
for t in sub_tables.values():
    shown = rp.protect_table(
        t, counts=COUNTS, total_row=t.index[-1], disclosure=SDC, **SUB_RELATIONS
    )
    hidden = shown.withheld.any(axis=1)
    sub_estimates += [subgroup_estimate(t.loc[i], bool(hidden[i])) for i in t.index[:-1]]
sub_estimates = pd.DataFrame(sub_estimates)
WITHHELD_SUBGROUPS = list(sub_estimates.loc[sub_estimates["difference"] == "withheld", "subgroup"])

# %% [markdown]
# ## The published claim

# %%
rp.show(
    rp.markdown(f"> “{P('claim')}”\n>\n> — {P('claim_source')}"),
    rp.paragraph(
        f"The figure: **more than {fmt_percent(float(P('claim_figure')), 0)}** (“over half”) of "
        f"people released from prison, reoffending within "
        f"{int(P('claim_horizon_days')) // 365 * 12} months. It describes the problem Restart "
        "was set up to address, not what Restart achieved; this report asks what the pilot's "
        "data can show about that."
    ),
    rp.headline(verdict, synthetic=cfg.synthetic),
    rp.scheme_summary(
        cfg,
        verdict,
        question=(
            "Did people referred to Restart during the 12-month pilot have less proven "
            "reoffending within a year of release than similar people released at the same time "
            "who were not referred?"
        ),
        sample=(
            f"{SDC.count(len(data))} people released: {SDC.count(len(before))} in the year "
            f"before the pilot and {SDC.count(len(pilot))} during it, of whom "
            f"{SDC.count(N_PILOT_REFERRED)} were referred to Restart; {SDC.count(n_prog)} "
            f"participants matched with {SDC.count(n_comp)} comparison people."
        ),
        effect=(
            f"{primary.words()}; hazard ratio of a first proven reoffence "
            f"{fmt_ratio_range(HR, HR_LOWER, HR_UPPER)}."
        ),
        caveats=[
            "People were referred, not assigned at random: matching balances the recorded "
            "characteristics, never motivation or support outside Restart.",
            "One pilot year: the smallest fall it could reliably detect is about "
            f"{100 * plan.absolute_reduction:.0f} percentage points (see below), so a modest "
            "real effect could be missed, and a large estimate is likely to overstate it.",
            "Subgroups (women, short sentences) are secondary and smaller still: read their "
            "ranges, not their point estimates.",
            "Proven reoffending counts only offences that were detected and proven.",
        ],
    ),
)

# %% [markdown]
# ## What the claim can and cannot show
#
# A figure for everyone released describes a problem; it has no comparison, so it cannot show
# what a scheme changed. evalkit's claim checker (`evalkit.claims.check_claim`) says what such a
# figure supports:

# %%
rp.show(
    rp.claim_findings(claim, parts=("cannot_support", "biases")),
    rp.paragraph(
        f"In the data, {SDC.count(x_before)} of the {SDC.count(n_before)} people released in "
        f"the year before the pilot ({fmt_percent(x_before / n_before)}; 95% confidence interval "
        f"{fmt_percent(before_ci.lower)} to {fmt_percent(before_ci.upper)}) had a proven "
        f"reoffence within a year. The claim says over half; nationally the figure is about "
        f"{fmt_percent(BASE_RATE, 0)} ({BASE_SOURCE})."
    ),
    rp.paragraph(claim.design),
)

# %% [markdown]
# ## Restart participants against a matched comparison
#
# Each person referred to Restart during the pilot was paired with one person released in the
# same year who was not referred and who was as similar as possible on the characteristics
# recorded before release (the same sex and sentence band, then the nearest propensity score).
# The primary measure, fixed before the results were seen, is the difference in the proportion
# with a proven reoffence within 12 months (plus six months for it to be proven).

# %%
bal = balance[balance["smd_after"].notna()].copy()
bal["label"] = [rp.term_label(k) for k in bal.index]
bal = bal[["label", "smd_before", "smd_after"]].sort_values("smd_before", key=abs, ascending=False)
unmatched = N_PILOT_REFERRED - n_prog
rp.show(
    rp.reoffending_table(
        {ARM[PROGRAMME]: (n_prog, x_prog), ARM[COMPARISON]: (n_comp, x_comp)},
        caption="People with a proven reoffence within 12 months of release, matched groups",
        disclosure=SDC,
    ),
    rp.paragraph(
        f"Participants minus their matched comparison: **{primary.words()}** (cluster-robust "
        f"standard error by matched pair; {p_text(primary.p)}). "
        + (
            f"Referred people left out because no comparison person was close enough: "
            f"{SDC.count(unmatched)}."
            if unmatched
            else "Every referred person found a comparison person within the caliper."
        )
    ),
    rp.table(
        bal,
        caption="Balance: standardised differences between the groups before and after matching",
        labels=LABELS,
        formats={"smd_before": "{:.3f}", "smd_after": "{:.3f}"},
        notes=["A standardised difference below 0.1 in absolute value is taken as balanced."],
        disclosure=SDC,
    ),
)

# %% [markdown]
# ## Time to first proven reoffence
#
# The curves show the share of each matched group not yet proven to have reoffended, day by
# day after release. A hazard ratio summarises the gap over the year; the restricted mean gives
# it in days.

# %%
rp.show(
    rp.km_figure(
        km,
        caption=(
            "Share without a proven reoffence by days since release, matched groups, with 95% "
            "confidence bands and the number still at risk."
        ),
        labels=ARM,
        risk_times=[0, 91, 182, 273, FOLLOW_UP],
        xlabel="Days since release",
        ylabel="Share without a proven reoffence",
        disclosure=SDC,
    ),
    rp.paragraph(
        f"Hazard ratio of a first proven reoffence, participants against the matched comparison: "
        f"{fmt_ratio_range(HR, HR_LOWER, HR_UPPER)} (Cox model, standard "
        f"errors robust to the pairing; {p_text(hr['p'])}). Over the first {TAU:g} days, "
        f"participants spent on average {secondary[1].words()} without a proven reoffence."
    ),
)

# %% [markdown]
# ## Time at liberty after re-imprisonment
#
# People released from prison are often recalled or sentenced again, and cannot reoffend in the
# community while in custody. Counting calendar days, as the Ministry of Justice measure does,
# treats those days as time at risk. Removing them (time at liberty) asks whether a difference
# between the groups could come from time spent back in custody.

# %%
custody = (
    matched.assign(
        any_custody=(matched["days_in_custody"] > 0).astype(int),
        custody_first=(matched["time_free"] < matched["time"]).astype(int),
    )
    .groupby("group")
    .agg(
        people=("person_id", "size"),
        any_custody=("any_custody", "sum"),
        custody_first=("custody_first", "sum"),
        mean_days=("days_in_custody", "mean"),
    )
    .reindex([PROGRAMME, COMPARISON])
    .reset_index()
)
custody["group"] = custody["group"].map(ARM)
clock = pd.DataFrame(
    {
        "time": ["Calendar days since release", "Days at liberty (custody removed)"],
        "hr": [hr["hr"], hr_free["hr"]],
        "lower": [hr["hr_lower"], hr_free["hr_lower"]],
        "upper": [hr["hr_upper"], hr_free["hr_upper"]],
        "p": [hr["p"], hr_free["p"]],
    }
)
ratio_fmt = {c: (lambda v: fmt_number(v, 3, null=1.0)) for c in ("hr", "lower", "upper")}
rp.show(
    rp.table(
        custody,
        caption="Custody during the year after release, matched groups",
        labels=LABELS,
        complements={"any_custody": "people", "custody_first": "people"},
        formats={"mean_days": "{:.1f}"},
        disclosure=SDC,
    ),
    rp.table(
        clock,
        caption="Hazard ratio of a first proven reoffence, participants against matched comparison",
        labels=LABELS,
        formats={**ratio_fmt, "p": fmt_p},
        disclosure=SDC,
    ),
    rp.paragraph(
        "Only time in custody before a person's first proven reoffence changes their time at "
        "liberty (custody after it follows the reoffence). If the two hazard ratios are close, "
        "time back in custody does not explain the difference between the groups; a gap "
        "between them would mean that one group spent more of the year where it could not "
        "reoffend."
    ),
)

# %% [markdown]
# ## Before and after the pilot, adjusted for case mix
#
# The Ministry of Justice compares a local cohort with the rate expected for it: a model of
# reoffending fitted on a baseline year predicts what the later cohort's rate would have been,
# given who they were. Here the baseline is everyone released in the year before the pilot; the
# later cohort is everyone released during it (whether referred or not), and then Restart
# participants alone.

# %%
ROWS = {
    "observed": "Observed rate",
    "expected": "Expected rate, from the year before",
    "adjusted difference": "Observed minus expected",
    "unadjusted difference": "Change from the year before, unadjusted",
    "difference in differences": "Change against the comparison population",
}


def before_after_rows(res, who: str) -> pd.DataFrame:
    t = res.to_frame()
    t = t[t["measure"].isin(ROWS)].copy()
    t["cohort"] = who
    t["measure"] = t["measure"].map(ROWS)
    for c in ("estimate", "lower", "upper"):
        t[c] = 100 * t[c]
    return t[["cohort", "measure", "estimate", "lower", "upper"]]


ba = pd.concat(
    [
        before_after_rows(ba_all, "Everyone released in the pilot year"),
        before_after_rows(ba_prog, "Restart participants"),
    ],
    ignore_index=True,
)
adj_all, adj_prog = ba_all.row("adjusted difference"), ba_prog.row("adjusted difference")
rp.show(
    rp.table(
        ba,
        caption="Proven reoffending within 12 months: observed against expected (per 100 people)",
        labels=LABELS,
        formats={"estimate": "{:.1f}", "lower": "{:.1f}", "upper": "{:.1f}"},
        disclosure=SDC,
    ),
    rp.paragraph(
        f"For everyone released during the pilot, the observed rate minus the rate expected from "
        f"the year before is {per100(adj_all['estimate'])} per 100 people "
        f"({range_words(adj_all['lower'], adj_all['upper'])}); for Restart participants it is "
        f"{per100(adj_prog['estimate'])} per 100 "
        f"({range_words(adj_prog['lower'], adj_prog['upper'])}). "
        "The intervals include the uncertainty of the model. A before-and-after comparison "
        "(level 2 of 5 on the Maryland scale) attributes to the pilot anything else that "
        "changed between the two years, such as policing, courts or a national trend; with only "
        "a fifth of the pilot year's leavers referred, an effect on participants is also diluted "
        "across the whole cohort."
    ),
)

# %% [markdown]
# ## Subgroups: women and people serving short sentences
#
# The scheme named these groups. They were fixed in the configuration before the results were
# seen and are **secondary**: the headline rests on everyone. Each subgroup has fewer people, so
# its range is wider, and with several subgroups one can stand out by chance.

# %%
rp.show(
    *[
        rp.table(
            t[["subgroup", "n1", "x1", "p1", "n0", "x0", "p0"]],
            caption=f"Proven reoffending within 12 months by {what}, matched pairs",
            labels=LABELS,
            total_row=t.index[-1],
            formats={"p1": "{:.1f}%", "p0": "{:.1f}%"},
            disclosure=SDC,
            **SUB_RELATIONS,
        )
        for what, t in zip(("sex", "sentence band"), sub_tables.values(), strict=True)
    ],
    rp.table(
        sub_estimates,
        caption="Subgroups: difference, participants minus matched comparison",
        labels=LABELS,
        formats={"mde": "{:.0f}"},
        notes=[
            "Smallest detectable fall: the fall from the comparison group's rate that a "
            "comparison of this size would detect with 80% power (two-sided 5%).",
            "What the rules allow: evalkit's verdict rules applied to the subgroup alone; "
            "'not assessable' below 60 participants or 30 reoffenders (the Justice Data Lab's "
            "minimums).",
        ],
        disclosure=SDC,
    ),
    rp.paragraph(
        f"Withheld: {', '.join(g.lower() for g in WITHHELD_SUBGROUPS)}. A subgroup, or the "
        "rest of its partition, is too small to show: its counts, with the totals published "
        "above, would reveal a handful of people."
        if WITHHELD_SUBGROUPS
        else "Every subgroup is large enough to show."
    ),
    rp.paragraph(
        "A subgroup whose range includes no difference is not evidence that Restart does not "
        "work for that group: its smallest detectable fall is often larger than the effect a "
        "resettlement scheme could plausibly have. A subgroup whose range excludes no "
        "difference may be one of several comparisons standing out by chance. Differences "
        "between subgroups are not tested here; no subgroup result should be quoted without "
        "its range."
    ),
)

# %% [markdown]
# ## How large an effect could a 12-month pilot of this size detect?

# %%
rp.show(
    rp.paragraph(
        f"The pilot referred {SDC.count(N_PILOT_REFERRED)} people in "
        f"{int(P('pilot_months'))} months. With as many matched comparison people, and "
        f"reoffending at the national rate for short custodial sentences "
        f"({fmt_percent(BASE_RATE, 0)}), a pilot of this size would detect a fall to "
        f"{fmt_percent(plan.detectable_rate)} or lower with {float(P('power')):.0%} power (a "
        f"two-sided test at the {float(P('alpha')):.0%} level): a fall of at least "
        f"**{100 * plan.absolute_reduction:.1f} percentage points**, "
        f"{plan.relative_reduction:.0%} of the baseline rate. Most Justice Data Lab results for "
        "services like this are inconclusive, and falls that large are rare; a smaller real "
        "effect could easily be missed, so an interval that includes no difference would not "
        "show that Restart does not work."
    ),
    rp.paragraph(
        "To detect a fall of 5 percentage points with the same power would need about "
        f"{SDC.count(int(np.ceil(ek.n_two_proportions(BASE_RATE - 0.05, BASE_RATE))))} "
        "participants and as many comparison people: several years of referrals at the pilot's "
        "rate, or a pilot across more areas."
    ),
)

# %% [markdown]
# ## What this evaluation can and cannot show
#
# **It can show** how proven reoffending of people referred to Restart compared with that of
# similar people released at the same time who were not referred, on the characteristics
# recorded before release, and how precisely a pilot of this size can tell.
#
# **It cannot show**
#
# - *that Restart caused a difference*: people were referred, not randomised; matching cannot
#   balance what was not recorded (motivation, housing offered outside Restart, family support);
# - *a small effect*: the smallest fall the pilot can reliably detect is large (above);
# - *subgroup effects* with useful precision;
# - *offending that was not detected or proven*, or effects after the first year.
#
# The headline and its strength come from evalkit's verdict rules (`evalkit.verdict`) applied
# to the primary measure fixed in `[primary]` of `restart.toml` before the results were seen.
#
# ## Methods
#
# - **Proven reoffending** as the Ministry of Justice measures it (`evalkit.proven_reoffending`):
#   an offence within 12 months of release, proven by a caution or conviction within that year
#   or a further six months; deaths censor follow-up.
# - **Matched comparison**: greedy 1:1 nearest-neighbour matching without replacement on the
#   logit of the propensity score (logistic model of referral on the characteristics in the
#   configuration), within 0.2 standard deviations, exactly on sex and sentence band (Austin
#   2011); balance by standardised differences (below 0.1 taken as balanced).
# - **Rate difference** by weighted least squares on the matched sample with standard errors
#   clustered by matched pair (Abadie and Spiess 2022), as `evalkit.matched_rate_difference`.
#   evalkit's methods validation report checks its bias and the coverage of its interval by
#   simulation against a known truth.
# - **Time to first proven reoffence**: Kaplan–Meier curves, a Cox model with standard errors
#   robust to the pairing, and the restricted mean over the first year (Royston and Parmar
#   2013); repeated with days in custody removed (`at_risk="free"`).
# - **Before and after**: `evalkit.cohort_comparison.compare_cohorts`, a logistic model fitted
#   on the year before predicts each later person's probability; observed minus expected with a
#   delta-method interval that includes the model's uncertainty (Flanders and Rhodes 1987).
# - **Subgroups**: Newcombe's hybrid score interval for the difference within matched pairs of
#   the subgroup (ignoring the pairing, which makes it slightly wide), and the smallest
#   detectable fall (Fleiss, Levin and Paik 2003).
# - **Minimum detectable effect**: two proportions, 80% power, two-sided 5% (Fleiss, Levin and
#   Paik 2003), at the national proven reoffending rate for custodial sentences under 12 months.
#
# **Running this report on real data.** Copy `analyses/restart.toml`, point `[data]` at the
# people, offences, custody and deaths files of the extract (CSV, CSV.gz, parquet or Excel),
# say in `[reader]` how they are written (for UK exports: `date_format = "%d/%m/%Y"` and a
# `columns` mapping of the file's headers), set `synthetic = false` and `data_date`, and run
# `evalkit build restart --config YOUR.toml --out FOLDER`. No code changes are needed.
#
# **References.** Abadie, A. and Spiess, J. (2022), *JASA* 117, 983–995. Austin, P.C. (2011),
# *Multivariate Behavioral Research* 46, 399–424. Fleiss, J.L., Levin, B. and Paik, M.C.
# (2003), *Statistical Methods for Rates and Proportions*, Wiley. Flanders, W.D. and Rhodes,
# P.H. (1987), *J. Chronic Dis.* 40, 697–704. Ministry of Justice (2019), *Guide to Proven
# Reoffending Statistics*. Royston, P. and Parmar, M.K.B. (2013), *BMC Med. Res. Methodol.* 13,
# 152. Sherman, L.W. et al. (1997), *Preventing Crime* (the Maryland Scientific Methods Scale).
