"""Split a document into overlapping chunks along paragraph and sentence boundaries.

A retriever answers with passages, not whole documents, so documents are cut into chunks
small enough to be specific yet whole enough to read: the text is split into units —
paragraphs, then sentences of paragraphs that are too long, then word runs of sentences that
are still too long — and units are packed greedily up to ``size`` characters. Each new chunk
repeats the trailing units of the previous one, up to ``overlap`` characters, so that a
sentence needed to understand the next is not lost at a boundary. A chunk's text is always an
exact slice of the document (``start``/``end``), so citations can point into the source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from casepilot.errors import RetrievalError

__all__ = ["Chunk", "chunk_text"]

_PARAGRAPH = re.compile(r"\n[ \t]*\n+|\n(?=[ \t]+\S)")
"""A blank line, or a new line that starts indented (how Cranfield and plain text mark paragraphs)."""
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=\S)")


@dataclass(frozen=True, slots=True)
class Chunk:
    """One passage of a document: ``text == document[start:end]``."""

    index: int
    text: str
    start: int
    end: int


def _spans(text: str, pattern: re.Pattern[str], start: int, end: int) -> list[tuple[int, int]]:
    """Split ``text[start:end]`` at ``pattern``, trimming whitespace, as absolute spans."""
    spans: list[tuple[int, int]] = []
    pos = start
    for match in pattern.finditer(text, start, end):
        spans.append((pos, match.start()))
        pos = match.end()
    spans.append((pos, end))
    trimmed = []
    for a, b in spans:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if a < b:
            trimmed.append((a, b))
    return trimmed


def _word_runs(text: str, start: int, end: int, size: int) -> list[tuple[int, int]]:
    """Cut an over-long sentence into runs of whole words of at most ``size`` characters."""
    runs: list[tuple[int, int]] = []
    run_start = run_end = -1
    for word in re.finditer(r"\S+", text[start:end]):
        a, b = start + word.start(), start + word.end()
        if run_start < 0:
            run_start, run_end = a, b
        elif b - run_start <= size:
            run_end = b
        else:
            runs.append((run_start, run_end))
            run_start, run_end = a, b
        while run_end - run_start > size:  # a single "word" longer than size
            runs.append((run_start, run_start + size))
            run_start += size
    if run_start >= 0:
        runs.append((run_start, run_end))
    return runs


def _units(text: str, size: int) -> list[tuple[int, int]]:
    units: list[tuple[int, int]] = []
    for p_start, p_end in _spans(text, _PARAGRAPH, 0, len(text)):
        if p_end - p_start <= size:
            units.append((p_start, p_end))
            continue
        for s_start, s_end in _spans(text, _SENTENCE_END, p_start, p_end):
            if s_end - s_start <= size:
                units.append((s_start, s_end))
            else:
                units.extend(_word_runs(text, s_start, s_end, size))
    return units


def chunk_text(text: str, *, size: int = 1000, overlap: int = 150) -> list[Chunk]:
    """Chunks of at most ``size`` characters, each repeating up to ``overlap`` characters of the last.

    Raises ``RetrievalError`` for text with nothing but whitespace, or ``overlap >= size``.
    """
    if size < 1 or overlap < 0 or overlap >= size:
        raise RetrievalError(
            f"chunking needs size >= 1 and 0 <= overlap < size (got size={size}, overlap={overlap}); "
            "pick a smaller overlap"
        )
    if not text.strip():
        raise RetrievalError("the document text is empty; ingest a document with some text in it")
    units = _units(text, size)
    chunks: list[Chunk] = []
    first = 0
    while first < len(units):
        last = first
        while last + 1 < len(units) and units[last + 1][1] - units[first][0] <= size:
            last += 1
        start, end = units[first][0], units[last][1]
        chunks.append(Chunk(len(chunks), text[start:end], start, end))
        if last + 1 >= len(units):
            break
        # The next chunk starts with as many trailing units of this one as fit in ``overlap``,
        # but always moves forward by at least one unit, and must still fit its first new unit.
        nxt = last + 1
        while (
            nxt - 1 > first
            and end - units[nxt - 1][0] <= overlap
            and units[last + 1][1] - units[nxt - 1][0] <= size
        ):
            nxt -= 1
        first = nxt
    return chunks
