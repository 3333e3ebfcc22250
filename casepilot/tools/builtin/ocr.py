"""OCR of an image, offline: RapidOCR on ONNX Runtime with the PP-OCRv4 weights its wheel ships.

Nothing is downloaded at run time (``rapidocr-onnxruntime`` 1.4 carries its three ONNX
models inside the package). The recogniser often drops the spaces between Latin words;
``restore_spaces`` puts them back from the character boxes it reports (a gap wider than
60 % of the line's median character width is a space).

Images come as base64 bytes, or as a path only when the tool was made with ``base_dir``
— a planner must not be able to read arbitrary files — and the path must stay inside it.
Large images are refused before decoding (pixel limit) to keep decompression bombs out.
The engine comes with the ``ocr`` extra (``pip install 'casepilot[ocr]'``); without it the tool
is still listed and a call fails with that line (a ``ToolError`` the case records).
"""

from __future__ import annotations

import io
import statistics
import threading
import warnings
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import Base64Bytes, BaseModel, Field, model_validator

from casepilot._extras import MissingExtra, require
from casepilot.errors import ToolError
from casepilot.tools._model import RetryPolicy, Tool

__all__ = ["OcrArgs", "OcrLine", "OcrResult", "ocr_tool"]

MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 40_000_000
_SPACE_GAP = 0.6


class OcrArgs(BaseModel):
    """The image to read: base64-encoded bytes or a path below the tool's ``base_dir``."""

    image_base64: Base64Bytes | None = Field(
        default=None, description="PNG/JPEG/TIFF/BMP bytes, base64-encoded"
    )
    path: str | None = Field(default=None, description="Image path relative to the tool's document folder")
    min_confidence: float = Field(
        default=0.5, ge=0, le=1, description="Drop lines recognised with less confidence"
    )
    restore_spaces: bool = True

    @model_validator(mode="after")
    def _one_source(self) -> OcrArgs:
        if (self.image_base64 is None) == (self.path is None):
            raise ValueError("give exactly one of image_base64 or path")
        return self


class OcrLine(BaseModel):
    text: str
    confidence: float
    box: list[tuple[float, float]]
    """Four corner points, clockwise from top-left, in image pixels."""


class OcrResult(BaseModel):
    text: str
    """All lines, top to bottom, joined by newlines."""
    lines: list[OcrLine]
    mean_confidence: float | None


_ENGINE_LOCK = threading.Lock()


@cache
def _engine() -> Any:
    """The RapidOCR engine, loaded once (about 0.3 s) and shared."""
    from rapidocr_onnxruntime import RapidOCR  # type: ignore[import-untyped]

    return RapidOCR()


def _load_image(data: bytes) -> Any:
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    if len(data) > MAX_IMAGE_BYTES:
        raise ToolError(f"image is larger than {MAX_IMAGE_BYTES} bytes")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                width, height = img.size
                if width * height > MAX_PIXELS:
                    raise ToolError(f"image has {width}x{height} pixels; the limit is {MAX_PIXELS}")
                return np.asarray(img.convert("RGB"))
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise ToolError(f"image refused: {exc}") from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ToolError(f"not a readable image: {exc}") from exc


def _respace(text: str, boxes: list[Any], tokens: list[str]) -> str:
    """Insert spaces where the gap between recognised characters is wide."""
    if not tokens or len(tokens) != len(boxes) or " " in text:
        return text
    spans = [(min(p[0] for p in b), max(p[0] for p in b)) for b in boxes]
    widths = [(right - left) / max(len(tok), 1) for (left, right), tok in zip(spans, tokens, strict=True)]
    median = statistics.median(widths) if widths else 0
    if median <= 0:
        return text
    out = [tokens[0]]
    for prev, cur, tok in zip(spans, spans[1:], tokens[1:], strict=False):
        if cur[0] - prev[1] > _SPACE_GAP * median:
            out.append(" ")
        out.append(tok)
    return "".join(out)


def _read(image: Any, min_confidence: float, restore_spaces: bool) -> OcrResult:
    with _ENGINE_LOCK:
        raw, _elapsed = _engine()(image, return_word_box=restore_spaces)
    lines: list[OcrLine] = []
    for item in raw or []:
        box, text, score = item[0], str(item[1]), float(item[2])
        if score < min_confidence:
            continue
        if restore_spaces and len(item) >= 5:
            text = _respace(text, item[3], [str(t) for t in item[4]])
        lines.append(OcrLine(text=text, confidence=score, box=[(float(x), float(y)) for x, y in box]))
    lines.sort(key=lambda ln: (min(p[1] for p in ln.box), min(p[0] for p in ln.box)))
    mean = statistics.fmean(ln.confidence for ln in lines) if lines else None
    return OcrResult(text="\n".join(ln.text for ln in lines), lines=lines, mean_confidence=mean)


def ocr_tool(
    *, base_dir: str | Path | None = None, name: str = "ocr", timeout: float = 60.0
) -> Tool[OcrArgs, OcrResult]:
    """The OCR tool; with ``base_dir`` it may also read image files below that folder."""
    root = Path(base_dir).resolve() if base_dir is not None else None

    def image_bytes(args: OcrArgs) -> bytes:
        if args.image_base64 is not None:
            return args.image_base64
        assert args.path is not None
        if root is None:
            raise ToolError(
                "this OCR tool reads only image_base64; it was configured without a document folder"
            )
        target = (root / args.path).resolve()
        if not target.is_relative_to(root):
            raise ToolError(f"path {args.path!r} leaves the document folder")
        if not target.is_file():
            raise ToolError(f"no image file {args.path!r} in the document folder")
        return target.read_bytes()

    def run(args: OcrArgs) -> OcrResult:
        try:
            require("ocr", "the ocr tool")
        except MissingExtra as exc:  # a failed call the case records, not a crash
            raise ToolError(str(exc)) from exc
        return _read(_load_image(image_bytes(args)), args.min_confidence, args.restore_spaces)

    return Tool(
        name=name,
        description="Read the printed text in an image (scanned letter, invoice, form) with offline OCR.",
        args_model=OcrArgs,
        result_model=OcrResult,
        side_effect="read_only",
        timeout=timeout,
        retry=RetryPolicy(max_attempts=2),
        func=run,
        tags=("builtin", "document"),
    )
