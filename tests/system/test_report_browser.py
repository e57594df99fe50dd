"""The report in a real browser: Debian's Chromium, headless, driven by Selenium.

It opens each regency's report from the lake as a local file (no server, no network), and checks
what a reader sees: no console errors, the six pillars with their KPI charts drawn, and the
numbers on screen equal to the warehouse's. A full-page screenshot is kept for people to look at
(`SERASAN_TEST_ARTIFACTS`, default `.serasan/test-artifacts/` in the checkout).
"""

from __future__ import annotations

import os
from pathlib import Path

from selenium.webdriver.common.by import By
from sqlalchemy import select

from serasan.common.paths import PROJECT_ROOT
from serasan.publish import kpi
from serasan.runtime.context import RunContext
from tests.support.browser import chrome, console_errors, full_page_screenshot, open_file
from tests.support.report_html import MONTH, id_number

PILLARS = ("governance", "branding", "economy", "living", "society", "environment")
ARTIFACTS = Path(
    os.environ.get("SERASAN_TEST_ARTIFACTS", PROJECT_ROOT / ".serasan" / "test-artifacts")
)


def test_report_in_headless_chromium(regencies_loaded: RunContext, tmp_path: Path) -> None:
    ctx = regencies_loaded
    mart = ctx.t("mart", "kpi_value")
    with ctx.engine.connect() as conn:
        values = {(r.kpi_code, r.period, r.kode_wilayah): r for r in conn.execute(select(mart))}
    backend = ctx.engine.dialect.name
    month_end = kpi.period_span(MONTH)[1]
    with chrome() as driver:
        for reg in ctx.catalog.regencies.values():
            page = tmp_path / f"{reg.slug}.html"  # from the lake, S3 or folder alike
            page.write_bytes(ctx.lake.get(f"reports/{reg.slug}/{MONTH}.html"))
            open_file(driver, page)
            assert console_errors(driver) == []
            assert reg.name in driver.title

            tiles = driver.find_elements(By.CSS_SELECTOR, "#ringkasan .tile")
            assert [t.get_attribute("data-pillar") for t in tiles] == list(PILLARS)
            assert all(t.is_displayed() for t in tiles)
            for pillar in PILLARS:
                section = driver.find_element(By.ID, f"pilar-{pillar}")
                assert section.is_displayed()
                cards = section.find_elements(By.CSS_SELECTOR, "article.kpi")
                assert len(cards) >= 3
                for card in cards:
                    chart = card.find_element(By.CSS_SELECTOR, "svg.line-chart")
                    assert chart.size["width"] > 200 and chart.size["height"] > 100
                    code, period = card.get_attribute("data-kpi"), card.get_attribute("data-period")
                    k = ctx.catalog.kpis[code]
                    assert period == kpi.latest_ended(k.cadence, month_end)
                    row = values[(code, period, reg.kode)]
                    shown = card.find_element(By.CSS_SELECTOR, ".kpi-value").text
                    decimals = len(shown.partition(",")[2])
                    assert abs(id_number(shown) - round(row.value, decimals)) < 1e-9, code
                    # the first line; an achievement at the 0 % floor has the formula's under it
                    achieved = card.find_element(By.CSS_SELECTOR, ".kpi-achievement").text
                    pct = id_number(achieved.splitlines()[0].rstrip(" %"))
                    assert abs(pct - row.achievement_pct) <= 0.05 + 1e-9
                    if k.level == "kecamatan":
                        bars = card.find_elements(By.CSS_SELECTOR, "svg.bar-chart rect.bar")
                        expected = [
                            v.value
                            for key, v in values.items()
                            if key[:2] == (code, period) and key[2] != reg.kode
                        ]
                        assert len(bars) == len(expected) > 0
            opds = driver.find_elements(By.CSS_SELECTOR, "#kualitas-data article.opd")
            assert len(opds) == len({d.opd for d in ctx.catalog.datasets_of(reg.kode)})
            assert driver.find_element(By.CSS_SELECTOR, "#satu-data table").is_displayed()

            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            shot = full_page_screenshot(driver, ARTIFACTS / f"report-{reg.slug}-{backend}.png")
            assert shot.stat().st_size > 50_000
            assert console_errors(driver) == []
