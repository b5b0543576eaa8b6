"""Headless Chromium for the browser tests, from Debian's packages (no downloads)."""

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--window-size=1280,1100",
    "--lang=en-US",
]

browser_missing = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="needs /usr/bin/chromium and /usr/bin/chromedriver "
    "(apt-get install chromium chromium-driver)",
)


@pytest.fixture
def browser():
    """Start headless Chromium through chromedriver; quit it after the test."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(
        options=options, service=Service(executable_path=str(CHROMEDRIVER))
    )
    driver.implicitly_wait(0)
    yield driver
    driver.quit()


@pytest.fixture
def screenshot(browser, request):
    """Save the page as test-artifacts/<test name>-<step>.png."""
    ARTIFACTS.mkdir(exist_ok=True)

    def save(step: str) -> Path:
        path = ARTIFACTS / f"{request.node.name}-{step}.png"
        browser.save_screenshot(str(path))
        return path

    return save


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    """Keep the live server's commits from publishing to the developer's broker.

    These tests commit for real (a live server), so the listener asks for
    delivery after each commit; the pages under test don't need it to run.
    """
    from syncs.tasks import outbox_deliver
    from webhooks.tasks import inbox_apply

    monkeypatch.setattr(outbox_deliver, "delay", lambda *args, **kwargs: None)
    monkeypatch.setattr(inbox_apply, "delay", lambda *args, **kwargs: None)


def script_errors(browser) -> list[str]:
    """Return the page's console errors, less failed loads the page expects."""
    return [
        entry["message"]
        for entry in browser.get_log("browser")
        if entry["level"] == "SEVERE"
        and "Failed to load resource" not in entry["message"]
    ]
