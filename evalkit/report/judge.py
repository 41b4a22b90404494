"""``rp.judge``: the verdict of an analysis, with its primary measure and design from the TOML.

An analysis computes its estimates; which one is primary, which direction is good and what the
design is were fixed in the configuration (``[primary]`` and ``[design]``) before the results
were seen. :func:`judge` checks that the primary estimate the script passes is the measure the
configuration names, and hands everything to :func:`evalkit.verdict.verdict`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from evalkit.errors import InputError
from evalkit.report.config import AnalysisConfig
from evalkit.verdict import Diagnostics, Measure, Verdict, verdict

__all__ = ["judge"]


def judge(
    cfg: AnalysisConfig,
    primary: Measure,
    *,
    secondary: Sequence[Measure] = (),
    diagnostics: Diagnostics | None = None,
    subject: str = "the scheme",
    groups: tuple[str, str] = ("the programme group", "the comparison group"),
) -> Verdict:
    """The verdict on ``primary``, judged with the configuration's ``[primary]`` and ``[design]``.

    Raises
    ------
    InputError
        If the configuration has no ``[primary]`` or ``[design]`` table, the design's
        justification is still a template placeholder ("EDIT"), or ``primary`` is not
        the measure ``[primary]`` names: a conclusion may not rest on a measure chosen after
        seeing the results.
    """
    where = cfg.path.name
    if cfg.primary is None or cfg.design is None:
        missing = "[primary]" if cfg.primary is None else "[design]"
        raise InputError(
            None,
            f"has no {missing} table: the primary measure and the design must be fixed in the "
            "configuration before the results are seen (see analyses/_template.toml)",
            table=where,
        )
    if "EDIT" in cfg.design.justification:
        raise InputError(
            None,
            "[design] justification is still the template's placeholder: say in a sentence how "
            "people came to be in each group (the evidence rating rests on it) before publishing",
            table=where,
        )
    if primary.name != cfg.primary.measure:
        raise InputError(
            "primary",
            f"is a {primary.name}, but [primary] in {where} names the {cfg.primary.measure}: "
            "the headline must rest on the pre-specified measure",
        )
    primary = replace(primary, outcome=cfg.primary.outcome, good=cfg.primary.good)
    same = [m if m.outcome != "" else replace(m, outcome=primary.outcome) for m in secondary]
    return verdict(
        primary,
        design=cfg.design.kind,
        secondary=same,
        diagnostics=diagnostics,
        subject=subject,
        groups=groups,
        prespecified=f"[primary] of {where}",
    )
