"""Report building: scripted analyses in ``analyses/`` rendered to HTML in ``reports/``.

This first version builds only ``reports/index.html``, listing the analyses found; the full
pipeline (jupytext → executed notebook → accessible HTML) replaces it. Output is byte-identical
for the same repository state: no timestamps, stable ordering.
"""

from __future__ import annotations

from evalkit.report.build import BuildResult, build, check, list_analyses

__all__ = ["BuildResult", "build", "check", "list_analyses"]
