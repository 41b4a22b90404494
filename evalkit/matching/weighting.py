"""Inverse-probability weights from a logistic propensity score: :func:`weight` and its result.

References
----------
Austin PC (2011). An introduction to propensity score methods for reducing the effects of
confounding in observational studies. *Multivariate Behavioral Research* 46(3):399–424.
doi:10.1080/00273171.2011.568786

Robins JM, Hernán MA, Brumback B (2000). Marginal structural models and causal inference in
epidemiology. *Epidemiology* 11(5):550–560.

Hirano K, Imbens GW, Ridder G (2003). Efficient estimation of average treatment effects using
the estimated propensity score. *Econometrica* 71(4):1161–1189.

Cole SR, Hernán MA (2008). Constructing inverse probability weights for marginal structural
models. *American Journal of Epidemiology* 168(6):656–664.

Lee BK, Lessler J, Stuart EA (2011). Weight trimming and propensity score weighting.
*PLoS ONE* 6(3):e18174.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evalkit._options import check_choice, check_flag, check_number
from evalkit.errors import DesignError, InputError
from evalkit.matching._inputs import arms
from evalkit.matching.balance import WEIGHT_ESTIMANDS, Adjusted, Covariates, sample_sizes
from evalkit.matching.propensity import LINKS, PropensityScore, fit_propensity
from evalkit.results import own
from evalkit.schema import row_ids

__all__ = ["WeightResult", "weight"]


@dataclass(frozen=True, eq=False, repr=False)
class WeightResult(Adjusted):
    """Result of :func:`weight`.

    Attributes
    ----------
    data
        Every input row with the input columns plus ``weight`` (the result's own copy), ready
        for a weighted analysis, e.g. ``ek.kaplan_meier(w.data, ..., weights="weight")``.
    weights
        One weight per input row (Series named ``"weight"``, same index).
    propensity
        The fitted :class:`PropensityScore`.
    estimand
        ``"ATT"``, ``"ATC"`` or ``"ATE"``.
    stabilize
        Whether weights were multiplied by the marginal share of the person's own arm.
    trim, max_weight
        The truncation asked for (quantile, absolute cap), or ``None``.
    trim_threshold
        The value weights were capped at (``None`` without truncation).
    n_trimmed
        How many weights were lowered to ``trim_threshold``.
    sample_sizes
        Index ``n``, ``sum_weights``, ``ess`` (Kish); columns ``control``, ``treated``.
    group, treated, control
        The group column, the label of its programme arm and that of the comparison arm.
    covariates
        The covariate columns.
    """

    _title = "Inverse-probability weighting"
    _adjustment = "weighting"

    propensity: PropensityScore
    stabilize: bool
    trim: float | None
    max_weight: float | None
    trim_threshold: float | None
    n_trimmed: int
    sample_sizes: pd.DataFrame

    def _distance(self) -> np.ndarray:
        return self.propensity.scores.to_numpy(dtype=float)

    def _sizes(self) -> pd.DataFrame:
        return self.sample_sizes


def weight(
    df: pd.DataFrame,
    *,
    group: str,
    treated: Any = "programme",
    covariates: Sequence[str],
    estimand: str = "ATT",
    stabilize: bool = False,
    trim: float | None = None,
    max_weight: float | None = None,
    link: str = "logit",
    reference: Mapping[str, Any] | None = None,
) -> WeightResult:
    """Inverse-probability-of-treatment weights from a logistic propensity score.

    Parameters
    ----------
    df, group, treated, covariates, reference, link
        As :func:`propensity_score` (``link`` only changes the reported distance). Below,
        "treated" is the programme arm and "control" the comparison arm.
    estimand
        ``"ATT"``: treated 1, controls p/(1−p) (the controls are reweighted to resemble the
        treated); ``"ATC"``: treated (1−p)/p, controls 1; ``"ATE"``: treated 1/p, controls
        1/(1−p).
    stabilize
        Multiply each weight by the share of the sample in the person's own arm (Robins,
        Hernán & Brumback 2000; as WeightIt's ``stabilize = TRUE``). Weighted means and their
        differences are unchanged; the weights sum to about n rather than 2n, which keeps naive
        weighted-regression variances honest.
    trim
        Truncate (winsorise) weights above this quantile, 0.5 < trim < 1 (e.g. 0.99), to the
        quantile's value; the quantile is computed over the non-focal arm's weights for the ATT
        (controls) and ATC (treated) — the focal arm's weights are all equal and never trimmed
        — and over all weights for the ATE, with R's default quantile definition (type 7).
        No one is removed: this is truncation, not exclusion (Cole & Hernán 2008; Lee, Lessler &
        Stuart 2011).
    max_weight
        Cap weights at this absolute value (a threshold, e.g. 10), same arms as ``trim``.
        With both, the lower of the two caps is used.

    Returns
    -------
    WeightResult
        ``n_trimmed`` reports how many weights were capped.

    Raises
    ------
    InputError
        As :func:`propensity_score`; ``trim`` outside (0.5, 1); ``max_weight`` ≤ 0; a data
        column already called ``weight`` (the weighted data add one).
    DesignError
        A propensity score of exactly 0 or 1 where the weight needs its inverse.

    Notes
    -----
    Weights are w = 1/P(arm received | covariates) for the ATE (Rosenbaum 1987) and the odds
    p/(1−p) for controls under the ATT (Hirano, Imbens & Ridder 2003). Extreme weights mean poor
    overlap; inspect ``sample_sizes`` (effective sample size) and :meth:`WeightResult.balance`
    before estimating effects. Truncation trades bias for variance and changes the estimand
    slightly; report ``n_trimmed``. Order of operations: weights, then stabilisation, then
    truncation.

    References
    ----------
    Austin PC (2011). *Multivariate Behavioral Research* 46(3):399–424.

    Robins JM, Hernán MA, Brumback B (2000). Marginal structural models and causal inference in
    epidemiology. *Epidemiology* 11(5):550–560.

    Hirano K, Imbens GW, Ridder G (2003). Efficient estimation of average treatment effects
    using the estimated propensity score. *Econometrica* 71(4):1161–1189.

    Cole SR, Hernán MA (2008). Constructing inverse probability weights for marginal structural
    models. *American Journal of Epidemiology* 168(6):656–664.

    Lee BK, Lessler J, Stuart EA (2011). Weight trimming and propensity score weighting.
    *PLoS ONE* 6(3):e18174.

    Examples
    --------
    >>> import evalkit as ek
    >>> rossi = ek.datasets.load_rossi()
    >>> w = ek.weight(rossi, group="fin", treated=1, covariates=["age", "prio"], estimand="ATE")
    >>> w.sample_sizes.loc["n"].tolist()
    [216.0, 216.0]
    """
    estimand = check_choice(estimand, "estimand", WEIGHT_ESTIMANDS)
    stabilize = check_flag(stabilize, "stabilize")
    if trim is not None:
        trim = check_number(trim, "trim", minimum=0.5, maximum=1.0, strict=True)
    if max_weight is not None:
        max_weight = check_number(max_weight, "max_weight", minimum=0.0, strict=True)
    link = check_choice(link, "link", LINKS)
    a = arms(df, group, treated, covariates)
    if "weight" in a.df.columns:
        raise InputError(
            "weight",
            "is already a column of the data; weight() adds 'weight' to the weighted data, "
            "so rename it first",
        )
    design = Covariates.design(a, a.covariates)
    covs = Covariates.from_design(a, design)
    ps = fit_propensity(a, reference=reference, link=link, stacklevel=3, balance=design)
    z = a.z
    p = ps.scores.to_numpy()
    if estimand == "ATT":
        bad = (z == 0) & (p >= 1.0)
    elif estimand == "ATC":
        bad = (z == 1) & (p <= 0.0)
    else:
        bad = ((z == 1) & (p <= 0.0)) | ((z == 0) & (p >= 1.0))
    if bad.any():
        ids = [repr(r) for r in row_ids(a.df, bad)[:5]]
        raise DesignError(
            f"propensity score of exactly 0 or 1 makes the {estimand} weight infinite for "
            f"{int(bad.sum())} rows (e.g. {', '.join(ids)}); the groups do not overlap"
        )
    with np.errstate(divide="ignore"):
        if estimand == "ATT":
            w = np.where(z == 1, 1.0, p / (1.0 - p))
        elif estimand == "ATC":
            w = np.where(z == 1, (1.0 - p) / p, 1.0)
        else:
            w = np.where(z == 1, 1.0 / p, 1.0 / (1.0 - p))
    if stabilize:
        share1 = float(np.mean(z == 1))
        w = w * np.where(z == 1, share1, 1.0 - share1)
    threshold: float | None = None
    n_trimmed = 0
    if trim is not None or max_weight is not None:
        eligible = {"ATT": z == 0, "ATC": z == 1, "ATE": np.ones(len(z), dtype=bool)}[estimand]
        caps = []
        if trim is not None:
            caps.append(float(np.quantile(w[eligible], trim)))
        if max_weight is not None:
            caps.append(max_weight)
        threshold = min(caps)
        over = eligible & (w > threshold)
        n_trimmed = int(over.sum())
        w = np.where(over, threshold, w)
    data = own(a.df)
    data["weight"] = w
    return WeightResult(
        data=data,
        weights=pd.Series(w, index=a.df.index, name="weight"),
        propensity=ps,
        estimand=estimand,
        stabilize=stabilize,
        trim=trim,
        max_weight=max_weight,
        trim_threshold=threshold,
        n_trimmed=n_trimmed,
        sample_sizes=sample_sizes(z, w),
        group=a.group,
        treated=a.treated,
        control=a.control,
        covariates=ps.covariates,
        _covariates=covs,
    )
