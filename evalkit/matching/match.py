"""Greedy nearest-neighbour matching on the propensity score: :func:`match` and its result.

References
----------
Those of :mod:`evalkit.matching` (Rosenbaum & Rubin 1985; Austin 2011; Stuart 2010; Ho, Imai,
King & Stuart 2011, MatchIt), and

Abadie A, Spiess J (2022). Robust post-matching inference. *Journal of the American
Statistical Association* 117(538):983–995. doi:10.1080/01621459.2020.1840383
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evalkit._options import check_choice, check_columns, check_flag, check_int, check_number
from evalkit.errors import DesignError, InputError, StatisticalWarning
from evalkit.matching._inputs import Arms, arms, check_index, row_values
from evalkit.matching.balance import Adjusted, Covariates, ess
from evalkit.matching.greedy import _greedy, _k_nearest, _Pool, _prepare_pool, shortfall_reasons
from evalkit.matching.propensity import LINKS, PropensityScore, fit_propensity
from evalkit.results import own
from evalkit.schema import check_no_missing

__all__ = ["MATCH_ESTIMANDS", "ORDERS", "MatchResult", "match"]

ORDERS = ("largest", "smallest", "random", "data")
MATCH_ESTIMANDS = ("ATT", "ATC")


@dataclass(frozen=True, eq=False, repr=False)
class MatchResult(Adjusted):
    """Result of :func:`match`.

    Attributes
    ----------
    data
        The matched rows (weight > 0) in their original order, with the input columns plus
        ``weight`` and ``subclass`` (as MatchIt's ``match.data()``); the result's own copy.
    weights
        Matching weight of every input row (0 = not matched), MatchIt's convention: each matched
        focal unit (the programme arm, for the ATT) has weight 1; a matched comparison unit gets
        the sum over the focal units it is matched to of 1/(number of units matched to that
        focal unit), and these weights are then scaled to sum to the number of distinct matched
        comparison units.
    subclass
        Matched-set identifier (1, 2, … numbered in the row order of the focal units; nullable
        integer). Missing for unmatched rows, and for every row after matching with replacement
        (a control can then belong to several sets; use ``pairs``).
    pairs
        One row per (focal, match) pair: ``treated``, ``control`` (row labels of the programme
        and the comparison member), ``subclass``, ``match_number`` (1..ratio: the round of
        greedy matching, or the rank of nearness with replacement) and ``difference``
        (absolute distance difference).
    counts
        Index ``all``, ``matched``, ``matched_ess`` (Kish effective sample size of the matching
        weights), ``unmatched``; columns ``control``, ``treated``. Every input row is counted
        in ``all`` = ``matched`` + ``unmatched``.
    unmatched
        Every focal unit with fewer than ``ratio`` matches: index = row label; columns
        ``n_matched`` and ``reason`` (no unit of the other arm in its exact cell; none within
        the caliper; fewer than ``ratio`` within reach; or those within reach were used by
        earlier matches).
    distance
        The distance matched on (propensity score, its logit, or the user's), per row.
    propensity
        The fitted :class:`PropensityScore` (``None`` when ``distance`` was supplied).
    caliper
        The caliper actually applied, in units of ``distance`` (``None`` without a caliper).
    ratio, replace, order, estimand, exact, covariates
        The settings used.
    group, treated, control
        The group column, the label of its programme arm and that of the comparison arm.
    """

    _title = "Nearest-neighbour matching"
    _adjustment = "matching"

    subclass: pd.Series
    pairs: pd.DataFrame
    counts: pd.DataFrame
    unmatched: pd.DataFrame
    distance: pd.Series
    propensity: PropensityScore | None
    caliper: float | None
    ratio: int
    replace: bool
    order: str
    exact: tuple[str, ...]

    def _distance(self) -> np.ndarray:
        return self.distance.to_numpy(dtype=float)

    def _sizes(self) -> pd.DataFrame:
        return self.counts


def _cells(df: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """Integer code (0..G-1) of each row's exact-matching cell, cells in sorted order."""
    codes = np.zeros(len(df), dtype=np.int64)
    for col in columns:
        check_no_missing(df, col)
        c, uniques = pd.factorize(df[col], sort=True)
        _, codes = np.unique(codes * len(uniques) + c, return_inverse=True)
    return codes.astype(np.int64)


def _rng(rng: int | np.random.Generator | None) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng)


def match(
    df: pd.DataFrame,
    *,
    group: str,
    treated: Any = "programme",
    covariates: Sequence[str],
    ratio: int = 1,
    caliper: float | None = None,
    exact: str | Sequence[str] | None = None,
    replace: bool = False,
    order: str | None = None,
    estimand: str = "ATT",
    distance: str | Sequence[float] | np.ndarray | pd.Series | None = None,
    link: str = "logit",
    reference: Mapping[str, Any] | None = None,
    std_caliper: bool = True,
    rng: int | np.random.Generator | None = None,
) -> MatchResult:
    """Greedy nearest-neighbour matching on the propensity score (or another distance).

    Parameters
    ----------
    df
        One row per person; the index must be unique (rows are reported by label).
    group
        Column holding the two arms (e.g. ``Cohort.data["group"]``).
    treated
        The label in ``group`` of the programme arm (default ``"programme"``; ``1`` for a 0/1
        column). Below, "treated" is the programme arm and "control" the comparison arm.
    covariates
        Columns for the propensity model (unless ``distance`` is given) and the balance table.
    ratio
        Number of controls per treated unit (1:k matching), a whole number ≥ 1.
    caliper
        Maximum allowed absolute distance difference of a pair, in standard deviations of the
        distance (``std_caliper=True``, as MatchIt) — i.e. of the propensity score itself with
        ``link="logit"``, of its logit with ``link="linear.logit"``. Austin (2011) recommends 0.2
        SD of the logit: ``link="linear.logit", caliper=0.2``. The SD is the sample SD
        (n−1) of the distance over all rows. ``None``: no caliper.
    exact
        Column(s) on which pairs must agree exactly (e.g. court, sex); matching is done within
        each cell of their combinations.
    replace
        Match with replacement: every treated unit independently gets its ``ratio`` nearest
        controls, which may be shared (processing order is then irrelevant).
    order
        Order in which treated units choose (without replacement): ``"largest"`` distance first,
        ``"smallest"`` first, ``"random"`` (uses ``rng``) or ``"data"`` (row order). ``None``
        means ``"largest"`` for the ATT and ``"smallest"`` for the ATC, MatchIt's defaults.
        Ties in the distance are taken in row order.
    estimand
        ``"ATT"`` (find controls for the treated) or ``"ATC"`` (find treated units for the
        controls; "treated" and "control" swap roles in the description above).
    distance
        ``None`` (estimate a logistic propensity score from ``covariates``), a column name, or
        one value per row (e.g. ``ps.scores`` or scores from another model).
    link
        ``"logit"`` (match on the probability, MatchIt's default) or ``"linear.logit"`` (match
        on the log-odds). Ignored when ``distance`` is given.
    reference
        ``{column: level}``: the reference level of a categorical covariate in the propensity
        model (see :func:`propensity_score`). Ignored when ``distance`` is given.
    std_caliper
        ``True``: ``caliper`` is in SDs of the distance; ``False``: in its own units.
    rng
        Seed or ``numpy.random.Generator`` for ``order="random"``.

    Returns
    -------
    MatchResult

    Raises
    ------
    InputError
        ``group`` without exactly two labels or without ``treated``; missing or non-finite
        covariates, distances or exact columns (rows named); ratio < 1 or not whole;
        caliper ≤ 0; unknown order, estimand or link (valid values listed); duplicated index
        labels; a data column already called ``weight`` or ``subclass``.
    DesignError
        Only one arm present; nobody could be matched.

    Warns
    -----
    StatisticalWarning
        When some treated units get fewer than ``ratio`` matches (no control in their exact cell,
        none within the caliper, or the controls within reach were used up). They are never
        dropped silently: they are counted in ``counts`` and listed in ``unmatched``.

    Notes
    -----
    **Algorithm.** Greedy matching (Rosenbaum & Rubin 1985; Austin 2011): the treated units are
    processed one at a time in ``order``; each takes the still-available control whose distance
    is closest to its own, provided the difference is within the caliper, the control is in the
    same exact cell, and (without replacement) the control has not been used. Ties between
    equally close controls go to the earliest row. With ``ratio = k`` this is done in k rounds,
    each treated unit taking one more control per round, exactly as MatchIt's classic C++
    routine (``nn_matchC``). It is greedy, not optimal: earlier units take the controls they
    like best, so results depend on ``order`` and a later unit can receive a worse match than an
    optimal (minimum total distance) matching would give it.

    **Speed.** The controls are sorted once by (cell, distance), so a treated unit's nearest
    controls above and below its score are neighbours in that order and there is no n₁ × n₀
    distance matrix. Each round first finds, for every treated unit at once, the nearest
    control among those available when the round starts (vectorised binary searches); that is
    still the unit's choice when its turn comes unless an earlier unit took it, which one
    sequential pass checks in O(1) per unit, and only then does the unit search again, through
    "next available" pointer arrays with path halving (a union–find structure, amortised
    O(log n)). The pass is sequential because the greedy result is: each choice depends on
    every earlier one. The propensity model is fitted by plain-numpy IRLS
    (:func:`propensity_score`). 100,000 treated against 900,000 controls with 11 covariates
    match, fit included, in about one second of CPU time (``benchmarks/bench_matching.py``).
    With replacement there is no dependence between treated units and the search is fully
    vectorised.

    **Agreement with MatchIt.** Tested to give the same matched pairs, weights and balance table
    as MatchIt 4.5.1 run with the treated × control matrix of PS distances as ``distance``
    (the classic algorithm; ``tests/reference/matching_reference.R``). MatchIt 4.5.1's *default*
    path for a propensity-score distance (``nn_matchC_vec``) is a different, faster heuristic
    whose tie-breaking depends on sort order (MatchIt issue #180); on the installation used for
    the references it also always chose the nearest control *below* the treated unit's score
    and ignored calipers on the probability scale (fixed in later MatchIt releases, issue #163),
    so its pairs differ from the nearest-neighbour pairs returned here.

    **Weights.** With ``ratio = k`` or with replacement the matched sample is analysed with the
    matching weights (``weight``), not as if every row counted once. Standard errors should
    account for the matched sets: cluster on ``subclass`` (Austin 2011; Abadie & Spiess 2022),
    see :func:`matched_rate_difference`.

    **When not to use.** Matching cannot remove bias from unmeasured confounders; with poor
    overlap (treated units whose scores no control approaches) a caliper discards treated units
    and the estimand is then no longer the ATT of everyone treated — report how many were lost.

    References
    ----------
    Rosenbaum PR, Rubin DB (1985). *The American Statistician* 39(1):33–38.
    doi:10.1080/00031305.1985.10479383

    Austin PC (2011). *Multivariate Behavioral Research* 46(3):399–424.
    doi:10.1080/00273171.2011.568786

    Stuart EA (2010). *Statistical Science* 25(1):1–21. doi:10.1214/09-STS313

    Ho DE, Imai K, King G, Stuart EA (2011). MatchIt. *Journal of Statistical Software* 42(8).
    doi:10.18637/jss.v042.i08

    Abadie A, Spiess J (2022). Robust post-matching inference. *Journal of the American
    Statistical Association* 117(538):983–995. doi:10.1080/01621459.2020.1840383

    Examples
    --------
    >>> import evalkit as ek
    >>> rossi = ek.datasets.load_rossi()
    >>> m = ek.match(rossi, group="fin", treated=1, covariates=["age", "prio", "wexp"])
    >>> m.counts.loc["matched"].tolist()
    [216.0, 216.0]
    >>> m  # doctest: +ELLIPSIS
    MatchResult(estimand='ATT', group='fin', treated=1, control=0, covariates=(...), ...)
    """
    exact_cols = check_columns(exact, "exact")
    ratio = check_int(ratio, "ratio", minimum=1)
    if caliper is not None:
        caliper = check_number(caliper, "caliper", minimum=0.0, strict=True)
    estimand = check_choice(estimand, "estimand", MATCH_ESTIMANDS)
    order = check_choice(
        ("largest" if estimand == "ATT" else "smallest") if order is None else order,
        "order",
        ORDERS,
    )
    link = check_choice(link, "link", LINKS)
    replace = check_flag(replace, "replace")
    std_caliper = check_flag(std_caliper, "std_caliper")
    a = arms(df, group, treated, covariates, exact=exact_cols, need_covariates=distance is None)
    check_index(a.df)
    for name in ("weight", "subclass"):
        if name in a.df.columns:
            raise InputError(
                name,
                "is already a column of the data; match() adds 'weight' and 'subclass' to the "
                "matched data, so rename it first",
            )
    # the balance design (covariates and exact columns) is checked and kept before fitting
    design = Covariates.design(
        a, [*a.covariates, *(c for c in exact_cols if c not in a.covariates)]
    )
    covs = Covariates.from_design(a, design)
    ps: PropensityScore | None = None
    if distance is None:
        ps = fit_propensity(a, reference=reference, link=link, stacklevel=3, balance=design)
        d = ps.distance.to_numpy(dtype=float)
    else:
        d = row_values(a.df, distance, "distance")
    cells = _cells(a.df, exact_cols) if exact_cols else np.zeros(len(a.df), dtype=np.int64)

    cal_abs: float | None = None
    if caliper is not None:
        if std_caliper:
            sd = float(np.std(d, ddof=1))
            if not sd > 0:
                raise InputError(
                    "caliper",
                    "is in SD units of the distance, but the distance has no variation",
                    argument=True,
                )
            cal_abs = caliper * sd
        else:
            cal_abs = caliper

    z = a.z
    focal_flag = 1 if estimand == "ATT" else 0
    rows = np.arange(len(z), dtype=np.int64)
    focal_all = rows[z == focal_flag]
    pool_rows = rows[z != focal_flag]
    if order == "largest":
        focal = focal_all[np.lexsort((focal_all, -d[focal_all]))]
    elif order == "smallest":
        focal = focal_all[np.lexsort((focal_all, d[focal_all]))]
    elif order == "random":
        focal = _rng(rng).permutation(focal_all)
    else:
        focal = focal_all
    pool = _prepare_pool(d, cells, focal, pool_rows)
    cal = math.inf if cal_abs is None else cal_abs
    if replace:
        matches = _k_nearest(d, focal, pool, ratio, cal)
    else:
        matches = _greedy(d, focal, pool, ratio, cal)

    return _assemble(
        a,
        d=d,
        cells=cells,
        focal=focal,
        pool=pool,
        matches=matches,
        ratio=ratio,
        caliper=cal,
        replace=replace,
        estimand=estimand,
        settings={
            "order": order,
            "exact": tuple(exact_cols),
            "propensity": ps,
            "caliper": cal_abs,
            "covariates": covs,
        },
    )


def _assemble(
    a: Arms,
    *,
    d: np.ndarray,
    cells: np.ndarray,
    focal: np.ndarray,
    pool: _Pool,
    matches: np.ndarray,
    ratio: int,
    caliper: float,
    replace: bool,
    estimand: str,
    settings: dict[str, Any],
) -> MatchResult:
    df, z = a.df, a.z
    n = len(df)
    focal_name, pool_name = ("treated", "control") if estimand == "ATT" else ("control", "treated")
    n_matches = (matches >= 0).sum(axis=1)
    matched_focal = n_matches > 0
    if not matched_focal.any():
        raise DesignError(
            f"no {focal_name} unit could be matched (check the caliper and exact-matching cells)"
        )

    # weights (MatchIt's weights_matrixC plus rescaling of the pool weights)
    f_idx, col = np.nonzero(matches >= 0)
    pool_matched = matches[f_idx, col]
    w = np.zeros(n)
    w[focal[matched_focal]] = 1.0
    raw = np.bincount(pool_matched, weights=1.0 / n_matches[f_idx], minlength=n)
    n_pool_matched = int(np.count_nonzero(raw))
    w += raw * (n_pool_matched / raw.sum())

    # matched sets numbered in row order of their focal unit
    set_id = np.zeros(len(focal), dtype=np.int64)
    mf = np.flatnonzero(matched_focal)
    set_id[mf[np.argsort(focal[mf], kind="stable")]] = np.arange(1, len(mf) + 1)
    sub_values = np.zeros(n, dtype=np.int64)
    if not replace:
        sub_values[focal[mf]] = set_id[mf]
        sub_values[pool_matched] = set_id[f_idx]
    sub = pd.arrays.IntegerArray(sub_values, sub_values == 0)  # 0 = missing

    labels = df.index
    focal_rows = focal[f_idx]
    treated_rows, control_rows = (
        (focal_rows, pool_matched) if estimand == "ATT" else (pool_matched, focal_rows)
    )
    order_pairs = np.lexsort((col, set_id[f_idx]))
    pairs = pd.DataFrame(
        {
            "treated": labels[treated_rows[order_pairs]],
            "control": labels[control_rows[order_pairs]],
            "subclass": set_id[f_idx][order_pairs],
            "match_number": col[order_pairs] + 1,
            "difference": np.abs(d[pool_matched] - d[focal_rows])[order_pairs],
        }
    )

    # counts: every row is either matched or unmatched
    matched_mask = w > 0
    counts = pd.DataFrame(
        {
            name: [
                float(np.sum(z == g)),
                float(np.sum(matched_mask & (z == g))),
                ess(w[z == g]),
                float(np.sum(~matched_mask & (z == g))),
            ]
            for g, name in ((0, "control"), (1, "treated"))
        },
        index=pd.Index(["all", "matched", "matched_ess", "unmatched"], name="sample"),
    )

    # units short of `ratio` matches, with the reason
    short = np.flatnonzero(n_matches < ratio)
    reasons = shortfall_reasons(d, cells, focal, pool, n_matches, short, ratio, caliper, pool_name)
    short_sorted = np.argsort(focal[short], kind="stable")
    unmatched = pd.DataFrame(
        {
            "n_matched": n_matches[short][short_sorted].astype(np.int64),
            "reason": reasons[short_sorted],
        },
        index=labels[focal[short][short_sorted]],
    )
    if len(short):
        n_none = int(np.sum(n_matches == 0))
        msg = (
            f"{len(short)} of {len(focal)} {focal_name} units have fewer than {ratio} "
            f"match{'es' if ratio > 1 else ''} ({n_none} have none); they are counted in "
            "`counts` and listed with the reason in `unmatched`"
        )
        warnings.warn(msg, StatisticalWarning, stacklevel=3)

    weights = pd.Series(w, index=labels, name="weight")
    subclass = pd.Series(sub, index=labels, name="subclass")
    data = own(df.loc[matched_mask])
    data["weight"] = w[matched_mask]
    data["subclass"] = subclass[matched_mask].array
    return MatchResult(
        data=data,
        weights=weights,
        subclass=subclass,
        pairs=pairs,
        counts=counts,
        unmatched=unmatched,
        distance=pd.Series(own(d), index=labels, name="distance"),
        propensity=settings["propensity"],
        caliper=settings["caliper"],
        ratio=ratio,
        replace=replace,
        order=settings["order"],
        estimand=estimand,
        exact=settings["exact"],
        group=a.group,
        treated=a.treated,
        control=a.control,
        covariates=tuple(a.covariates),
        _covariates=settings["covariates"],
    )
