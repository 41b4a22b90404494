"""The R crosswalk: which R call each evalkit function reproduces, and to what tolerance.

Usage:
    python tools/r_crosswalk.py              # check the table, print the page to stdout
    python tools/r_crosswalk.py --check      # check only (exit 1 with the problems)
    python tools/r_crosswalk.py --out FILE   # check, then write the page (Markdown) to FILE

The table is ``tests/reference/crosswalk.csv``, one row per (evalkit function, R reference file):
``function`` (a name in ``evalkit.__all__``, or ``Class.attribute``), ``quantity``, ``r_call``,
``r_package`` (``;``-separated), ``expected`` (space-separated files in
``tests/reference/expected/``), ``test`` (``tests/file.py::test_name``) and ``tolerance``
(``1e-6 relative``, ``1.5e-4 absolute``, ``exact`` or ``record``). It is checked against the
sources it summarises, so it cannot rot silently (``docs/conf.py`` runs the check before every
documentation build, and ``tests/test_docs.py`` runs it in the test suite):

- every reference file an R script in ``tests/reference/`` writes has a row, and every row's
  files exist and are written by one R script;
- every R function a row's ``r_call`` names is called in that script; every R package is one the
  script records in its versions file (``stats`` is base R);
- the test exists, and its module reads the row's reference files and uses the function;
- the tolerance is one the test (or a helper it calls) passes as ``rtol=``/``rel=`` (relative) or
  ``atol=``/``abs=`` (absolute), ``conftest.RTOL`` where it calls ``assert_matches_r`` without
  one; ``exact`` needs an equality assertion;
- the function is public (``evalkit.__all__``), and an attribute exists on its class.

The generated page groups the rows by R script and gives the R and package versions recorded
beside the reference values.
"""

from __future__ import annotations

import argparse
import ast
import csv
import dataclasses
import importlib
import math
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tests" / "reference"
TABLE = REFERENCE / "crosswalk.csv"
COLUMNS = ["function", "quantity", "r_call", "r_package", "expected", "test", "tolerance"]
BASE_R = {"stats", "base", "utils"}
TOLERANCE = re.compile(r"^(?P<value>[0-9.]+e-?[0-9]+) (?P<kind>relative|absolute)$")
R_CALL = re.compile(r"(?:[A-Za-z][A-Za-z0-9.]*:::?)?(?P<name>[A-Za-z.][A-Za-z0-9._]*)\(")

# Headings of the page, one per R script (a new script needs a heading here).
SCRIPTS = {
    "survival_reference.R": "Survival",
    "cox_counting_reference.R": "Survival",
    "proportions_reference.R": "Comparisons of proportions and power",
    "cohorts_reference.R": "Before-and-after cohort comparisons",
    "matching_reference.R": "Matching and weighting",
    "timeseries_reference.R": "Time series",
    "jdl_reference.R": "Justice Data Lab outcomes",
}


class CrosswalkError(Exception):
    """The crosswalk table disagrees with the R scripts or the tests."""


@dataclasses.dataclass(frozen=True)
class Row:
    function: str
    quantity: str
    r_call: str
    r_package: str
    expected: str
    test: str
    tolerance: str

    @property
    def files(self) -> list[str]:
        return self.expected.split()

    @property
    def packages(self) -> list[str]:
        return [p.strip() for p in self.r_package.split(";") if p.strip()]

    @property
    def test_path(self) -> Path:
        return ROOT / self.test.split("::")[0]

    @property
    def test_name(self) -> str:
        return self.test.split("::")[1]


def read_table(path: Path = TABLE) -> list[Row]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames != COLUMNS:
            raise CrosswalkError(f"{path}: columns must be {COLUMNS}, got {reader.fieldnames}")
        return [Row(**{k: (v or "").strip() for k, v in rec.items()}) for rec in reader]


# ---------------------------------------------------------------------------------------------
# The R scripts


def _strip_r_comments(text: str) -> str:
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


@dataclasses.dataclass(frozen=True)
class Script:
    path: Path
    code: str  # without comments
    outputs: frozenset[str]  # reference files it writes to expected/
    versions: dict[str, str]  # package -> version ("R" -> R version)

    def loads(self, package: str) -> bool:
        """Whether the script attaches or calls into ``package``."""
        p = re.escape(package)
        return bool(
            re.search(rf"(library|require|requireNamespace)\(\s*{p}\b|\b{p}:::?", self.code)
        )


def _versions(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    if path.suffix == ".csv":
        with path.open(newline="") as fh:
            for rec in csv.DictReader(fh):
                out[rec["item"]] = rec["version"]
    else:
        for line in path.read_text().splitlines():
            if line.startswith("R version"):
                out["R"] = line
            elif line.strip():
                name, _, version = line.partition(" ")
                out[name] = version.strip()
    if "R" in out:
        out["R"] = out["R"].split()[2] if out["R"].startswith("R version") else out["R"]
    return out


def read_scripts() -> dict[str, Script]:
    expected = {p.name for p in (REFERENCE / "expected").iterdir()}
    scripts = {}
    for path in sorted(REFERENCE.glob("*.R")):
        code = _strip_r_comments(path.read_text())
        quoted = re.findall(r"\"(?:[^\"]*/)?([A-Za-z0-9_]+\.(?:csv|txt))\"", code)
        named = set(quoted) & expected
        versions_files = sorted(n for n in named if "versions" in n)
        versions = _versions(REFERENCE / "expected" / versions_files[0]) if versions_files else {}
        outputs = frozenset(n for n in named if "versions" not in n)
        scripts[path.name] = Script(path, code, outputs, versions)
    return scripts


def r_functions(r_call: str) -> list[str]:
    """The R functions a crosswalk ``r_call`` names (``pkg::f(`` and ``f(`` alike)."""
    return sorted({m.group("name") for m in R_CALL.finditer(r_call)})


# ---------------------------------------------------------------------------------------------
# The tests


def _number(node: ast.AST, constants: dict[str, float]) -> float | None:
    """Evaluate a tolerance expression: numbers, module constants, + - * /."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return float(node.value)
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        v = _number(node.operand, constants)
        return None if v is None else -v
    if isinstance(node, ast.BinOp):
        a, b = _number(node.left, constants), _number(node.right, constants)
        if a is None or b is None:
            return None
        ops = {ast.Add: a + b, ast.Sub: a - b, ast.Mult: a * b}
        if isinstance(node.op, ast.Div):
            return a / b if b else None
        return ops.get(type(node.op))
    return None


def _conftest_rtol() -> float:
    tree = ast.parse((ROOT / "tests" / "conftest.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "RTOL" for t in node.targets
        ):
            value = _number(node.value, {})
            if value is not None:
                return value
    raise CrosswalkError("tests/conftest.py defines no RTOL")


@dataclasses.dataclass
class TestModule:
    path: Path
    source: str
    tree: ast.Module
    functions: dict[str, ast.FunctionDef]
    constants: dict[str, float]
    strings: set[str]


def read_test_module(path: Path) -> TestModule:
    source = path.read_text()
    tree = ast.parse(source, filename=str(path))
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    constants: dict[str, float] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "conftest":
            if any(a.name == "RTOL" and a.asname in (None, "RTOL") for a in node.names):
                constants["RTOL"] = _conftest_rtol()
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        for t in targets:
            if isinstance(t, ast.Name):
                v = _number(value, constants)
                if v is not None:
                    constants[t.id] = v
    # every string the module can form: constants, and f-strings with one field filled by one
    literals = {
        n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    }
    strings = set(literals)
    for n in ast.walk(tree):
        if isinstance(n, ast.JoinedStr):
            parts = [v.value if isinstance(v, ast.Constant) else None for v in n.values]
            if parts.count(None) == 1:
                i = parts.index(None)
                head, tail = "".join(parts[:i]), "".join(parts[i + 1 :])  # type: ignore[arg-type]
                strings |= {head + s + tail for s in literals if len(s) < 40}
    return TestModule(path, source, tree, functions, constants, strings)


def _reachable(module: TestModule, name: str) -> list[ast.FunctionDef]:
    """The test function and the module-level helpers it calls (transitively)."""
    seen: dict[str, ast.FunctionDef] = {}
    todo = [name]
    while todo:
        fn = module.functions.get(todo.pop())
        if fn is None or fn.name in seen:
            continue
        seen[fn.name] = fn
        todo += [
            n.func.id
            for n in ast.walk(fn)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
        ]
    return list(seen.values())


def tolerances(module: TestModule, name: str) -> set[tuple[str, float]]:
    """(kind, value) of every tolerance the test, or a helper it calls, compares with."""
    found: set[tuple[str, float]] = set()
    rtol = _conftest_rtol()
    consts = module.constants

    def add(kind: str, node: ast.AST) -> None:
        value = _number(node, consts)
        if value is not None:
            found.add((kind, value))

    for fn in _reachable(module, name):
        args = fn.args.args + fn.args.kwonlyargs
        defaults = [None] * (len(fn.args.args) - len(fn.args.defaults)) + list(fn.args.defaults)
        defaults += list(fn.args.kw_defaults)
        for arg, default in zip(args, defaults, strict=True):
            if default is not None and arg.arg in ("rtol", "rel"):
                add("relative", default)
            elif default is not None and arg.arg in ("atol", "abs"):
                add("absolute", default)
        for node in ast.walk(fn):
            if not isinstance(node, ast.Call):
                continue
            for kw in node.keywords:
                if kw.arg in ("rtol", "rel"):
                    add("relative", kw.value)
                elif kw.arg in ("atol", "abs"):
                    add("absolute", kw.value)
            callee = node.func.attr if isinstance(node.func, ast.Attribute) else None
            callee = node.func.id if isinstance(node.func, ast.Name) else callee
            if callee == "approx" and len(node.args) >= 2:
                add("relative", node.args[1])
            if callee == "assert_matches_r" and not any(k.arg == "rtol" for k in node.keywords):
                found.add(("relative", rtol))
    return found


def _has_equality_assertion(module: TestModule, name: str) -> bool:
    for fn in _reachable(module, name):
        for node in ast.walk(fn):
            if isinstance(node, ast.Assert) and any(
                isinstance(c, ast.Compare) and any(isinstance(o, ast.Eq) for o in c.ops)
                for c in ast.walk(node.test)
            ):
                return True
    return False


# ---------------------------------------------------------------------------------------------
# The check


def _evalkit() -> Any:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return importlib.import_module("evalkit")


def _has(obj: Any, attr: str) -> bool:
    return hasattr(obj, attr) or attr in getattr(obj, "__dataclass_fields__", {})


def resolve(function: str) -> str | None:
    """Where ``function`` is documented: ``"public"`` (a name in ``evalkit.__all__``, or an
    attribute of one), ``"module"`` (``module.name`` under evalkit, not yet public), or None."""
    evalkit = _evalkit()
    head, _, attr = function.partition(".")
    if head in evalkit.__all__:
        return "public" if not attr or _has(getattr(evalkit, head), attr) else None
    parts = function.split(".")
    for i in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module("evalkit." + ".".join(parts[:i]))
        except ImportError:
            continue
        for name in parts[i:]:
            if not _has(obj, name):
                return None
            obj = getattr(obj, name)
        return "module"
    return None


def problems(rows: list[Row] | None = None) -> list[str]:
    """Everything wrong with the crosswalk table; empty when it is up to date."""
    rows = read_table() if rows is None else rows
    scripts = read_scripts()
    out: list[str] = []
    covered: set[str] = set()
    modules: dict[Path, TestModule] = {}
    for i, row in enumerate(rows, start=2):
        where = f"crosswalk.csv line {i} ({row.function}, {row.expected})"
        if any(not getattr(row, c) for c in COLUMNS):
            out.append(f"{where}: empty field")
            continue
        # the function
        if resolve(row.function) is None:
            out.append(
                f"{where}: {row.function!r} is neither a name in evalkit.__all__ (or an attribute"
                " of one) nor module.name under evalkit"
            )
        # the reference files and the script that writes them
        owners = {name for name, s in scripts.items() if set(row.files) & s.outputs}
        for f in row.files:
            covered.add(f)
            if not (REFERENCE / "expected" / f).is_file():
                out.append(f"{where}: tests/reference/expected/{f} does not exist")
            elif not any(f in s.outputs for s in scripts.values()):
                out.append(f"{where}: no R script in tests/reference writes {f}")
        if len(owners) != 1:
            out.append(f"{where}: its files come from {len(owners)} R scripts, not one")
            continue
        script = scripts[owners.pop()]
        calls = r_functions(row.r_call)
        if not calls:
            out.append(f"{where}: r_call names no R function (write f(...))")
        for fn in calls:
            if not re.search(rf"(?<![A-Za-z0-9_.]){re.escape(fn)}(?![A-Za-z0-9_.])", script.code):
                out.append(f"{where}: {script.path.name} never calls {fn}()")
        for pkg in row.packages:
            if pkg not in BASE_R and pkg not in script.versions and not script.loads(pkg):
                out.append(f"{where}: {script.path.name} neither loads nor records {pkg!r}")
        # the test
        if "::" not in row.test or not row.test_path.is_file():
            out.append(f"{where}: test {row.test!r} is not tests/<file>.py::<test>")
            continue
        module = modules.get(row.test_path) or read_test_module(row.test_path)
        modules[row.test_path] = module
        if row.test_name not in module.functions:
            out.append(f"{where}: {row.test_path.name} has no function {row.test_name}")
            continue
        for f in row.files:
            if f not in module.strings and f.removesuffix(".csv") not in module.strings:
                out.append(f"{where}: {row.test_path.name} never reads {f}")
        last = row.function.rpartition(".")[2]
        if not re.search(rf"\b{re.escape(last)}\b", module.source):
            out.append(f"{where}: {row.test_path.name} never uses {last}")
        # the tolerance
        if row.tolerance == "exact":
            if not _has_equality_assertion(module, row.test_name):
                out.append(f"{where}: 'exact' but {row.test_name} asserts no equality")
        elif row.tolerance != "record":
            m = TOLERANCE.match(row.tolerance)
            if not m:
                out.append(f"{where}: tolerance {row.tolerance!r} is not '<number> relative'")
                continue
            want = (m["kind"], float(m["value"]))
            found = tolerances(module, row.test_name)
            if not any(k == want[0] and math.isclose(v, want[1]) for k, v in found):
                shown = ", ".join(f"{v:g} {k}" for k, v in sorted(found)) or "none"
                out.append(f"{where}: {row.test_name} does not compare to {row.tolerance}")
                out.append(f"    (tolerances found there: {shown})")
    for name, script in scripts.items():
        if name not in SCRIPTS:
            out.append(f"tests/reference/{name}: no heading in tools/r_crosswalk.py SCRIPTS")
        for f in sorted(script.outputs - covered):
            out.append(f"tests/reference/{name} writes {f}, which crosswalk.csv does not list")
    return out


# ---------------------------------------------------------------------------------------------
# The page


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    ticks = "``" if "`" in text else "`"
    pad = " " if ticks == "``" else ""
    return f"{ticks}{pad}{_cell(text)}{pad}{ticks}"


def _function(name: str) -> str:
    head, _, attr = name.partition(".")
    if resolve(name) == "module":
        return _code(f"evalkit.{name}")
    if not attr:
        return f"{{py:obj}}`~evalkit.{head}`"
    return f"{{py:class}}`~evalkit.{head}` {_code('.' + attr)}"


def _tolerance(text: str) -> str:
    m = TOLERANCE.match(text)
    if m:
        return f"{m['value']} {m['kind']}"
    return {"exact": "identical", "record": "recorded only"}.get(text, text)


def render(rows: list[Row] | None = None) -> str:
    rows = read_table() if rows is None else rows
    scripts = read_scripts()
    owner = {f: name for name, s in scripts.items() for f in s.outputs}
    lines = [
        "<!-- Generated by tools/r_crosswalk.py from tests/reference/crosswalk.csv. -->",
        "",
    ]
    headings = list(dict.fromkeys(SCRIPTS.values()))
    for heading in headings:
        names = [n for n, h in SCRIPTS.items() if h == heading and n in scripts]
        mine = [r for r in rows if owner.get(r.files[0]) in names]
        if not mine:
            continue
        lines += [f"## {heading}", ""]
        for name in names:
            versions = ", ".join(f"{k} {v}" for k, v in scripts[name].versions.items())
            ran = f"computed with {versions}" if versions else "versions not recorded"
            lines.append(f"- R script `tests/reference/{name}` ({ran})")
        lines += [
            "",
            "| evalkit | what is compared | R call | R package | tolerance | test |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for r in mine:
            test = f"{_code(r.test_path.name)} {_code(r.test_name)}"
            lines.append(
                f"| {_function(r.function)} | {_cell(r.quantity)} | {_code(r.r_call)} "
                f"| {_cell(', '.join(r.packages))} | {_tolerance(r.tolerance)} | {test} |"
            )
        lines.append("")
    return "\n".join(lines)


def write(out: Path) -> None:
    """Check the table (:class:`CrosswalkError` listing the problems); write the page to ``out``."""
    found = problems()
    if found:
        raise CrosswalkError(
            "tests/reference/crosswalk.csv is out of date:\n  " + "\n  ".join(found)
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    text = render()
    if not out.is_file() or out.read_text() != text:
        out.write_text(text)


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="check only")
    parser.add_argument("--out", type=Path, help="write the page here")
    args = parser.parse_args(list(argv) if argv is not None else None)
    found = problems()
    if found:
        print("tests/reference/crosswalk.csv is out of date:", *found, sep="\n  ", file=sys.stderr)
        return 1
    if args.out:
        write(args.out)
    elif not args.check:
        print(render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
