"""The verdict engine: what a report may conclude from its evidence, decided in one place.

Every report's headline comes from :func:`verdict`, never from prose written per analysis. It
takes the **pre-specified primary** estimate (fixed in the analysis configuration before the
results were seen), the secondary estimates, the design and its diagnostics, and returns a frozen
:class:`Verdict`: the conclusion, how strong the evidence is, the Maryland Scientific Methods
Scale rating the evaluation actually earned, the reasons, and the headline and detail sentences.

The rules
---------
**Not assessable** (no effect is stated, whatever the estimate) when

0. the design is ``"none"``: with no comparison group there is no effect to estimate (a
   figure about the programme group alone describes it, it does not evaluate it);
1. the programme group has fewer than 60 people, or fewer than 30 people with the outcome
   event, or an expected count (n·p or n·(1 − p)) below 10 — the Justice Data Lab's minimums
   (Ministry of Justice 2013);
2. a matched comparison is not balanced: any characteristic's absolute standardised mean
   difference after matching above 0.1, or a variance ratio outside 0.5–2 (Austin 2009;
   Stuart 2010) — the characteristic is named; a remedy that restores balance (matching with
   replacement, a caliper) is reported through :class:`Diagnostics` ``remedy`` and judged on
   the balance it achieved;
3. the primary estimate or its interval is not finite.

**Conclusion** otherwise: ``"reduced"`` / ``"increased"`` when the primary's confidence
interval excludes no effect (0 for a difference, 1 for a ratio) below / above it, else
``"no clear change"``. The words are about the measure; :attr:`Verdict.benefit` says whether the
direction is the good one (``good="lower"`` for reoffending).

**Strength** of a stated change (``"none"`` when no change is stated):

- from the primary's two-sided p-value: ``"strong"`` below 0.001, ``"moderate"`` below 0.01,
  ``"weak"`` below 0.05; ``"borderline"`` when p ≥ 0.045 (the interval only just excludes no
  effect);
- at most ``"weak"`` when a secondary analysis of the same outcome does not exclude no effect,
  or points the other way (the headline says so);
- capped by the design: at most ``"weak"`` at rating 2 or below, ``"moderate"`` at rating 3.

**Rating** (Maryland Scientific Methods Scale, Sherman et al. 1997): from the design —
``randomised`` 5, ``did`` (comparison group with control of pre-trends, difference in
differences) 4, ``matched`` 3, ``unmatched`` or ``before_after`` 2, ``none`` 1 — downgraded by
one level for each of: a failed balance check; more than 10% of the programme group left
unmatched; attrition above 20%; a pre-trend test with p < 0.05. Never below 1.

**Wording** follows the rating: causal words ("reduced") only at rating 5; "appears to have
reduced" at rating 4; below that the headline says the outcome "was lower among" the programme
group than the comparison group. Numbers are written with :mod:`evalkit.wording`.

References
----------
Austin, P.C. (2009). Balance diagnostics for comparing the distribution of baseline covariates
between treatment groups in propensity-score matched samples. *Statistics in Medicine* 28,
3083–3107. doi:10.1002/sim.3697.
Ministry of Justice (2013). *Justice Data Lab: Methodology Paper*.
Sherman, L.W. et al. (1997). *Preventing Crime: What Works, What Doesn't, What's Promising*.
Stuart, E.A. (2010). Matching methods for causal inference: a review and a look forward.
*Statistical Science* 25, 1–21. doi:10.1214/09-STS313.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - pandas is imported when a table is made
    import pandas as pd

from evalkit._options import _real, check_choice, check_conf_level, option_error
from evalkit._verdict_text import DESIGNS, _detail, _headline
from evalkit.errors import InputError
from evalkit.results import Result
from evalkit.wording import (
    fmt_number,
    fmt_percent,
    fmt_ratio_range,
    p_text,
    per100,
    range_words,
)

__all__ = [
    "CONCLUSIONS",
    "DESIGNS",
    "STRENGTHS",
    "Diagnostics",
    "Measure",
    "Verdict",
    "verdict",
]


CONCLUSIONS = ("reduced", "increased", "no clear change", "not assessable")
STRENGTHS = ("strong", "moderate", "weak", "borderline", "none")
_ORDER = {"none": 0, "borderline": 1, "weak": 2, "moderate": 3, "strong": 4}

MIN_PROGRAMME = 60
MIN_EVENTS = 30
MIN_EXPECTED = 10.0
MAX_SMD = 0.1
VR_RANGE = (0.5, 2.0)
MAX_UNMATCHED = 0.10
MAX_ATTRITION = 0.20
PRETREND_ALPHA = 0.05
BORDERLINE_P = 0.045


@dataclass(frozen=True)
class Measure:
    """One estimate with its interval, and how to read it.

    Attributes
    ----------
    name
        What is estimated, e.g. ``"rate difference"``, ``"hazard ratio"``, ``"RMST difference"``.
    outcome
        The outcome in words, e.g. ``"proven reoffending within one year"``; secondaries of the
        same outcome are compared with the primary.
    estimate, lower, upper
        The estimate and its confidence interval (differences on the proportion scale: −0.084).
    p
        Two-sided p-value of no effect, if available (derived from the interval if not).
    kind
        ``"difference"`` (no effect = 0) or ``"ratio"`` (no effect = 1).
    good
        ``"lower"`` or ``"higher"``: the direction that is a benefit.
    unit
        ``"per 100"`` (a difference in proportions, shown per 100 people), ``"days"``, or ``""``.
    programme, comparison
        The two groups' values (e.g. proportions reoffending), shown in the headline.
    conf_level
        Confidence level of the interval.
    """

    name: str
    outcome: str
    estimate: float
    lower: float
    upper: float
    p: float | None = None
    kind: str = "difference"
    good: str = "lower"
    unit: str = "per 100"
    programme: float | None = None
    comparison: float | None = None
    conf_level: float = 0.95

    def __post_init__(self) -> None:
        check_choice(self.kind, "kind", ("difference", "ratio"))
        check_choice(self.good, "good", ("lower", "higher"))
        check_conf_level(self.conf_level)
        for name in ("estimate", "lower", "upper", "p", "programme", "comparison"):
            value = getattr(self, name)
            optional = name not in ("estimate", "lower", "upper")
            if not (_real(value) or (optional and value is None)):
                raise option_error(name, "must be a number", value)
        if self.p is not None and not (math.isnan(self.p) or 0.0 <= self.p <= 1.0):
            raise option_error("p", "must be a probability between 0 and 1", self.p)
        # NaN or infinite limits are allowed (an estimate that could not be made reads as
        # 'not estimable'); finite ones must be in order, and ratios cannot be negative.
        if self.finite:
            slack = 1e-9 * max(1.0, abs(self.lower), abs(self.upper))  # rounding only
            if not self.lower - slack <= self.estimate <= self.upper + slack:
                raise option_error(
                    "lower",
                    "needs lower <= estimate <= upper",
                    (self.lower, self.estimate, self.upper),
                )
        if self.kind == "ratio" and min(self.estimate, self.lower, self.upper) < 0:
            raise option_error("estimate", "a ratio cannot be negative", self.estimate)

    @property
    def null(self) -> float:
        """The value meaning no effect."""
        return 1.0 if self.kind == "ratio" else 0.0

    @property
    def finite(self) -> bool:
        return all(math.isfinite(v) for v in (self.estimate, self.lower, self.upper))

    def excludes_null(self) -> int:
        """−1 if the interval lies below no effect, +1 above, 0 if it includes it."""
        if self.upper < self.null:
            return -1
        if self.lower > self.null:
            return 1
        return 0

    def two_sided_p(self) -> float:
        """The p-value given, or one derived from the interval (normal, log scale for ratios)."""
        if self.p is not None and math.isfinite(self.p):
            return float(self.p)
        from evalkit._inference import critical, p_two_sided

        z = critical(self.conf_level)
        if self.kind == "ratio":
            est, lo, hi = math.log(self.estimate), math.log(self.lower), math.log(self.upper)
        else:
            est, lo, hi = self.estimate, self.lower, self.upper
        se = (hi - lo) / (2 * z)
        return float(p_two_sided(est / se)) if se > 0 else float("nan")

    @classmethod
    def rate_difference(
        cls,
        x1: int,
        n1: int,
        x0: int,
        n0: int,
        *,
        outcome: str,
        good: str = "lower",
        conf_level: float = 0.95,
        method: str = "newcombe",
    ) -> Measure:
        """The difference in proportions ``x1/n1 − x0/n0`` (programme minus comparison).

        The interval is :func:`evalkit.rate_difference`'s (Newcombe's hybrid score interval by
        default). Its p-value is the one that agrees with the interval: the largest α at which
        the (1 − α) interval still excludes 0, found by inverting the interval in its level
        (so p < 0.05 exactly when the 95% interval excludes no difference).
        """
        from scipy.optimize import brentq

        from evalkit.proportions import rate_difference

        rd = rate_difference(x1, n1, x0, n0, method=method, conf_level=conf_level)

        def gap(level: float) -> float:
            r = rate_difference(x1, n1, x0, n0, method=method, conf_level=level)
            return float(r.upper if rd.estimate < 0 else -r.lower)

        p: float
        if rd.estimate == 0:
            p = 1.0
        elif gap(1 - 1e-12) < 0:  # excludes 0 at every level we can compute
            p = 1e-12
        else:
            p = 1 - brentq(gap, 1e-9, 1 - 1e-12, xtol=1e-14)
        return cls(
            name="rate difference",
            outcome=outcome,
            estimate=float(rd.estimate),
            lower=float(rd.lower),
            upper=float(rd.upper),
            p=p,
            kind="difference",
            good=good,
            unit="per 100",
            programme=x1 / n1,
            comparison=x0 / n0,
            conf_level=conf_level,
        )

    @classmethod
    def rate_difference_from(
        cls,
        df: Any,
        event: str,
        *,
        group: str = "group",
        treated: Any = "programme",
        outcome: str,
        good: str = "lower",
        conf_level: float = 0.95,
        method: str = "newcombe",
    ) -> Measure:
        """:meth:`rate_difference` counted from data: the share with ``event`` = 1 in the
        programme arm (``group == treated``) minus the share in the other arm.

        ``event`` is a 0/1 (or boolean) column, e.g. ``Cohort.data["reoffended"]``; ``group``
        must hold exactly two labels (see ``docs/conventions.md``).

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"group": ["programme"] * 4 + ["comparison"] * 4,
        ...                    "reoffended": [1, 0, 0, 0, 1, 1, 0, 0]})
        >>> m = Measure.rate_difference_from(df, "reoffended", outcome="proven reoffending")
        >>> round(m.estimate, 2), m.programme, m.comparison
        (-0.25, 0.25, 0.5)
        """
        import numpy as np

        from evalkit._design import two_groups
        from evalkit.schema import check_event, check_frame, require_columns

        df = check_frame(df)
        require_columns(df, [group, event])
        z, _, _ = two_groups(df, group, treated)
        y = check_event(df, event)
        on = z == 1
        return cls.rate_difference(
            int(np.sum(y[on] > 0)),
            int(on.sum()),
            int(np.sum(y[~on] > 0)),
            int((~on).sum()),
            outcome=outcome,
            good=good,
            conf_level=conf_level,
            method=method,
        )

    def words(self) -> str:
        """The estimate and its range in words, e.g. ``8.4 fewer per 100 (between 0.01 and
        16.7 fewer)`` or ``hazard ratio 0.69 (0.48 to 1.003)``.

        Percentages shown beside it have one decimal (``_verdict_text._rates``), so that a sentence
        giving both groups and their difference adds up to within the last decimal.
        """
        if self.kind == "ratio":
            return f"{self.name} {fmt_ratio_range(self.estimate, self.lower, self.upper)}"
        if self.unit == "per 100":
            return f"{per100(self.estimate)} per 100 people ({range_words(self.lower, self.upper)})"
        fewer, more = ("fewer", "more") if self.unit != "days" else ("shorter", "longer")
        unit = f" {self.unit}" if self.unit else ""
        est = fmt_number(abs(self.estimate), 1, null=0.0)
        word = fewer if self.estimate < 0 else more
        rng = range_words(self.lower, self.upper, scale=1.0, fewer=fewer, more=more)
        return f"{est}{unit} {word} ({rng})"


@dataclass(frozen=True)
class Diagnostics:
    """What the design's checks found; every field is optional (``None``: not applicable).

    Attributes
    ----------
    max_smd_after, worst_covariate
        Largest absolute standardised mean difference after matching, and the characteristic
        it belongs to (in words).
    vr_after, worst_vr_covariate
        The variance ratio after matching furthest from 1 (on the log scale), and its
        characteristic.
    n_programme, programme_events
        People in the programme group analysed, and how many of them had the outcome event.
    min_expected
        Smallest expected count, min(n·p, n·(1 − p)), in the programme group.
    unmatched_share
        Share of the programme group left out because no match was found.
    attrition_share
        Share of people lost to follow-up or with missing outcomes.
    pretrend_p
        p-value of the test of parallel trends before the scheme (difference in differences).
    remedy
        A remedy applied to restore balance, in words (e.g. "matching with replacement").
    """

    max_smd_after: float | None = None
    worst_covariate: str | None = None
    vr_after: float | None = None
    worst_vr_covariate: str | None = None
    n_programme: int | None = None
    programme_events: int | None = None
    min_expected: float | None = None
    unmatched_share: float | None = None
    attrition_share: float | None = None
    pretrend_p: float | None = None
    remedy: str | None = None

    @classmethod
    def from_match(
        cls,
        m: Any,
        *,
        labels: Mapping[str, str] | None = None,
        programme_events: int | None = None,
        remedy: str | None = None,
    ) -> Diagnostics:
        """Balance and counts of a :func:`evalkit.match` result.

        The largest absolute standardised mean difference after matching and the variance
        ratio furthest from 1 (log scale) are taken over the covariates (the propensity score's
        own ``distance`` row excluded), named through ``labels`` (``{"sex[F]": "Sex: F"}``,
        ``{"age": "Age"}``; unlabelled names are shown as they are). The programme group is
        the treated units matched; the unmatched share is of all treated units.
        """
        import numpy as np

        bal = m.balance()
        rows = bal.drop(index=[i for i in bal.index if i == "distance"])
        names = dict(labels or {})
        smd = rows["smd_after"].abs()
        worst = str(smd.idxmax()) if smd.notna().any() else None
        vr = rows["vr_after"] if "vr_after" in rows else None
        worst_vr, vr_value = None, None
        if vr is not None and vr.notna().any():
            key = np.abs(np.log(vr.astype(float)))
            worst_vr = str(key.idxmax())
            vr_value = float(vr[worst_vr])
        counts = m.counts
        treated_all = float(counts.loc["all", "treated"])
        treated_matched = float(counts.loc["matched", "treated"])
        return cls(
            max_smd_after=float(smd.max()) if worst is not None else None,
            worst_covariate=names.get(worst, worst) if worst is not None else None,
            vr_after=vr_value,
            worst_vr_covariate=names.get(worst_vr, worst_vr) if worst_vr is not None else None,
            n_programme=int(treated_matched),
            programme_events=programme_events,
            unmatched_share=(treated_all - treated_matched) / treated_all if treated_all else None,
            remedy=remedy,
        )


@dataclass(frozen=True, eq=False, repr=False)
class Verdict(Result):
    """What a report may conclude (see the module docstring for every rule).

    Attributes
    ----------
    conclusion
        ``"reduced"``, ``"increased"``, ``"no clear change"`` or ``"not assessable"``.
    strength
        ``"strong"``, ``"moderate"``, ``"weak"``, ``"borderline"`` or ``"none"``.
    rating
        Maryland Scientific Methods Scale level earned, after downgrades.
    design_rating
        The level the design could earn at best.
    benefit
        True when the stated change is in the good direction, False when harmful, ``None``
        when no change is stated.
    reasons
        Sentences giving each rule that applied.
    headline, detail
        The headline sentence and one to three sentences of context.
    primary, secondary, design, diagnostics
        The inputs.
    prespecified
        Where the primary measure was fixed (e.g. ``"[primary] in rossi.toml"``), or ``""``.
    """

    conclusion: str
    strength: str
    rating: int
    design_rating: int
    benefit: bool | None
    reasons: tuple[str, ...]
    headline: str
    detail: str
    primary: Measure
    secondary: tuple[Measure, ...]
    design: str
    diagnostics: Diagnostics = field(default_factory=Diagnostics)
    prespecified: str = ""

    _title = "Verdict"

    @property
    def conf_level(self) -> float:
        """Confidence level of the primary measure's interval."""
        return self.primary.conf_level

    def to_frame(self) -> pd.DataFrame:
        """One row: conclusion, strength, rating, design rating, the primary estimate, headline."""
        import pandas as pd

        p = self.primary
        return pd.DataFrame(
            [
                {
                    "conclusion": self.conclusion,
                    "strength": self.strength,
                    "rating": self.rating,
                    "design_rating": self.design_rating,
                    "measure": p.name,
                    "estimate": p.estimate,
                    "lower": p.lower,
                    "upper": p.upper,
                    "p": p.two_sided_p(),
                    "headline": self.headline,
                }
            ]
        )

    def meta(self) -> dict[str, Any]:
        """The machine-readable facts a report carries in its ``<head>``."""
        out: dict[str, Any] = {
            "verdict": self.conclusion,
            "strength": self.strength,
            "rating": self.rating,
            "primary": f"{self.primary.name}, {self.primary.outcome}",
            "headline": self.headline,
        }
        if self.diagnostics.max_smd_after is not None:
            out["max_smd_after"] = f"{abs(self.diagnostics.max_smd_after):.2f}"
        return out


def verdict(
    primary: Measure,
    *,
    design: str,
    secondary: Sequence[Measure] = (),
    diagnostics: Diagnostics | None = None,
    subject: str = "the scheme",
    groups: tuple[str, str] = ("the programme group", "the comparison group"),
    prespecified: str = "",
) -> Verdict:
    """Judge the evidence for an effect of ``subject`` on the primary outcome.

    Parameters
    ----------
    primary
        The pre-specified primary estimate.
    design
        One of :data:`DESIGNS`: ``"randomised"``, ``"did"``, ``"matched"``, ``"unmatched"``,
        ``"before_after"``, ``"none"``.
    secondary
        Other estimates; those of the same ``outcome`` as the primary can lower the strength.
    diagnostics
        Balance, counts, attrition and pre-trend checks (see :class:`Diagnostics`).
    subject
        What is evaluated, in words ("financial aid", "the scheme").
    groups
        How to name the programme and comparison groups in sentences.
    prespecified
        Where the primary was fixed, for the detail sentence ("[primary] in the configuration").

    Returns
    -------
    Verdict

    Examples
    --------
    >>> rd = Measure("rate difference", "re-arrest within a year", -0.084, -0.167, -0.00012,
    ...              p=0.0497, programme=0.222, comparison=0.306)
    >>> v = verdict(rd, design="randomised", subject="financial aid")
    >>> v.conclusion, v.strength, v.rating
    ('reduced', 'borderline', 5)
    """
    if design not in DESIGNS:
        valid = ", ".join(repr(d) for d in DESIGNS)
        raise InputError("design", f"got {design!r}; valid values are {valid}")
    if not isinstance(primary, Measure):
        raise InputError("primary", f"must be a Measure, not {type(primary).__name__}")
    diag = diagnostics or Diagnostics()
    reasons: list[str] = []
    blockers: list[str] = []
    best = DESIGNS[design]
    rating = best

    if design == "none":
        blockers.append("there is no comparison group, so no effect can be estimated")

    # ---- minimum numbers (Justice Data Lab) -----------------------------------------------
    if diag.n_programme is not None and diag.n_programme < MIN_PROGRAMME:
        blockers.append(
            f"the programme group has fewer than {MIN_PROGRAMME} people, the Justice Data "
            "Lab's minimum for a reliable comparison"
        )
    if diag.programme_events is not None and diag.programme_events < MIN_EVENTS:
        blockers.append(
            f"fewer than {MIN_EVENTS} people in the programme group had the outcome, the "
            "Justice Data Lab's minimum for stating a difference"
        )
    if diag.min_expected is not None and diag.min_expected < MIN_EXPECTED:
        blockers.append(
            f"an expected count is below {MIN_EXPECTED:g}, too few for the interval to be trusted"
        )

    # ---- balance ----------------------------------------------------------------------------
    balanced = True
    if diag.max_smd_after is not None and abs(diag.max_smd_after) > MAX_SMD:
        balanced = False
        who = f" ({diag.worst_covariate})" if diag.worst_covariate else ""
        blockers.append(
            f"the matched groups still differ on a recorded characteristic{who}: standardised "
            f"difference {abs(diag.max_smd_after):.2f}, above the {MAX_SMD:g} taken as balanced"
        )
    if diag.vr_after is not None and not (VR_RANGE[0] <= diag.vr_after <= VR_RANGE[1]):
        balanced = False
        who = f" of {diag.worst_vr_covariate}" if diag.worst_vr_covariate else ""
        blockers.append(
            f"the spread{who} differs between the matched groups (variance ratio "
            f"{diag.vr_after:.2f}, outside {VR_RANGE[0]:g} to {VR_RANGE[1]:g})"
        )
    if not balanced:
        rating -= 1
        reasons.append("Rating lowered by one level: the matched groups are not balanced.")
    elif diag.remedy:
        reasons.append(f"Balance was reached with {diag.remedy}.")
    if diag.unmatched_share is not None and diag.unmatched_share > MAX_UNMATCHED:
        rating -= 1
        reasons.append(
            f"Rating lowered by one level: {fmt_percent(diag.unmatched_share, 0)} of the "
            f"programme group had no match (more than {MAX_UNMATCHED:.0%}), so the result "
            "describes only those who could be matched."
        )
    if diag.attrition_share is not None and diag.attrition_share > MAX_ATTRITION:
        rating -= 1
        reasons.append(
            f"Rating lowered by one level: {fmt_percent(diag.attrition_share, 0)} of people "
            f"were lost to follow-up (more than {MAX_ATTRITION:.0%})."
        )
    if diag.pretrend_p is not None and diag.pretrend_p < PRETREND_ALPHA:
        rating -= 1
        reasons.append(
            "Rating lowered by one level: the groups' trends before the scheme were not "
            f"parallel ({p_text(diag.pretrend_p)})."
        )
    rating = max(1, rating)
    if not primary.finite and design != "none":
        # with no comparison group the missing estimate is already explained above
        blockers.append("the primary estimate could not be computed")

    # ---- conclusion and strength ------------------------------------------------------------
    side = primary.excludes_null() if primary.finite else 0
    same = [m for m in secondary if m.outcome == primary.outcome]
    if blockers:
        conclusion, strength, benefit = "not assessable", "none", None
        reasons[:0] = [f"Not assessable: {b}." for b in blockers]
    elif side == 0:
        conclusion, strength, benefit = "no clear change", "none", None
        reasons.insert(
            0,
            f"The {primary.conf_level:.0%} confidence interval of the primary measure "
            "includes no effect.",
        )
    else:
        conclusion = "reduced" if side < 0 else "increased"
        benefit = (side < 0) == (primary.good == "lower")
        p = primary.two_sided_p()
        strength = "strong" if p < 0.001 else "moderate" if p < 0.01 else "weak"
        if p >= BORDERLINE_P:
            strength = "borderline"
            reasons.append(f"Borderline: {p_text(p)}; the interval only just excludes no effect.")
        disagree = [m for m in same if m.finite and m.excludes_null() != side]
        if disagree:
            strength = _at_most(strength, "weak")
            names = ", ".join(m.name for m in disagree)
            reasons.append(
                f"At most weak: other analyses of the same outcome ({names}) do not exclude no "
                "effect."
            )
        cap = "weak" if rating <= 2 else "moderate" if rating == 3 else "strong"
        if _ORDER[strength] > _ORDER[cap]:
            strength = cap
            reasons.append(
                f"At most {cap}: the design (level {rating} of 5) cannot rule out other "
                "explanations."
            )

    headline = _headline(primary, conclusion, strength, rating, subject, groups, blockers, same)
    detail = _detail(primary, conclusion, strength, rating, design, prespecified)
    return Verdict(
        conclusion=conclusion,
        strength=strength,
        rating=rating,
        design_rating=best,
        benefit=benefit,
        reasons=tuple(reasons),
        headline=headline,
        detail=detail,
        primary=primary,
        secondary=tuple(secondary),
        design=design,
        diagnostics=diag,
        prespecified=prespecified,
    )


def _at_most(strength: str, cap: str) -> str:
    return strength if _ORDER[strength] <= _ORDER[cap] else cap
