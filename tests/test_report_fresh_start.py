"""The Fresh Start report runs on a second synthetic extract by editing its TOML only.

A different seed of ``simulate_scheme("fresh_start")``, written as a UK export (``People.csv``
with headers such as "Person ID", dates ``dd/mm/yyyy``), is read through a copy of
``analyses/fresh_start.toml`` whose ``[data]`` and ``[reader]`` alone were changed; the
committed script builds it unchanged and the page carries the verdict engine's meta tags.
"""

from __future__ import annotations

import re

import pytest
from scheme_reports import build_on_second_extract, meta

from evalkit.verdict import CONCLUSIONS

NAME = "fresh_start"
pytestmark = pytest.mark.report  # runs a notebook kernel


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> str:
    # the shipped extract is seed 309; the fixture checks that the committed script ran unedited
    return build_on_second_extract(NAME, tmp_path_factory.mktemp(NAME), rng=4242)


def test_fresh_start_builds_on_a_uk_extract_with_the_verdict_engines_tags(page: str) -> None:
    assert meta(page, "verdict") in CONCLUSIONS
    assert meta(page, "rating") in {"1", "2", "3"}  # a matched design earns 3 at best
    assert meta(page, "synthetic") == "yes"
    assert meta(page, "primary") == "rate difference, proven reoffending within a year"


def test_fresh_start_opens_with_the_claim_then_the_headline(page: str) -> None:
    main_part = page.split("<main", 1)[1]
    claim = main_part.index("309 ex-offenders who are maintaining abstinence")
    headline = main_part.index('class="headline"')
    assert claim < headline < main_part.index('class="summary"')
    text = re.sub(r"<[^>]+>", " ", main_part)
    assert "Not a reoffending outcome" in text  # the claim checker's rule for the count
    assert "Cost per person maintaining abstinence" in text
    assert "significant" not in text.split("Reproducibility")[0].lower()
