# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# One or two sentences for the reader: what the scheme is, who it serves, and what this report
# asks. (Everything in a markdown cell appears in the report as written; sections start at
# "## ", because the title comes from the configuration.)

# %%
# HOW TO USE THIS TEMPLATE (code cells are not shown in the report; their outputs are).
#
# 1. `evalkit new my_scheme` copies this file and its TOML to analyses/my_scheme.{py,toml}.
# 2. Edit the TOML, not this script: title, data date, the four files in [data] and how they
#    are written ([reader]: column names, date format), the group labels and the covariates
#    to match on ([parameters]).
# 3. `evalkit build my_scheme` runs the script in a fresh kernel and writes reports/my_scheme.html.
#
# Rules the build enforces, so that reports are safe to publish:
# - only report fragments reach the page: rp.headline, rp.summary, rp.table, rp.figure,
#   rp.km_figure, rp.forest_figure, rp.paragraph, rp.markdown, and the ready-made sections
#   rp.reoffending_table and rp.people_flow (several at once: rp.show(...)); a print() or a
#   bare DataFrame or figure fails the build;
# - every count in rp.table passes disclosure control (integer columns are counts unless listed
#   in not_counts=); write counts in sentences with cfg.disclosure.count(n);
# - no person identifier from the input files may appear on the page;
# - everything comes from the data and the TOML: no dates from the clock, no unseeded randomness.
#
# The headline is not written here: rp.judge applies evalkit's verdict rules (evalkit.verdict)
# to the primary measure and the design fixed in the TOML, with the balance and numbers found.
# Text you add should say what the design can support: never "significant", and causal words
# only where the verdict uses them.
import evalkit as ek
from evalkit import report as rp
from evalkit.wording import p_text

cfg = rp.load_config("_template")
PROGRAMME, COMPARISON = cfg.param("programme"), cfg.param("comparison")
COVARIATES = list(cfg.param("covariates"))
FOLLOW_UP, WAITING = int(cfg.param("follow_up_days")), int(cfg.param("waiting_days"))
TAU = float(cfg.param("tau"))
SDC = cfg.disclosure

# the four tables, read with the [reader] options (column names, date format) of the TOML
tables = rp.read_cohort_tables(cfg)
cohort = rp.reoffending_cohort(cfg, tables, follow_up_days=FOLLOW_UP, waiting_days=WAITING)
data = cohort.data
labels = data["group"].astype("string")
unknown = sorted(set(labels.unique()) - {PROGRAMME, COMPARISON})
if unknown or not (labels == PROGRAMME).any() or not (labels == COMPARISON).any():
    raise ek.InputError(
        "group",
        f"must hold the labels {PROGRAMME!r} and {COMPARISON!r} set in [parameters] "
        f"(found {len(unknown)} other label(s))",
        table="people",
    )
data = data.assign(arm=labels.map({PROGRAMME: "Scheme", COMPARISON: "Comparison"}))
MATCHED = bool(COVARIATES)
if MATCHED != (cfg.design.kind == "matched"):
    raise ek.InputError(
        "kind",
        "in [design] must be 'matched' exactly when [parameters] lists covariates to match on",
        table=cfg.path.name,
    )
if MATCHED:
    # 1:1 nearest neighbour on the logit of the propensity score, within 0.2 standard deviations;
    # unmatched programme members are counted in the verdict's diagnostics
    mc = rp.matched_comparison(
        data, group="arm", treated="Scheme", covariates=COVARIATES, caliper=0.2
    )
    m, data = mc.match, mc.data

# %%
# Numbers: the proportion who reoffended, and time to first reoffence.
n = data.groupby("arm").size()
events = data.groupby("arm")["event"].sum()
primary = ek.Measure.rate_difference(
    int(events["Scheme"]),
    int(n["Scheme"]),
    int(events["Comparison"]),
    int(n["Comparison"]),
    outcome="proven reoffending",
)
km = ek.kaplan_meier(data, time="time", event="event", by="arm")
lr = ek.logrank(data, time="time", event="event", by="arm")
rmd = ek.rmst_difference(data, time="time", event="event", group="arm", treated="Scheme", tau=TAU)
secondary = [
    rp.rmst_measure(rmd, name="difference in days without a proven reoffence", unit="days")
]
if MATCHED:
    diagnostics = ek.Diagnostics.from_match(m, programme_events=int(events["Scheme"]))
else:
    diagnostics = ek.Diagnostics(
        n_programme=int(n["Scheme"]), programme_events=int(events["Scheme"])
    )
verdict = rp.judge(
    cfg,
    primary,
    secondary=secondary,
    diagnostics=diagnostics,
    groups=("the scheme group", "the comparison group"),
)
rp.headline(verdict, synthetic=cfg.synthetic)

# %%
rp.scheme_summary(
    cfg,
    verdict,
    question="Did people in the scheme commit fewer proven reoffences within a year?",
    sample=f"{SDC.count(int(n.sum()))} people: {SDC.count(int(n['Scheme']))} in the scheme.",
    effect=primary.words(),
    caveats=[
        "People were not assigned at random; a comparison balances at most what was recorded.",
        "Proven reoffending counts only offences that were detected and proven.",
    ],
)

# %% [markdown]
# ## Results

# %%
rp.show(
    rp.reoffending_table(
        {arm: (int(n[arm]), int(events[arm])) for arm in ("Scheme", "Comparison")},
        caption="People with a proven reoffence within a year, by group"
        + (" (matched)" if MATCHED else ""),
        disclosure=SDC,
    ),
    rp.km_figure(
        km,
        caption="Proportion without a proven reoffence by days since the index date, with 95% "
        "bands.",
        xlabel="Days since the index date",
        ylabel="Proportion without a proven reoffence",
        risk_times=[0, 91, 182, 273, FOLLOW_UP],
        disclosure=SDC,
    ),
    rp.paragraph(
        f"Log-rank test: chi-squared {lr.statistic:.2f} on {lr.df:.0f} df, "
        f"{p_text(lr.p)}. Over the first {TAU:g} days, the difference in the average "
        f"number of days without a proven reoffence (scheme minus comparison) is "
        f"{secondary[0].words()}."
    ),
)

# %% [markdown]
# ## Who was included

# %%
rp.show(rp.people_flow(cohort, disclosure=SDC))

# %% [markdown]
# ## Limitations
#
# Replace this with what the design cannot rule out (selection, other changes at the same time,
# small numbers), and how far the result generalises.
#
# ## Methods
#
# Proven reoffending as the Ministry of Justice measures it (`evalkit.proven_reoffending`): an
# offence in the follow-up year proven by a caution or conviction within a further waiting
# period. Proportions compared with Newcombe's hybrid score interval; time to first reoffence
# with Kaplan–Meier curves and the log-rank test; restricted mean survival time up to the
# horizon set in the configuration. With covariates listed, greedy 1:1 nearest-neighbour
# matching on the logit of the propensity score within 0.2 standard deviations (Austin 2011).
