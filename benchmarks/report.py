"""Turn the pipeline benchmark's JSON results into ``benchmarks/results.md`` and its plot.

Run by ``benchmarks/pipeline.py`` after it has measured; by hand::

    .venv/bin/python benchmarks/report.py          # every benchmarks/results/pipeline_n*.json
    .venv/bin/python benchmarks/report.py 1e6 1e7  # those of 1M and 10M people only
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
GIB = 2.0**30

EVALKIT_STAGES = [
    "cohort: proven_reoffending",
    "KM + log-rank by group",
    "Cox, 11 terms, Efron",
    "Cox, robust, clustered on person",
    "1:1 PS matching (fit included)",
    "JDL outcomes",
]
READ = "read parquet (4 tables)"
R_STEPS = {
    "coxph": "R coxph (Efron)",
    "coxph_cluster": "R coxph, cluster = person_id",
    "matchit": "R MatchIt (nearest, glm)",
}


def _med(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _s(x: float | None, digits: int = 2) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def _people(n: int) -> str:
    return f"{n / 1e6:g}M" if n >= 1_000_000 else f"{n / 1e3:g}k"


def load(folder: Path, sizes: list[int] | None = None) -> list[dict[str, Any]]:
    """The result files (of ``sizes`` only, if given), smallest size first."""
    runs = [json.loads(p.read_text()) for p in folder.glob("pipeline_n*.json")]
    runs = [r for r in runs if sizes is None or r["n"] in sizes]
    return sorted(runs, key=lambda r: r["n"])


def _stage(run: dict, name: str) -> dict | None:
    return next((s for s in run["stages"] if s["name"] == name), None)


def _totals(run: dict) -> dict[str, float]:
    got = [s for s in (_stage(run, n) for n in EVALKIT_STAGES) if s is not None]
    read = _stage(run, READ) or {"wall": 0.0, "cpu": 0.0}
    wall = sum(s["wall"] for s in got)
    return {
        "wall": wall,
        "cpu": sum(s["cpu"] for s in got),
        "wall_read": wall + read["wall"],
        "peak": run["pipeline_peak_rss"] / GIB,
        "peak_read": max(s["rss_peak"] for s in run["stages"]) / GIB,
    }


def stage_table(runs: list[dict]) -> str:
    """Markdown: one row per stage, wall and CPU seconds and peak memory per size."""
    head = "| stage | " + " | ".join(
        f"{_people(r['n'])}: wall s | CPU s | peak GiB | others" for r in runs
    )
    lines = [head + " |", "|---|" + "---:|---:|---:|---:|" * len(runs)]
    for name in [READ, *EVALKIT_STAGES]:
        cells = []
        for r in runs:
            s = _stage(r, name)
            if s is None:
                cells.append("— | — | — | —")
            elif "error" in s:
                cells.append(f"failed ({s['error'][:60]}) | — | — | —")
            else:
                cells.append(
                    f"{s['wall']:.2f} | {s['cpu']:.2f} | {s['rss_peak'] / GIB:.2f} | "
                    f"{_s(s.get('others'), 1)}"
                )
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    cells = []
    for r in runs:
        t = _totals(r)
        cells.append(f"**{t['wall']:.2f}** | {t['cpu']:.2f} | **{t['peak']:.2f}** | ")
    lines.append("| **pipeline (stages 2–7)**, its peak | " + " | ".join(cells) + " |")
    cells = [f"{_totals(r)['wall_read']:.2f} | — | {_totals(r)['peak_read']:.2f} | " for r in runs]
    lines.append("| pipeline including the parquet read | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _tools(run: dict) -> list[tuple[str, dict]]:
    """(label, record) of every comparison of a run: Python tools, then R steps."""
    out = [(name, rec) for name, rec in run.get("compare", {}).items()]
    r = run.get("r", {})
    out += [(label, r[step]) for step, label in R_STEPS.items() if step in r]
    return out


def compare_table(runs: list[dict]) -> str:
    lines = [
        "| people | tool | rows | runs | median wall s | median CPU s | wall ÷ evalkit | "
        "CPU ÷ evalkit | others | agreement with evalkit |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for run in runs:
        ek = run.get("compare", {}).get("evalkit", {})
        sub = run.get("r", {}).get("evalkit_subsample", {})
        for label, rec in _tools(run):
            wall, cpu = _med(rec.get("wall", [])), _med(rec.get("cpu", []))
            base = ek
            if label == R_STEPS["coxph_cluster"]:
                base = sub.get("cox_cluster", {})
            elif label == R_STEPS["matchit"]:
                base = sub.get("match", {})
            base_w, base_c = _med(base.get("wall", [])), _med(base.get("cpu", []))
            ratio_w = wall / base_w if wall and base_w else None
            ratio_c = cpu / base_c if cpu and base_c else None
            agree = []
            if "max_coef_diff" in rec:
                agree.append(f"max abs Δcoef {rec['max_coef_diff']:.1e}")
            if "max_se_rel_diff" in rec:
                agree.append(f"robust SEs: max rel. Δ {rec['max_se_rel_diff']:.1e}")
            if "identical_pairs" in rec:
                agree.append(
                    f"{rec['identical_pairs']:,} of {rec['pairs']:,} pairs identical "
                    f"(evalkit {rec['evalkit_pairs']:,})"
                )
            if "greedy_pairs" in rec:
                agree.append(
                    f"exact greedy on R's scores: evalkit has {rec['evalkit_as_greedy']:,}, "
                    f"MatchIt {rec['matchit_as_greedy']:,} of its {rec['greedy_pairs']:,} pairs"
                )
            if rec.get("error"):
                agree.append(rec["error"])
            lines.append(
                f"| {_people(run['n'])} | {label} | {rec.get('rows', '—'):,} | "
                f"{len(rec.get('wall', []))} | {_s(wall)} | {_s(cpu)} | {_s(ratio_w, 1)}× | "
                f"{_s(ratio_c, 1)}× | {_s(_med(rec.get('others', [])), 1)} | "
                f"{'; '.join(agree) or '—'} |"
            )
        errors = run.get("r", {}).get("errors", [])
        for err in errors:
            lines.append(f"| {_people(run['n'])} | R error | | | | | | | | {err[:200]} |")
    return "\n".join(lines)


def _limit(run: dict | None, stage: str, top: int = 3) -> str:
    """The top entries by own time of a stage's profile: what a missed target spends on."""
    text = (run or {}).get("profiles", {}).get(stage)
    if not text:
        return "no profile recorded"
    rows = []
    for line in text.splitlines()[2 : 2 + top]:
        parts = line.split(None, 5)
        if len(parts) == 6:
            rows.append(f"`{parts[5]}` {float(parts[1]):.2f} s")
    return "own time: " + ", ".join(rows)


def _slowest(run: dict) -> str:
    """The stages that take most of a pipeline's time, and the one with the memory peak."""
    stages = [s for s in run["stages"] if "error" not in s]
    slow = sorted(stages, key=lambda s: -s["wall"])[:2]
    big = max(stages, key=lambda s: s["rss_peak"])
    return (
        "; ".join(f"{s['name']} {s['wall']:.1f} s" for s in slow)
        + f"; memory peak in {big['name']} ({big['rss_peak'] / GIB:.1f} GiB)"
    )


def targets(runs: list[dict]) -> str:
    """The issue's targets, each as measured here."""
    by_n = {r["n"]: r for r in runs}
    lines = ["| target | measured | met | what limits it (profile) |", "|---|---|---|---|"]

    def row(target: str, measured: str, ok: bool | None, limit: str = "") -> None:
        mark = "—" if ok is None else ("yes" if ok else "**no**")
        lines.append(f"| {target} | {measured} | {mark} | {'' if ok else limit} |")

    one = by_n.get(1_000_000)
    if one and "compare" in one:
        c = one["compare"]
        ek, ll = c.get("evalkit", {}), c.get("lifelines", {})
        if ek.get("wall") and ll.get("wall"):
            rw = _med(ll["wall"]) / _med(ek["wall"])
            rc = _med(ll["cpu"]) / _med(ek["cpu"])
            row(
                "Cox Efron, 1M × 11, ≥ 2.5× lifelines in the same run",
                f"{rw:.1f}× (wall), {rc:.1f}× (CPU); medians of {len(ek['wall'])} rounds: "
                f"{_med(ek['wall']):.2f} s vs {_med(ll['wall']):.2f} s",
                rw >= 2.5,
                _limit(one, "Cox, 11 terms, Efron"),
            )
        if "max_coef_diff" in ll:
            d = ll["max_coef_diff"]
            row("… coefficients equal to lifelines' to 1e-6", f"max abs Δ = {d:.1e}", d <= 1e-6)
    ten = by_n.get(10_000_000)
    timed = [
        (ten, "Cox, robust, clustered on person", "robust / clustered Cox at 10M rows", 30.0),
        (one, "1:1 PS matching (fit included)", "1:1 matching 100k vs 900k, fit included", 2.0),
        (one, "cohort: proven_reoffending", "1M cohort from pandas, 1.1 s + 30%", 1.43),
    ]
    for run, stage, what, limit in timed:
        s = _stage(run, stage) if run else None
        if s and "error" not in s:
            measured = f"{s['wall']:.2f} s wall, {s['cpu']:.2f} s CPU"
            row(f"{what} ≤ {limit:g} s", measured, s["wall"] <= limit, _limit(run, stage))
    if one:
        t = _totals(one)
        row(
            "whole 1M pipeline ≤ 5 s and ≤ 3 GiB (stages 2–7)",
            f"{t['wall']:.1f} s, {t['peak']:.2f} GiB peak",
            t["wall"] <= 5 and t["peak"] <= 3,
            _slowest(one),
        )
    if ten:
        t = _totals(ten)
        row(
            "10M pipeline from parquet ≤ 3 min and ≤ 16 GiB",
            f"{t['wall_read']:.0f} s, {t['peak']:.1f} GiB peak",
            t["wall_read"] <= 180 and t["peak"] <= 16,
            _slowest(ten),
        )
    return "\n".join(lines)


def plot(runs: list[dict], path: Path) -> None:
    """Log-log plot of seconds against people, one line per stage and per tool."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matplotlib.rcParams["svg.hashsalt"] = "evalkit-bench"
    series: dict[str, list[tuple[int, float]]] = {}
    for run in runs:
        for name in EVALKIT_STAGES:
            s = _stage(run, name)
            if s and "error" not in s:
                series.setdefault(f"evalkit: {name}", []).append((run["n"], s["wall"]))
        for label, rec in _tools(run):
            if label == "evalkit" or not rec.get("wall"):
                continue
            key = label if label.startswith("R ") else f"{label} Cox"
            series.setdefault(key, []).append((rec.get("rows", run["n"]), _med(rec["wall"])))
    fig, ax = plt.subplots(figsize=(10, 5.5))
    colours = ["#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7"]  # Okabe–Ito
    markers = ["^", "s", "D", "v", "P", "X", "*"]
    ours = others = 0
    order = sorted(series, key=lambda name: (not name.startswith("evalkit"), name))
    for label, pts in ((name, series[name]) for name in order):
        xs, ys = zip(*sorted(pts), strict=True)
        if label.startswith("evalkit"):
            ax.plot(xs, ys, "-o", label=label, color=colours[ours % 6], markersize=5)
            ours += 1
        else:
            grey = "#000000" if label.startswith("R ") else "#666666"
            line = "--" if label.startswith("R ") else ":"
            if len(set(xs)) < len(xs):
                line = ""  # the same subsample size in every run: points, not a line
                label += " (subsample; one point per run)"
            ax.plot(xs, ys, line + markers[others % 7], label=label, color=grey, markersize=6)
            others += 1
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("rows (people in the cohort; R's clustered coxph and MatchIt: subsample)")
    ax.set_ylabel("seconds, wall clock (Cox comparisons: median of rounds)")
    ax.set_title("evalkit stages (solid), Python tools (dotted) and R (dashed); 2 shared cores")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.tight_layout()
    fig.savefig(path, metadata={"Date": None})
    plt.close(fig)


def _machine(runs: list[dict]) -> str:
    lines = []
    for r in runs:
        m = r["machine"]
        v = m["versions"]
        rv = r.get("r", {}).get("versions", "R not run")
        lines.append(
            f"- **{_people(r['n'])}** ({r['n']:,} people; {r['rows'].get('offences', 0):,} "
            f"offence records, {r['rows'].get('custody', 0):,} custody spells, "
            f"{r['rows'].get('deaths', 0):,} deaths): run {m['date']} – "
            f"{m.get('date_end', '?')}; load average at start "
            f"{', '.join(f'{x:.1f}' for x in m['load_average'])}, at end "
            f"{', '.join(f'{x:.1f}' for x in m.get('load_average_end', []))}. "
            f"{m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; {m['platform']}; "
            f"BLAS threads {m['blas_threads']}; Arrow memory pool "
            f"{m.get('arrow_memory_pool', '?')}; peak memory: {m.get('memory_method', '?')}. "
            f"Python {v['python']}, evalkit {v['evalkit']} "
            f"({m.get('evalkit_source', 'source not recorded')}), "
            f"numpy {v['numpy']}, pandas {v['pandas']}, pyarrow {v['pyarrow']}, scipy "
            f"{v['scipy']}, lifelines {v['lifelines']}, statsmodels {v['statsmodels']}; {rv}."
        )
    return "\n".join(lines)


def _profiles(runs: list[dict]) -> str:
    out = []
    for r in runs:
        for name, text in r.get("profiles", {}).items():
            out.append(f"**{name}, {_people(r['n'])}** (cProfile, CPU-time clock, top by own time)")
            out.append(f"\n```\n{text}\n```\n")
    return "\n".join(out)


INTRO = """\
# Pipeline benchmark at national scale

Written by `make bench` (`benchmarks/pipeline.py`, then `benchmarks/report.py`); sizes as
`make bench BENCH_SIZES="1e6 1e7"`. The data are the synthetic extracts of
`benchmarks/extract.py`: `simulate_reoffending` in chunks of a million people, plus a criminal
history (about 5 offence records per person in all), custody spells, deaths, ten covariates
and whole-day dates; about 100,000 programme people whatever the size; written as parquet
outside the repository (`$EVALKIT_BENCH_DATA`, default `/tmp/evalkit-bench`).

**Read the times with care.** The machine has 2 cores; the load averages are recorded below
(above about 0.5 at the start, something else was running and wall times are inflated). CPU
time (`time.process_time`, all threads of the process) is given beside every wall time;
comparisons between Python tools are medians of interleaved rounds in one process (the order
rotating each round), so they share the same conditions. BLAS runs single-threaded
(`OPENBLAS_NUM_THREADS=1`, as the Makefile sets) for every Python tool. The column *others*
is how many cores other processes kept busy on average while the stage ran (from
`/proc/stat`, less the benchmark's own CPU time; the hypervisor's steal is in the JSON): 0.0
on a quiet machine. With others near 1 or more, a stage had no core to itself and its wall
time (and, through shared caches, even its CPU time) is inflated.

**Memory.** Peak memory is the kernel's exact peak resident set size (`VmHWM`) of the
benchmark process, reset at the start of each stage (`/proc/self/clear_refs`), so it includes
the data already held when the stage starts. The raw extract is freed once the cohort is built
(a pipeline does not keep it), so from stage 3 on only the cohort and what evalkit makes are
held; the pipeline's peak is the largest stage peak of stages 2–7, and with the read.

**The same model everywhere.** Every Cox fit is `time`, `event` ~ programme + the ten
covariates (11 terms), Efron ties, on the same rows (one per person, no missing values); the
rows each tool used are listed, and coefficients are compared term by term by name.

**R.** `coxph` (Efron) runs on the whole cohort. `coxph(..., cluster = person_id)` with Efron
ties and `MatchIt::matchit` take time quadratic in the rows (survival 3.5's Efron score
residuals, measured here: 1.5 s at 10,000 rows, 7 s at 20,000, 34 s at 40,000 and 249 s at
100,000, whether the cluster is text, integer or `robust = TRUE`; with Breslow ties 2 s at
40,000. MatchIt's nearest-neighbour search compares every treated unit with every control),
so they run on a random subsample of the cohort (20,000 rows by default,
`--r-subsample`), and evalkit's clustered Cox and matching are timed on the same subsample
for the ratio; their agreement is checked there (robust SEs, identical pairs). The matched
pairs are also checked against an exact greedy reference computed by the harness on R's own
propensity scores (largest score first, each taking the nearest control not yet taken). R is
skipped when `Rscript` is not installed.
"""


def write(folder: Path, md: Path, svg: Path, sizes: list[int] | None = None) -> None:
    """Write the report and plot from the results in ``folder`` (of ``sizes``, if given)."""
    runs = load(folder, sizes)
    if not runs:
        raise SystemExit(f"no results in {folder}")
    plot(runs, svg)
    parts = [
        INTRO,
        "## Runs\n",
        _machine(runs),
        "\n## evalkit, stage by stage (one process per size)\n",
        stage_table(runs),
        "\n## Cox model (11 terms, Efron) and matching: evalkit against other tools\n",
        "Python tools: the same data frame, interleaved rounds (ratios to evalkit's median "
        "in the same rounds). R: the same rows through a CSV, timed inside R with "
        "`system.time`; plain `coxph` on the whole cohort against evalkit's rounds, the "
        "clustered `coxph` and MatchIt on the subsample (rows column) against evalkit's "
        "clustered Cox and matching on the same subsample. Agreement: the largest absolute "
        "difference of the 11 coefficients from evalkit's, the largest relative difference of "
        "the robust standard errors, and the matched pairs (treated, control) in common.\n",
        compare_table(runs),
        "\n## Targets of issue 12\n",
        targets(runs),
        f"\n## Time against rows\n\n![Log-log plot of seconds against people]({svg.name})\n",
        "## Profiles\n",
        _profiles(runs) or "(none recorded)",
    ]
    notes = HERE / "results_notes.md"
    if notes.exists():
        parts += ["\n" + notes.read_text()]
    md.write_text("\n".join(parts).rstrip() + "\n")


if __name__ == "__main__":
    import sys

    # sizes to report, e.g. ``report.py 1e6 1e7``; every result file if none are given
    chosen = [int(float(a)) for a in sys.argv[1:]] or None
    write(HERE / "results", HERE / "results.md", HERE / "results.svg", chosen)
