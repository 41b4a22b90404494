"""The conda environment file and the pip lock must carry the same pins (conda is not reachable
from the build machines, so the lock is what is installed; environment.yml must not drift)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;#]+)")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _lock_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        m = PIN.match(line.strip())
        if m:
            pins[_norm(m.group(1))] = m.group(2)
    return pins


def _conda_pins() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pins = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str) and "=" in dep:
            name, version = dep.split("=", 1)
            pins[_norm(name)] = version
    return pins


# conda-forge names that differ from PyPI names (after normalisation)
CONDA_TO_PYPI = {"matplotlib-base": "matplotlib"}


def test_environment_yml_has_the_same_pins_as_the_lock():
    lock = _lock_pins()
    conda = {CONDA_TO_PYPI.get(k, k): v for k, v in _conda_pins().items()}
    python = conda.pop("python")
    assert python == "3.11"
    assert conda == lock


def test_lock_pins_every_direct_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        deps += extra
    lock = _lock_pins()
    names = {_norm(re.split(r"[<>=!~\[ ;]", d, maxsplit=1)[0]) for d in deps}
    missing = sorted(names - set(lock))
    assert not missing, f"not pinned in requirements.lock: {missing}"


def test_lock_satisfies_pyproject_lower_bounds():
    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lock = _lock_pins()
    for dep in project["dependencies"]:
        req = Requirement(dep)
        assert req.specifier.contains(lock[_norm(req.name)]), (req, lock[_norm(req.name)])
