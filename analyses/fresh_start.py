# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %%
# Setup: configuration, input tables, the proven-reoffending cohort and the matched comparison.
# Everything below is computed from the files named in fresh_start.toml and its parameters;
# the claim, the cost and the design are set there, never typed in here.
import numpy as np
import pandas as pd

import evalkit as ek
from evalkit import report as rp
from evalkit.claims import check_claim
from evalkit.economics import unit_costs, value_for_money
from evalkit.wording import fmt_number, fmt_percent, fmt_ratio_range, p_text

cfg = rp.load_config("fresh_start")
SDC = cfg.disclosure
PROGRAMME, COMPARISON = cfg.param("programme"), cfg.param("comparison")
COVARIATES = list(cfg.param("covariates"))
CALIPER = float(cfg.param("caliper"))
FOLLOW_UP, WAITING = int(cfg.param("follow_up_days")), int(cfg.param("waiting_days"))
CLAIM, CLAIM_COUNT = str(cfg.param("claim")), int(cfg.param("claim_count"))
OFFENCE, INFLATION = cfg.param("offence"), float(cfg.param("inflation"))
TARGET, POWER, ALPHA = (float(cfg.param(k)) for k in ("target_reduction", "power", "alpha"))
ALLOCATIONS = [float(a) for a in cfg.param("allocations")]
ARMS = {PROGRAMME: "Referred to Fresh Start", COMPARISON: "Matched comparison"}


def money(amount: float, decimals: int = 0) -> str:
    """Pounds, with the sign in front: ``−£14,895``."""
    sign = "\u2212\u2060" if amount < 0 else ""  # minus and a word joiner: no line break
    return f"{sign}£{abs(amount):,.{decimals}f}"


tables = rp.read_cohort_tables(cfg)
tables["people"]["group"] = tables["people"]["group"].astype("string")
cohort = rp.reoffending_cohort(cfg, tables, follow_up_days=FOLLOW_UP, waiting_days=WAITING)
data = cohort.data
found = set(data["group"].astype("string").unique())
if found != {PROGRAMME, COMPARISON}:
    raise ek.InputError(
        "group",
        f"must hold exactly the labels {PROGRAMME!r} and {COMPARISON!r} set in [parameters] "
        f"(found {len(found)} label(s))",
        table="people",
    )

engagement = cfg.read("engagement")
for column in ("person_id", "engagement_start", "maintaining_abstinence"):
    if column not in engagement.columns:
        raise ek.InputError(column, "is missing (see [data] engagement)", table="engagement")
engaged_ids = set(engagement.loc[engagement["engagement_start"].notna(), "person_id"])
abstinent = engagement["maintaining_abstinence"].astype("string").str.strip().str.lower() == "yes"
abstinent_ids = set(engagement.loc[abstinent.fillna(False).to_numpy(dtype=bool), "person_id"])
N_ENGAGED, N_ABSTINENT = len(engaged_ids), len(abstinent_ids)

mc = rp.matched_comparison(data, treated=PROGRAMME, covariates=COVARIATES, caliper=CALIPER)
m, analysed = mc.match, mc.data
in_prog = data["group"] == PROGRAMME
N_REFERRED = int(in_prog.sum())
# people referred a year: the extract's referrals over the calendar months it spans
dates = pd.to_datetime(data.loc[in_prog, "index_date"])
MONTHS = (dates.max().year - dates.min().year) * 12 + dates.max().month - dates.min().month + 1
PER_YEAR = round(N_REFERRED * 12 / MONTHS)

# %%
# The primary comparison, fixed in [primary] and [design] before the results were seen: the
# one-year proven reoffending rate of everyone referred (intention to treat) minus that of the
# matched comparison group, with errors clustered on matched pairs (Justice Data Lab method).
res = mc.outcomes()
(N_PROG, X_PROG), (N_COMP, X_COMP) = mc.counts().values()
RATE_COMP = float(res.table.iloc[0]["comparison"])
primary = mc.rate_measure(res, outcome="", disclosure=SDC)
hr = mc.hazard_ratio()
HR_TEXT = fmt_ratio_range(hr["hr"], hr["hr_lower"], hr["hr_upper"])
secondary = [rp.hazard_ratio_measure(hr)]
diagnostics = mc.diagnostics()
verdict = rp.judge(
    cfg,
    primary,
    secondary=secondary,
    diagnostics=diagnostics,
    subject="referral to Fresh Start",
    groups=("people referred to Fresh Start", "the matched comparison group"),
)

# the published count, checked by evalkit's claim rules; the baseline for the design it
# recommends is the matched comparison group's rate, and the scheme's size its referrals a year
claim = check_claim(
    CLAIM,
    CLAIM_COUNT,
    kind="count",
    counted=cfg.param("claim_counted"),
    outcome=cfg.param("claim_outcome"),
    reoffending=False,
    baseline=RATE_COMP,
    scheme_size=PER_YEAR,
)

# value for money: the cost per person referred and per outcome claimed, the offences that must
# be prevented to repay it, and (from the matched difference) the net benefit with its range
reoffenders = analysed[(analysed["group"] == COMPARISON) & (analysed["reoffended"] == 1)]
PER_REOFFENDER = float(reoffenders["n_reoffences"].mean())
vfm = (
    value_for_money(
        cfg.cost.total,
        participants=N_REFERRED,
        outcomes=CLAIM_COUNT,
        effect=primary,
        offence=OFFENCE,
        offences_per_reoffender=PER_REOFFENDER,
        inflation=INFLATION,
    )
    if cfg.cost is not None
    else None
)
PRICE_YEAR = unit_costs().set_index("offence").loc[OFFENCE, "price_year"]

# %%
rp.show(
    *rp.opening(
        cfg,
        verdict,
        note=f"A count of {CLAIM_COUNT} successes: no denominator, no comparison group, no "
        "reoffending outcome.",
    )
)

# %%
MDE = claim.mde
rp.scheme_summary(
    cfg,
    verdict,
    question=(
        "Did people referred to Fresh Start commit fewer proven reoffences in the following "
        "year than similar people who were not referred?"
    ),
    sample=(
        f"{SDC.count(N_PROG)} people referred and {SDC.count(N_COMP)} matched comparison "
        f"people; of those referred, {SDC.count(N_ENGAGED)} engaged and "
        f"{SDC.count(N_ABSTINENT)} were recorded as maintaining abstinence."
    ),
    effect=f"{primary.words()}; hazard ratio {HR_TEXT}.",
    caveats=[
        "The published figure counts people maintaining abstinence: it says nothing by "
        "itself about reoffending, and has no denominator or comparison group.",
        "A matched comparison balances only what was recorded; people referred may differ "
        "in motivation, support or the severity of their drug or alcohol use.",
        f"At this size the comparison would detect a fall of about {fmt_number(MDE, 1)} "
        "percentage points or more (80% power); a smaller real effect could easily be missed."
        if MDE is not None
        else "The smallest effect this comparison could detect is not known.",
    ],
)

# %% [markdown]
# ## The scheme and its claim
#
# Fresh Start is run by Dear Albert with two grants from the Police and Crime Commissioner's
# Safety Fund. *Fresh Start Through the Gate* offers people leaving prison, and others
# recovering from drug and alcohol use, peer-led support, a buddy system and one-to-one therapy;
# *Fresh Start Recovery* offers people in the criminal justice system weekly groups, one-to-one
# support and counselling, text-message reminders and peer recovery workers.
#
# The published figure counts successes among people who took part. It does not say how many
# started, how long abstinence lasted, or whether the people counted reoffended — and it has no
# comparison with similar people who were not in the scheme.
#
# ## What the count can and cannot show
#
# The table shows the share of starters the count would be, and its 95% confidence interval,
# for a range of plausible numbers of starters.

# %%
rp.show(
    rp.claim_intervals(
        claim,
        caption=f"The published {CLAIM_COUNT} as a share of people who started, for plausible "
        "numbers of starters (Wilson 95% intervals)",
        labels={
            "denominator": "If this many started",
            "estimate": "Share maintaining abstinence",
            "range": "95% confidence interval",
        },
        range_text=lambda lo, hi: f"{fmt_percent(lo, 0)} to {fmt_percent(hi, 0)}",
        disclosure=SDC,
    ),
    rp.claim_findings(claim, parts=("supports", "cannot_support", "biases")),
    rp.paragraph(
        f"In this extract, {SDC.count(N_REFERRED)} people were referred, "
        f"{SDC.count(N_ENGAGED)} of them engaged and {SDC.count(N_ABSTINENT)} were recorded "
        f"as maintaining abstinence (the published figure is {CLAIM_COUNT})."
    ),
)

# %% [markdown]
# ## What reoffending would be expected for similar people
#
# Everyone referred is compared with people who were not referred but resembled them before
# referral, whether or not they went on to engage (intention to treat): the comparison group's
# reoffending is what would be expected for similar people. The outcome is proven reoffending as
# the Ministry of Justice measures it — an offence committed within a year and proven by a
# caution or conviction within a further six months.

# %%
bal = m.balance().drop(index="distance")
bal = bal.reset_index()[["covariate", "smd_before", "smd_after"]]
bal["covariate"] = bal["covariate"].map(rp.term_label)
rp.show(
    # exclusion steps that removed nobody are left out (a zero would be withheld, and the
    # totals with it); the table still adds up
    rp.people_flow(cohort, disclosure=SDC, drop_empty=True),
    rp.paragraph(
        f"{SDC.count(N_REFERRED)} people referred were matched one to one with "
        f"{SDC.count(N_COMP)} people who were not, out of "
        f"{SDC.count(int((~in_prog).sum()))} available. After matching, the largest "
        "standardised difference in a recorded characteristic is "
        f"{fmt_number(abs(diagnostics.max_smd_after or 0.0), 2)} "
        f"({diagnostics.worst_covariate}); 0.1 or less is taken as balanced."
    ),
    rp.table(
        bal,
        caption="Balance: standardised differences between the groups before and after matching",
        labels={"covariate": "Characteristic", "smd_before": "Before", "smd_after": "After"},
        formats={"smd_before": "{:.2f}", "smd_after": "{:.2f}"},
        disclosure=SDC,
    ),
)

# %%
km = ek.kaplan_meier(analysed, time="time", event="event", by="group", weights="weight")
rp.show(
    rp.reoffending_table(
        {ARMS[PROGRAMME]: (N_PROG, X_PROG), ARMS[COMPARISON]: (N_COMP, X_COMP)},
        caption="People with a proven reoffence within a year (everyone referred, and the "
        "matched comparison group)",
        labels={"percent": "Per cent"},
        disclosure=SDC,
    ),
    rp.paragraph(
        f"The difference, referred minus matched comparison, is {primary.words()} "
        f"({p_text(primary.p)}; errors clustered on matched pairs). Over the whole year the "
        "hazard ratio of a first proven reoffence is "
        f"{HR_TEXT} ({p_text(hr['p'])})."
    ),
    rp.km_figure(
        km,
        caption="Proportion without a proven reoffence, by days since the index date: everyone "
        "referred and the matched comparison group, with 95% confidence bands.",
        labels=ARMS,
        risk_times=[0, 91, 182, 273, FOLLOW_UP],
        xlabel="Days since the index date",
        ylabel="Proportion without a proven reoffence",
        disclosure=SDC,
    ),
)

# %% [markdown]
# ### Why "of those engaged" is the wrong comparison
#
# The people who engaged, and those maintaining abstinence, are selected: someone who reoffends
# or returns to custody soon after referral cannot engage, and those who engage tend to be more
# motivated and stable. Their reoffending is shown for completeness; the differences between
# these rows are not effects of the scheme.

# %%
referred = data[in_prog]
subsets = {
    "Everyone referred": referred,
    "Engaged": referred[referred["person_id"].isin(engaged_ids)],
    "Maintaining abstinence": referred[referred["person_id"].isin(abstinent_ids)],
    "Never engaged": referred[~referred["person_id"].isin(engaged_ids)],
}
rp.show(
    rp.reoffending_table(
        {k: (len(v), int(v["reoffended"].sum())) for k, v in subsets.items()},
        caption="Proven reoffending within a year among people referred, by engagement "
        "(selected groups: not effects)",
        labels={"percent": "Per cent"},
        disclosure=SDC,
    )
)

# %% [markdown]
# ## Cost per participant and per outcome

# %%
if vfm is None:
    rp.show(rp.paragraph("The cost of the scheme is not in the configuration ([cost])."))
else:
    per_engaged = value_for_money(cfg.cost.total, participants=max(N_ENGAGED, 1), offence=OFFENCE)
    prevented = vfm.prevented
    priced = f"{OFFENCE}, Home Office, {PRICE_YEAR} prices" + (
        f" × {INFLATION:g}" if INFLATION != 1 else ""
    )
    money_rows = [
        ("Cost (the two grants)", money(vfm.cost), ""),
        ("Cost per person referred", money(vfm.cost_per_participant, 2), ""),
        ("Cost per person who engaged", money(per_engaged.cost_per_participant, 2), ""),
        (
            f"Cost per person maintaining abstinence (the published {CLAIM_COUNT})",
            money(vfm.cost_per_outcome, 2) if vfm.cost_per_outcome is not None else "–",
            "",
        ),
        (f"Cost of one offence ({priced})", money(vfm.unit_cost), ""),
        ("Offences to prevent to break even", fmt_number(vfm.break_even_offences, 1), ""),
        (
            "The same as fewer reoffenders per 100 people referred",
            fmt_number(-100 * vfm.break_even_difference, 2),
            "",
        ),
    ]
    if prevented is not None and vfm.net_benefit is not None:
        money_rows += [
            (
                "Offences prevented, from the matched difference",
                fmt_number(prevented.estimate, 0),
                f"{fmt_number(prevented.lower, 0)} to {fmt_number(prevented.upper, 0)}",
            ),
            (
                "Net benefit (value of offences prevented minus cost)",
                money(vfm.net_benefit),
                f"{money(vfm.net_lower or 0.0)} to {money(vfm.net_upper or 0.0)}",
            ),
            ("Probability of breaking even", fmt_percent(vfm.p_break_even or 0.0, 0), ""),
        ]
    rp.show(
        rp.table(
            pd.DataFrame(money_rows, columns=["measure", "value", "range"]),
            caption="Fresh Start: cost per participant and per outcome, and break-even",
            labels={"measure": "Measure", "value": "Value", "range": "95% range"},
            disclosure=SDC,
        ),
        rp.paragraph(
            f"An avoided offence is priced as {OFFENCE} at {money(vfm.unit_cost)} "
            f"(Home Office economic and social cost of crime, {PRICE_YEAR} prices"
            + (f", multiplied by {INFLATION:g}" if INFLATION != 1 else "")
            + "), and each reoffender in the matched comparison group committed "
            f"{fmt_number(PER_REOFFENDER, 1)} proven reoffences on average. The net benefit "
            "rests on the matched difference, with its range: it can be no firmer than that "
            "comparison."
        ),
    )

# %% [markdown]
# ## The design and sample size that would show an effect
#
# The question — did Fresh Start reduce reoffending? — needs everyone referred compared with a
# matched comparison group on proven reoffending, as above, with enough people to detect a
# realistic effect.

# %%
alloc = np.asarray(ALLOCATIONS, dtype=float)
detectable = np.asarray(
    ek.mde_two_proportions(RATE_COMP, PER_YEAR, alloc * PER_YEAR, power=POWER, alpha=ALPHA)
)
needed = np.asarray(
    ek.n_two_proportions(RATE_COMP - TARGET, RATE_COMP, power=POWER, alpha=ALPHA, allocation=alloc)
)
break_even_sentence = ""
if vfm is not None and 0 < -vfm.break_even_difference < RATE_COMP:
    fall = -vfm.break_even_difference
    n_even = float(
        ek.n_two_proportions(RATE_COMP - fall, RATE_COMP, power=POWER, alpha=ALPHA, allocation=1)
    )
    break_even_sentence = (
        f" To detect a fall as small as the one that would repay the cost "
        f"({fmt_number(100 * fall, 2)} fewer reoffenders per 100 people referred), a one-to-one "
        f"comparison would need about {n_even:,.0f} people referred: "
        f"{fmt_number(n_even / PER_YEAR, 0)} years of referrals at the current rate."
    )
design_rows = pd.DataFrame(
    {
        "allocation": alloc,
        "detectable": 100 * (RATE_COMP - detectable),
        "needed": np.ceil(needed),
        "years": needed / PER_YEAR,
    }
)
rp.show(
    rp.table(
        design_rows,
        caption=f"What a matched comparison could detect with {SDC.count(PER_YEAR)} people "
        "referred a "
        f"year, and the people needed to detect a fall of {100 * TARGET:g} percentage points",
        labels={
            "allocation": "Comparison people per person referred",
            "detectable": "Smallest detectable fall in a year (points)",
            "needed": f"People referred needed for a {100 * TARGET:g}-point fall",
            "years": "Years of referrals",
        },
        formats={
            "allocation": "{:g}",
            "detectable": "{:.1f}",
            "needed": "{:,.0f}",
            "years": "{:.1f}",
        },
        not_counts=["needed"],
        disclosure=SDC,
    ),
    rp.paragraph(claim.design),
    rp.paragraph(
        f"The calculation assumes a baseline of {fmt_percent(RATE_COMP)} reoffending (the "
        f"matched comparison group), {POWER:.0%} power and a two-sided test at the {ALPHA:.0%} "
        "level (Fleiss, Levin and Paik 2003)." + break_even_sentence
    ),
)

# %% [markdown]
# ## What this report can and cannot show
#
# **It can show** how the published count depends on the number of people who started, what
# proven reoffending was among everyone referred and among similar people who were not, what the
# scheme cost per person and per outcome, and how large an evaluation must be to detect an
# effect of a given size.
#
# **It cannot show**
#
# - *that Fresh Start caused any difference*: people were not referred at random, and a matched
#   comparison balances only what was recorded (Maryland Scientific Methods Scale level 3 at
#   best);
# - *whether abstinence lasted, or was verified*: the engagement records say only who was
#   recorded as maintaining abstinence;
# - *offending that was not detected or proven*, or effects beyond one year.
#
# **Synthetic data.** The extract shipped with evalkit is synthetic: it was made by
# `evalkit.datasets.simulate_scheme("fresh_start")` to be shaped like the scheme, and its numbers
# say nothing about the real Fresh Start. To run this report on a real extract, edit only
# `analyses/fresh_start.toml`: point `[data]` at the people, offences, custody, deaths and
# engagement files, say how they are written in `[reader]` (`date_format = "%d/%m/%Y"` and a
# `columns` mapping for a UK export), set `synthetic = false` and `data_date`, and run
# `evalkit build fresh_start`.
#
# ## Methods
#
# - **Claim check** (`evalkit.claims.check_claim`): Wilson score intervals for the count as a
#   share of plausible numbers of starters (Wilson 1927), and the biases a count of successes is
#   exposed to, by rule.
# - **Cohort**: proven reoffending as the Ministry of Justice measures it
#   (`evalkit.proven_reoffending`), deaths censoring follow-up.
# - **Matched comparison**: 1:1 nearest-neighbour matching without replacement on the logit of
#   the propensity score within 0.2 standard deviations (Austin 2011); balance by standardised
#   differences (Austin 2009). Everyone referred is analysed (intention to treat). The rate
#   difference and its interval come from weighted least squares with errors clustered on
#   matched pairs, as the Justice Data Lab does; the hazard ratio from a Cox model with the same
#   clustering. The headline, its strength and the evidence rating come from evalkit's verdict
#   rules (`evalkit.verdict`) applied to the measure and design fixed in the configuration.
# - **Value for money** (`evalkit.economics.value_for_money`): costs per person and per outcome;
#   break-even offences = cost / unit cost (Heeks et al. 2018); net benefit carrying the
#   effect's interval, and the probability of breaking even from the same normal approximation
#   (Drummond et al. 2015).
# - **Sample size**: Fleiss, Levin and Paik (2003), eq. 4.14 (`evalkit.mde_two_proportions`,
#   `evalkit.n_two_proportions`).
#
# **References.** Austin, P.C. (2009), *Statistics in Medicine* 28, 3083–3107. Austin, P.C.
# (2011), *Pharmaceutical Statistics* 10, 150–161. Drummond, M.F. et al. (2015), *Methods for
# the Economic Evaluation of Health Care Programmes*, 4th ed. Fleiss, J.L., Levin, B. and Paik,
# M.C. (2003), *Statistical Methods for Rates and Proportions*, 3rd ed. Heeks, M. et al. (2018),
# *The economic and social costs of crime*, Home Office Research Report 99. Ministry of Justice
# (2013), *Justice Data Lab: Methodology Paper*. Wilson, E.B. (1927), *JASA* 22, 209–212.
