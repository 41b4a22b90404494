"""Charts for evalkit results.

matplotlib is imported only when a chart is drawn. Every function takes a result and an optional
``ax``, returns the axes, uses the Okabe–Ito colour-blind-safe palette and attaches a
plain-language description of the chart as ``ax.alt_text`` (also returned by the matching
``*_alt_text`` function) for the report to use as the image's alternative text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from evalkit._palette import OKABE_ITO

if TYPE_CHECKING:  # pragma: no cover - imported for type hints only
    from evalkit.survival import KaplanMeierResult

__all__ = ["AT_RISK_GID", "OKABE_ITO", "km_alt_text", "plot_km"]


#: ``gid`` prefix of the at-risk numbers drawn under a Kaplan–Meier plot:
#: ``"evalkit-at-risk|<group position>|<time>"``.
AT_RISK_GID = "evalkit-at-risk"


def _fmt_count(value: float, weighted: bool) -> str:
    return f"{value:.0f}" if weighted else str(round(value))


def km_alt_text(km: KaplanMeierResult) -> str:
    """Plain-language description of a Kaplan–Meier plot, for use as alternative text."""
    med = km.median()
    last_time = float(km.curve["time"].max())
    at_end = km.at([last_time])
    parts = []
    for i, g in enumerate(km.groups):
        s_end = float(at_end["survival"].iloc[i])
        m = float(med["median"].iloc[i])
        median_txt = f"median {m:g}" if np.isfinite(m) else "median not reached"
        label = f"group {g}" if km.by is not None else "everyone"
        end_txt = f"{s_end:.2f}" if np.isfinite(s_end) else "unknown (follow-up ended earlier)"
        parts.append(
            f"{label}: {km.counts['n'].iloc[i]} people, {km.counts['events'].iloc[i]} events, "
            f"proportion without {km.event} at {km.time} {last_time:g}: {end_txt} ({median_txt})"
        )
    by = f" by {km.by}" if km.by is not None else ""
    return (
        f"Kaplan–Meier curves of the proportion without {km.event}{by}, against {km.time}. "
        + "; ".join(parts)
        + f". Shaded bands are {km.conf_level:.0%} pointwise confidence intervals "
        f"({km.conf_type}); tick marks show censored follow-up; the table under the chart gives "
        "the numbers still at risk."
    )


def plot_km(
    km: KaplanMeierResult,
    ax: Any = None,
    *,
    ci: bool = True,
    censor_marks: bool = True,
    risk_table: bool = True,
    risk_times: Sequence[float] | None = None,
    colors: Sequence[str] | None = None,
    xlabel: str | None = None,
    ylabel: str = "Proportion without event",
    title: str | None = None,
) -> Any:
    """Kaplan–Meier step curves with confidence bands, censoring ticks and an at-risk table.

    Parameters
    ----------
    km
        Result of :func:`evalkit.kaplan_meier`.
    ax
        Axes to draw on; a new figure is made when ``None``.
    ci
        Shade the pointwise confidence band.
    censor_marks
        Mark times with censored follow-up with a vertical tick on the curve.
    risk_table
        Print the numbers at risk (``km.at(risk_times)["at_risk"]``) under the x axis, one row
        per group; each number is a text artist with ``gid`` ``"evalkit-at-risk|i|time"``.
    risk_times
        Times for the at-risk table; default: the x-axis tick marks within follow-up.
    colors
        One colour per group; default: the Okabe–Ito palette.
    xlabel, ylabel, title
        Axis labels and title (``xlabel`` defaults to the time column's name).

    Returns
    -------
    matplotlib.axes.Axes
        The axes, with the description of the chart as ``ax.alt_text``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import evalkit as ek
    >>> rossi = ek.datasets.load_rossi()
    >>> ax = ek.kaplan_meier(rossi, time="week", event="arrest", by="fin").plot()
    >>> ax.alt_text.startswith("Kaplan–Meier curves")
    True
    """
    import matplotlib.pyplot as plt

    own_figure = ax is None
    if ax is None:
        _, ax = plt.subplots(figsize=(7.0, 4.8))
    palette = list(colors) if colors is not None else list(OKABE_ITO)
    curve = km.curve
    t_all = curve["time"].to_numpy(dtype=float)
    s_all = curve["survival"].to_numpy(dtype=float)
    lo_all = curve["lower"].to_numpy(dtype=float)
    up_all = curve["upper"].to_numpy(dtype=float)
    cens_all = curve["censored"].to_numpy(dtype=float)
    bounds = km._bounds
    for i, g in enumerate(km.groups):
        sl = slice(int(bounds[i]), int(bounds[i + 1]))
        colour = palette[i % len(palette)]
        x = np.concatenate([[0.0], t_all[sl]])
        y = np.concatenate([[1.0], s_all[sl]])
        label = str(g) if km.by is not None else "all"
        ax.step(x, y, where="post", color=colour, linewidth=1.8, label=label)
        if ci:
            lo = np.concatenate([[1.0], lo_all[sl]])
            up = np.concatenate([[1.0], up_all[sl]])
            ax.fill_between(x, lo, up, step="post", color=colour, alpha=0.18, linewidth=0)
        if censor_marks:
            has = cens_all[sl] > 0
            ax.plot(
                t_all[sl][has],
                s_all[sl][has],
                linestyle="none",
                marker="|",
                markersize=7,
                color=colour,
            )
    t_max = float(t_all.max()) if len(t_all) else 1.0
    ax.set_xlim(0, t_max * 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(xlabel if xlabel is not None else km.time)
    ax.set_ylabel(ylabel)
    if title is not None:
        ax.set_title(title)
    if km.by is not None:
        ax.legend(title=km.by, frameon=False, loc="lower left")
    ax.grid(axis="y", alpha=0.3)

    if risk_table:
        if risk_times is None:
            ticks = np.asarray(ax.get_xticks(), dtype=float)
            times = ticks[(ticks >= 0) & (ticks <= t_max)]
        else:
            times = np.asarray(risk_times, dtype=float)
        at = km.at(times)
        # Rows hang below the axis at fixed distances in points, clear of the x-axis label.
        header_pt, first_pt, row_pt = -46.0, -60.0, -13.0
        _risk_text(ax, "Number at risk", header_pt, ha="left", fontweight="bold")
        for i, g in enumerate(km.groups):
            offset = first_pt + i * row_pt
            colour = palette[i % len(palette)]
            _risk_text(ax, str(g) if km.by is not None else "all", offset, ha="right", color=colour)
            rows = at[at["group"] == g]
            for t_val, n_val in zip(rows["time"], rows["at_risk"], strict=True):
                _risk_text(
                    ax,
                    _fmt_count(float(n_val), km.weighted),
                    offset,
                    x=float(t_val),
                    ha="center",
                    gid=f"{AT_RISK_GID}|{i}|{float(t_val)!r}",
                )
        if own_figure:
            fig = ax.figure
            need_pt = -(first_pt + row_pt * len(km.groups)) + 12.0
            fig.subplots_adjust(bottom=min(0.6, need_pt / (72.0 * fig.get_figheight())), left=0.14)

    ax.alt_text = km_alt_text(km)
    return ax


def _risk_text(
    ax: Any, text: str, y_pt: float, *, x: float | None = None, ha: str, **style: Any
) -> None:
    """One text of the numbers-at-risk table, ``y_pt`` points below the axis: in the left
    margin (``x`` None: the header and the group names) or under the time ``x`` (a count)."""
    margin = x is None
    ax.annotate(
        text,
        xy=(0.0 if x is None else x, 0.0),
        xycoords="axes fraction" if margin else ("data", "axes fraction"),
        xytext=(-24.0 if margin else 0.0, y_pt),
        textcoords="offset points",
        ha=ha,
        va="center",
        fontsize=9,
        **style,
    )
