"""Helpers for the browser app's tests: the system's Chromium driven by Playwright (never a
downloaded browser), ``backup ui`` as a real subprocess, and screenshots at two widths.

Without Playwright or a Chromium the browser tests are skipped with the reason; with ``CI=true``
they fail instead, so CI never passes without having run them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.webkit import Ui, running_ui

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

REPO = Path(__file__).resolve().parent.parent
SCREENSHOTS = REPO / "tests" / "screenshots"  # gitignored
INSTALL = (
    "install it with `bash .ci/system-deps` (Debian's chromium package), or set KEEPMARK_CHROMIUM "
    "to a Chrome/Chromium executable"
)
BROWSERS = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}


def find_chromium() -> str | None:
    """``KEEPMARK_CHROMIUM`` when set (a path, or a command on PATH), else the first of
    ``BROWSERS`` found."""
    given = os.environ.get("KEEPMARK_CHROMIUM")
    if given:
        return shutil.which(given)
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def missing() -> str | None:
    """What the browser tests lack, with how to get it; None when nothing is missing."""
    problems = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problems.append("playwright is not installed: pip install -e '.[test]'")
    if find_chromium() is None:
        given = os.environ.get("KEEPMARK_CHROMIUM")
        if given:
            problems.append(f"KEEPMARK_CHROMIUM={given!r} is no executable: {INSTALL}")
        else:
            problems.append(f"no Chromium found ({', '.join(BROWSERS)}): {INSTALL}")
    return "; ".join(problems) or None


def need_browser() -> str:
    """The Chromium to drive; else the test is skipped (failed when ``CI=true``) with the reason."""
    why = missing()
    if why is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests cannot run: {why} (CI=true: they are never skipped)", pytrace=False)
        pytest.skip(f"browser tests: {why}")
    found = find_chromium()
    assert found is not None
    return found


@contextmanager
def chromium() -> Iterator[Browser]:
    """The system's Chromium, headless, through Playwright (no browser download)."""
    executable = need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def ui_server(home: Path, profile: str | None = None, env: dict[str, str] | None = None) -> Iterator[Ui]:
    """``backup ui --no-browser --json [-p PROFILE]`` on ``home``; on exit SIGTERM, and it must
    exit 0 (its stderr is in the failure)."""
    with running_ui(home, *(["-p", profile] if profile else []), env=env) as ui:
        yield ui


def shot(page: Page, name: str) -> list[Path]:
    """Full-page screenshots of the page as it is now at desktop and phone widths:
    ``tests/screenshots/NAME-desktop.png`` and ``NAME-phone.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    before = page.viewport_size
    paths = []
    try:
        for label, (width, height) in SIZES.items():
            page.set_viewport_size({"width": width, "height": height})
            path = SCREENSHOTS / f"{name}-{label}.png"
            # written here, not with path=: Playwright would write it from an executor thread
            # that outlives the test (conftest's no_leaked_threads)
            path.write_bytes(page.screenshot(full_page=True, animations="disabled", caret="hide"))
            paths.append(path)
    finally:
        if before is not None:
            page.set_viewport_size(before)
    return paths
