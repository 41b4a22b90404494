"""Build and check the reports folder."""

from __future__ import annotations

import filecmp
import html
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from evalkit._version import __version__

__all__ = ["BuildResult", "build", "check", "list_analyses"]

INDEX_TEMPLATE = """<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>evalkit reports</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.5; color: #1a1a1a; background: #fff; }}
h1 {{ font-size: 1.6rem; }}
</style>
</head>
<body>
<main>
<h1>evalkit reports</h1>
<p>Evaluations of criminal-justice diversion schemes, rebuilt from the scripts in
<code>analyses/</code> with evalkit {version}.</p>
{body}
</main>
</body>
</html>
"""


@dataclass(frozen=True)
class BuildResult:
    """What a build wrote: the output folder and the files in it."""

    out_dir: Path
    files: tuple[str, ...]


def list_analyses(analyses_dir: Path) -> list[str]:
    """Names of the analysis scripts (``analyses/<name>.py``, excluding ``_``-prefixed ones)."""
    if not analyses_dir.is_dir():
        return []
    return sorted(p.stem for p in analyses_dir.glob("*.py") if not p.name.startswith("_"))


def _render_index(names: list[str]) -> str:
    if names:
        items = "\n".join(f"<li>{html.escape(n)}</li>" for n in names)
        body = f"<h2>Analyses</h2>\n<ul>\n{items}\n</ul>"
    else:
        body = "<p>No reports have been built yet.</p>"
    return INDEX_TEMPLATE.format(version=html.escape(__version__), body=body)


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    os.replace(tmp, path)


def build(root: Path, out_dir: Path | None = None) -> BuildResult:
    """Build every report of the project at ``root`` into ``out_dir`` (default ``root/reports``)."""
    out = out_dir if out_dir is not None else root / "reports"
    names = list_analyses(root / "analyses")
    _write_atomic(out / "index.html", _render_index(names))
    return BuildResult(out_dir=out, files=("index.html",))


def check(root: Path) -> list[str]:
    """Rebuild into a temporary folder; return the report files that would change."""
    committed = root / "reports"
    with tempfile.TemporaryDirectory() as tmp:
        result = build(root, Path(tmp))
        changed = []
        for name in result.files:
            old = committed / name
            if not old.exists() or not filecmp.cmp(old, Path(tmp) / name, shallow=False):
                changed.append(name)
    return changed
