"""The README's screenshots come from ``docs/screenshots/make_screenshots.py``; this runs it (into a
temporary folder) so the script keeps working, and checks each picture is a real page-sized PNG."""

from __future__ import annotations

import importlib.util
import struct
from pathlib import Path

from tests.api._browser import chromium_path

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "make_screenshots.py"


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_screenshot_script_writes_every_picture(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("make_screenshots", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    written = module.take(tmp_path, chromium_path())
    assert set(written) == set(module.SHOTS)
    assert _png_size(written["case.png"]) == (1280, 900)
    assert _png_size(written["case-phone.png"]) == (390, 844)
    for path in written.values():
        assert path.stat().st_size > 20_000, f"{path.name} looks blank"
    committed = {p.name for p in SCRIPT.parent.glob("*.png")}
    assert committed == set(module.SHOTS), "regenerate docs/screenshots with the script"
