"""The DIVERT analysis runs on a second synthetic extract, written as UK-style files, by editing
its TOML only (no code edit), and publishes the verdict engine's meta tags."""

from __future__ import annotations

import pytest
from scheme_reports import ROOT, build_on_second_extract, meta

from evalkit.verdict import CONCLUSIONS

NAME = "divert"
pytestmark = pytest.mark.report


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> str:
    # the shipped extract is seed 2021
    return build_on_second_extract(NAME, tmp_path_factory.mktemp(NAME), rng=7)


def test_second_extract_in_uk_files_builds_with_the_verdict_meta_tags(page: str) -> None:
    assert meta(page, "verdict") in CONCLUSIONS
    assert meta(page, "rating") in {"1", "2", "3", "4", "5"}
    assert meta(page, "synthetic") == "yes"
    assert meta(page, "primary") == "rate difference, proven reoffending within 12 months"


def test_report_opens_with_the_claim_then_the_headline(page: str) -> None:
    body = page.split('id="content"', 1)[1]
    claim = body.index("87% of those engaged did not re-offend within six months")
    assert claim < body.index('class="headline"') < body.index('class="summary"')


def test_second_extract_gives_different_numbers_from_the_shipped_one(page: str) -> None:
    shipped = (ROOT / "reports" / f"{NAME}.html").read_text(encoding="utf-8")
    assert meta(page, "headline") != meta(shipped, "headline")
