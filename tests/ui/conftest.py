"""Fixtures for the page's tests: a running server and, for the browser tests, headless Chromium.

The browser is Debian's `chromium` (scripts/install installs it with apt-get when missing; no
browser build can be downloaded from a vendor here), driven by Playwright through
`executable_path`. A browser test skips, saying why, only when no Chromium is installed.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.ui._workload import INSTANCE, KEY

server_mod = pytest.importorskip("mosaicstack_telemetry.server")

ROOT = Path(__file__).resolve().parents[2]
#: Screenshots for a person to look at (git-ignored).
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",  # as root, Chromium refuses to start with its sandbox
    # The machine's closed network: without these, Chromium keeps trying to reach its vendor.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
]


@pytest.fixture
def srv() -> Iterator[Any]:
    with server_mod.start_server(keys={KEY: INSTANCE}) as running:
        yield running


def chromium_path() -> str | None:
    return (
        os.environ.get("MOSAIC_CHROMIUM")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )


# Module scope, not session: while Playwright's sync API is open, the main thread has a running
# event loop, so an asyncio test run after a browser module (`pytest tests/ui tests/sdk`) would
# fail with "Runner.run() cannot be called from a running event loop". ("package" scope did
# not end it before the next directory here: tests/ui has no __init__.py.)
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright is not installed (scripts/install installs it)"
    )
    executable = chromium_path()
    if executable is None:
        pytest.skip(
            "no Chromium on this machine: scripts/install installs Debian's `chromium` with "
            "apt-get when it runs as root and apt-get is available (it was not)"
        )
    with sync_api.sync_playwright() as playwright:
        # A Chromium that is installed but does not start is a failure, not a skip.
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="en-GB")
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def screenshot(page: Any, name: str, *, full_page: bool = True) -> Path:
    """Save a screenshot into test-artifacts/ and say where (for a person to look at)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.mouse.move(0, 0)
    page.screenshot(path=str(path), full_page=full_page, animations="disabled")
    print(f"\nscreenshot: {path}")
    return path
