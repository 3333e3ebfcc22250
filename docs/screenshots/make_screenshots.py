"""Screenshots of the web page for the README: the case list, a case page, the inbox, and the case
page at phone width — taken in Chromium from a real server over the bundled claim example.

    .venv/bin/python docs/screenshots/make_screenshots.py            # writes docs/screenshots/*.png

The test suite runs the same ``take`` (tests/api/test_web_screenshots.py) into a temporary
folder and checks what the pictures show, so the README's pictures come from code that works.
Needs Debian's Chromium (``$CASEPILOT_CHROMIUM`` or ``chromium`` on PATH) and the ``dev`` extra.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright

from casepilot.agent.orchestrator import Orchestrator, Person
from casepilot.agent.rule_planner import RulePlanner
from casepilot.api import create_app
from casepilot.demo.run import EXAMPLE, LETTERS, demo_registry
from casepilot.store import Store

__all__ = ["SHOTS", "take"]

SHOTS = ("cases.png", "case.png", "inbox.png", "case-phone.png")
HERE = Path(__file__).resolve().parent


@contextmanager
def _serving(orch: Orchestrator) -> Iterator[str]:
    server = uvicorn.Server(uvicorn.Config(create_app(orch), host="127.0.0.1", port=0, log_level="warning",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the screenshot server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)


def _world(orch: Orchestrator) -> str:
    """A few claims: one waiting for a senior analyst (the case shown), one settled, one withdrawn."""
    orch.deploy(EXAMPLE)
    waiting = orch.start_case("claim-triage", {"letter": LETTERS["senior-review"], "policy": "POL-1"}, "CLM-1041")
    orch.run(waiting.id)
    settled = orch.start_case("claim-triage", {"letter": LETTERS["straight-through"], "policy": "POL-7"}, "CLM-1042")
    orch.run(settled.id)
    withdrawn = orch.start_case("claim-triage", {"letter": LETTERS["senior-review"], "policy": "POL-3"}, "CLM-1043")
    orch.run(withdrawn.id)
    orch.terminate(withdrawn.id, Person("Olga", frozenset({"claims operations"})), "customer withdrew by phone")
    return waiting.id


def take(out_dir: Path, chromium: str) -> dict[str, Path]:
    """Write the screenshots into ``out_dir``; name -> file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="casepilot-shots-"))
    store = Store.from_url(f"sqlite:///{folder / 'shots.db'}")
    orch = Orchestrator(store, demo_registry(), RulePlanner())
    written: dict[str, Path] = {}
    try:
        case_id = _world(orch)
        with _serving(orch) as url, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                for name, path, full in (("cases.png", "/ui/cases", False), ("case.png", f"/ui/cases/{case_id}", False),
                                         ("inbox.png", "/ui/inbox?view=roles&name=Ann&roles=senior+analyst", False)):
                    page.goto(url + path)
                    page.screenshot(path=str(out_dir / name), full_page=full)
                    written[name] = out_dir / name
                phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=1)
                phone.goto(f"{url}/ui/cases/{case_id}")
                phone.screenshot(path=str(out_dir / "case-phone.png"))
                written["case-phone.png"] = out_dir / "case-phone.png"
            finally:
                browser.close()
    finally:
        orch.close()
        store.close()
        shutil.rmtree(folder, ignore_errors=True)
    return written


if __name__ == "__main__":
    found = os.environ.get("CASEPILOT_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        sys.exit("needs Chromium: apt-get install chromium, or set CASEPILOT_CHROMIUM")
    for shot in take(HERE, found).values():
        print(shot)
