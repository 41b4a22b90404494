"""Disclosure control: small counts never reach a report, directly or by subtraction.

The secondary-suppression checks do not reuse the module's code: an adversary reads the
published table (the HTML of the real ``table()``), knows its true relations (totals, flows,
complements), that counts are non-negative and, with rounding, which counts round to each
published value; it minimises and maximises every withheld cell by linear programming. A cell is
recovered when its minimum and maximum coincide, and a small count is exposed when its range is
narrower than the threshold.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from evalkit.errors import InputError
from evalkit.report import Disclosure, protect_table, table
from evalkit.report.disclosure import SUPPRESSED

# --------------------------------------------------------------------------------------------
# independent checker
# --------------------------------------------------------------------------------------------


def _solvable_cells(values, withheld, sums):
    """Cells (keys) whose value is pinned down by published cells and the sum constraints.

    ``values``: dict cell -> true value; ``withheld``: set of unpublished cells (including
    implied ones); ``sums``: list of (total_cell, [part cells]). For each unpublished cell,
    minimise and maximise it over real-valued tables satisfying every constraint with published
    cells fixed; a cell is solvable iff both optima exist and agree.
    """
    unknown = sorted(withheld, key=repr)
    if not unknown:
        return set()
    pos = {c: i for i, c in enumerate(unknown)}
    a_eq, b_eq = [], []
    for total, parts in sums:
        row = np.zeros(len(unknown))
        rhs = 0.0
        for c, coef in [(total, -1.0)] + [(p, 1.0) for p in parts]:
            if c in pos:
                row[pos[c]] += coef
            else:
                rhs -= coef * values[c]
        if np.any(row != 0):
            a_eq.append(row)
            b_eq.append(rhs)
    solvable = set()
    for c in unknown:
        if not a_eq:
            continue
        obj = np.zeros(len(unknown))
        obj[pos[c]] = 1.0
        bounds = [(None, None)] * len(unknown)
        lo = linprog(obj, A_eq=np.array(a_eq), b_eq=b_eq, bounds=bounds, method="highs")
        hi = linprog(-obj, A_eq=np.array(a_eq), b_eq=b_eq, bounds=bounds, method="highs")
        if lo.status == 0 and hi.status == 0 and abs(lo.fun + hi.fun) < 1e-6:
            solvable.add(c)
    return solvable


def _grid_constraints(df, counts, row_total, total_row):
    sums = []
    labels = list(df.index)
    if row_total is not None:
        parts = [c for c in counts if c != row_total]
        sums += [((lab, row_total), [(lab, c) for c in parts]) for lab in labels]
    if total_row is not None:
        others = [lab for lab in labels if lab != total_row]
        sums += [((total_row, c), [(lab, c) for lab in others]) for c in counts]
    return sums


# --------------------------------------------------------------------------------------------
# settings and running text
# --------------------------------------------------------------------------------------------


def test_counts_in_text_below_threshold_are_withheld_and_rounding_applies():
    d = Disclosure()
    assert d.count(0) == "fewer than 5"
    assert d.count(4) == "fewer than 5"
    assert d.count(5) == "5"
    assert d.count(12345) == "12,345"
    assert Disclosure(threshold=10).count(9) == "fewer than 10"
    r = Disclosure(round_to=5)
    assert [r.rounded(n) for n in (5, 7, 8, 12, 13, 102)] == [5, 5, 10, 10, 15, 100]
    assert r.count(12) == "10"
    assert Disclosure(allow_zeros=True).count(0) == "0"


@pytest.mark.parametrize(
    "kwargs",
    [{"threshold": 0}, {"threshold": 2.5}, {"round_to": -5}, {"threshold": True}],
)
def test_invalid_settings_are_refused(kwargs):
    with pytest.raises(InputError, match=f"argument '{next(iter(kwargs))}'"):
        Disclosure(**kwargs)


@pytest.mark.parametrize("bad", [-1, 2.5, float("nan"), None, "x"])
def test_count_rejects_non_counts(bad):
    with pytest.raises(InputError):
        Disclosure().count(bad)


# --------------------------------------------------------------------------------------------
# primary and secondary suppression
# --------------------------------------------------------------------------------------------


def test_small_count_in_a_column_with_a_total_gets_a_partner():
    t = pd.DataFrame({"group": ["a", "b", "c", "total"], "reoffended": [3, 40, 52, 95]})
    p = protect_table(t, counts=["reoffended"], total_row=3)
    assert p.withheld["reoffended"].tolist() == [True, True, False, False]
    assert p.n_primary == 1 and p.n_secondary == 1
    # the total still published, 3 cannot be recovered: 95 - 52 = 43 = a + b
    assert p.table["reoffended"].iloc[3] == 95


def test_two_way_table_with_margins_suppresses_a_rectangle():
    t = pd.DataFrame(
        {"yes": [3, 50, 53], "no": [20, 30, 50], "n": [23, 80, 103]}, index=["a", "b", "tot"]
    )
    p = protect_table(t, counts=["yes", "no", "n"], row_total="n", total_row="tot")
    w = p.withheld
    assert w.loc["a", "yes"]
    # minimal protection of a 2x2 interior with both margins: the four interior cells
    assert w.loc[["a", "b"], ["yes", "no"]].to_numpy().all()
    assert not w["n"].any() and not w.loc["tot"].any()
    sums = _grid_constraints(t, ["yes", "no", "n"], "n", "tot")
    values = {(i, c): int(t.loc[i, c]) for i in t.index for c in ["yes", "no", "n"]}
    hidden = {(i, c) for i in t.index for c in ["yes", "no", "n"] if w.loc[i, c]}
    assert not (_solvable_cells(values, hidden, sums) & {("a", "yes")})


def test_complement_protects_the_people_who_did_not_reoffend():
    # 97 of 100 reoffended: the 3 who did not are a small count too
    t = pd.DataFrame({"n": [100, 50], "events": [97, 20], "pct": [97.0, 40.0]})
    p = protect_table(
        t, counts=["n", "events"], complements={"events": "n"}, percents={"pct": ("events", "n")}
    )
    assert p.withheld.loc[0, "events"] and p.withheld.loc[0, "pct"]
    assert not p.withheld.loc[1].any()
    assert p.table["pct"].isna().tolist() == [True, False]


def test_percent_of_a_withheld_count_is_withheld():
    t = pd.DataFrame({"group": ["a", "b"], "n": [40, 60], "events": [2, 30]})
    t["pct"] = 100 * t["events"] / t["n"]
    p = protect_table(t, counts=["n", "events"], percents={"pct": "events"})
    assert p.table["pct"].isna().tolist() == [True, False]
    assert p.table["events"].isna().tolist() == [True, False]


def test_zero_counts_are_withheld_unless_allowed():
    t = pd.DataFrame({"n": [0, 12]})
    assert protect_table(t, counts=["n"]).withheld["n"].tolist() == [True, False]
    allowed = protect_table(t, counts=["n"], disclosure=Disclosure(allow_zeros=True))
    assert allowed.withheld["n"].tolist() == [False, False]


def test_rounding_rounds_published_counts_only():
    t = pd.DataFrame({"n": [3, 12, 18]})
    p = protect_table(t, counts=["n"], disclosure=Disclosure(round_to=5))
    assert p.table["n"].tolist()[1:] == [10, 20]
    assert pd.isna(p.table["n"].iloc[0])


def test_explicit_constraint_protects_a_flow_table():
    # remaining_1 = remaining_0 - removed_1: a small removal is recoverable by subtraction
    t = pd.DataFrame({"removed": [0, 3, 40], "remaining": [500, 497, 457]})
    cons = [((0, "remaining"), [(1, "remaining"), (1, "removed")])]
    cons.append(((1, "remaining"), [(2, "remaining"), (2, "removed")]))
    p = protect_table(
        t,
        counts=["removed", "remaining"],
        constraints=cons,
        disclosure=Disclosure(allow_zeros=True),
    )
    assert p.withheld.loc[1, "removed"]
    assert p.withheld["remaining"].iloc[:2].any()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"counts": ["missing"]}, "missing"),
        ({"counts": ["n"], "row_total": "events"}, "row_total"),
        ({"counts": ["n"], "total_row": 99}, "total_row"),
        ({"counts": ["n", "events"], "complements": {"n": "events"}}, "exceeds"),
    ],
)
def test_bad_arguments_name_the_problem(kwargs, message):
    t = pd.DataFrame({"n": [10, 20], "events": [4, 30]})
    with pytest.raises(InputError, match=message):
        protect_table(t, **kwargs)


def test_non_count_values_are_refused_with_the_row():
    t = pd.DataFrame({"n": [10, -2]})
    with pytest.raises(InputError, match="row 1"):
        protect_table(t, counts=["n"])


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 4),
    st.integers(2, 4),
    st.data(),
)
def test_no_small_cell_can_be_solved_for_in_a_table_with_margins(n_rows, n_cols, data):
    # Property: after protection, no withheld small interior cell of a table published with
    # row and column totals can be recovered exactly (checked by linear programming).
    values = data.draw(
        st.lists(
            st.lists(st.integers(0, 40), min_size=n_cols, max_size=n_cols),
            min_size=n_rows,
            max_size=n_rows,
        )
    )
    inner = np.array(values)
    cols = [f"c{j}" for j in range(n_cols)]
    df = pd.DataFrame(inner, columns=cols)
    df["total"] = inner.sum(axis=1)
    df.loc["all"] = df.sum(axis=0)
    counts = [*cols, "total"]
    p = protect_table(df, counts=counts, row_total="total", total_row="all")
    w = p.withheld
    cells = {(i, c): int(df.loc[i, c]) for i in df.index for c in counts}
    hidden = {k for k in cells if w.loc[k[0], k[1]]}
    small = {k for k, v in cells.items() if v < 5}
    assert small <= hidden  # primary suppression
    solvable = _solvable_cells(cells, hidden, _grid_constraints(df, counts, "total", "all"))
    assert not (solvable & small)
    # nothing withheld is published
    for i, c in hidden:
        assert pd.isna(p.table.loc[i, c])


# --------------------------------------------------------------------------------------------
# the report table applies it by default
# --------------------------------------------------------------------------------------------


def _cells(html_text):

    return re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", html_text)


def test_report_table_suppresses_integer_columns_by_default():
    df = pd.DataFrame({"group": ["a", "b"], "people": [120, 40], "reoffended": [3, 17]})
    frag = table(df, caption="Reoffending")
    cells = _cells(frag.html)
    assert "3" not in cells  # the small count is not shown
    assert any(SUPPRESSED in c for c in cells)
    assert "withheld" in frag.html
    assert frag.meta["withheld"] >= 1


def test_report_table_exempts_listed_columns_and_refuses_person_level_tables():
    df = pd.DataFrame({"year": [2021, 2022], "week": [1, 2], "people": [120, 40]})
    html_text = table(df, caption="c", not_counts=["year", "week"]).html
    assert ">1<" in html_text and ">2<" in html_text
    big = pd.DataFrame({"person": range(100), "x": range(100)})
    with pytest.raises(InputError, match="person-level"):
        table(big, caption="people")


def test_report_table_is_accessible_markup():
    df = pd.DataFrame({"group": ["a"], "rate": [0.5]})
    html_text = table(df, caption="Rates by group").html
    assert "<caption>Rates by group</caption>" in html_text
    assert '<th scope="col">group</th>' in html_text
    assert '<th scope="row">a</th>' in html_text
    with pytest.raises(InputError, match="caption"):
        table(df, caption=" ")


def test_the_independent_checker_catches_primary_suppression_alone():
    # guards the property test above: withholding only the small cell is not enough
    df = pd.DataFrame({"c0": [3, 20], "c1": [30, 40]})
    df["total"] = df.sum(axis=1)
    df.loc["all"] = df.sum(axis=0)
    counts = ["c0", "c1", "total"]
    cells = {(i, c): int(df.loc[i, c]) for i in df.index for c in counts}
    sums = _grid_constraints(df, counts, "total", "all")
    assert (0, "c0") in _solvable_cells(cells, {(0, "c0")}, sums)


def test_at_risk_numbers_under_survival_curves_are_protected():
    import matplotlib

    matplotlib.use("Agg")
    from evalkit.report import figure, km_figure
    from evalkit.survival import kaplan_meier

    rng = np.random.default_rng(3)
    df = pd.DataFrame(
        {
            "time": np.r_[rng.integers(1, 100, 40), [10, 20, 30, 40, 95, 96, 97]],
            "event": np.r_[rng.integers(0, 2, 40), [1, 1, 1, 1, 0, 0, 0]],
            "group": ["big"] * 40 + ["small"] * 7,
        }
    )
    km = kaplan_meier(df, time="time", event="event", by="group")
    at = km.at([0, 50, 90])
    small_at_90 = int(at.loc[(at["group"] == "small") & (at["time"] == 90), "at_risk"].iloc[0])
    assert 0 < small_at_90 < 5  # the fixture really has a small at-risk count
    html_text = km_figure(km, caption="c", risk_times=[0, 50, 90]).html
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", html_text)
    assert SUPPRESSED in texts
    assert str(small_at_90) not in texts
    assert "7 people" in html_text and "fewer than 5 events" in html_text  # alt text protected
    # a plain rp.figure of km.plot() is protected too
    ax = km.plot(risk_times=[0, 50, 90])
    plain = re.findall(r"<text[^>]*>([^<]*)</text>", figure(ax, alt="a", caption="c").html)
    assert SUPPRESSED in plain and str(small_at_90) not in plain


# --------------------------------------------------------------------------------------------
# the adversary: every suppressed cell of a published table, attacked by linear programming
# --------------------------------------------------------------------------------------------
#
# The rule (module docstring of evalkit.report.disclosure): with every count non-negative, each
# withheld small count — and each implied one, such as n - events — can take values spanning at
# least the threshold, given every published cell and every declared relation; no withheld cell
# is determined. The adversary below reads the published HTML of the real ``table()``, knows the
# table's true relations, and minimises and maximises every unknown cell.


def _published(frag_html, columns, counts):
    """Cells of the table as a reader sees them: {(row position, column): int or None}."""
    body = re.search(r"<tbody>(.*?)</tbody>", frag_html, flags=re.S)
    assert body is not None
    rows = re.findall(r"<tr\b[^>]*>(.*?)</tr>", body.group(1), flags=re.S)
    seen = {}
    for r, row in enumerate(rows):
        texts = re.findall(r"<t[hd]\b[^>]*>(.*?)</t[hd]>", row, flags=re.S)
        assert len(texts) == len(columns)
        for col, text in zip(columns, texts, strict=True):
            if col not in counts:
                continue
            seen[(r, col)] = None if SUPPRESSED in text else int(re.sub(r"<[^>]+>|,", "", text))
    return seen


def _adversary(seen, relations, round_to=0):
    """Feasible range (lo, hi) of every unknown cell, by two linear programmes each.

    ``seen``: cell -> published value or None; cells that appear only in ``relations`` (implied
    counts such as n - events) are unknown too. ``relations``: (total, [parts]) on true values.
    Every count is >= 0; with rounding a published value v stands for the whole counts that
    round to it (half up): ceil(v - b/2) ... ceil(v + b/2) - 1.
    """
    cells = list(seen)
    for total, parts in relations:
        cells += [c for c in (total, *parts) if c not in cells]
    pos = {c: i for i, c in enumerate(cells)}
    bounds = []
    for c in cells:
        v = seen.get(c)
        if v is None:
            bounds.append((0, None))
        elif round_to > 1:
            bounds.append(
                (max(0, int(np.ceil(v - round_to / 2))), int(np.ceil(v + round_to / 2)) - 1)
            )
        else:
            bounds.append((v, v))
    a_eq = np.zeros((len(relations), len(cells)))
    for k, (total, parts) in enumerate(relations):
        a_eq[k, pos[total]] -= 1
        for p in parts:
            a_eq[k, pos[p]] += 1
    ranges = {}
    for c in cells:
        if seen.get(c) is not None:
            continue
        obj = np.zeros(len(cells))
        obj[pos[c]] = 1.0
        kw = {"A_eq": a_eq, "b_eq": np.zeros(len(relations))} if relations else {}
        lo = linprog(obj, bounds=bounds, method="highs", **kw)
        hi = linprog(-obj, bounds=bounds, method="highs", **kw)
        assert lo.status == 0, lo.message
        assert hi.status in (0, 3), hi.message
        ranges[c] = (lo.fun, np.inf if hi.status == 3 else -hi.fun)
    return ranges


def _attack(df, *, counts, relations, disclosure, truth, **relations_kw):
    """Publish ``df`` through ``table()`` and check every withheld cell against the rule."""
    frag = table(df, caption="Counts", counts=counts, disclosure=disclosure, **relations_kw)
    seen = _published(frag.html, list(df.columns), counts)
    t = disclosure.threshold
    for cell, v in seen.items():
        if v is not None and disclosure.round_to <= 1:
            assert v == truth[cell]
        if v is not None:  # primary suppression
            assert not disclosure.is_small(truth[cell]), cell
    ranges = _adversary(seen, relations, disclosure.round_to)
    for cell, (lo, hi) in ranges.items():
        value = truth[cell]
        assert lo - 1e-6 <= value <= hi + 1e-6, (cell, value, lo, hi)  # the adversary is sound
        if cell in seen:
            # a withheld cell is never a single value
            assert hi - lo > 1e-6, f"{cell} = {value} recovered exactly from {seen}"
        if disclosure.is_small(value):
            # a small count (shown or implied) keeps a range at least the threshold wide,
            # which therefore reaches the threshold: the reader cannot tell it is small
            assert hi - lo >= t - 1e-6 and hi >= t - 1e-6, (
                f"{cell} = {value} narrowed to [{lo:g}, {hi:g}] from {seen}"
            )
    return frag, seen


def _small_or_not(rng, p_small=0.5, high=60):
    return int(rng.integers(0, 5)) if rng.random() < p_small else int(rng.integers(5, high))


def _margins_case(rng):
    n_rows, n_cols = int(rng.integers(2, 5)), int(rng.integers(1, 4))
    inner = np.array([[_small_or_not(rng) for _ in range(n_cols)] for _ in range(n_rows)])
    cols = [f"c{j}" for j in range(n_cols)]
    df = pd.DataFrame(inner, columns=cols)
    df.insert(0, "group", [f"g{i}" for i in range(n_rows)])
    kw, relations = {}, []
    with_row_total = n_cols > 1 and rng.random() < 0.8
    if with_row_total:
        df["total"] = inner.sum(axis=1)
        kw["row_total"] = "total"
    counts = [*cols, *(["total"] if with_row_total else [])]
    df.loc[n_rows] = ["all", *df[counts].sum(axis=0).tolist()]
    kw["total_row"] = n_rows
    labels = list(range(n_rows + 1))
    if with_row_total:
        relations += [((i, "total"), [(i, c) for c in cols]) for i in labels]
    relations += [((n_rows, c), [(i, c) for i in range(n_rows)]) for c in counts]
    return df, counts, relations, kw


def _flow_case(rng):
    n_removed = int(rng.integers(1, 6))
    removed = [_small_or_not(rng, 0.7) for _ in range(n_removed)]
    remaining = _small_or_not(rng, 0.15, 400)
    counts = [sum(removed) + remaining, *removed, remaining]
    steps = ["in the file"] + [f"Excluded: reason {k}" for k in range(n_removed)] + ["cohort"]
    df = pd.DataFrame({"step": steps, "count": counts})
    relations = [((0, "count"), [(i, "count") for i in range(1, len(df))])]
    return df, ["count"], relations, {"total_row": 0}


def _groups_case(rng):
    # people and reoffenders per group, with a total row; the people who did not reoffend
    # (n - events) are implied counts, protected and attacked like shown ones
    n_rows = int(rng.integers(2, 5))
    events = [_small_or_not(rng, 0.4) for _ in range(n_rows)]
    people = [e + _small_or_not(rng, 0.4) for e in events]
    df = pd.DataFrame({"group": [f"g{i}" for i in range(n_rows)], "n": people, "events": events})
    df.loc[n_rows] = ["all", sum(people), sum(events)]
    labels = list(range(n_rows + 1))
    relations = [((n_rows, c), [(i, c) for i in range(n_rows)]) for c in ("n", "events")]
    relations += [((i, "n"), [(i, "events"), ("not", i)]) for i in labels]
    kw = {"total_row": n_rows, "complements": {"events": "n"}}
    return df, ["n", "events"], relations, kw


def _truth(df, counts, relations):
    truth = {(i, c): int(df[c].iloc[i]) for i in range(len(df)) for c in counts}
    for _, parts in relations:
        for p in parts:
            if p[0] == "not":
                truth[p] = truth[(p[1], "n")] - truth[(p[1], "events")]
    return truth


def _check_the_adversary():
    """The adversary is strong enough: it finds what primary suppression alone leaves open."""
    # 800; [c]; [c]; 800 gives both exclusions as 0 (non-negativity), although linear algebra
    # alone (a + b = 0) solves for neither
    seen = {(0, "count"): 800, (1, "count"): None, (2, "count"): None, (3, "count"): 800}
    relations = [((0, "count"), [(1, "count"), (2, "count"), (3, "count")])]
    ranges = _adversary(seen, relations)
    assert ranges[(1, "count")] == pytest.approx((0, 0))
    # and one withheld removal of three between published totals is their difference
    seen = {(0, "count"): 800, (1, "count"): None, (2, "count"): 30, (3, "count"): 767}
    assert _adversary(seen, relations)[(1, "count")] == pytest.approx((3, 3))
    # rounding intervals are part of the attack: 95 | [c] | 40 | 50 rounded to 5
    seen = {(0, "count"): 95, (1, "count"): None, (2, "count"): 40, (3, "count"): 50}
    assert _adversary(seen, relations, round_to=5)[(1, "count")] == pytest.approx((0, 11))


@pytest.mark.parametrize(
    "disclosure",
    [Disclosure(), Disclosure(round_to=5), Disclosure(threshold=10), Disclosure(allow_zeros=True)],
    ids=["default", "rounded", "threshold-10", "zeros-shown"],
)
@pytest.mark.parametrize("kind", ["margins", "flow", "groups"])
def test_no_suppressed_cell_can_be_recovered_by_linear_programming(kind, disclosure):
    _check_the_adversary()
    make = {"margins": _margins_case, "flow": _flow_case, "groups": _groups_case}[kind]
    rng = np.random.default_rng(20240609)
    n_withheld = 0
    for _ in range(30):
        df, counts, relations, kw = make(rng)
        truth = _truth(df, counts, relations)
        _, seen = _attack(
            df, counts=counts, relations=relations, disclosure=disclosure, truth=truth, **kw
        )
        n_withheld += sum(v is None for v in seen.values())
    assert n_withheld > 20  # the cases really exercise suppression


@pytest.mark.parametrize(
    ("counts", "shown"),
    [
        # the example: the two exclusions differ by 0 -> both 0 by non-negativity
        ([800, 0, 0, 800], [None, None, None, 800]),
        # small exclusions whose sum is small: each bracketed within [0, 3]
        ([800, 1, 2, 797], [None, None, None, 797]),
        # a large exclusion absorbs the protection; the cohort and input stay published
        ([300, 86, 0, 214], [300, None, None, 214]),
    ],
)
def test_flow_table_withholds_the_input_before_the_cohort(counts, shown):
    df = pd.DataFrame({"step": ["in", "ex a", "ex b", "cohort"], "count": counts})
    relations = [((0, "count"), [(1, "count"), (2, "count"), (3, "count")])]
    truth = _truth(df, ["count"], relations)
    frag, seen = _attack(
        df, counts=["count"], relations=relations, disclosure=Disclosure(), truth=truth, total_row=0
    )
    assert [seen[(i, "count")] for i in range(4)] == shown
    assert "narrowed down" in frag.html  # the note states the rule the table keeps


def test_jdl_flow_tables_pass_the_adversary():
    import evalkit as ek
    from evalkit.report.jdl_sections import flow_table  # the function the JDL report calls

    sim = ek.datasets.simulate_reoffending(300, rng=1)
    # data end after everyone's follow-up (nobody excluded: the "800; [c]; [c]; 800"),
    # none given, and part-way through (many excluded for incomplete follow-up)
    for data_end in ["2030-01-01", None, "2024-06-30"]:
        flow = ek.proven_reoffending(**sim, data_end=data_end).flow
        units = {"people": "People", "offences": "Offences", "custody": "Custody spells"}
        units["deaths"] = "Deaths"
        for name, unit in units.items():
            df = flow_table(flow, name, unit)
            last = len(df) - 1
            relations = [((0, "count"), [(i, "count") for i in range(1, last + 1)])]
            truth = _truth(df, ["count"], relations)
            assert truth[(0, "count")] == sum(truth[(i, "count")] for i in range(1, last + 1))
            _, seen = _attack(
                df,
                counts=["count"],
                relations=relations,
                disclosure=Disclosure(),
                truth=truth,
                total_row=0,
            )
            if not Disclosure().is_small(truth[(last, "count")]):
                # what remains (its size is shown elsewhere in the report) stays published
                assert seen[(last, "count")] == truth[(last, "count")], (data_end, name)


def test_a_declared_total_that_does_not_add_up_is_refused():
    t = pd.DataFrame({"count": [100, 3, 90]})  # 3 + 90 != 100
    with pytest.raises(InputError, match="not the sum of its parts"):
        protect_table(t, counts=["count"], total_row=0)


def test_a_cell_withheld_on_the_way_but_determined_by_the_rest_is_published():
    # protecting g0 and g1 withholds cells one at a time; g3's c0 is withheld on the way, and
    # then follows from the column total and the cells withheld after it: "[c]" would claim
    # it cannot be worked out, so it is published instead
    df = pd.DataFrame(
        {
            "group": ["g0", "g1", "g2", "g3", "all"],
            "c0": [1, 0, 10, 38, 49],
            "c1": [3, 3, 38, 44, 88],
        }
    )
    df["total"] = df["c0"] + df["c1"]
    counts = ["c0", "c1", "total"]
    relations = [((i, "total"), [(i, "c0"), (i, "c1")]) for i in range(5)]
    relations += [((4, c), [(i, c) for i in range(4)]) for c in counts]
    truth = _truth(df, counts, relations)
    _, seen = _attack(
        df,
        counts=counts,
        relations=relations,
        disclosure=Disclosure(),
        truth=truth,
        row_total="total",
        total_row=4,
    )
    assert seen[(3, "c0")] == 38
    assert [seen[(2, c)] for c in counts] == [None, None, 48]
