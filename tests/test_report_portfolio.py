"""The portfolio report runs on a second synthetic services file by editing its TOML only.

A different seed of ``simulate_scheme("portfolio")``, written as a UK export
(``Services.csv``), is read through a copy of ``analyses/portfolio.toml`` whose ``[data]`` and
``[reader]`` alone were changed; the committed script builds it unchanged. With no service
compared with non-participants the verdict engine finds the portfolio's effect not assessable,
and each service's rating is the level its evaluation design earns.
"""

from __future__ import annotations

import re

import pytest
from scheme_reports import build_on_second_extract, meta

NAME = "portfolio"
pytestmark = pytest.mark.report  # runs a notebook kernel


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> str:
    # the shipped file is seed 2024; the fixture checks that the committed script ran unedited
    return build_on_second_extract(NAME, tmp_path_factory.mktemp(NAME), rng=77)


def test_portfolio_builds_on_a_uk_file_with_the_verdict_engines_tags(page: str) -> None:
    # [design] kind = "none": no estimate, so the engine states no effect, at level 1
    assert meta(page, "verdict") == "not assessable"
    assert meta(page, "strength") == "none"
    assert meta(page, "rating") == "1"
    assert meta(page, "synthetic") == "yes"


def test_portfolio_opens_with_the_claim_and_rates_each_evaluation_design(page: str) -> None:
    main_part = page.split("<main", 1)[1]
    assert main_part.index("£448,909 a year") < main_part.index('class="headline"')
    text = re.sub(r"<[^>]+>", " ", main_part)
    # Turning Point's before-and-after profile earns level 2, the others' counts level 1
    assert text.count("Level 2 of 5") == 1
    assert text.count("Level 1 of 5") >= 5
    assert "Offences to prevent to break even" in text
    assert "significant" not in text.split("Reproducibility")[0].lower()
