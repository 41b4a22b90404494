"""Script → notebook → executed notebook, and the rules on what a cell may show.

The kernel is a fresh process with an environment that fixes everything that could change the
output: ``PYTHONHASHSEED=0``, one BLAS/OpenMP thread, ``TZ=UTC``, ``LC_ALL=C.UTF-8``, the Agg
matplotlib backend with evalkit's matplotlibrc, and an empty IPython profile (no start-up files).
Cells get stable ids (``cell-0``, ``cell-1``…) and nbclient records no timings.
"""

from __future__ import annotations

import html
import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

from evalkit.report._base import ANSI, TEMPLATES, BuildError, Progress
from evalkit.report.components import FRAGMENT_MIME
from evalkit.report.config import CONFIG_ENV

__all__ = [
    "KERNEL_ENV",
    "PLACEHOLDER",
    "cell_lines",
    "check_outputs",
    "check_placeholders",
    "execute",
    "read_script",
]

KERNEL_ENV = {
    "PYTHONHASHSEED": "0",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "MPLBACKEND": "Agg",
    "TZ": "UTC",
    "LC_ALL": "C.UTF-8",
    "LANG": "C.UTF-8",
    "PYTHONWARNINGS": "default",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
}


def read_script(script: Path) -> Any:
    import jupytext
    import nbformat

    nb = jupytext.read(script, fmt="py:percent")
    nb.metadata = nbformat.from_dict(
        {
            "kernelspec": {"name": "evalkit", "display_name": "evalkit", "language": "python"},
            "language_info": {"name": "python"},
        }
    )
    nb.nbformat, nb.nbformat_minor = 4, 5
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
        cell.metadata = nbformat.from_dict(
            {k: v for k, v in cell.metadata.items() if k in ("tags",)}
        )
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nb


def cell_lines(script: Path, nb: Any) -> list[int]:
    """Approximate first line (1-based) of each cell in the script, for error messages."""
    lines = script.read_text(encoding="utf-8").splitlines()
    out, pos = [], 0
    for cell in nb.cells:
        first = next((ln.strip() for ln in cell.source.splitlines() if ln.strip()), "")
        found = 0
        if first:
            for k in range(pos, len(lines)):
                if first in lines[k]:
                    found, pos = k + 1, k + 1
                    break
        out.append(found)
    return out


def kernel_env(root: Path, config_path: Path, ipython_dir: Path) -> dict[str, str]:
    env = dict(KERNEL_ENV)
    env[CONFIG_ENV] = str(config_path)
    env["IPYTHONDIR"] = str(ipython_dir)
    env["MATPLOTLIBRC"] = str(TEMPLATES / "matplotlibrc")
    return env


def execute(
    nb: Any,
    *,
    root: Path,
    config_path: Path,
    name: str,
    timeout: int,
    progress: Progress | None,
) -> None:
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    code_total = sum(1 for c in nb.cells if c.cell_type == "code")
    done = 0

    def on_cell_executed(cell: Any, **_: Any) -> None:
        nonlocal done
        if cell.cell_type == "code":
            done += 1
            if progress is not None:
                progress(name, done, code_total)

    with tempfile.TemporaryDirectory(prefix="evalkit-kernel-") as tmp:
        kernels = Path(tmp) / "kernels"
        (kernels / "evalkit").mkdir(parents=True)
        (Path(tmp) / "ipython").mkdir()
        spec = {
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "evalkit",
            "language": "python",
            "env": kernel_env(root, config_path, Path(tmp) / "ipython"),
        }
        (kernels / "evalkit" / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
        ksm = KernelSpecManager(kernel_dirs=[str(kernels)], ensure_native_kernel=False)
        km = KernelManager(kernel_name="evalkit", kernel_spec_manager=ksm)
        if os.name == "posix":  # unix sockets in our temporary folder, not TCP ports
            km.transport = "ipc"
            km.ip = str(Path(tmp) / "kernel-ipc")
        client = NotebookClient(
            nb,
            km=km,
            timeout=timeout,
            allow_errors=False,
            record_timing=False,
            # The kernel runs in the script's folder, not the project root: a folder named
            # like a package at the root (e.g. a data copy under evalkit/) must not shadow the
            # installed evalkit. Scripts resolve their inputs through their TOML config.
            resources={"metadata": {"path": str(config_path.parent)}},
            on_cell_executed=on_cell_executed,
        )
        if progress is not None:
            progress(name, 0, code_total)
        try:
            client.execute()
        finally:  # we own the kernel manager, so nbclient leaves the kernel running
            if client.kc is not None:
                client.kc.stop_channels()
            if km.has_kernel:
                km.shutdown_kernel(now=True)


def describe_output(output: Any) -> str:
    if output.output_type == "stream":
        return "printed text"
    data = output.get("data", {})
    plain = str(data.get("text/plain", ""))[:60]
    if "image/png" in data or plain.startswith("<Figure"):
        return "a bare matplotlib figure (use rp.figure(fig, alt=..., caption=...))"
    if "text/html" in data and "dataframe" in str(data.get("text/html", ""))[:300]:
        return "a raw DataFrame (use rp.table(df, caption=...), which applies disclosure control)"
    return f"output {plain!r}"


PLACEHOLDER = "EDIT:"
"""Marks text in the analysis template that the author must replace; a page showing it is
refused."""

_PLACEHOLDER = re.compile(r"(?<![A-Za-z])EDIT:")
_TAGS = re.compile(r"<[^>]*>")


def _placeholder_text(text: str) -> str | None:
    """The placeholder in ``text`` and the words after it (up to 60 characters), or ``None``."""
    found = _PLACEHOLDER.search(text)
    if found is None:
        return None
    rest = re.split(r"[\n<]", text[found.start() :], maxsplit=1)[0]
    rest = " ".join(rest.split())
    return rest if len(rest) <= 60 else rest[:57] + "..."


def _placeholder_line(script_lines: list[str], start: int, end: int) -> int:
    """The first script line (1-based) from ``start`` to ``end`` holding the placeholder, or 0."""
    for k in range(max(start, 1), min(end, len(script_lines)) + 1):
        if _PLACEHOLDER.search(script_lines[k - 1]):
            return k
    return 0


def check_placeholders(nb: Any, script: Path, lines: list[int]) -> None:
    """Refuse a report whose page would still show the template's ``EDIT:`` placeholders.

    Looks at what reaches the page from the notebook: the text of markdown cells and the HTML
    of every report fragment (so a placeholder that reaches a headline, a table or a figure's
    alt text through the configuration is caught too). The analysis code shown in the page's
    appendix is not checked: a comment may mention the marker.

    Raises
    ------
    BuildError
        Naming the cell, the script line (when the placeholder is written in the script) and
        the placeholder text.
    """
    script_lines = script.read_text(encoding="utf-8").splitlines() if script.is_file() else []
    starts = [n for n in lines if n]
    for i, cell in enumerate(nb.cells):
        texts: list[str] = []
        if cell.cell_type == "markdown":
            texts.append(cell.source)
        elif cell.cell_type == "code":
            for output in cell.outputs:
                data = output.get("data", {})
                if FRAGMENT_MIME in data:
                    texts.append(html.unescape(_TAGS.sub(" ", str(data.get("text/html", "")))))
                    texts.append(html.unescape(str(data.get("text/html", ""))))
        found = next((t for t in map(_placeholder_text, texts) if t), None)
        if found is None:
            continue
        start = lines[i]
        end = min((n for n in starts if n > start), default=len(script_lines) + 1) - 1
        line = _placeholder_line(script_lines, start, end) if start else 0
        where = f"{script.name}, cell {i + 1}" + (
            f", line {line}" if line else (f" (line {start})" if start else "")
        )
        source = (
            ""
            if line
            else " (it is not written in the script: it comes from the configuration or the "
            "data, e.g. a TOML value)"
        )
        raise BuildError(
            f"{where}: the page still shows the template placeholder {found!r}{source}; "
            f"replace every {PLACEHOLDER!r} text with the report's own words before publishing"
        )


def check_outputs(nb: Any, script: Path, lines: list[int]) -> tuple[list[str], dict[str, Any]]:
    """Reject non-fragment outputs and template placeholders; collect warnings and the
    headline's metadata (see :func:`check_placeholders`)."""
    warnings: list[str] = []
    meta: dict[str, Any] = {}
    headlines = 0
    for i, cell in enumerate(nb.cells):
        where = f"{script.name}, cell {i + 1}" + (f" (line {lines[i]})" if lines[i] else "")
        if cell.cell_type == "markdown":
            if re.search(r"(?m)^#\s", cell.source):
                raise BuildError(
                    f"{where}: level-1 heading; the title comes from the configuration, "
                    "so sections start at '## '"
                )
            continue
        if cell.cell_type != "code":
            continue
        for output in cell.outputs:
            if output.output_type == "stream" and output.name == "stderr":
                text = ANSI.sub("", output.text).strip()
                if text:
                    warnings.append(f"{where}: {text}")
                continue
            data = output.get("data", {})
            if output.output_type in ("display_data", "execute_result") and FRAGMENT_MIME in data:
                frag = data[FRAGMENT_MIME]
                if frag.get("kind") == "headline":
                    headlines += 1
                    meta = dict(frag)
                continue
            raise BuildError(
                f"{where} shows {describe_output(output)}; reports show only evalkit report "
                "fragments (rp.headline, rp.summary, rp.table, rp.figure, rp.paragraph, "
                "rp.markdown), so that disclosure control and alt text always apply"
            )
    check_placeholders(nb, script, lines)
    if headlines != 1:
        raise BuildError(
            f"{script.name}: a report needs exactly one rp.headline(...) (found {headlines})"
        )
    return warnings, meta
