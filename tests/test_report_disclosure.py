"""Disclosure control: small counts never reach a report, directly or by subtraction.

The secondary-suppression checks do not reuse the module's null-space code: whether a withheld
cell can be solved for exactly is decided here independently, by linear programming (the cell's
minimum and maximum over all real tables consistent with the published cells coincide exactly
when it is determined).
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
    with pytest.raises(ValueError):
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
