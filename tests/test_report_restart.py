"""The Restart Thames Valley report runs on a second extract, written as UK systems export it,
by editing its TOML only: a copy pointing [data] at the files, with the [reader] options."""

from __future__ import annotations

import hashlib
import re

import pytest
from scheme_reports import ROOT, meta, uk_config

from evalkit.cli import main
from evalkit.datasets import simulate_scheme, write_scheme

SCRIPT = ROOT / "analyses" / "restart.py"


@pytest.mark.report
def test_restart_report_runs_on_a_uk_style_extract_with_a_toml_copy(tmp_path, monkeypatch):
    before = hashlib.sha256(SCRIPT.read_bytes()).hexdigest()
    data = simulate_scheme("restart", rng=7)  # a second synthetic extract (shipped: 2022)
    paths = write_scheme(data, tmp_path / "extract", style="uk")
    assert paths["people"].name == "People.csv"
    assert "/" in paths["people"].read_text(encoding="utf-8").splitlines()[1]  # dd/mm/yyyy
    config = tmp_path / "config" / "restart.toml"
    config.parent.mkdir()
    config.write_text(uk_config("restart", paths), encoding="utf-8")
    out = tmp_path / "out"
    monkeypatch.chdir(ROOT)
    assert main(["build", "restart", "--config", str(config), "--out", str(out), "-q"]) == 0
    page = (out / "restart.html").read_text(encoding="utf-8")
    assert meta(page, "verdict") in ("reduced", "increased", "no clear change", "not assessable")
    assert meta(page, "rating") in {"1", "2", "3"}  # a matched design earns at most 3
    assert meta(page, "synthetic") == "yes"
    assert meta(page, "primary") == "rate difference, proven reoffending within 12 months"
    # the published claim opens the report, before the headline
    claim = "over half of people released from prison in the Thames Valley reoffend"
    assert page.index(claim) < page.index('id="headline-title"')
    # the numbers are this extract's, not the shipped data's
    shipped = (ROOT / "reports" / "restart.html").read_text(encoding="utf-8")
    assert meta(page, "headline") != meta(shipped, "headline")
    assert "significant" not in re.sub(r"<[^>]+>", " ", page.split('id="reproducibility"')[0])
    # no code edit was needed
    assert hashlib.sha256(SCRIPT.read_bytes()).hexdigest() == before
    assert before in page  # the report names the script it ran by its hash
