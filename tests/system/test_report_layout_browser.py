"""The report's layout in a real browser (Debian's Chromium, headless, driven by Selenium), where
an assessor would stop reading: chart titles that ran under the legend or off the card, x-axis
labels on top of each other, a clamped achievement, a series of one period.

Boxes are measured with getBoundingClientRect, at the usual 1280 px window and at a narrow
600 px one where long titles must wrap inside their card. Screenshots of what was measured are
kept beside the full-page ones (`SERASAN_TEST_ARTIFACTS`, default `.serasan/test-artifacts/`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.webdriver.common.by import By

from serasan.common.paths import PROJECT_ROOT
from serasan.runtime.context import RunContext
from tests.support.browser import WINDOW, chrome, console_errors, full_page_screenshot, open_file
from tests.support.report_html import MONTH, id_number

ARTIFACTS = Path(
    os.environ.get("SERASAN_TEST_ARTIFACTS", PROJECT_ROOT / ".serasan" / "test-artifacts")
)
NARROW = 600  # CSS px: one KPI card per row, long titles wrap
EPS = 0.5  # px of rounding between boxes

_BOXES = """
const box = e => { const b = e.getBoundingClientRect();
                   return {left: b.left, top: b.top, right: b.right, bottom: b.bottom}; };
return [...document.querySelectorAll('figure.chart-figure')].map(f => {
  const cap = f.querySelector('figcaption'), svg = f.querySelector('svg');
  const legend = svg && svg.querySelector('g.legend');
  return {
    title: cap.textContent.trim(),
    lineHeight: parseFloat(getComputedStyle(cap).lineHeight),
    caption: box(cap),
    svg: svg && box(svg),
    legend: legend && box(legend),
    card: box(f.closest('article')),
    labels: svg ? [...svg.querySelectorAll('text.x-label, text.x-year')].map(t => ({
      text: t.textContent, row: t.getAttribute('class'), ...box(t)})) : [],
    single: f.querySelector('.single-value') !== null,
  };
});
"""


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["left"] < b["right"] - EPS
        and b["left"] < a["right"] - EPS
        and a["top"] < b["bottom"] - EPS
        and b["top"] < a["bottom"] - EPS
    )


def _inside(inner: dict[str, float], outer: dict[str, float]) -> bool:
    return (
        inner["left"] >= outer["left"] - EPS
        and inner["right"] <= outer["right"] + EPS
        and inner["top"] >= outer["top"] - EPS
        and inner["bottom"] <= outer["bottom"] + EPS
    )


def _check_figures(driver: webdriver.Chrome) -> list[dict[str, Any]]:
    figures: list[dict[str, Any]] = driver.execute_script(_BOXES)
    assert figures
    for f in figures:
        where = f["title"]
        assert f["title"] and _inside(f["caption"], f["card"]), where  # wraps, never off the card
        if f["single"]:
            continue
        assert f["svg"] is not None and _inside(f["svg"], f["card"]), where
        assert f["caption"]["bottom"] <= f["svg"]["top"] + EPS, (
            where
        )  # the title is above the chart
        if f["legend"] is not None:
            assert not _overlap(f["caption"], f["legend"]), where
            assert _inside(f["legend"], f["svg"]), where
        for row in ("x-label", "x-year"):
            boxes = sorted((b for b in f["labels"] if b["row"] == row), key=lambda b: b["left"])
            for a, b in zip(boxes, boxes[1:], strict=False):
                assert not _overlap(a, b), (where, a["text"], b["text"])
            assert all(_inside(b, f["svg"]) for b in boxes), where
    return figures


def test_titles_wrap_above_their_charts_and_never_meet_the_legend(
    regencies_loaded: RunContext, tmp_path: Path
) -> None:
    ctx = regencies_loaded
    backend = ctx.engine.dialect.name
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with chrome() as driver:
        for reg in ctx.catalog.regencies.values():
            page = tmp_path / f"{reg.slug}.html"
            page.write_bytes(ctx.lake.get(f"reports/{reg.slug}/{MONTH}.html"))

            driver.set_window_size(*WINDOW)
            open_file(driver, page)
            assert console_errors(driver) == []
            wide = _check_figures(driver)
            assert sum(f["legend"] is not None for f in wide) >= len(
                ctx.catalog.kpis_of(reg.kode)
            )  # every KPI trend has a target, so a legend beside its title
            assert not driver.find_elements(By.CSS_SELECTOR, "svg text.chart-title")

            # a single-period series is a value on screen, with its period
            singles = driver.find_elements(By.CSS_SELECTOR, "figure.single .single-value")
            assert singles and all(s.is_displayed() for s in singles)
            for s in singles:
                big = s.find_element(By.CSS_SELECTOR, ".figure").text
                value = float(s.get_attribute("data-value"))
                assert id_number(big) == round(value, len(big.partition(",")[2]))
                assert s.find_element(By.CSS_SELECTOR, ".single-period").text.endswith("2026")
            opd = singles[0].find_element(By.XPATH, "./ancestor::article")
            opd.screenshot(str(ARTIFACTS / f"report-single-value-{reg.slug}-{backend}.png"))

            # an achievement at the 0 % floor shows the formula's result beside it
            for raw in driver.find_elements(By.CSS_SELECTOR, ".kpi-achievement .achievement-raw"):
                cell = raw.find_element(By.XPATH, "./ancestor::td")
                assert cell.text.splitlines()[0] == "0,0 %"
                assert raw.is_displayed() and raw.text.startswith("hasil rumus: -")
                card = raw.find_element(By.XPATH, "./ancestor::article")
                note = card.find_element(By.CSS_SELECTOR, ".achievement-floor")
                assert note.is_displayed() and raw.text.removeprefix("hasil rumus: ") in note.text
                if reg.slug == "musibanyuasin":
                    card.screenshot(
                        str(
                            ARTIFACTS
                            / f"report-achievement-floor-{card.get_attribute('data-kpi')}-{backend}.png"
                        )
                    )

            # narrow: one card per row; long titles wrap, still clear of the legend
            driver.set_window_size(NARROW, WINDOW[1])
            open_file(driver, page)
            narrow = _check_figures(driver)
            wrapped = [
                f
                for f in narrow
                if f["caption"]["bottom"] - f["caption"]["top"] > 1.5 * f["lineHeight"]
            ]
            assert wrapped, "no title is long enough to wrap at 600 px"
            full_page_screenshot(driver, ARTIFACTS / f"report-narrow-{reg.slug}-{backend}.png")
            assert console_errors(driver) == []
        driver.set_window_size(*WINDOW)
