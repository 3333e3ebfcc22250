"""OCR on an image rendered here with Pillow: the words must come back, offline."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from casepilot.tools import ToolCallError, ToolRegistry
from casepilot.tools.builtin import ocr_tool


def render(lines: list[str]) -> bytes:
    font = ImageFont.load_default(size=36)
    img = Image.new("RGB", (800, 120 + 100 * len(lines)), "white")
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(lines):
        draw.text((40, 60 + 100 * i), line, fill="black", font=font)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def invoice_png() -> bytes:
    return render(["INVOICE 4711", "TOTAL 1250 EUR"])


def test_ocr_reads_rendered_text(invoice_png: bytes) -> None:
    reg = ToolRegistry([ocr_tool()])
    outcome = reg.invoke("ocr", {"image_base64": base64.b64encode(invoice_png).decode()})
    result = outcome.result
    assert [line.text for line in result.lines] == ["INVOICE 4711", "TOTAL 1250 EUR"]
    assert result.text.split() == ["INVOICE", "4711", "TOTAL", "1250", "EUR"]
    assert result.mean_confidence is not None and result.mean_confidence > 0.8
    first, second = result.lines
    assert min(y for _, y in first.box) < min(y for _, y in second.box)


def test_ocr_reads_files_only_inside_its_folder(tmp_path: Path, invoice_png: bytes) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "invoice.png").write_bytes(invoice_png)
    (tmp_path / "secret.png").write_bytes(invoice_png)
    reg = ToolRegistry([ocr_tool(base_dir=docs)])
    assert "4711" in reg.invoke("ocr", {"path": "invoice.png"}).result.text
    with pytest.raises(ToolCallError, match="leaves the document folder"):
        reg.invoke("ocr", {"path": "../secret.png"})
    with pytest.raises(ToolCallError, match="without a document folder"):
        ToolRegistry([ocr_tool()]).invoke("ocr", {"path": "invoice.png"})


def test_ocr_rejects_bad_input_without_retrying() -> None:
    reg = ToolRegistry([ocr_tool()])
    with pytest.raises(ToolCallError, match="not a readable image") as info:
        reg.invoke("ocr", {"image_base64": base64.b64encode(b"plain text, no image").decode()})
    assert info.value.attempts == 1
    with pytest.raises(ToolCallError, match="exactly one of image_base64 or path"):
        reg.invoke("ocr", {})
