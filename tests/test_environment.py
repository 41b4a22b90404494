"""The conda environment file and the pip lock must carry the same pins (conda is not reachable
from the build machines, so the lock is what is installed; environment.yml must not drift), and
pyproject.toml must declare every third-party module evalkit imports (issue 10, item 5)."""

from __future__ import annotations

import ast
import functools
import re
import sys
import tomllib
from importlib import metadata
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


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _dist_name(requirement: str) -> str:
    return _norm(re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0])


def test_lock_pins_every_direct_dependency():
    project = _project()
    deps = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        deps += extra
    lock = _lock_pins()
    # "evalkit[docs]" inside an extra refers to the project's own extras, not to a package
    names = {_dist_name(d) for d in deps} - {"evalkit"}
    missing = sorted(names - set(lock))
    assert not missing, f"not pinned in requirements.lock: {missing}"


def test_lock_installs_the_dev_and_docs_extras():
    # `make venv` installs the lock, so every extra used by make targets must be in it
    extras = _project()["optional-dependencies"]
    assert "evalkit[docs]" in extras["dev"]
    assert {"sphinx", "pydata-sphinx-theme", "numpydoc", "myst-parser"} <= {
        _dist_name(d) for d in extras["docs"]
    }


def test_lock_satisfies_pyproject_lower_bounds():
    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lock = _lock_pins()
    for dep in project["dependencies"]:
        req = Requirement(dep)
        assert req.specifier.contains(lock[_norm(req.name)]), (req, lock[_norm(req.name)])


# Import names that differ from their distribution's name, for modules the running environment
# does not have installed (the installed metadata is asked first).
IMPORT_TO_DIST = {
    "IPython": "ipython",
    "yaml": "pyyaml",
    "python_calamine": "python-calamine",
    "jupyter_client": "jupyter-client",
    "mpl_toolkits": "matplotlib",
    "PIL": "pillow",
    "dateutil": "python-dateutil",
}

# Core dependencies evalkit needs without importing them, each with the reason.
USED_WITHOUT_IMPORT = {
    "ipykernel": "reports run in a kernel started as `python -m ipykernel_launcher`",
}


@functools.cache
def _imported_modules() -> dict[str, list[str]]:
    """Top-level third-party modules imported anywhere in evalkit/ (function bodies included)."""
    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / "evalkit").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top != "evalkit" and top not in sys.stdlib_module_names:
                    where = f"{path.relative_to(ROOT)}:{node.lineno}"
                    found.setdefault(top, []).append(where)
    return found


@functools.cache
def _installed_distributions() -> dict[str, list[str]]:
    return dict(metadata.packages_distributions())


def _distribution_of(module: str) -> str:
    installed = _installed_distributions().get(module)
    if installed:
        return _norm(installed[0])
    return _norm(IMPORT_TO_DIST.get(module, module))


def test_every_module_evalkit_imports_is_a_core_dependency():
    core = {_dist_name(d) for d in _project()["dependencies"]}
    imported = _imported_modules()
    assert {"numpy", "pandas", "scipy"} <= set(imported)  # the scan itself works
    undeclared = {
        module: where for module, where in imported.items() if _distribution_of(module) not in core
    }
    assert not undeclared, f"imported by evalkit but not in [project] dependencies: {undeclared}"


def test_every_core_dependency_is_used():
    core = {_dist_name(d) for d in _project()["dependencies"]}
    imported = {_distribution_of(m) for m in _imported_modules()}
    unused = sorted(core - imported - set(USED_WITHOUT_IMPORT))
    assert not unused, f"declared in [project] dependencies but never imported: {unused}"


def test_lifelines_is_only_a_development_dependency():
    project = _project()
    assert "lifelines" not in {_dist_name(d) for d in project["dependencies"]}
    assert "lifelines" in {_dist_name(d) for d in project["optional-dependencies"]["dev"]}
    assert "lifelines" not in _imported_modules()
