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
# 2. Edit the TOML: title, data date, [data] paths, [parameters], evidence rating.
# 3. `evalkit build my_scheme` runs the script in a fresh kernel and writes reports/my_scheme.html.
#
# Rules the build enforces, so that reports are safe to publish:
# - only report fragments reach the page: rp.headline, rp.summary, rp.table, rp.figure,
#   rp.km_figure, rp.forest_figure, rp.paragraph, rp.markdown (several at once: rp.show(...));
#   a print() or a bare DataFrame or figure fails the build;
# - every count in rp.table passes disclosure control (integer columns are counts unless listed
#   in not_counts=); write counts in sentences with cfg.disclosure.count(n);
# - tables have captions, figures have alt text, there is exactly one rp.headline;
# - everything comes from the data and the TOML: no dates from the clock, no unseeded randomness.
#
# Wording: say what the design can support. Causal words ("reduced", "caused") only for
# randomised or strong designs (rating 4-5); otherwise "was lower among", "is associated with".
# Never "significant": give the estimate and its range, and call a result inconclusive when the
# range includes both benefit and harm.
import pandas as pd

import evalkit as ek
from evalkit import report as rp

cfg = rp.load_config("_template")
GROUP, TREATED = cfg.param("group"), cfg.param("treated")
TIME, EVENT, UNIT = cfg.param("time"), cfg.param("event"), cfg.param("time_unit")
TAU = float(cfg.param("tau"))
RATING = int(cfg.param("evidence_rating"))
SDC = cfg.disclosure

data = pd.read_csv(cfg.data_path("outcomes"))
missing = [c for c in (GROUP, TIME, EVENT) if c not in data.columns]
if missing:
    raise ek.InputError(missing[0], "is missing from the outcomes file", table="outcomes")
data["arm"] = (data[GROUP] == TREATED).map({True: "Scheme", False: "Comparison"})

# %%
# Numbers: the proportion who reoffended, and time to first reoffence.
n = data.groupby("arm").size()
events = data.groupby("arm")[EVENT].sum()
rd = ek.rate_difference(
    int(events["Scheme"]), int(n["Scheme"]), int(events["Comparison"]), int(n["Comparison"])
)
km = ek.kaplan_meier(data, time=TIME, event=EVENT, by="arm")
lr = ek.logrank(data, time=TIME, event=EVENT, by="arm")
rmd = ek.rmst_difference(data, time=TIME, event=EVENT, by="arm", tau=TAU, reference="Comparison")


def per100(x: float) -> str:
    return f"{abs(100 * x):.1f} {'fewer' if x < 0 else 'more'}"


if rd.upper < 0:
    finding = f"Reoffending was lower in the scheme group: {per100(rd.estimate)} per 100"
elif rd.lower > 0:
    finding = f"Reoffending was higher in the scheme group: {per100(rd.estimate)} per 100"
else:
    finding = f"Inconclusive: a difference of {per100(rd.estimate)} per 100"
verdict = f"{finding} (plausible range {per100(rd.lower)} to {per100(rd.upper)} per 100)."

rp.headline(
    verdict,
    detail="EDIT: one or two sentences on what the range means and what the design supports.",
    rating=RATING,
    synthetic=cfg.synthetic,
)

# %%
rp.summary(
    question="EDIT: the question, e.g. does the scheme reduce proven reoffending within a year?",
    design="EDIT: how the comparison group was formed.",
    sample=f"{SDC.count(int(n.sum()))} people: {SDC.count(int(n['Scheme']))} in the scheme.",
    effect=f"{per100(rd.estimate)} per 100 (95% confidence interval {per100(rd.lower)} to "
    f"{per100(rd.upper)}).",
    rating=RATING,
    cost=cfg.cost,
    caveats=["EDIT: the most important limitation first."],
)

# %% [markdown]
# ## Results

# %%
table = pd.DataFrame(
    {
        "group": ["Scheme", "Comparison"],
        "people": [int(n["Scheme"]), int(n["Comparison"])],
        "reoffended": [int(events["Scheme"]), int(events["Comparison"])],
    }
)
table["percent"] = 100 * table["reoffended"] / table["people"]
rp.show(
    rp.table(
        table,
        caption="People who reoffended during follow-up, by group",
        labels={
            "group": "Group",
            "people": "People",
            "reoffended": "Reoffended",
            "percent": "Percent",
        },
        percents={"percent": ("reoffended", "people")},
        complements={"reoffended": "people"},
        formats={"percent": "{:.1f}%"},
        disclosure=SDC,
    ),
    rp.km_figure(
        km,
        caption=f"Proportion not yet reoffended by {UNIT} of follow-up, with 95% bands.",
        xlabel=UNIT.capitalize(),
        ylabel="Proportion not yet reoffended",
        disclosure=SDC,
    ),
    rp.paragraph(
        f"Log-rank test: chi-squared {lr.statistic:.2f} on {lr.df:.0f} df, "
        f"p = {lr.p_value:.3f}. Over the first {TAU:g} {UNIT}, the scheme group spent on "
        f"average {rmd['difference'].iloc[0]:.1f} {UNIT} more without reoffending "
        f"({rmd['lower'].iloc[0]:.1f} to {rmd['upper'].iloc[0]:.1f})."
    ),
)

# %% [markdown]
# ## Limitations
#
# EDIT: what the design cannot rule out (selection, other changes at the same time, small
# numbers), and how far the result generalises.
#
# ## Methods
#
# Proportions compared with Newcombe's hybrid score interval; time to first reoffence with
# Kaplan–Meier curves and the log-rank test; restricted mean survival time up to the horizon set
# in the configuration.
