"""The browser harness (tests/support/browser.py) against real headless Chromium: pages open,
inline SVG renders, console errors and uncaught exceptions are caught, and screenshots hold the
whole page."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from tests.support.browser import WINDOW, chrome, console_errors, full_page_screenshot, open_file


@pytest.fixture
def driver() -> Iterator[webdriver.Chrome]:
    with chrome() as d:
        yield d


def _page(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{name}</title></head>\n<body>{body}</body></html>\n",
        encoding="utf-8",
    )
    return path


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", "not a PNG"
    return struct.unpack(">II", data[16:24])


def test_page_with_inline_svg_renders_without_console_errors(
    driver: webdriver.Chrome, tmp_path: Path
) -> None:
    page = _page(
        tmp_path,
        "report.html",
        "<h1>Serasan report</h1>\n"
        '<svg id="chart" xmlns="http://www.w3.org/2000/svg" width="400" height="200" '
        'viewBox="0 0 400 200"><rect x="10" y="10" width="120" height="180" '
        'fill="steelblue"/></svg>',
    )
    open_file(driver, page)

    assert driver.execute_script("return document.readyState") == "complete"
    assert driver.find_element(By.CSS_SELECTOR, "h1").text == "Serasan report"
    svg = driver.find_element(By.CSS_SELECTOR, "svg#chart")
    assert svg.is_displayed()
    assert svg.size["width"] == 400 and svg.size["height"] == 200
    assert driver.find_element(By.CSS_SELECTOR, "svg#chart rect").size["height"] > 0
    assert console_errors(driver) == []


def test_console_errors_catch_console_error_and_uncaught_exceptions(
    driver: webdriver.Chrome, tmp_path: Path
) -> None:
    page = _page(
        tmp_path,
        "broken.html",
        '<p>broken</p><script>console.warn("only a warning"); console.error("bad")'
        '</script>\n<script>throw new Error("boom")</script>\n'
        '<script>Promise.reject(new Error("rejected"))</script>',
    )
    open_file(driver, page)
    driver.find_element(By.CSS_SELECTOR, "p")  # the page went on after its scripts

    errors = console_errors(driver)
    assert any("bad" in e and e.startswith("console-api:") for e in errors), errors
    assert any("Uncaught Error: boom" in e and e.startswith("javascript:") for e in errors), errors
    assert any("rejected" in e for e in errors), errors
    assert not any("only a warning" in e for e in errors), errors
    assert console_errors(driver) == []  # each entry is handed out once


def test_full_page_screenshot_holds_the_whole_page(
    driver: webdriver.Chrome, tmp_path: Path
) -> None:
    page = _page(
        tmp_path,
        "tall.html",
        '<div style="height:5000px;background:linear-gradient(red,blue)">top</div>',
    )
    open_file(driver, page)
    assert driver.execute_script("return window.innerWidth") == WINDOW[0] == 1280
    page_height = driver.execute_script("return document.documentElement.scrollHeight")
    assert page_height >= 5000
    ratio = driver.execute_script("return window.devicePixelRatio")

    shot = full_page_screenshot(driver, tmp_path / "tall.png")

    assert shot == tmp_path / "tall.png"
    width, height = _png_size(shot)
    assert height >= 5000 * ratio and height == round(page_height * ratio)
    assert width == round(1280 * ratio)
    # the window is as it was: the next screenshot or measurement sees the same viewport
    assert driver.execute_script("return window.innerWidth") == 1280


def test_driver_is_quit_on_exit_even_after_an_error() -> None:
    with pytest.raises(RuntimeError, match="inside"):
        with chrome() as d:
            process = d.service.process
            assert process.poll() is None
            raise RuntimeError("inside")
    assert process.wait(timeout=10) is not None


def test_selenium_manager_is_never_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Selenium raises at once if it looks for Selenium Manager here: none is looked for
    monkeypatch.setenv("SE_MANAGER_PATH", str(tmp_path / "no-selenium-manager"))
    with chrome() as d:
        assert d.capabilities["browserName"] in ("chrome", "chromium")
        assert d.capabilities["browserVersion"].split(".")[0].isdigit()


def test_missing_browser_fails_with_how_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SERASAN_TEST_CHROMIUM", str(tmp_path / "no-chromium"))
    with pytest.raises(pytest.fail.Exception, match="make test") as failed:
        with chrome():
            pass
    assert "apt-get install chromium chromium-driver" in str(failed.value)
