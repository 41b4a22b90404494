"""The Restart Thames Valley report runs on a second extract, written as UK systems export it,
by editing its TOML only: a copy pointing [data] at the files, with the [reader] options."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from evalkit.cli import main
from evalkit.datasets import SCHEME_UK_COLUMNS, simulate_scheme, write_scheme

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "analyses" / "restart.py"


def _toml_table(mapping: dict[str, str]) -> str:
    return "{ " + ", ".join(f'"{k}" = "{v}"' for k, v in mapping.items()) + " }"


def _config(paths: dict[str, Path]) -> str:
    """analyses/restart.toml with [data] and [reader] replaced: the only edit a user makes."""
    text = (ROOT / "analyses" / "restart.toml").read_text(encoding="utf-8")
    data = "".join(
        f'{name} = "{paths[name].as_posix()}"\n'
        for name in ("people", "offences", "custody", "deaths")
    )
    text = re.sub(r"(?ms)^\[data\]\n.*?(?=^\[)", lambda _: f"[data]\n{data}\n", text)
    reader = f'date_format = "%d/%m/%Y"\ncolumns = {_toml_table(SCHEME_UK_COLUMNS)}\n'
    return re.sub(r"(?ms)^\[reader\]\n.*?(?=^\[)", lambda _: f"[reader]\n{reader}\n", text)


def _meta(page: str, name: str) -> str:
    found = re.search(rf'<meta name="evalkit-{name}" content="([^"]*)"', page)
    assert found, name
    return found.group(1)


@pytest.mark.report
def test_restart_report_runs_on_a_uk_style_extract_with_a_toml_copy(tmp_path, monkeypatch):
    before = hashlib.sha256(SCRIPT.read_bytes()).hexdigest()
    data = simulate_scheme("restart", rng=7)  # a second synthetic extract (shipped: 2022)
    paths = write_scheme(data, tmp_path / "extract", style="uk")
    assert paths["people"].name == "People.csv"
    assert "/" in paths["people"].read_text(encoding="utf-8").splitlines()[1]  # dd/mm/yyyy
    config = tmp_path / "config" / "restart.toml"
    config.parent.mkdir()
    config.write_text(_config(paths), encoding="utf-8")
    out = tmp_path / "out"
    monkeypatch.chdir(ROOT)
    assert main(["build", "restart", "--config", str(config), "--out", str(out), "-q"]) == 0
    page = (out / "restart.html").read_text(encoding="utf-8")
    assert _meta(page, "verdict") in ("reduced", "increased", "no clear change", "not assessable")
    assert _meta(page, "rating") in {"1", "2", "3"}  # a matched design earns at most 3
    assert _meta(page, "synthetic") == "yes"
    assert _meta(page, "primary") == "rate difference, proven reoffending within 12 months"
    # the published claim opens the report, before the headline
    claim = "over half of people released from prison in the Thames Valley reoffend"
    assert page.index(claim) < page.index('id="headline-title"')
    # the numbers are this extract's, not the shipped data's
    shipped = (ROOT / "reports" / "restart.html").read_text(encoding="utf-8")
    assert _meta(page, "headline") != _meta(shipped, "headline")
    assert "significant" not in re.sub(r"<[^>]+>", " ", page.split('id="reproducibility"')[0])
    # no code edit was needed
    assert hashlib.sha256(SCRIPT.read_bytes()).hexdigest() == before
    assert before in page  # the report names the script it ran by its hash
