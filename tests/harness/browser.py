"""The system's headless Chromium driven by Playwright (no browser download), for screenshots and page checks.

The browser is $UNMENTORING_CHROMIUM if set, else the first of `chromium`, `chromium-browser`,
`google-chrome` or `google-chrome-stable` on the PATH.
"""
from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from typing import Iterator

from playwright.sync_api import Browser, sync_playwright

BROWSER_VARIABLE = "UNMENTORING_CHROMIUM"
NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


class BrowserMissing(RuntimeError):
    """No Chromium is installed; scripts/install-test-servers installs it."""


def find_chromium() -> str | None:
    chosen = os.environ.get(BROWSER_VARIABLE, "").strip()
    if chosen:
        return shutil.which(chosen)
    return next((path for path in map(shutil.which, NAMES) if path), None)


@contextmanager
def chromium() -> Iterator[Browser]:
    executable = find_chromium()
    if executable is None:
        raise BrowserMissing(f"no Chromium found ({', '.join(NAMES)}): run `bash scripts/install-test-servers`, "
                             f"or set {BROWSER_VARIABLE} to the browser's path")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()
