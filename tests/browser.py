"""A real browser for tests: Debian's Chromium, headless, driven by Playwright's sync API.

Playwright's own browser download is never used: the system Chromium (`/usr/bin/chromium`, or `CXLOOP_CHROMIUM`)
is launched through `executable_path`. Screenshots go to `test-artifacts/` at the repository root.

    browser = browser_fixture()          # in a test module: a module-scoped `browser` fixture

    def test_x(browser):
        with new_page(browser, "x") as page:   # a fresh context; a screenshot is saved if the block fails
            page.goto(url)
            save_screenshot(page, "x-done")
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Literal

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.support import ROOT

ARTIFACTS = ROOT / "test-artifacts"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
)
Scope = Literal["session", "package", "module", "class", "function"]
TIMEOUT_MS = 30_000  # actions and navigations: the web tier answers only once Kafka acknowledged


def chromium_path() -> str:
    """The Chromium to launch: CXLOOP_CHROMIUM, else Debian's; fails (not skips) when it is missing."""
    path = os.environ.get("CXLOOP_CHROMIUM", DEFAULT_CHROMIUM)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"Chromium not found at {path}: install Debian's chromium or set CXLOOP_CHROMIUM", pytrace=False)
    return path


@contextmanager
def launch_chromium(headless: bool = True) -> Iterator[Browser]:
    """Playwright and one Chromium process (a fresh temporary profile), both stopped on exit."""
    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=headless, args=list(CHROMIUM_ARGS))
        try:
            yield browser
        finally:
            browser.close()


def browser_fixture(scope: Scope = "module") -> Callable[..., Any]:
    """A pytest fixture yielding a launched Chromium; assign it to a module-level name (that name is the fixture)."""

    @pytest.fixture(scope=scope)
    def browser() -> Iterator[Browser]:
        with launch_chromium() as launched:
            yield launched

    return browser


@contextmanager
def new_page(browser: Browser, name: str, **context_options: Any) -> Iterator[Page]:
    """A page in a fresh browser context (no cookies or storage shared between tests); on an exception inside the
    block a full-page screenshot `<name>-failure.png` is saved before the context closes."""
    context = browser.new_context(**context_options)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        yield page
    except BaseException:
        with suppress(Exception):  # the test's own failure is the one to report
            save_screenshot(page, f"{name}-failure")
        raise
    finally:
        context.close()


def save_screenshot(page: Page, name: str) -> Path:
    """A full-page PNG of what the page shows now, as `test-artifacts/<name>.png`; returns its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9._-]+', '-', name).strip('-') or 'page'}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
