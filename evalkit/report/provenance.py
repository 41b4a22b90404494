"""Provenance of a report: what it was built from, and with what.

Which git commit?
-----------------
A report committed to ``reports/`` cannot contain the commit it is committed in (the commit's
hash depends on the report), and embedding the commit it was *built* from makes every report
change on every commit, so ``evalkit build --check`` could never pass. Reports therefore name
what they were built from by content, not by commit:

* the SHA-256 of the analysis script, its configuration and every input file, and an
  **inputs fingerprint** combining them;
* the evalkit version and the versions of the packages that compute and render (pinned by
  ``requirements.lock``);
* the commit is the one that contains the report (``git log -1 -- reports/<name>.html``);
  CI runs ``evalkit build --check`` on every commit, so a committed report is always exactly what
  the code in its own commit builds.

Python is recorded as major.minor only: patch releases do not change results, and recording them
would make reports differ between machines with the same locked environment.
"""

from __future__ import annotations

import hashlib
import platform
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from evalkit._version import __version__
from evalkit.report.config import AnalysisConfig

__all__ = ["PACKAGES", "InputFile", "Provenance", "collect", "sha256_file"]

PACKAGES: tuple[str, ...] = (
    "numpy",
    "scipy",
    "pandas",
    "statsmodels",
    "matplotlib",
    "pyarrow",
    "jupytext",
    "nbclient",
    "nbconvert",
)
"""Packages whose versions a report records: those that compute, read data or render."""


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes, read in chunks (inputs can be large)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class InputFile:
    """One file a report depends on: its role, the path as written, its size and SHA-256."""

    role: str
    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Provenance:
    """Everything the reproducibility section states.

    Attributes
    ----------
    name
        Analysis name.
    evalkit_version
        ``evalkit.__version__``.
    python
        Python major.minor.
    packages
        ``(name, version)`` for :data:`PACKAGES` (``"not installed"`` if absent).
    files
        The analysis script, its configuration and every input, with SHA-256.
    fingerprint
        SHA-256 over the evalkit version and every file's role, path and SHA-256.
    """

    name: str
    evalkit_version: str
    python: str
    packages: tuple[tuple[str, str], ...]
    files: tuple[InputFile, ...]
    fingerprint: str


def _version(pkg: str) -> str:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return "not installed"


def collect(config: AnalysisConfig, script: Path, root: Path) -> Provenance:
    """Hash the script, the configuration and the inputs of one analysis.

    Paths are shown relative to ``root`` for the script and configuration and as written in
    the configuration for inputs, so the report does not depend on where the repository lives.
    """

    def rel(p: Path) -> str:
        try:
            return p.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            return p.name

    files = [
        InputFile("analysis script", rel(script), script.stat().st_size, sha256_file(script)),
        InputFile(
            "configuration",
            rel(config.path),
            config.path.stat().st_size,
            sha256_file(config.path),
        ),
    ]
    for source in config.data.values():
        files.append(
            InputFile(
                f"data: {source.name}",
                source.written,
                source.path.stat().st_size,
                sha256_file(source.path),
            )
        )
    h = hashlib.sha256(f"evalkit {__version__}\n".encode())
    for f in files:
        h.update(f"{f.role}\t{f.path}\t{f.sha256}\n".encode())
    major, minor, _ = platform.python_version_tuple()
    return Provenance(
        name=config.name,
        evalkit_version=__version__,
        python=f"{major}.{minor}",
        packages=tuple((p, _version(p)) for p in PACKAGES),
        files=tuple(files),
        fingerprint=h.hexdigest(),
    )
