"""Reports: scripted analyses in ``analyses/`` rendered to accessible, byte-stable HTML.

Inside an analysis script (a jupytext percent script, see ``analyses/_template.py``)::

    import evalkit as ek
    from evalkit import report as rp

    cfg = rp.load_config("my_analysis")          # the TOML beside the script
    ...
    primary = ek.Measure.rate_difference(x1, n1, x0, n0, outcome="proven reoffending")
    rp.headline(rp.judge(cfg, primary, secondary=[...]), synthetic=cfg.synthetic)
    rp.table(result.to_frame(), caption="...", disclosure=cfg.disclosure)
    rp.figure(fig, alt="...", caption="...")

Only these fragments reach a report: every count passes through disclosure control
(:mod:`evalkit.report.disclosure`) and every figure carries alt text. ``evalkit build`` runs the
scripts (:mod:`evalkit.report.build`); :mod:`evalkit.report.provenance` explains how a report
identifies what it was built from.
"""

from __future__ import annotations

from evalkit.report.build import (
    BuildError,
    BuildResult,
    CheckResult,
    ReportOutcome,
    build,
    check,
    list_analyses,
    new_analysis,
    render_report,
)
from evalkit.report.charts import forest_figure, km_figure
from evalkit.report.cohorts import read_cohort_tables, reoffending_cohort
from evalkit.report.components import (
    SMS_LEVELS,
    Fragment,
    claim,
    end_report,
    evidence_rating,
    headline,
    markdown,
    paragraph,
    show,
    summary,
    table,
)
from evalkit.report.config import AnalysisConfig, Cost, DataSource, load_config, read_config
from evalkit.report.disclosure import SUPPRESSED, Disclosure, ProtectedTable, protect_table
from evalkit.report.figures import PALETTE, figure, protect_figure_counts, report_style
from evalkit.report.judge import judge
from evalkit.report.matched import (
    MatchedComparison,
    matched_comparison,
    matched_hazard_ratio,
    term_label,
)
from evalkit.report.measures import hazard_ratio_measure, rmst_measure
from evalkit.report.sections import (
    claim_findings,
    claim_intervals,
    opening,
    people_flow,
    reoffending_table,
    scheme_summary,
)

__all__ = [
    "PALETTE",
    "SMS_LEVELS",
    "SUPPRESSED",
    "AnalysisConfig",
    "BuildError",
    "BuildResult",
    "CheckResult",
    "Cost",
    "DataSource",
    "Disclosure",
    "Fragment",
    "MatchedComparison",
    "ProtectedTable",
    "ReportOutcome",
    "build",
    "check",
    "claim",
    "claim_findings",
    "claim_intervals",
    "end_report",
    "evidence_rating",
    "figure",
    "forest_figure",
    "hazard_ratio_measure",
    "headline",
    "judge",
    "km_figure",
    "list_analyses",
    "load_config",
    "markdown",
    "matched_comparison",
    "matched_hazard_ratio",
    "new_analysis",
    "opening",
    "paragraph",
    "people_flow",
    "protect_figure_counts",
    "protect_table",
    "read_cohort_tables",
    "read_config",
    "render_report",
    "reoffending_cohort",
    "reoffending_table",
    "report_style",
    "rmst_measure",
    "scheme_summary",
    "show",
    "summary",
    "table",
    "term_label",
]
