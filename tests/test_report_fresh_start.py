"""The Fresh Start report runs on a second synthetic extract by editing its TOML only.

A different seed of ``simulate_scheme("fresh_start")``, written as a UK export (``People.csv``
with headers such as "Person ID", dates ``dd/mm/yyyy``), is read through a copy of
``analyses/fresh_start.toml`` whose ``[data]`` and ``[reader]`` alone were changed; the
committed script builds it unchanged and the page carries the verdict engine's meta tags.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from evalkit.datasets import SCHEME_UK_COLUMNS, simulate_scheme, write_scheme
from evalkit.report import build
from evalkit.verdict import CONCLUSIONS

ROOT = Path(__file__).resolve().parents[1]
NAME = "fresh_start"
pytestmark = pytest.mark.report  # runs a notebook kernel


def _toml_table(mapping: dict[str, str]) -> str:
    return "{ " + ", ".join(f'"{k}" = "{v}"' for k, v in mapping.items()) + " }"


def _copy_of_config(paths: dict[str, Path]) -> str:
    """The committed TOML with [data] pointing at ``paths`` and [reader] set for a UK export."""
    text = (ROOT / "analyses" / f"{NAME}.toml").read_text(encoding="utf-8")
    for name in ("people", "offences", "custody", "deaths", "engagement"):
        text, k = re.subn(rf'(?m)^{name} = ".*"$', f'{name} = "{paths[name].as_posix()}"', text)
        assert k == 1, name
    reader = f'date_format = "%d/%m/%Y"\ncolumns = {_toml_table(SCHEME_UK_COLUMNS)}\n'
    text, k = re.subn(r"(?m)^\[reader\]\n", lambda _: "[reader]\n" + reader, text)
    assert k == 1
    return text


def _meta(page: str, name: str) -> str:
    found = re.search(rf'<meta name="evalkit-{name}" content="([^"]*)">', page)
    assert found, f"no evalkit-{name} meta tag"
    return found.group(1)


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> str:
    tmp = tmp_path_factory.mktemp(NAME)
    data = simulate_scheme(NAME, rng=4242)  # the shipped extract is seed 309
    paths = write_scheme(data, tmp / "extract", style="uk")
    assert paths["people"].name == "People.csv"
    config = tmp / f"{NAME}.toml"
    config.write_text(_copy_of_config(paths), encoding="utf-8")
    out = tmp / "out"
    # what `evalkit build NAME --config COPY --out DIR` runs, on the committed script
    result = build(ROOT, out, names=[NAME], config_path=config)
    assert result.ok, result.failures
    return (out / f"{NAME}.html").read_text(encoding="utf-8")


def test_fresh_start_builds_on_a_uk_extract_with_the_verdict_engines_tags(page: str) -> None:
    assert _meta(page, "verdict") in CONCLUSIONS
    assert _meta(page, "rating") in {"1", "2", "3"}  # a matched design earns 3 at best
    assert _meta(page, "synthetic") == "yes"
    assert _meta(page, "primary") == "rate difference, proven reoffending within a year"


def test_fresh_start_needed_no_code_edit(page: str) -> None:
    # the report cites the script it ran by content: the committed one, unchanged
    script = (ROOT / "analyses" / f"{NAME}.py").read_bytes()
    assert hashlib.sha256(script).hexdigest()[:30] in page


def test_fresh_start_opens_with_the_claim_then_the_headline(page: str) -> None:
    main_part = page.split("<main", 1)[1]
    claim = main_part.index("309 ex-offenders who are maintaining abstinence")
    headline = main_part.index('class="headline"')
    assert claim < headline < main_part.index('class="summary"')
    text = re.sub(r"<[^>]+>", " ", main_part)
    assert "Not a reoffending outcome" in text  # the claim checker's rule for the count
    assert "Cost per person maintaining abstinence" in text
    assert "significant" not in text.split("Reproducibility")[0].lower()
