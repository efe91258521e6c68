"""Debian's headless Chromium driven by Selenium, and what the browser tests read from a page.

Only the system's /usr/bin/chromium and /usr/bin/chromedriver are used (apt-get install chromium
chromium-driver; .ci/run installs them): the driver path given to Service makes Selenium skip
Selenium Manager, which would otherwise look up and download a browser and a driver.
"""

from __future__ import annotations

import base64
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver

from tests.conftest import REPO_ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# Written by .ci/fetch-axe-core (a pinned, integrity-checked npm tarball), outside git.
AXE_SCRIPT = Path(
    os.environ.get("PRESSWIRE_AXE_SCRIPT", REPO_ROOT / ".ci" / "cache" / "axe-core" / "axe.min.js")
)
SCREENSHOT_DIR = Path(os.environ.get("PRESSWIRE_SCREENSHOT_DIR", REPO_ROOT / ".ci" / "out" / "screenshots"))
# axe's impact levels that fail a page; "minor" and "moderate" ones are left to review.
BLOCKING_IMPACTS = frozenset({"serious", "critical"})


@dataclass(frozen=True)
class Viewport:
    name: str
    width: int
    height: int
    mobile: bool
    scale: float


# An iPhone 12-15 class phone (the viewport meta tag and touch layout apply), and a laptop.
PHONE = Viewport("phone", 390, 844, mobile=True, scale=3)
DESKTOP = Viewport("desktop", 1280, 800, mobile=False, scale=1)
VIEWPORTS = (PHONE, DESKTOP)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def require_chromium() -> None:
    """Skip where Chromium is not installed, except in CI, where a missing browser is a failure:
    the browser tests must not turn into silent skips on the machine that guards the pages."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.is_file()]
    if not missing:
        return
    reason = f"{' and '.join(missing)} missing: apt-get install chromium chromium-driver"
    if in_ci():
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


def axe_source() -> str:
    if AXE_SCRIPT.is_file():
        return AXE_SCRIPT.read_text(encoding="utf-8")
    reason = f"{AXE_SCRIPT} missing: run .ci/fetch-axe-core"
    if in_ci():
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


def start_chromium() -> WebDriver:
    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        # Containers run the tests as root, where Chromium's sandbox refuses to start.
        "--no-sandbox",
        # /dev/shm is 64 MB in Docker: too small for rendering tabs, which then crash.
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        # No component updates, safe-browsing lists or other calls home during a test.
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--metrics-recording-only",
        "--lang=vi-VN",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(str(CHROMEDRIVER), log_output=subprocess.DEVNULL)
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(120)  # axe on a 2-CPU machine shared with other jobs
    return driver


def emulate(driver: WebDriver, viewport: Viewport) -> None:
    """The page as a device of this width sees it (CSS pixels); with mobile set, the viewport
    meta tag decides the layout width, as on a phone, instead of the window's size."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {
            "width": viewport.width,
            "height": viewport.height,
            "deviceScaleFactor": viewport.scale,
            "mobile": viewport.mobile,
        },
    )
    driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": viewport.mobile})


def console_entries(driver: WebDriver) -> list[dict[str, Any]]:
    """The browser's console and network errors since the last call (reading them drains them)."""
    return list(driver.get_log("browser"))


def save_full_page_screenshot(driver: WebDriver, path: Path) -> Path:
    """The whole page, not only the viewport: a reviewer sees the page as a reader scrolls it."""
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics["cssContentSize"]
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
        },
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


_RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ["violations"]})
  .then((results) => done(results.violations.map((violation) => ({
    id: violation.id,
    impact: violation.impact,
    help: violation.help,
    targets: violation.nodes.map((node) => node.target.join(" ")),
  }))))
  .catch((error) => done({error: String(error)}));
"""


def axe_violations(driver: WebDriver, source: str) -> list[dict[str, Any]]:
    """axe-core's violations on the current page: id, impact, help and the CSS targets."""
    driver.execute_script(source)
    answer = driver.execute_async_script(_RUN_AXE)
    if isinstance(answer, dict):
        raise AssertionError(f"axe-core failed to run: {answer.get('error')}")
    return list(answer)


def describe_violations(violations: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"  {violation['id']} ({violation['impact']}): {violation['help']}; "
        f"on {', '.join(violation['targets'][:5])}"
        + (f" and {len(violation['targets']) - 5} more" if len(violation["targets"]) > 5 else "")
        for violation in violations
    )
