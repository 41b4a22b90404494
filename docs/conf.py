"""Sphinx configuration of the evalkit documentation site.

Build with ``make docs`` (``python -m sphinx -W --keep-going -b html docs docs/_build/html``):
every warning is an error, so a broken cross-reference, a docstring numpydoc cannot parse or a
stale R crosswalk fails the build. The API pages are generated (``docs/api/generated/``, not
committed) from ``evalkit.__all__`` by autosummary; ``tests/test_docs.py`` checks that
``docs/api.rst`` lists every public name.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
import sys
import types
from pathlib import Path
from typing import Any

from sphinx.errors import ConfigError
from sphinx.util import inspect as sphinx_inspect
from sphinx.util import logging

logger = logging.getLogger("evalkit.docs")
DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT / "tools"))

import r_crosswalk  # noqa: E402  (tools/ is not a package)

import evalkit  # noqa: E402
import evalkit.report  # noqa: E402  (documented with the public names)
import evalkit.results  # noqa: E402

# `evalkit.verdict` is both a module and the public function `ek.verdict`. autosummary imports a
# name as a module first, so it would document the module under that name: docs/api/verdict.rst
# documents the function by hand instead.
if not callable(evalkit.verdict):
    raise ConfigError("ek.verdict is the module evalkit.verdict, not the function")

# The R crosswalk table is generated from tests/reference/crosswalk.csv after checking it
# against the R scripts and the tests (an out-of-date table stops the build).
try:
    r_crosswalk.write(DOCS / "_generated" / "r-crosswalk-table.md")
except r_crosswalk.CrosswalkError as err:
    raise ConfigError(str(err)) from None

# -- Project -----------------------------------------------------------------------------------

project = "evalkit"
author = "evalkit developers"
copyright = "evalkit developers, MIT licence"
release = evalkit.__version__
version = ".".join(release.split(".")[:2])

# -- General -----------------------------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "_generated", "Thumbs.db", ".DS_Store"]
language = "en"
today_fmt = "%Y-%m-%d"
default_role = "py:obj"

# Every reference must resolve. intersphinx is off (the build machines have no internet), so
# references to other projects' types (pandas.DataFrame…) cannot resolve: they are listed here
# by project. References to evalkit objects are resolved by the hooks at the end of this file;
# one to an evalkit object that exists but has no page is shown as code and listed at the end of
# the build; one to a name that does not exist fails the build.
nitpicky = True
nitpick_ignore_regex = [
    # other projects' types named in signatures and docstrings
    ("py:class", r"(pandas|pd|numpy|np|matplotlib|scipy|statsmodels|pyarrow)(\..+)?"),
    # Ibis's (the cohort takes Ibis tables and backends)
    ("py:class", r"ibis(\..+)?"),
    # the Python standard library's, also as bare names where an annotation stays a string
    ("py:(class|mod|func|obj)", r"(collections\.abc|typing|os|pathlib|datetime|importlib)(\..+)?"),
    ("py:class", r"Any|Sequence|Mapping|Iterable|Iterator|Callable|Literal"),
]

# -- autodoc / autosummary / numpydoc ----------------------------------------------------------

autosummary_generate = True
autosummary_generate_overwrite = True
autosummary_imported_members = True
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "signature"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True
autodoc_class_signature = "mixed"
autodoc_inherit_docstrings = True

numpydoc_show_class_members = False  # members are listed by the autosummary class template
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()

# -- MyST --------------------------------------------------------------------------------------

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# -- HTML --------------------------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"evalkit {release}"
html_static_path: list[str] = []
html_last_updated_fmt = None
html_copy_source = False
html_show_sourcelink = False
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": [],
    "icon_links": [],
}

# -- Public names only ------------------------------------------------------------------------
# The site documents each public object once, under its public name. These hooks keep private
# machinery (modules, base classes, dataclass fields) out of the pages and point references
# written with a defining module's path at the public page.


def _documented(env: Any) -> set[str]:
    return set(env.get_domain("py").objects)


def _candidates(target: str, node: Any) -> list[str]:
    """Public spellings of a reference target, most specific first.

    ``evalkit.survival.km.kaplan_meier`` -> ``evalkit.survival.kaplan_meier`` and
    ``evalkit.kaplan_meier`` (defining modules dropped); ``table`` written inside a method of
    ``KaplanMeierResult`` -> ``evalkit.KaplanMeierResult.table``.
    """
    context = [
        ".".join(p for p in (node.get("py:module"), node.get("py:class")) if p),
        node.get("py:module") or "",
    ]
    # a docstring shown under a public name is resolved in the module that defines it
    found = re.search(r"docstring of ([\w.]+)", node.source or "")
    if found:
        owner = found.group(1).split(".")
        context += [".".join(owner[:i]) for i in range(len(owner), 0, -1)]
    context.append("evalkit")
    full = [target] + [f"{c}.{target}" for c in context if c and not target.startswith(c)]
    out: list[str] = []
    for name in full:
        parts = name.split(".")
        if parts[0] != "evalkit":
            continue
        n = len(parts)
        for dropped in range(n - 1):  # drop `dropped` consecutive parts after "evalkit"
            for i in range(1, n - dropped):
                out.append(".".join(parts[:i] + parts[i + dropped :]))
    return list(dict.fromkeys(out))


def _field_owner(name: str, documented: set[str]) -> str | None:
    """``evalkit.Cohort.data`` -> ``evalkit.Cohort`` when ``data`` is a documented field of it.

    Dataclass fields are documented in the class's *Attributes* section (numpydoc), not as
    separate objects; a reference to one links to its class.
    """
    owner, _, attr = name.rpartition(".")
    if owner not in documented:
        return None
    cls = evalkit
    for part in owner.split(".")[1:]:
        cls = getattr(cls, part, None)
    fields = getattr(cls, "__dataclass_fields__", {})
    return owner if isinstance(cls, type) and (attr in fields or hasattr(cls, attr)) else None


def _public_target(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    documented = _documented(env)
    domain = env.get_domain("py")
    fromdoc = node.get("refdoc", env.docname)
    for name in _candidates(target, node):
        reftype = node["reftype"]
        if name in documented and name != target:
            pass
        elif reftype in ("attr", "obj") and (owner := _field_owner(name, documented)):
            name, reftype = owner, "class"
        else:
            continue
        for role in dict.fromkeys((reftype, "obj")):  # a method cited with :attr:, say
            found = domain.resolve_xref(env, fromdoc, app.builder, role, name, node, contnode)
            if found is not None:
                return found
    return _undocumented_target(node, contnode)


def _existing_object(name: str) -> bool:
    """Whether ``evalkit.a.b.name`` names a module, class, function or constant evalkit defines
    (not a name a module merely imported, such as ``typing.Any``)."""
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        if isinstance(obj, types.ModuleType):
            home = obj.__name__
        elif isinstance(obj, type) or callable(obj):
            home = getattr(obj, "__module__", "")
        else:  # a constant: its module is the one it was read from
            home = ".".join(parts[:i])
        return isinstance(home, str) and (home == "evalkit" or home.startswith("evalkit."))
    return False


# References to evalkit objects that exist but have no page (module constants such as
# JDL_MIN_PROGRAMME, private helpers) are rendered as code, without a link, and listed at the end
# of the build; a reference to a name that does not exist still fails it.
_UNDOCUMENTED: set[str] = set()


def _undocumented_target(node: Any, contnode: Any) -> Any:
    for name in _candidates(node.get("reftarget", ""), node):
        if _existing_object(name):
            _UNDOCUMENTED.add(name)
            return contnode
    return None


def _list_undocumented(app: Any, exception: Exception | None) -> None:
    if _UNDOCUMENTED and exception is None:
        logger.info(
            "references to evalkit objects without a page, shown as code: %s",
            ", ".join(sorted(_UNDOCUMENTED)),
        )


def _public_classes() -> set[type]:
    out = {evalkit.results.Result}
    for name in evalkit.__all__:
        obj = getattr(evalkit, name)
        if isinstance(obj, type):
            out.add(obj)
    return out


def _public_bases(app: Any, name: str, obj: Any, options: Any, bases: list[type]) -> None:
    """Show a public class's public ancestors, not the private base classes between."""
    public = _public_classes()
    shown: list[type] = []
    for base in bases:
        if base in public or not base.__module__.startswith("evalkit"):
            shown.append(base)
            continue
        shown += [
            b
            for b in base.__mro__[1:]
            if (b in public or not b.__module__.startswith("evalkit")) and b is not object
        ][:1]
    bases[:] = list(dict.fromkeys(shown)) or [object]


def _public_signature(
    app: Any, what: str, name: str, obj: Any, options: Any, signature: Any, annotation: Any
) -> Any:
    """A dataclass's signature without its private fields (``_design``…) or ``<factory>``."""
    if what != "class" or not dataclasses.is_dataclass(obj) or signature is None:
        return None
    sig = sphinx_inspect.signature(obj, type_aliases=app.config.autodoc_type_aliases)
    params = []
    for p in sig.parameters.values():
        if p.name.startswith("_"):
            continue
        if p.default is not p.empty and repr(p.default) == "<factory>":
            p = p.replace(default=...)
        params.append(p)
    sig = sig.replace(parameters=params)
    text = sphinx_inspect.stringify_signature(
        sig, show_return_annotation=False, unqualified_typehints=True
    )
    return text, annotation


def setup(app: Any) -> None:
    app.connect("missing-reference", _public_target)
    app.connect("build-finished", _list_undocumented)
    app.connect("autodoc-process-bases", _public_bases)
    app.connect("autodoc-process-signature", _public_signature)
