"""The DIVERT analysis runs on a second synthetic extract, written as UK-style files, by editing
its TOML only (no code edit), and publishes the verdict engine's meta tags."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from evalkit.datasets import SCHEME_UK_COLUMNS, simulate_scheme, write_scheme
from evalkit.report import build
from evalkit.verdict import CONCLUSIONS

ROOT = Path(__file__).resolve().parents[1]
NAME = "divert"
pytestmark = pytest.mark.report


def _toml_table(mapping: dict[str, str]) -> str:
    return "{ " + ", ".join(f'"{k}" = "{v}"' for k, v in mapping.items()) + " }"


def _config_for(paths: dict[str, Path]) -> str:
    """The committed TOML, with [data] pointed at ``paths`` and [reader] for UK files."""
    text = (ROOT / "analyses" / f"{NAME}.toml").read_text(encoding="utf-8")
    data = "".join(f'{k} = "{p.as_posix()}"\n' for k, p in paths.items() if k != "truth")
    text = re.sub(r"(?ms)^\[data\]\n.*?^(?=\[parameters\])", lambda _: f"[data]\n{data}\n", text)
    reader = f'date_format = "%d/%m/%Y"\ncolumns = {_toml_table(SCHEME_UK_COLUMNS)}\n'
    return re.sub(r"(?m)^\[reader\]\n", lambda _: "[reader]\n" + reader, text)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp = tmp_path_factory.mktemp(NAME)
    data = simulate_scheme(NAME, rng=7)  # the shipped extract is seed 2021
    paths = write_scheme(data, tmp / "extract", style="uk")
    config = tmp / f"{NAME}.toml"
    config.write_text(_config_for(paths), encoding="utf-8")
    script = (ROOT / "analyses" / f"{NAME}.py").read_bytes()
    # what `evalkit build NAME --config COPY --out DIR` runs, on the committed script
    result = build(ROOT, tmp / "out", names=[NAME], config_path=config)
    assert result.ok, result.failures
    assert (ROOT / "analyses" / f"{NAME}.py").read_bytes() == script  # no code edit
    text = (tmp / "out" / f"{NAME}.html").read_text(encoding="utf-8")
    assert hashlib.sha256(script).hexdigest() in text  # built by the committed script
    return text


def _meta(page: str, key: str) -> str:
    found = re.search(rf'<meta name="evalkit-{key}" content="([^"]*)"', page)
    assert found, key
    return found.group(1)


def test_second_extract_in_uk_files_builds_with_the_verdict_meta_tags(page: str) -> None:
    assert _meta(page, "verdict") in CONCLUSIONS
    assert _meta(page, "rating") in {"1", "2", "3", "4", "5"}
    assert _meta(page, "synthetic") == "yes"
    assert _meta(page, "primary") == "rate difference, proven reoffending within 12 months"


def test_report_opens_with_the_claim_then_the_headline(page: str) -> None:
    body = page.split('id="content"', 1)[1]
    claim = body.index("87% of those engaged did not re-offend within six months")
    assert claim < body.index('class="headline"') < body.index('class="summary"')


def test_second_extract_gives_different_numbers_from_the_shipped_one(page: str) -> None:
    shipped = (ROOT / "reports" / f"{NAME}.html").read_text(encoding="utf-8")
    assert _meta(page, "headline") != _meta(shipped, "headline")
