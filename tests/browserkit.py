"""Helpers for the browser app's tests: the system's Chromium driven by Playwright (never a
downloaded browser), ``backup ui`` as a real subprocess, and screenshots at two widths.

Without Playwright or a Chromium the browser tests are skipped with the reason; with ``CI=true``
they fail instead, so CI never passes without having run them.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

REPO = Path(__file__).resolve().parent.parent
SCREENSHOTS = REPO / "tests" / "screenshots"  # gitignored
HANG = 60  # seconds without exiting after SIGTERM that count as a hang
START = 60  # seconds `backup ui` may take to print its first line
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


@dataclass
class UI:
    """A running ``backup ui``: what its first line said, and the process."""

    url: str
    port: int
    pid: int
    proc: subprocess.Popen[bytes]
    err: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stderr(self) -> str:
        return self.err.read_text(encoding="utf-8", errors="replace")


@contextmanager
def ui_server(home: Path, profile: str | None = None) -> Iterator[UI]:
    """``backup ui --no-browser --json [-p PROFILE]`` on ``home``; on exit SIGTERM, and it must
    exit 0 within ``HANG`` seconds (its stderr is in the failure)."""
    stem = home.parent / f"ui-{time.monotonic_ns()}"
    out_path, err_path = stem.with_suffix(".out"), stem.with_suffix(".err")
    argv = [sys.executable, "-m", "backup", "ui", "--no-browser", "--json"]
    if profile is not None:
        argv += ["-p", profile]
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env={**os.environ, "KEEPMARK_HOME": str(home)},
        )
        try:
            line = _first_line(out_path, proc)
            assert line is not None, (
                f"`backup ui` printed no line in {START} s (exit {proc.poll()}):\n"
                f"{err_path.read_text(errors='replace')}"
            )
            doc = json.loads(line)
            yield UI(doc["url"], doc["port"], doc["pid"], proc, err_path)
        finally:
            code = _stop(proc, err_path)
    assert code == 0, f"`backup ui` exited {code} after SIGTERM:\n{err_path.read_text(errors='replace')}"


def _first_line(path: Path, proc: subprocess.Popen[bytes]) -> str | None:
    deadline = time.monotonic() + START
    while time.monotonic() < deadline:
        data = path.read_bytes()
        if b"\n" in data:
            return data.split(b"\n", 1)[0].decode("utf-8")
        if proc.poll() is not None:
            return None
        time.sleep(0.02)
    return None


def _stop(proc: subprocess.Popen[bytes], err: Path) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(HANG)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
    # raised here, not in the except: a failure of the test itself stays in the report
    raise AssertionError(
        f"`backup ui` did not exit {HANG} s after SIGTERM:\n{err.read_text(errors='replace')[-4000:]}"
    )


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
