"""Headless Chromium for browser tests: Debian's chromium and chromium-driver, driven by Selenium.

Nothing here downloads a browser or a driver. The driver path is always given to Selenium's
Service, so Selenium Manager is never run (selenium/webdriver/common/driver_finder.py skips it
when Service.path is set); SE_OFFLINE=true is set as well, so that if it ever were run it would
make no network request.

    with chrome() as driver:
        open_file(driver, tmp_path / "report.html")
        assert console_errors(driver) == []
        full_page_screenshot(driver, tmp_path / "report.png")

A missing browser or driver fails the test with a message saying how to provide it (never a skip).
Paths: SERASAN_TEST_CHROMIUM / SERASAN_TEST_CHROMEDRIVER (tests/conftest.py clears every other
SERASAN_* variable when pytest starts), then SERASAN_CHROMIUM / SERASAN_CHROMEDRIVER, then
/usr/bin/chromium and /usr/bin/chromedriver.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WINDOW = (1280, 900)
MAX_SCREENSHOT_HEIGHT = 16000  # CSS px; Chromium's compositor tops out near 16384 px
LOAD_TIMEOUT = 30  # seconds

_HOW_TO = (
    "Run `make test` (its `browser` target installs them) or "
    "`apt-get install chromium chromium-driver`"
)


def _path(name: str, default: str) -> str:
    return os.environ.get(f"SERASAN_TEST_{name}") or os.environ.get(f"SERASAN_{name}") or default


def chromium_path() -> str:
    return _path("CHROMIUM", CHROMIUM)


def chromedriver_path() -> str:
    return _path("CHROMEDRIVER", CHROMEDRIVER)


def _require(path: str, what: str, package: str) -> None:
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(
            f"{what} not found at {path} (Debian package {package}). {_HOW_TO}; or set "
            f"SERASAN_TEST_{what.upper()} to its path.",
            pytrace=False,
        )


@contextmanager
def chrome() -> Iterator[webdriver.Chrome]:
    """A headless Chromium (1280x900 window) whose console is logged; quit on exit, always."""
    browser, driver_exe = chromium_path(), chromedriver_path()
    _require(browser, "Chromium", "chromium")
    _require(driver_exe, "Chromedriver", "chromium-driver")
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager, were it ever run, stays off the network

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_exe))
    except WebDriverException as exc:
        pytest.fail(
            f"Chromium ({browser}) did not start under {driver_exe}: {exc.msg or exc}\n"
            f"{_HOW_TO} (the two packages must be of the same version).",
            pytrace=False,
        )
    try:
        yield driver
    finally:
        driver.quit()


def open_file(driver: webdriver.Chrome, path: str | os.PathLike) -> None:
    """Open a local HTML file (file:// URL) and wait until document.readyState is complete."""
    driver.get(Path(path).resolve().as_uri())
    WebDriverWait(driver, LOAD_TIMEOUT).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )


def console_errors(driver: webdriver.Chrome) -> list[str]:
    """Console errors and uncaught JavaScript exceptions ("source: message"), in order.

    Chromium hands out each browser-log entry once: a call returns what was logged since the
    previous call (or since the browser started), across every page opened in between.
    """
    return [
        f"{entry.get('source', '?')}: {entry['message']}"
        for entry in driver.get_log("browser")
        if entry.get("level") == "SEVERE" or entry.get("source") == "javascript"
    ]


def full_page_screenshot(driver: webdriver.Chrome, path: str | os.PathLike) -> Path:
    """Save a PNG of the whole page, its full scroll height (at most MAX_SCREENSHOT_HEIGHT css px)
    and the window's width, through DevTools' Page.captureScreenshot beyond the viewport."""
    width, height = driver.execute_script(
        "const d = document.documentElement, b = document.body || d;"
        "return [Math.max(window.innerWidth, d.scrollWidth, b.scrollWidth),"
        "        Math.max(d.scrollHeight, b.scrollHeight, d.clientHeight)];"
    )
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {
                "x": 0,
                "y": 0,
                "width": width,
                "height": min(height, MAX_SCREENSHOT_HEIGHT),
                "scale": 1,
            },
        },
    )
    out = Path(path)
    out.write_bytes(base64.b64decode(shot["data"]))
    return out
