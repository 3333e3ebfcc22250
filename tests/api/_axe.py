"""axe-core in the page under test (vendored in tests/api/axe, MPL-2.0: no download at test time)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE = Path(__file__).parent / "axe" / "axe.min.js"


def serious_violations(page: Page) -> list[tuple[str, str]]:
    """The page's serious and critical accessibility violations as (rule id, help), after axe runs on it."""
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result: dict[str, Any] = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [(v["id"], v["help"]) for v in result["violations"] if v["impact"] in ("serious", "critical")]
