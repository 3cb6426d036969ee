"""Debian's headless Chromium driven by Playwright (no browser download), for screenshots and page checks."""
from __future__ import annotations

import shutil
from contextlib import contextmanager
from typing import Iterator

from playwright.sync_api import Browser, sync_playwright

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


class BrowserMissing(RuntimeError):
    """Chromium is not installed; scripts/install-test-servers installs it."""


@contextmanager
def chromium() -> Iterator[Browser]:
    if not shutil.which(CHROMIUM):
        raise BrowserMissing(f"{CHROMIUM} not found: run `bash scripts/install-test-servers`")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()
