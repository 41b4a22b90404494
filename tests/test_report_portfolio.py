"""The portfolio report runs on a second synthetic services file by editing its TOML only.

A different seed of ``simulate_scheme("portfolio")``, written as a UK export
(``Services.csv``), is read through a copy of ``analyses/portfolio.toml`` whose ``[data]`` and
``[reader]`` alone were changed; the committed script builds it unchanged. With no service
compared with non-participants the verdict engine finds the portfolio's effect not assessable,
and each service's rating is the level its evaluation design earns.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from evalkit.datasets import SCHEME_UK_COLUMNS, simulate_scheme, write_scheme
from evalkit.report import build

ROOT = Path(__file__).resolve().parents[1]
NAME = "portfolio"
pytestmark = pytest.mark.report  # runs a notebook kernel


def _toml_table(mapping: dict[str, str]) -> str:
    return "{ " + ", ".join(f'"{k}" = "{v}"' for k, v in mapping.items()) + " }"


def _meta(page: str, name: str) -> str:
    found = re.search(rf'<meta name="evalkit-{name}" content="([^"]*)">', page)
    assert found, f"no evalkit-{name} meta tag"
    return found.group(1)


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> str:
    tmp = tmp_path_factory.mktemp(NAME)
    data = simulate_scheme(NAME, rng=77)  # the shipped file is seed 2024
    paths = write_scheme(data, tmp / "extract", style="uk")
    text = (ROOT / "analyses" / f"{NAME}.toml").read_text(encoding="utf-8")
    text, k = re.subn(
        r'(?m)^services = ".*"$', f'services = "{paths["services"].as_posix()}"', text
    )
    assert k == 1
    reader = f'date_format = "%d/%m/%Y"\ncolumns = {_toml_table(SCHEME_UK_COLUMNS)}\n'
    text, k = re.subn(r"(?m)^\[reader\]\n", lambda _: "[reader]\n" + reader, text)
    assert k == 1
    config = tmp / f"{NAME}.toml"
    config.write_text(text, encoding="utf-8")
    out = tmp / "out"
    # what `evalkit build NAME --config COPY --out DIR` runs, on the committed script
    result = build(ROOT, out, names=[NAME], config_path=config)
    assert result.ok, result.failures
    return (out / f"{NAME}.html").read_text(encoding="utf-8")


def test_portfolio_builds_on_a_uk_file_with_the_verdict_engines_tags(page: str) -> None:
    # [design] kind = "none": no estimate, so the engine states no effect, at level 1
    assert _meta(page, "verdict") == "not assessable"
    assert _meta(page, "strength") == "none"
    assert _meta(page, "rating") == "1"
    assert _meta(page, "synthetic") == "yes"


def test_portfolio_needed_no_code_edit(page: str) -> None:
    script = (ROOT / "analyses" / f"{NAME}.py").read_bytes()
    assert hashlib.sha256(script).hexdigest()[:30] in page


def test_portfolio_opens_with_the_claim_and_rates_each_evaluation_design(page: str) -> None:
    main_part = page.split("<main", 1)[1]
    assert main_part.index("£448,909 a year") < main_part.index('class="headline"')
    text = re.sub(r"<[^>]+>", " ", main_part)
    # Turning Point's before-and-after profile earns level 2, the others' counts level 1
    assert text.count("Level 2 of 5") == 1
    assert text.count("Level 1 of 5") >= 5
    assert "Offences to prevent to break even" in text
    assert "significant" not in text.split("Reproducibility")[0].lower()
