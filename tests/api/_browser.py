"""A real server and a real browser for the web page's tests.

The app runs under uvicorn on a free port in a thread; pages are driven with Playwright in
Debian's chromium (``$CASEPILOT_CHROMIUM``, else ``chromium`` on PATH) — Playwright's own
browser download is never used. No browser is a failure with instructions, not a skip:
``./dev test`` installs Debian's chromium where it can.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import pytest
import uvicorn
from fastapi import FastAPI

if TYPE_CHECKING:
    from playwright.sync_api import Page


def chromium_path() -> str:
    found = os.environ.get("CASEPILOT_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("the web page's tests need Chromium: `apt-get install chromium` (Debian/Ubuntu), "
                    "or point CASEPILOT_CHROMIUM at a Chromium or Chrome binary", pytrace=False)
    return found


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 and a free port; yields the base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, name="casepilot-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@contextmanager
def chromium_page(*, timeout_ms: float = 30_000) -> Iterator[Page]:
    """A page of Debian's chromium (Playwright drives it; its own browser download is never used)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.set_default_timeout(timeout_ms)
            yield page
        finally:
            browser.close()


@contextmanager
def browser_page(app: FastAPI, *, timeout_ms: float = 30_000) -> Iterator[tuple[str, Page]]:
    """``app`` served (``serving``) and a chromium page for it: yields (base URL, page)."""
    with serving(app) as url, chromium_page(timeout_ms=timeout_ms) as page:
        yield url, page
