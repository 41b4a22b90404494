"""Write environment.yml from requirements.lock so the conda environment carries the same pins.

Usage: python tools/lock_to_environment.py requirements.lock environment.yml

Conda channels are not reachable from the build machines, so installs go through pip and the lock;
environment.yml exists for users who prefer conda and must agree with the lock exactly
(tests/test_environment.py checks it). PyPI names that differ on conda-forge are mapped below.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

# PyPI name -> conda-forge name, where they differ.
CONDA_NAMES = {
    "matplotlib": "matplotlib-base",
    "jupyter-client": "jupyter_client",
    "jupyter-core": "jupyter_core",
    "typing-extensions": "typing_extensions",
    "pyzmq": "pyzmq",
    "stack-data": "stack_data",
    "prompt-toolkit": "prompt-toolkit",
    "nbformat": "nbformat",
    "jupyterlab-pygments": "jupyterlab_pygments",
    "pandas-stubs": "pandas-stubs",
}

PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;#]+)")


def read_lock(path: Path) -> dict[str, str]:
    """Return {normalised PyPI name: version} for every pinned line of a pip lock file."""
    pins: dict[str, str] = {}
    for line in path.read_text().splitlines():
        m = PIN.match(line.strip())
        if m:
            pins[normalise(m.group(1))] = m.group(2)
    return pins


def normalise(name: str) -> str:
    """PEP 503 name normalisation."""
    return re.sub(r"[-_.]+", "-", name).lower()


def conda_name(pypi: str) -> str:
    return CONDA_NAMES.get(pypi, pypi)


def render(pins: dict[str, str]) -> str:
    lines = [
        "# Generated from requirements.lock by tools/lock_to_environment.py; do not edit by hand.",
        "# Same pins as the lock, conda-forge names. CI and `make` install with pip from the lock.",
        "name: evalkit",
        "channels:",
        "  - conda-forge",
        "dependencies:",
        "  - python=3.11",
    ]
    lines += [f"  - {conda_name(n)}={v}" for n, v in sorted(pins.items())]
    lines += ["  - pip", "  - pip:", "      - -e ."]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    lock, out = Path(argv[1]), Path(argv[2])
    out.write_text(render(read_lock(lock)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
