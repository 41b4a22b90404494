"""Reports in a real browser: Debian's headless Chromium renders every committed report (and a
report exercising withheld cells and the synthetic-data banner) at 360 px, 1280 px and with the
print stylesheet, and axe-core audits each page. Serious or critical axe violations, horizontal
overflow at 360 px, or any request leaving the page fail the test.

Needs `apt-get install chromium` and `npm ci --prefix tools/a11y` (puppeteer-core and axe-core;
no browser download). Skipped, saying so, only where Chromium is absent.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from evalkit.report import build

ROOT = Path(__file__).resolve().parents[1]
A11Y = ROOT / "tools" / "a11y"
CHROMIUM = (
    os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (apt-get install chromium): browser rendering and the "
    "axe accessibility audit of the reports were NOT run",
)

SMALL = """\
# %%
import pandas as pd
from evalkit import report as rp
cfg = rp.load_config("small")
rp.headline("Inconclusive: 2 more per 100 (range 20 fewer to 24 more)", rating=2,
            synthetic=cfg.synthetic)

# %% [markdown]
# ## Results

# %%
t = pd.DataFrame({"group": ["pilot", "comparison", "total"], "people": [9, 61, 70],
                  "reoffended": [3, 25, 28]})
rp.table(t, caption="Reoffending by group", total_row=2, complements={"reoffended": "people"},
         disclosure=cfg.disclosure)
"""


def _audit(files: list[Path], tmp_path: Path) -> tuple[subprocess.CompletedProcess, list]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is needed for the browser audit (it ships with the build image)")
    if not (A11Y / "node_modules" / "puppeteer-core").is_dir():
        pytest.fail("browser audit tools missing: run `npm ci --prefix tools/a11y`")
    report = tmp_path / "audit.json"
    proc = subprocess.run(
        [
            node,
            str(A11Y / "audit.mjs"),
            "--json",
            str(report),
            "--screenshots",
            str(tmp_path / "shots"),
            *map(str, files),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "CHROMIUM": CHROMIUM or ""},
    )
    results = json.loads(report.read_text()) if report.exists() else []
    return proc, results


BAD_PAGE = (
    "<!DOCTYPE html><html><head><title>x</title></head><body>"
    '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
    '<input type="text"><p style="color:#bbb;background:#fff">faint</p>'
    '<div style="width:900px">wide</div>'
    '<img alt="remote" src="https://example.invalid/x.png"></body></html>'
)


def test_reports_render_and_pass_the_accessibility_audit(tmp_path):
    (tmp_path / "project" / "analyses").mkdir(parents=True)
    analyses = tmp_path / "project" / "analyses"
    (analyses / "small.py").write_text(SMALL)
    (analyses / "small.toml").write_text('title = "Small"\ndata_date = "2024"\nsynthetic = true\n')
    result = build(tmp_path / "project")
    assert result.ok, [f.message for f in result.failures]
    small = tmp_path / "project" / "reports" / "small.html"
    assert "[c]" in small.read_text()
    # negative control in the same browser session: an image without alt text, an unlabelled
    # field, faint text, an element wider than a phone and an external image
    bad = tmp_path / "bad.html"
    bad.write_text(BAD_PAGE)

    committed = sorted((ROOT / "reports").glob("*.html"))
    assert any(p.name == "index.html" for p in committed)
    proc, results = _audit([*committed, small, bad], tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # the bad page, and only it, fails
    by_file = {Path(r["file"]).name: r for r in results}
    assert len(by_file) == len(committed) + 2

    worst = by_file.pop("bad.html")
    assert {"image-alt", "label", "color-contrast"} <= {v["id"] for v in worst["violations"]}
    assert worst["overflow"] is not None
    assert any("example.invalid" in u for u in worst["external"])

    for name, r in by_file.items():
        serious = [v for v in r["violations"] if v["impact"] in ("serious", "critical")]
        assert not serious, (name, serious, proc.stdout)
        assert r["overflow"] is None, (name, r["overflow"])
        assert r["external"] == [], (name, r["external"])
    for page in [*committed, small]:
        for suffix in ("360", "1280", "print"):
            shot = tmp_path / "shots" / f"{page.stem}-{suffix}.png"
            assert shot.stat().st_size > 5_000, f"{shot.name} looks empty"
