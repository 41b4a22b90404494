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
# --people P --offences O`, which writes the configuration (jdl.toml) beside the report.
import dataclasses
import html
import re
import warnings

import numpy as np
import pandas as pd

import evalkit as ek
from evalkit import report as rp
from evalkit.jdl import JDL_MIN_PROGRAMME, JDL_OUTCOMES, jdl_outcomes
from evalkit.matching import _levels as levels_of  # the order evalkit.match names dummies
from evalkit.report.jdl import PRIMARY_OUTCOME, covariate_label
from evalkit.wording import fmt_p, fmt_ratio_range, p_text

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
LABEL_MAP = dict(PARAMS.get("labels", {}))
COMMAND = str(PARAMS.get("command", ""))
COMMAND_OMITS = list(PARAMS.get("command_omits", []))
SCHEME = cfg.scheme
SDC = cfg.disclosure
LABELS = {PROGRAMME: "Programme", COMPARISON: "Comparison"}
SUBJECT = SCHEME if SCHEME else "the programme"


def label(name: str, level: object = None) -> str:
    """How the report names a characteristic (the label map, else readable words)."""
    return covariate_label(name, level, LABEL_MAP)


def p_cell(p: float) -> str:
    """A p-value in a table (the same formatter as in sentences)."""
    return fmt_p(p) if np.isfinite(p) else "–"


MONTHS = (
    "January February March April May June July August September October November December"
).split()


def month_year(d: pd.Timestamp) -> str:
    return f"{MONTHS[d.month - 1]} {d.year}"


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
        rp.paragraph(
            f"The programme group has {SDC.count(N_COHORT_PROGRAMME)} people in the cohort. The "
            f"Justice Data Lab analyses only programme groups of at least {JDL_MIN_PROGRAMME} "
            "people, because smaller groups give results too imprecise to tell an effect from "
            "chance; this report therefore stops here, without matching or measures. A larger "
            "group (a longer period, or more sites) would make an evaluation possible."
        ),
    )
    rp.end_report()
# the unmatched comparison; also checks the group labels
raw = jdl_outcomes(cohort.data, programme=PROGRAMME, comparison=COMPARISON)

# the participation period: the first and last index date in the programme group, as month and
# year (never exact days)
prog_dates = pd.to_datetime(cohort.data.loc[cohort.data["group"] == PROGRAMME, "index_date"])
PERIOD_FIRST, PERIOD_LAST = month_year(prog_dates.min()), month_year(prog_dates.max())
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
DESIGN = "matched" if MATCHED else "unmatched"

data = cohort.data.assign(programme_member=(cohort.data["group"] == PROGRAMME).astype(int))
n_prog_cohort = int((data["group"] == PROGRAMME).sum())
n_comp_cohort = int((data["group"] == COMPARISON).sum())
# a comparison pool not much larger than the programme group (fewer than two for each
# programme member) leaves 1:1 matching without replacement few good partners to choose from
SMALL_POOL = MATCHED and n_comp_cohort < 2 * n_prog_cohort
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
        programme=PROGRAMME,
        comparison=COMPARISON,
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
n_prog = int(rate["n_programme"])
n_comp = int(rate["n_comparison"])  # distinct comparison people analysed
unmatched = n_prog_cohort - n_prog
# A small number of unmatched programme members would follow from the group sizes before and
# after matching (and the people total in the flow table): then only matched numbers are shown.
FEW_UNMATCHED = 0 < unmatched and SDC.is_small(unmatched)


def two_dp(v: float) -> str:
    """Two decimals without a negative zero ("-0.00")."""
    return f"{round(v, 2) + 0.0:.2f}"


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
    covariates=["programme_member"],
    weights="weight" if MATCHED else None,
    robust=MATCHED and REPLACE,
    cluster="subclass" if MATCHED and not REPLACE else None,
)
hr_row = hr_fit.table.to_dict("index")["programme_member"]
HR, HR_LOWER, HR_UPPER, HR_P = (float(hr_row[k]) for k in ("hr", "lower", "upper", "p"))

# %%
# The group profile before and after matching, and the balance diagnostics the verdict uses.
WELL_MATCHED_SMD = 0.1
VR_LIMITS = (0.5, 2.0)


def is_share(s: pd.Series) -> bool:
    """Shown as a percentage: a category, a yes/no column, or numbers that are all 0 or 1."""
    if not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)):
        return True
    return pd.api.types.is_bool_dtype(s) or set(pd.unique(s)) <= {0, 1}


profile_rows: list[dict] = []
MAX_SMD_AFTER: float | None = None  # largest |SMD| after matching
WORST_COVARIATE: str | None = None  # the characteristic it belongs to, in words
VR_AFTER_RANGE: tuple[float, float] | None = None  # variance ratios after matching
VR_WORST: float | None = None  # the variance ratio furthest from 1
VR_WORST_COVARIATE: str | None = None
BALANCED = False
if MATCHED:
    bal = m.balance()
    # the groups whose counts a percentage could give away: before matching, the matched people
    # and (with replacement) the matches
    frames = [data, analysed] + ([per_match] if REPLACE else [])

    def small_share(col: str, level: object) -> bool:
        for frame in frames:
            for g in (PROGRAMME, COMPARISON):
                x = frame.loc[frame["group"] == g, col]
                k = int((x == level).sum())
                if SDC.is_small(k) or SDC.is_small(len(x) - k):
                    return True
        return False

    for col in covariates:
        s = data[col]
        categorical = not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s))
        if categorical:
            levels = levels_of(s)
            rows = [
                {"key": f"{col}_{lev}", "name": label(col, lev), "col": col, "level": lev}
                for lev in levels
            ]
            for r in rows:
                r["share"], r["withheld"] = True, small_share(col, r["level"])
            # secondary suppression: one withheld level of three or more would follow from
            # the others (they add up to 100%), so the smallest other level is withheld too
            if sum(r["withheld"] for r in rows) == 1 and len(rows) > 2:
                counts = {r["key"]: int((s == r["level"]).sum()) for r in rows if not r["withheld"]}
                smallest = min(counts, key=lambda k: counts[k])
                for r in rows:
                    r["withheld"] |= r["key"] == smallest
            profile_rows += rows
        else:
            share = is_share(s)
            yes = True if pd.api.types.is_bool_dtype(s) else 1
            profile_rows.append(
                {
                    "key": col,
                    "name": label(col),
                    "col": col,
                    "level": yes,
                    "share": share,
                    "withheld": share and small_share(col, yes),
                }
            )
    profile_rows.append(
        {
            "key": "distance",
            "name": "Propensity score",
            "col": None,
            "level": None,
            "share": False,
            "withheld": False,
        }
    )
    for r in profile_rows:
        b = bal.loc[r["key"]]
        for k in (
            "mean_treated_before",
            "mean_control_before",
            "mean_treated_after",
            "mean_control_after",
            "smd_before",
            "smd_after",
            "vr_after",
        ):
            r[k] = float(b[k])
        vr = r["vr_after"]
        r["spread_ok"] = not np.isfinite(vr) or VR_LIMITS[0] <= vr <= VR_LIMITS[1]
        r["well"] = abs(r["smd_after"]) <= WELL_MATCHED_SMD and r["spread_ok"]

    def said(r: dict) -> str:
        """A characteristic's name for a sentence; a withheld category is not named."""
        if r["withheld"]:
            return f"a small category of {label(r['col']).lower()}"
        return "the propensity score" if r["key"] == "distance" else r["name"]

    # Diagnostics for the verdict: the largest |SMD| after matching over every row (withheld
    # rows and the propensity score included), the variance ratios after matching, and the
    # share of the programme group left unmatched.
    finite = [r for r in profile_rows if np.isfinite(r["smd_after"])]
    worst = max(finite, key=lambda r: abs(r["smd_after"]))
    MAX_SMD_AFTER = abs(worst["smd_after"])
    WORST_COVARIATE = said(worst)
    characteristics = [r for r in finite if r["key"] != "distance"]
    if worst["key"] == "distance" and characteristics:
        # the propensity score summarises the characteristics: name the one furthest apart too
        worst_char = max(characteristics, key=lambda r: abs(r["smd_after"]))
        WORST_COVARIATE = (
            f"the propensity score; most of all {said(worst_char)}, "
            f"{two_dp(worst_char['smd_after'])}"
        )
    ratios = [r for r in profile_rows if np.isfinite(r["vr_after"]) and r["vr_after"] > 0]
    VR_AFTER_RANGE = (
        (min(r["vr_after"] for r in ratios), max(r["vr_after"] for r in ratios)) if ratios else None
    )
    worst_vr = max(ratios, key=lambda r: abs(np.log(r["vr_after"]))) if ratios else None
    VR_WORST = worst_vr["vr_after"] if worst_vr else None
    VR_WORST_COVARIATE = said(worst_vr) if worst_vr else None
    BALANCED = all(r["well"] for r in profile_rows)
UNMATCHED_SHARE = unmatched / n_prog_cohort if MATCHED else None

# %%
# The headline: judged by the verdict engine from the pre-specified primary measure (the
# one-year proven reoffending rate difference, programme minus comparison; [primary] in the
# configuration), the design, the secondary estimates and the diagnostics.
PRIMARY_DIFFERENCE = float(rate["difference"])
PRIMARY_LOWER, PRIMARY_UPPER, PRIMARY_P = (float(rate[k]) for k in ("lower", "upper", "p"))
RATE_PROGRAMME, RATE_COMPARISON = float(rate["programme"]), float(rate["comparison"])
N_PROGRAMME = n_prog
PROGRAMME_REOFFENDERS = x_prog
MIN_EXPECTED = float(min(x_prog, n_prog - x_prog))
primary = ek.Measure(
    name="rate difference",
    outcome=PRIMARY_OUTCOME,
    estimate=PRIMARY_DIFFERENCE,
    lower=PRIMARY_LOWER,
    upper=PRIMARY_UPPER,
    p=PRIMARY_P,
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
        name="hazard ratio",
        outcome=PRIMARY_OUTCOME,
        estimate=HR,
        lower=HR_LOWER,
        upper=HR_UPPER,
        p=HR_P,
        kind="ratio",
        good="lower",
        unit="",
        conf_level=res.conf_level,
    ),
    ek.Measure(
        name="difference in proven reoffences per person",
        outcome="proven reoffences per person within one year",
        estimate=float(frequency["difference"]),
        lower=float(frequency["lower"]),
        upper=float(frequency["upper"]),
        p=float(frequency["p"]),
        unit="",
        conf_level=res.conf_level,
    ),
]
diagnostics = ek.Diagnostics(
    max_smd_after=MAX_SMD_AFTER,
    worst_covariate=WORST_COVARIATE,
    vr_after=VR_WORST,
    worst_vr_covariate=VR_WORST_COVARIATE,
    n_programme=N_PROGRAMME,
    programme_events=PROGRAMME_REOFFENDERS,
    min_expected=MIN_EXPECTED,
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


def whole(v: float) -> str:
    """Half away from zero, as the JDL table (Python's format rounds half to even)."""
    return f"{np.floor(abs(v) + 0.5) * np.sign(v) + 0.0:.0f}"


# the two rates, as the Justice Data Lab gives them ("for every 100 people")
RATES_SENTENCE = (
    f"{whole(100 * RATE_PROGRAMME)} of every 100 people in the programme group committed a "
    f"proven reoffence within a year, against {whole(100 * RATE_COMPARISON)} of every 100 in "
    f"{GROUP_NAMES[1]}."
    if rates_safe
    else ""
)
UNMATCHED_SENTENCE = (
    ""
    if MATCHED
    else "Without a matched comparison group this report cannot estimate the effect of the "
    "support: a difference may come from who joined the programme rather than from what it did."
)
rp.show(
    rp.headline(VERDICT, synthetic=cfg.synthetic),
    *[rp.paragraph(t) for t in (RATES_SENTENCE, UNMATCHED_SENTENCE) if t],
)


# %%
def listing(items: list[str]) -> str:
    """``["A", "B", "C"]`` → ``"A, B and C"``."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


replacement = "with replacement" if REPLACE else "without replacement"
design = (
    "Observational comparison in the style of the Justice Data Lab: each programme member was "
    f"matched to the comparison-group person with the nearest propensity score (1:1, "
    f"{replacement}, within {CALIPER:g} standard deviations of its log-odds), using "
    + listing([label(c) for c in covariates])
    + "."
    if MATCHED
    else "Observational comparison with an unmatched comparison group (no characteristics "
    "were given to match on)."
)
design += f" Programme members' index dates fell {PERIOD}."
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
if MATCHED and not BALANCED:
    caveats.insert(
        0,
        "The matched groups are not well matched: the largest standardised difference after "
        f"matching is {MAX_SMD_AFTER:.2f} ({WORST_COVARIATE}), above the {WELL_MATCHED_SMD:g} "
        "taken as balanced"
        + (
            "; the comparison pool was small for the programme group (see how the comparison "
            "group was formed)."
            if SMALL_POOL
            else "."
        ),
    )
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
        f"Did people who took part in {SUBJECT}{WHERE} ({PERIOD_FIRST} to {PERIOD_LAST}) "
        "commit fewer proven reoffences in the year after their index date than similar "
        "people who did not?"
        if PERIOD_FIRST != PERIOD_LAST
        else f"Did people who took part in {SUBJECT}{WHERE} in {PERIOD_FIRST} commit fewer "
        "proven reoffences in the year after their index date than similar people who did not?"
    ),
    design=design,
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
    caveats=caveats,
)

# %% [markdown]
# ## Who was included
#
# Everyone in the people table starts a one-year follow-up period on their index date (release
# from custody, or a caution or non-custodial sentence). The tables account for every person,
# every offence, and every custody spell and death in the input files.

# %%
flow = cohort.flow
# the cohort's own wording of each step, with column names and codes put into words
STEP_WORDS = {
    ("custody", "overlaps_follow_up"): "Spells overlapping the follow-up year (days counted)",
    ("deaths", "within_follow_up"): "Deaths within the follow-up year (follow-up ends at death)",
}
PLAIN_WORDS = {
    "data_end": "the extract date",
    "person_id": "person identifier",
    "pnd": "penalty notice",
}


def plain(text: str) -> str:
    """Names such as ``data_end`` or ``community_resolution`` as words."""
    return re.sub(
        r"\b(?:pnd|[A-Za-z]+(?:_[A-Za-z0-9]+)+)\b",
        lambda t: PLAIN_WORDS.get(t.group(0), t.group(0).replace("_", " ")),
        text,
    )


def flow_table(table: str, unit: str) -> pd.DataFrame:
    """Input count (as the total row), each exclusion, and what was kept."""
    part = flow[flow["table"] == table].to_dict("records")

    def words(r: dict) -> str:
        return plain(STEP_WORDS.get((table, r["step"]), str(r["reason"])))

    rows = [(f"{unit} in the file", int(part[0]["n_remaining"]))]
    for r in part[1:-1]:
        rows.append((f"Excluded: {words(r)}", int(r["n_removed"])))
    last = words(part[-1])
    rows.append((last[:1].upper() + last[1:], int(part[-1]["n_remaining"])))
    return pd.DataFrame(rows, columns=["step", "count"])


def kept(table: str) -> int:
    return int(flow[flow["table"] == table]["n_remaining"].iloc[-1])


def flow_fragment(table: str, unit: str, count: str, caption: str) -> rp.Fragment:
    """The flow of one input table, its first row the total of the others (disclosure)."""
    return rp.table(
        flow_table(table, unit),
        caption=caption,
        labels={"step": "Step", "count": count},
        total_row=0,
        disclosure=SDC,
    )


flow_fragments = [
    flow_fragment(
        "people", "People", "People", "People: from the input file to the proven-reoffending cohort"
    ),
    flow_fragment(
        "offences", "Offences", "Offences", "Offences: which offences count as proven reoffences"
    ),
]
# Custody: the days each person spent in custody during the follow-up year are counted; the
# follow-up clock runs on in custody (calendar time, as the Ministry of Justice measure).
if "custody" in tables:
    flow_fragments.append(
        flow_fragment(
            "custody",
            "Custody spells",
            "Spells",
            "Custody spells: which fall in the follow-up year",
        )
    )
    custody_text = (
        f"**Custody.** {SDC.count(kept('custody')).capitalize()} custody spells overlapped "
        "someone's follow-up year. For each person the days spent in custody during the "
        "follow-up year were counted. The follow-up clock was not stopped while they were in "
        "custody (calendar time, as in the Ministry of Justice measure), so people who spent "
        "time in custody had less time at liberty in which to reoffend."
    )
    in_custody = {
        g: int((analysed.loc[analysed["group"] == g, "days_in_custody"] > 0).sum())
        for g in (PROGRAMME, COMPARISON)
    }
    if not any(SDC.is_small(k) for k in in_custody.values()):
        w = analysed["weight"] if MATCHED else pd.Series(1.0, index=analysed.index)
        days = {
            g: float(
                np.average(
                    analysed.loc[analysed["group"] == g, "days_in_custody"],
                    weights=w[analysed["group"] == g],
                )
            )
            for g in (PROGRAMME, COMPARISON)
        }
        custody_text += (
            f" On average programme members spent {days[PROGRAMME]:.1f} days in custody "
            f"during their follow-up year, and people in {GROUP_NAMES[1]} "
            f"{days[COMPARISON]:.1f} days."
        )
else:
    custody_text = (
        "**Custody.** No custody file was given, so time spent in custody during the "
        "follow-up year (on remand, or serving a new sentence or a recall) is not known and was "
        "not counted. People in custody have less opportunity to reoffend: if the groups "
        "differed in time spent in custody, the comparison does not show it."
    )
if "deaths" in tables:
    flow_fragments.append(
        flow_fragment("deaths", "Deaths", "Deaths", "Deaths: which fall in the follow-up year")
    )
    deaths_text = (
        f"**Deaths.** {SDC.count(kept('deaths')).capitalize()} of the recorded deaths fell "
        "within someone's follow-up year: their follow-up was censored (ended) on the date of "
        "death unless they had already committed a proven reoffence, so the survival curves "
        "below count them only while they were alive. A death on or before the index date "
        "excludes the person (see the people table); deaths after the follow-up year change "
        "nothing."
    )
else:
    deaths_text = (
        "**Deaths.** No deaths file was given, so everyone is taken to have been alive for "
        "the whole follow-up year. A person who died early in the year could not reoffend and "
        "counts as not reoffending, which makes the reoffending rates slightly too low."
    )
flow_fragments += [rp.paragraph(custody_text), rp.paragraph(deaths_text)]
rp.show(*flow_fragments)

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
    if REPLACE:
        ess = float(m.counts.to_dict("index")["matched_ess"]["control"])
        method_text = (
            "Each programme member was paired with the comparison-group person whose "
            "propensity score — the estimated chance of joining the programme given the "
            "characteristics below — was closest, provided it was within "
            f"{CALIPER:g} standard deviations (of the log-odds; Austin 2011). Matching was "
            "**with replacement**: a comparison person could be the partner of several "
            f"programme members. {SDC.count(matched_n[1]).capitalize()} different "
            f"comparison-group people were used for {SDC.count(matched_n[0])} programme "
            "members; counting each as often as they were used (the matching weights), the "
            f"comparison group carries as much information as about {SDC.count(round(ess))} "
            "people (its effective sample size), which the confidence intervals allow for. "
            + unmatched_text
        )
    else:
        method_text = (
            "Each programme member was paired with the comparison-group person whose "
            "propensity score — the estimated chance of joining the programme given the "
            "characteristics below — was closest, provided it was within "
            f"{CALIPER:g} standard deviations (of the log-odds; Austin 2011). Matching was one "
            "to one **without replacement**: each comparison person could be used once. "
            + unmatched_text
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
        rp.paragraph(method_text),
    ]
    if SMALL_POOL:
        per_member = n_comp_cohort / n_prog_cohort
        for_each = (
            "fewer than one comparison person for each programme member"
            if per_member < 1
            else f"about {per_member:.1f} comparison people for each programme member (fewer "
            "than two)"
        )
        if FEW_UNMATCHED:
            # the group sizes before matching would give away the small number left unmatched
            pool = (
                f"The comparison pool was small beside the programme group: {for_each}. The "
                "group sizes are not shown, so that the small number of programme members left "
                "unmatched cannot be worked out. "
            )
        else:
            pool = (
                f"The comparison pool was small: {SDC.count(n_comp_cohort)} people for "
                f"{SDC.count(n_prog_cohort)} programme members, {for_each}. "
            )
        if REPLACE:
            pool += (
                "Matching one to one without replacement would use each comparison person "
                "at most once, so once the closest candidates had been taken later programme "
                "members would get partners less like them, or none; matching with "
                "replacement avoids that by letting the closest comparison person stand in "
                "for several similar programme members, at the cost of resting on fewer "
                "different people (wider intervals)."
            )
        else:
            consequence = (
                f"after matching the largest standardised difference is {MAX_SMD_AFTER:.2f} "
                f"({WORST_COVARIATE}), above the {WELL_MATCHED_SMD:g} taken as balanced"
                if not BALANCED
                else "here the groups are still well matched, but the matches are less close "
                "than a larger pool would give"
            )
            pool += (
                "Matching one to one without replacement uses each comparison person at most "
                "once: once the closest candidates have been taken, later programme members are "
                "paired with people less like them, or with nobody within the caliper, and "
                "are left out. That is why "
                + ("some programme members were left unmatched and " if unmatched > 0 else "")
                + consequence
                + ". Matching with replacement (run `evalkit jdl` again with `--replace`) lets "
                "the closest comparison person stand in for several similar programme members; "
                "it usually gives much closer matches, at the cost of resting on fewer "
                "different comparison people (wider intervals)."
            )
        fragments.append(rp.paragraph(pool))

    # the profile table: means (numbers) or percentages (categories) by group, before and after
    def value(r: dict, k: str) -> str:
        v = r[k]
        if r["key"] == "distance" and k.startswith("mean"):
            return "–"
        if not np.isfinite(v):
            return "–"
        return f"{whole(100 * v)}%" if r["share"] else f"{v:.1f}"

    shown_rows = [r for r in profile_rows if not r["withheld"]]
    withheld_rows = len(profile_rows) - len(shown_rows)
    # two rows a characteristic, before matching and matched, so that the table fits the page
    profile_table: list[dict[str, str]] = []
    for r in shown_rows:
        verdict_word = (
            "well matched"
            if r["well"]
            else "not well matched" + ("" if r["spread_ok"] else " (spread)")
        )
        for stage, when in (("Before", "before"), ("Matched", "after")):
            profile_table.append(
                {
                    "characteristic": r["name"],
                    "stage": stage,
                    "programme": value(r, f"mean_treated_{when}"),
                    "comparison": value(r, f"mean_control_{when}"),
                    "difference": two_dp(r[f"smd_{when}"]),
                    "balance": verdict_word if when == "after" else "",
                }
            )
    profile = pd.DataFrame(profile_table)
    notes = [
        "Averages for numbers, percentages for categories; after matching, the comparison "
        "group's figures are weighted by the matching weights"
        + (" (each person counted as often as they were used)" if REPLACE else "")
        + ". The propensity score (the estimated chance of joining, given the characteristics) "
        "is compared through its difference only. Difference: the standardised difference, "
        "the gap between the groups in units of the programme group's standard deviation "
        "before matching. A characteristic is well "
        f"matched when this is at most {WELL_MATCHED_SMD:g} either way and, for a number, the "
        "ratio of the two groups' variances (their spread) lies between "
        f"{VR_LIMITS[0]:g} and {VR_LIMITS[1]:g} (Austin 2009; Stuart 2010)."
    ]
    if withheld_rows:
        notes.append(
            f"{withheld_rows} row(s) for small categories withheld to protect confidentiality "
            "(they still count in the balance check)."
        )
    fragments.append(
        rp.table(
            profile,
            caption="Group profile before and after matching",
            labels={
                "characteristic": "Characteristic",
                "stage": "Groups",
                "programme": "Programme",
                "comparison": "Comparison",
                "difference": "Difference",
                "balance": "Balance after matching",
            },
            notes=notes,
            disclosure=SDC,
            max_rows=160,
        )
    )
    spread = (
        f" The variance ratios after matching lie between {VR_AFTER_RANGE[0]:.2f} and "
        f"{VR_AFTER_RANGE[1]:.2f}."
        if VR_AFTER_RANGE
        else ""
    )
    if BALANCED:
        balance_text = (
            f"After matching the largest standardised difference is {MAX_SMD_AFTER:.2f} "
            f"({WORST_COVARIATE}): every characteristic is well matched, so the groups are "
            "balanced on what was recorded." + spread
        )
    else:
        poor = [said(r) for r in profile_rows if not r["well"]]
        balance_text = (
            f"After matching the largest standardised difference is {MAX_SMD_AFTER:.2f} "
            f"({WORST_COVARIATE}).{spread} Not well matched: {listing(poor)}. The matched "
            "groups still differ on what was recorded, so a difference in reoffending may come "
            "from that difference rather than from the programme; the headline says so."
        )
    fragments.append(rp.paragraph(balance_text))
    if skipped:
        fragments.append(
            rp.paragraph(
                "Not used for matching: "
                + "; ".join(f"{label(c)} ({why})" for c, why in skipped)
                + "."
            )
        )
    rp.show(*fragments)
else:
    rp.show(
        rp.paragraph(
            "No characteristics were given to match on"
            + (
                " that could be used ("
                + "; ".join(f"{label(c)}: {why}" for c, why in skipped)
                + ")"
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
    part = per_match[per_match["group"] == g]
    reoffenders = part[part["reoffended"].astype(bool)]
    summary_rows.append(
        {
            "group": LABELS[g] + (" (per match)" if REPLACE and g == COMPARISON else ""),
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
# p-values with the formatter used in every sentence of the report
display["p"] = [p_cell(float(p)) for p in res.table["p"]]
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
result_notes = [
    "Rates in percentage points, reoffences per person to two decimals, days whole; "
    "a result is reported as significant only with at least 30 reoffenders in the "
    "programme group (Justice Data Lab rule)."
]
measure_notes = []
if REPLACE:
    measure_notes.append(
        "Matched with replacement: a comparison person matched to several programme members "
        f"counts once for each match, so the comparison row counts matches; "
        f"{SDC.count(n_comp)} different people make them up."
    )
caution = []
if VERDICT.conclusion == "not assessable":
    caution_text = (
        "These are the Justice Data Lab's standard sentences for each estimate. Here they "
        "describe differences between the two groups, not effects of the programme: the "
        "headline says why the comparison cannot assess its effect."
    )
    caution.append(rp.paragraph(caution_text))
    result_notes.append("The headline explains why these differences cannot be read as effects.")

rp.show(
    rp.table(
        measures,
        caption="Proven reoffending in the one-year follow-up, by group"
        + (" (matched)" if MATCHED else ""),
        labels={
            "group": "Group",
            "people": "Matches" if REPLACE else "People",
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
        notes=measure_notes,
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
        notes=result_notes,
        disclosure=SDC,
    ),
    *caution,
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
rebuild = [
    rp.paragraph(
        "In the folder that holds this report (the input paths are relative to it), this "
        "command rebuilds it from the same files; with the same files and the same version of "
        "evalkit it gives the same report. The configuration it writes, `jdl.toml`, records "
        "the same settings."
    ),
    rp.Fragment(f'<pre class="commands"><code>{html.escape(COMMAND)}</code></pre>', kind="text"),
]
if COMMAND_OMITS:
    rebuild.append(
        rp.paragraph(
            "The report was built from Python with reading options the command line does not "
            "have (" + ", ".join(COMMAND_OMITS) + "); they are in `jdl.toml` under `[reader]`."
        )
    )
if not COMMAND:  # a configuration written by an older evalkit
    rebuild = [
        rp.paragraph(
            "Run `evalkit jdl` again with the same files and options to rebuild this report."
        )
    ]
rp.show(*rebuild)
