"""Browser tests: headless Debian Chromium driven by Playwright for Python against pytest-django's live_server.

The browser is the system's /usr/bin/chromium (installed by `make browser` / .ci/run: scripts/install-chromium.sh),
launched through `executable_path`: Playwright never downloads a browser. Each test gets a fresh profile
(user-data-dir). Where no chromium can be found the tests skip with that message, except in CI (CI set),
where that is a failure. On a failure the page's screenshot is saved to var/browser-failures/. With
SCREENSHOT_DIR set, `screenshot(name)` also saves the pictures docs/operations.md shows (`make screenshots`).
"""

import contextlib
import os
import shutil
from pathlib import Path

import pytest

from tests.admin.conftest import PASSWORD

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FAILURES = Path(__file__).resolve().parents[3] / "var" / "browser-failures"


def chromium_path() -> str | None:
    found = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    return found if os.path.exists(found) else None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def page(tmp_path, request, monkeypatch, live_server):
    """A new page in a fresh Chromium profile; its screenshot is kept when the test fails.

    Playwright is started per test, after the database and live_server are set up: its sync API runs an
    event loop in this thread, which Django's async-safety check would take for an async context (the test's
    own ORM calls stay synchronous, hence DJANGO_ALLOW_ASYNC_UNSAFE for this test only).
    """
    executable = chromium_path()
    if executable is None:
        message = "no chromium found: install Debian's chromium (make browser) to run the browser tests"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as driver:
        context = driver.chromium.launch_persistent_context(
            user_data_dir=str(tmp_path / "chromium-profile"),
            executable_path=executable,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1800, "height": 1000},
        )
        context.set_default_timeout(15_000)
        page = context.pages[0] if context.pages else context.new_page()
        try:
            yield page
        finally:
            report = getattr(request.node, "report_call", None)
            if report is None or report.failed:
                FAILURES.mkdir(parents=True, exist_ok=True)
                # The page may be gone with the failure; the test's own error is what matters.
                with contextlib.suppress(Exception):
                    page.screenshot(path=str(FAILURES / f"{request.node.name}.png"), full_page=True)
            context.close()


@pytest.fixture
def screenshot(page):
    """screenshot(name): a picture for docs/operations.md, only when SCREENSHOT_DIR is set."""

    def _take(name: str) -> None:
        folder = os.environ.get("SCREENSHOT_DIR")
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)

    return _take


@pytest.fixture
def logged_in(page, live_server, operator):
    """The page after an operator logged in through the admin's login form."""
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", operator.email)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")
    return page
