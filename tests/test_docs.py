"""The documentation site: the R crosswalk is up to date, the API page lists every public name,
the guide's examples run, and (slow) the Sphinx build passes with warnings as errors."""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import evalkit as ek

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(ROOT / "tools"))

import r_crosswalk  # noqa: E402  (tools/ is not a package)

# ---------------------------------------------------------------------------------------------
# The R crosswalk


def test_crosswalk_is_up_to_date_with_the_R_scripts_and_the_tests():
    problems = r_crosswalk.problems()
    assert not problems, "tests/reference/crosswalk.csv:\n  " + "\n  ".join(problems)


def test_crosswalk_lists_every_reference_file_every_R_script_writes():
    listed = {f for row in r_crosswalk.read_table() for f in row.files}
    scripts = r_crosswalk.read_scripts()
    assert set(scripts) == {p.name for p in (ROOT / "tests" / "reference").glob("*.R")}
    for name, script in scripts.items():
        assert script.outputs, f"{name} writes no reference file the checker can see"
        assert script.outputs <= listed, (name, sorted(script.outputs - listed))


def test_crosswalk_check_catches_a_stale_row():
    rows = r_crosswalk.read_table()
    km = next(i for i, r in enumerate(rows) if r.function == "kaplan_meier")
    stale = [
        dataclasses.replace(rows[km], tolerance="1e-8 relative"),  # not what the test uses
        dataclasses.replace(rows[km + 1], test="tests/test_survival.py::test_gone_against_R"),
        dataclasses.replace(rows[km + 2], r_call="survreg(Surv(time, event) ~ x)"),
        dataclasses.replace(rows[km + 3], function="no_such_function"),
        *rows[km + 5 :],  # and rows[km + 4] (rmst) dropped: its file is then not listed
    ]
    found = "\n".join(r_crosswalk.problems(rows[:km] + stale))
    assert "does not compare to 1e-8 relative" in found
    assert "has no function test_gone_against_R" in found
    assert "never calls survreg()" in found
    assert "'no_such_function' is neither" in found
    assert "writes rmst.csv, which crosswalk.csv does not list" in found


def test_crosswalk_page_names_every_function_and_tolerance():
    page = r_crosswalk.render()
    for row in r_crosswalk.read_table():
        assert row.test_name in page
        assert row.function.rpartition(".")[2] in page
    assert "1e-6 relative" in page


# ---------------------------------------------------------------------------------------------
# The API page


def _api_entries() -> set[str]:
    """Names the API page documents under ``evalkit``: autosummary entries and directives."""
    text = (DOCS / "api.rst").read_text()
    names: set[str] = set()
    for block in re.finditer(r"^\.\. autosummary::\n((?:   .*\n|\n)+)", text, re.MULTILINE):
        for line in block.group(1).splitlines():
            entry = line.strip()
            if entry and not entry.startswith(":"):
                names.add(entry.lstrip("~"))
    names |= set(re.findall(r"^\.\. (?:data|function|class):: (\w+)", text, re.MULTILINE))
    names |= set(re.findall(r":func:`(\w+)`", text))
    return names


def test_api_page_lists_every_public_name():
    missing = sorted(set(ek.__all__) - _api_entries())
    assert not missing, f"in evalkit.__all__ but not in docs/api.rst: {missing}"


def test_api_page_lists_no_name_that_is_not_public():
    # besides __all__, the page documents modules analysis scripts use (report, wording…) and
    # dotted entries (report.config.Primary, results.Result)
    def module(name: str) -> bool:
        return importlib.util.find_spec(f"evalkit.{name}") is not None

    stale = sorted(
        n for n in _api_entries() if "." not in n and n not in ek.__all__ and not module(n)
    )
    assert not stale, f"in docs/api.rst but not in evalkit.__all__: {stale}"


def test_every_public_function_has_an_example():
    # the Examples sections run as doctests in CI (make doctest)
    import inspect

    functions = {n: getattr(ek, n) for n in ek.__all__}
    functions = {n: f for n, f in functions.items() if inspect.isfunction(f)}
    assert "kaplan_meier" in functions
    missing = sorted(n for n, f in functions.items() if ">>> " not in (f.__doc__ or ""))
    assert not missing, f"public functions without an Examples section: {missing}"


def test_every_page_is_in_the_site():
    index = (DOCS / "index.md").read_text() + (DOCS / "guide" / "index.md").read_text()
    pages = [
        p for p in DOCS.rglob("*.md") if "_build" not in p.parts and "_generated" not in p.parts
    ]
    for page in pages:
        stem = page.relative_to(DOCS).with_suffix("").as_posix()
        if stem in ("index", "guide/index"):
            continue
        assert page.stem in index, f"docs/{stem} is in no table of contents"


# ---------------------------------------------------------------------------------------------
# The guide's examples

PAGES = [
    "index.md",
    "getting-started.md",
    *sorted(f"guide/{p.name}" for p in (DOCS / "guide").glob("*.md")),
]


def _python_blocks(page: Path) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", page.read_text(), re.MULTILINE | re.DOTALL)


@pytest.mark.parametrize("page", PAGES)
def test_guide_examples_run(page, tmp_path, monkeypatch):
    # each page's ```python blocks run in order in one namespace, as a reader would run them
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__docs__"}
    for i, block in enumerate(_python_blocks(DOCS / page)):
        code = compile(block, f"docs/{page} (python block {i + 1})", "exec")
        exec(code, namespace)


# ---------------------------------------------------------------------------------------------
# The build


@pytest.mark.slow
def test_sphinx_build_has_no_warnings(tmp_path):
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html"]
    cmd += ["-d", str(tmp_path / "doctrees"), str(DOCS), str(tmp_path / "html")]
    run = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-5000:]
    assert (tmp_path / "html" / "api" / "generated" / "evalkit.kaplan_meier.html").is_file()
    assert (tmp_path / "html" / "r-crosswalk.html").is_file()
