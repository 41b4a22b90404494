"""Reports in a real browser: Debian's headless Chromium renders every committed report (and a
report exercising withheld cells and the synthetic-data banner, and an `evalkit jdl` report of
the example extract) at 360 px, 1280 px and with the
print stylesheet, and axe-core audits each page. Serious or critical axe violations, horizontal
overflow at 360 px, or any request leaving the page fail the test. At 360 px the test also
measures every piece of chart text (at least 12 CSS px, at least 4.5:1 contrast) and every
table (caption outside the sideways-scrolling region and in view; the region marked, and the
"scroll sideways" hint shown exactly when the table scrolls).

Needs `apt-get install chromium` and `npm ci --prefix tools/a11y` (puppeteer-core and axe-core;
no browser download). Skipped, saying so, only where Chromium is absent.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from evalkit.report import build
from evalkit.report import jdl as report_jdl

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
import evalkit as ek
rp.headline(ek.verdict(ek.Measure("rate difference", "reoffending", 0.02, -0.2, 0.24),
                       design="unmatched"), synthetic=cfg.synthetic)

# %% [markdown]
# ## Results

# %%
t = pd.DataFrame({"group": ["pilot", "comparison", "total"], "people": [9, 61, 70],
                  "reoffended": [3, 25, 28]})
rp.table(t, caption="Reoffending by group", total_row=2, complements={"reoffended": "people"},
         disclosure=cfg.disclosure)

# %%
wide = pd.DataFrame({"measure": ["Proven reoffending rate", "Reoffences per person"],
                     **{f"year {y} ({a})": [0.31, 1.2] for y in (2021, 2022, 2023)
                        for a in ("programme", "comparison")}})
rp.table(wide, caption="Outcomes by year and group, too wide for a phone",
         disclosure=cfg.disclosure)

# %%
rossi = ek.datasets.load_rossi()
km = ek.kaplan_meier(rossi, time="week", event="arrest", by="fin")
rp.km_figure(km, caption="Proportion not yet re-arrested", labels={0: "No aid", 1: "Aid"},
             risk_times=[0, 13, 26, 39, 52], xlabel="Weeks since release",
             disclosure=cfg.disclosure)
"""

# What a phone shows, measured in the browser at 360 px: the rendered size and the colour of
# every piece of chart text, and for each table whether it scrolls sideways, whether its
# visible caption stays outside the scrolling region and in view, and whether the hint shows.
MEASURE = r"""
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
const require = createRequire(process.argv[2]);
const puppeteer = require("puppeteer-core");
const [, , , chromium, ...files] = process.argv;
const browser = await puppeteer.launch({
  executablePath: chromium, headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--font-render-hinting=none"],
});
const out = {};
for (const file of files) {
  const page = await browser.newPage();
  await page.setViewport({ width: 360, height: 740, deviceScaleFactor: 1 });
  await page.goto(pathToFileURL(file).href, { waitUntil: "load" });
  // scroll-driven animations (the table hint) take effect on the next frames, not at "load"
  await page.evaluate(() => new Promise((done) =>
    requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done, 50)))));
  out[file] = await page.evaluate(() => {
    const texts = [];
    for (const svg of document.querySelectorAll("figure.chart svg")) {
      const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
      for (const t of svg.querySelectorAll("text")) {
        const style = getComputedStyle(t);
        const px = parseFloat(style.fontSize) * scale;
        texts.push({ text: t.textContent, px, fill: style.fill });
      }
    }
    const tables = [...document.querySelectorAll(".table-block")].map((block) => {
      const wrap = block.querySelector(".table-wrap");
      const caption = block.querySelector(".table-caption");
      const hint = block.querySelector(".table-hint");
      const r = caption.getBoundingClientRect();
      return {
        caption: caption.textContent,
        scrolls: wrap.scrollWidth > wrap.clientWidth + 1,
        overflowX: getComputedStyle(wrap).overflowX,
        marked: getComputedStyle(wrap).backgroundImage.includes("gradient"),
        captionOutside: !wrap.contains(caption),
        captionInView: r.left >= 0 && r.right <= window.innerWidth + 0.5,
        hintShown:
          getComputedStyle(hint).visibility === "visible" &&
          hint.getBoundingClientRect().height > 0,
      };
    });
    return { texts, tables };
  });
  await page.close();
}
await browser.close();
console.log(JSON.stringify(out));
"""


def _measure(files: list[Path], tmp_path: Path) -> dict:
    script = tmp_path / "measure.mjs"
    script.write_text(MEASURE, encoding="utf-8")
    proc = subprocess.run(
        [
            shutil.which("node") or "node",
            str(script),
            str(A11Y / "package.json"),
            CHROMIUM or "",
            *map(str, files),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return {Path(k).name: v for k, v in json.loads(proc.stdout).items()}


def _contrast(css_colour: str) -> float:
    r, g, b = (int(c) for c in re.findall(r"\d+", css_colour)[:3])
    from evalkit.report.figures import contrast_ratio

    return contrast_ratio(f"#{r:02x}{g:02x}{b:02x}")


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
    # a report of `evalkit jdl` on the synthetic example extract shipped with evalkit
    example = ROOT / "evalkit" / "datasets" / "example_extract"
    jdl = report_jdl.run_jdl(
        {name: example / f"{name}.csv" for name in ("people", "offences", "custody", "deaths")},
        tmp_path / "jdl",
    )
    assert any(p.name == "index.html" for p in committed)
    proc, results = _audit([*committed, small, jdl, bad], tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # the bad page, and only it, fails
    by_file = {Path(r["file"]).name: r for r in results}
    assert len(by_file) == len(committed) + 3

    worst = by_file.pop("bad.html")
    assert {"image-alt", "label", "color-contrast"} <= {v["id"] for v in worst["violations"]}
    assert worst["overflow"] is not None
    assert any("example.invalid" in u for u in worst["external"])

    for name, r in by_file.items():
        serious = [v for v in r["violations"] if v["impact"] in ("serious", "critical")]
        assert not serious, (name, serious, proc.stdout)
        assert r["overflow"] is None, (name, r["overflow"])
        assert r["external"] == [], (name, r["external"])
    for page in [*committed, small, jdl]:
        for suffix in ("360", "1280", "print"):
            shot = tmp_path / "shots" / f"{page.stem}-{suffix}.png"
            assert shot.stat().st_size > 5_000, f"{shot.name} looks empty"

    # On a 360 px phone: chart text of at least 12 px with 4.5:1 contrast; a table too wide
    # for the screen scrolls inside a marked region, under its caption, with a hint.
    measured = _measure([*committed, small, jdl], tmp_path)
    for name, m in measured.items():
        for t in m["texts"]:
            assert t["px"] >= 12.0 - 0.05, (name, t)
            assert _contrast(t["fill"]) >= 4.5, (name, t)
        for table in m["tables"]:
            assert table["captionOutside"] and table["captionInView"], (name, table)
            assert table["overflowX"] == "auto" and table["marked"], (name, table)
            assert table["hintShown"] == table["scrolls"], (name, table)
    mine = measured["small.html"]
    assert mine["texts"], "the small report has a chart"
    scrolling = {t["caption"]: t["scrolls"] for t in mine["tables"]}
    assert scrolling["Reoffending by group"] is False
    assert scrolling["Outcomes by year and group, too wide for a phone"] is True
