"""Printed reports: Debian's headless Chromium prints every committed report (and an
`evalkit jdl` report of the example extract) to PDF, which must be A4, open with the headline
on page 1, and carry the report's title and "Page n of N" on every page (CSS ``@page`` margin
boxes, which Chromium prints from version 131, also with ``--no-pdf-header-footer``).

Needs `apt-get install chromium`; the checks of the text on each page also need `pdftotext`
(`apt-get install poppler-utils`). Each is skipped, saying so, only where its tool is absent.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = (
    os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
)
PDFTOTEXT = shutil.which("pdftotext")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (apt-get install chromium): printing the reports to PDF "
    "was NOT tested",
)

A4_PT = (595.28, 841.89)  # 210 mm x 297 mm


def _reports() -> list[Path]:
    """Committed reports with a headline (the index lists them and has none)."""
    return [
        p
        for p in sorted((ROOT / "reports").glob("*.html"))
        if 'class="headline"' in p.read_text(encoding="utf-8")
    ]


def _print(report: Path, out_dir: Path) -> Path:
    pdf = out_dir / f"{report.stem}.pdf"
    subprocess.run(
        [
            CHROMIUM or "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={out_dir / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            report.as_uri(),
        ],
        capture_output=True,
        timeout=180,
        check=False,
    )
    assert pdf.is_file() and pdf.stat().st_size > 1_000, f"Chromium did not print {report.name}"
    return pdf


@pytest.fixture(scope="module")
def printed(tmp_path_factory) -> dict[Path, Path]:
    from evalkit.report import jdl as report_jdl

    reports = _reports()
    assert reports, "no committed report to print"
    out = tmp_path_factory.mktemp("print")
    # and a report of `evalkit jdl` on the synthetic example extract shipped with evalkit
    example = ROOT / "evalkit" / "datasets" / "example_extract"
    jdl = report_jdl.run_jdl(
        {name: example / f"{name}.csv" for name in ("people", "offences", "custody", "deaths")},
        out / "jdl",
    )
    return {r: _print(r, out) for r in [*reports, jdl]}


def _words(text: str) -> str:
    return " ".join(text.split())


def _page_text(pdf: Path, page: int) -> str:
    proc = subprocess.run(
        [PDFTOTEXT or "pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    return _words(proc.stdout)


def _pages(pdf: Path) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf.read_bytes()))


def test_reports_print_on_a4(printed):
    for report, pdf in printed.items():
        boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf.read_bytes())
        assert boxes, f"{pdf.name}: no page size found"
        for w, h in boxes:
            assert abs(float(w) - A4_PT[0]) < 1 and abs(float(h) - A4_PT[1]) < 1, (
                report.name,
                w,
                h,
            )
        assert _pages(pdf) >= 2


def _headline(report: Path) -> str:
    page = report.read_text(encoding="utf-8")
    verdict = re.search(r'<p class="verdict">(.*?)</p>', page, re.S)
    assert verdict, f"{report.name} has no headline verdict"
    return _words(html.unescape(re.sub(r"<[^>]+>", "", verdict.group(1))))


def _title(report: Path) -> str:
    page = report.read_text(encoding="utf-8")
    return _words(html.unescape(re.search(r"<title>(.*?)</title>", page, re.S).group(1)))


@pytest.mark.skipif(
    PDFTOTEXT is None,
    reason="pdftotext is not installed (apt-get install poppler-utils): the text of the "
    "printed pages was NOT checked",
)
def test_headline_on_page_one_and_title_and_page_number_on_every_page(printed):
    for report, pdf in printed.items():
        first = _page_text(pdf, 1)
        # the first words of the verdict (a long one may continue on the next line)
        opening = " ".join(_headline(report).split()[:6])
        assert opening in first, (report.name, opening, first[:600])
        title = _title(report)
        n = _pages(pdf)
        for page in range(1, n + 1):
            text = _page_text(pdf, page)
            assert f"Page {page} of {n}" in text, (report.name, page, text[-300:])
            # the running title (it may wrap, so its first words)
            assert " ".join(title.split()[:4]) in text, (report.name, page, text[:300])
