"""Shared pieces of the report build: the error type, progress callbacks, atomic writes,
the check of an output folder, and the flag that stops a build on Ctrl-C."""

from __future__ import annotations

import logging
import os
import re
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from evalkit.errors import EvalkitError

__all__ = [
    "ANSI",
    "INTERRUPTED",
    "SCRATCH",
    "TEMPLATES",
    "BuildError",
    "Progress",
    "log",
    "unwritable",
    "write_atomic",
]

log = logging.getLogger("evalkit.report")

TEMPLATES = Path(__file__).parent / "templates"
"""The nbconvert template, stylesheet and matplotlibrc used for every report."""

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
"""Terminal colour codes (in kernel tracebacks), removed from messages."""

Progress = Callable[[str, int, int], None]
"""Called as ``progress(name, cells_done, cells_total)`` while an analysis runs."""


INTERRUPTED = threading.Event()
"""Set (by the ``evalkit`` command on Ctrl-C) to stop a build.

A build then starts no further analysis, writes no report that finishes afterwards, and raises
:class:`KeyboardInterrupt`; reports already on disk stay as they were. The command clears it
when it starts.
"""


SCRATCH: set[Path] = set()
"""Temporary folders in use by a build; the ``evalkit`` command removes them when Ctrl-C ends
the process without unwinding (see :mod:`evalkit.cli`)."""


class BuildError(EvalkitError):
    """An analysis could not be built; the message says which file and cell, and why."""


def unwritable(folder: Path) -> str | None:
    """Why reports cannot be written into ``folder`` (made if missing), or ``None`` if they can.

    The reason is worded to follow "cannot write reports to '<folder>': ", e.g.
    ``"not a directory (it is a file)"``.
    """
    if folder.exists() and not folder.is_dir():
        return "not a directory (it is a file)"
    probe = folder
    while not probe.exists() and probe.parent != probe:  # the nearest folder that exists
        probe = probe.parent
    if probe != folder and not probe.is_dir():
        return f"not a directory ('{probe}' is a file)"
    if not os.access(probe, os.W_OK | os.X_OK):
        inside = "" if probe == folder else f" (cannot create it in '{probe}')"
        return "permission denied" + inside
    return None


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file, so that readers never see half a file.

    An :class:`OSError` names ``path`` (or its folder), never the temporary file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(path.parent)) from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        try:
            os.replace(tmp, path)
        except OSError as exc:
            raise OSError(exc.errno, exc.strerror, str(path)) from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
