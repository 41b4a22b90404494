"""Shared pieces of the report build: the error type, progress callbacks, atomic writes."""

from __future__ import annotations

import logging
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from evalkit.errors import EvalkitError

__all__ = ["ANSI", "TEMPLATES", "BuildError", "Progress", "log", "write_atomic"]

log = logging.getLogger("evalkit.report")

TEMPLATES = Path(__file__).parent / "templates"
"""The nbconvert template, stylesheet and matplotlibrc used for every report."""

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
"""Terminal colour codes (in kernel tracebacks), removed from messages."""

Progress = Callable[[str, int, int], None]
"""Called as ``progress(name, cells_done, cells_total)`` while an analysis runs."""


class BuildError(EvalkitError):
    """An analysis could not be built; the message says which file and cell, and why."""


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
