"""The evaluation pack in a real browser and on paper: Debian's Chromium, headless, driven by
Selenium, and the PDF the pack prints rendered page by page with poppler's `pdftoppm`.

The pack of Musi Banyuasin for 2026 (partial as of the tests' run date) is built from the loaded
regencies on PostgreSQL, into a lake of the test's own (the shared one is not changed). In the
browser: no console errors, every section there and displayed, the KPI and citizen-voice numbers
on screen equal to the warehouse's. On paper: the PDF's pages are those Chromium lays out when it
prints the same document through DevTools, every section starts a page of its own in order, the
margins carry "Halaman n dari N" and the partial-year note on every page, and no page is blank
(each page's body, inside the margins, has ink). Screenshots and page images are kept in
`SERASAN_TEST_ARTIFACTS` (default `.serasan/test-artifacts/`), as the report's browser tests keep
theirs.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from sqlalchemy import select

from serasan.common.paths import PROJECT_ROOT
from serasan.publish import kpi
from serasan.publish.evaluation import pack
from serasan.publish.evaluation.period import Window
from serasan.runtime.context import RunContext
from tests.support.browser import chrome, console_errors, full_page_screenshot, open_file
from tests.support.report_html import id_number
from tests.support.warehouse import RUN_DATE

SLUG, KODE, YEAR = "musibanyuasin", "16.06", 2026
PILLARS = ("governance", "branding", "economy", "living", "society", "environment")
SECTIONS = ("ringkasan", *(f"pilar-{p}" for p in PILLARS), "kepatuhan", "metode")
ARTIFACTS = Path(
    os.environ.get("SERASAN_TEST_ARTIFACTS", PROJECT_ROOT / ".serasan" / "test-artifacts")
)
PG = pytest.mark.parametrize("regencies_loaded", ["production"], indirect=True)


def _tool(name: str) -> str:
    path = f"/usr/bin/{name}"
    if not os.access(path, os.X_OK):
        pytest.fail(
            f"{name} not found (Debian package poppler-utils): run `make test` (its `browser` "
            "target installs it) or `apt-get install poppler-utils`",
            pytrace=False,
        )
    return path


def pdf_pages(pdf: Path) -> int:
    out = subprocess.run([_tool("pdfinfo"), str(pdf)], capture_output=True, text=True, check=True)
    [line] = [ln for ln in out.stdout.splitlines() if ln.startswith("Pages:")]
    return int(line.split()[1])


def page_text(pdf: Path, page: int) -> str:
    return subprocess.run(
        [_tool("pdftotext"), "-layout", "-f", str(page), "-l", str(page), str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def png_rows(path: Path) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGB bytes) of an 8-bit RGB PNG, as pdftoppm writes it; decoded
    here with zlib (no imaging library in the project)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    height = depth = colour = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    assert (depth, colour) == (8, 2), "pdftoppm -png writes 8-bit RGB"
    raw, bpp, stride = zlib.decompress(idat), 3, width * 3
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        f, line = (
            raw[y * (stride + 1)],
            bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]),
        )
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 0xFF
            elif f == 2:
                line[x] = (line[x] + b) & 0xFF
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 0xFF
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[x] = (line[x] + pred) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, rows


def inked(rows: list[bytes], top: float, bottom: float) -> int:
    """Pixels darker than near-white between the fractions `top` and `bottom` of the height."""
    n = len(rows)
    return sum(sum(1 for v in row if v < 200) for row in rows[int(n * top) : int(n * bottom)])


@PG
def test_the_pack_in_chromium_and_on_paper(regencies_loaded: RunContext, tmp_path: Path) -> None:
    shared = regencies_loaded
    own = dataclasses.replace(
        shared.settings, lake_url=str(tmp_path / "lake"), s3_endpoint=None
    )  # the shared lake is left as it is
    ctx = RunContext(settings=own, catalog=shared.catalog, run_date=RUN_DATE)
    result = pack.write(ctx, KODE, YEAR)
    assert result["written"] and result["partial"]
    html = tmp_path / "evaluasi.html"
    html.write_bytes(ctx.lake.get(result["keys"]["html"]))
    pdf = tmp_path / "evaluasi.pdf"
    pdf.write_bytes(ctx.lake.get(result["keys"]["pdf"]))

    mart = ctx.t("mart", "kpi_value")
    with ctx.engine.connect() as conn:
        values = {
            (r.kpi_code, r.period): r
            for r in conn.execute(select(mart).where(mart.c.kode_wilayah == KODE))
        }
    window = Window(YEAR, RUN_DATE)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with chrome() as driver:
        open_file(driver, html)
        assert console_errors(driver) == []
        assert "Evaluasi Smart Regency" in driver.title and "belum lengkap" in driver.title
        for sid in SECTIONS:
            section = driver.find_element(By.ID, sid)
            assert section.is_displayed(), sid
            banner = section.find_element(By.CSS_SELECTOR, ".partial")
            assert "Tahun 2026 belum lengkap" in banner.text
        lines = driver.find_elements(By.CSS_SELECTOR, "#ringkasan li.summary-line")
        assert [li.get_attribute("data-pillar") for li in lines] == list(PILLARS)
        programmes = driver.find_elements(By.CSS_SELECTOR, "article.programme")
        assert len(programmes) == 6
        for card in driver.find_elements(By.CSS_SELECTOR, "div.kpi"):
            code, period = card.get_attribute("data-kpi"), card.get_attribute("data-period")
            k = ctx.catalog.kpis[code]
            assert period == kpi.latest_ended(k.cadence, window.end)
            row = values[(code, period)]
            shown = card.find_element(By.CSS_SELECTOR, ".kpi-value").text.split()[0]
            decimals = len(shown.partition(",")[2])
            assert abs(id_number(shown) - round(row.value, decimals)) < 1e-9, code
            achieved = card.find_element(By.CSS_SELECTOR, ".kpi-achievement").text.split()[0]
            assert abs(id_number(achieved) - max(row.achievement_pct, 0.0)) <= 0.05 + 1e-9
            chart = card.find_element(By.CSS_SELECTOR, "svg.line-chart")
            assert chart.size["width"] > 200 and chart.size["height"] > 100
            loads = {e.text for e in card.find_elements(By.CSS_SELECTOR, ".source code")}
            assert loads == set(row.load_ids.split(","))
        reviews = driver.find_elements(By.CSS_SELECTOR, ".voice .voice-reviews")
        assert len(reviews) == 6
        for cell in reviews:
            assert int(cell.text) == int(cell.get_attribute("data-value"))
        full_page_screenshot(driver, ARTIFACTS / f"evaluation-{SLUG}-{YEAR}.png")
        # what Chromium lays out when it prints the same document through DevTools
        printed = driver.execute_cdp_cmd(
            "Page.printToPDF", {"preferCSSPageSize": True, "printBackground": True}
        )
        devtools = tmp_path / "devtools.pdf"
        devtools.write_bytes(base64.b64decode(printed["data"]))
        assert console_errors(driver) == []

    pages = pdf_pages(pdf)
    assert pages == pdf_pages(devtools) and pages >= len(SECTIONS) + 1
    texts = [page_text(pdf, p) for p in range(1, pages + 1)]
    heads = {
        "ringkasan": "Ringkasan eksekutif",
        **{f"pilar-{p}": name for p, name in zip(PILLARS, SMART, strict=True)},
        "kepatuhan": "Kepatuhan Satu Data dan kualitas data per OPD",
        "metode": "Lampiran: metode dan sumber",
    }
    starts = []
    for sid in SECTIONS:  # each section's title opens a page (under the running header)
        found = [i for i, t in enumerate(texts) if _first_line(t) == heads[sid]]
        assert len(found) == 1, (sid, [_first_line(t) for t in texts])
        starts.append(found[0])
    assert starts == sorted(starts) and starts[0] == 1  # the cover is page 1
    for i, t in enumerate(texts, start=1):
        assert f"Halaman {i} dari {pages}" in t
        assert "Tahun 2026 belum lengkap: data s.d. 31 Oktober 2026" in t
        assert "Data per 1 November 2026" in t
    shots = ARTIFACTS / f"evaluation-{SLUG}-{YEAR}-pages"
    shots.mkdir(parents=True, exist_ok=True)
    for old in shots.glob("*.png"):
        old.unlink()
    subprocess.run(
        [_tool("pdftoppm"), "-png", "-r", "40", str(pdf), str(shots / "halaman")], check=True
    )
    images = sorted(shots.glob("halaman-*.png"))
    assert len(images) == pages
    for image in images:
        width, height, rows = png_rows(image)
        assert width > 0 and height > width  # A4, portrait
        # the body, inside the 18 mm margins that hold the running header and footer
        assert inked(rows, 0.07, 0.93) > 200, f"{image.name} is blank"


SMART = (
    "Smart Governance",
    "Smart Branding",
    "Smart Economy",
    "Smart Living",
    "Smart Society",
    "Smart Environment",
)


def _first_line(text: str) -> str:
    """A page's first line of body text: the line after the running header."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[1] if len(lines) > 1 else ""
