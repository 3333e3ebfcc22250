"""Read the Cranfield 1400 test collection: documents, queries and graded relevance judgements.

The classic collection (Cleverdon, 1960s; aerodynamics abstracts) is small enough to ingest
in seconds and judged thoroughly enough to compare retrieval modes honestly, so the tests and
``bench/rag_bench.py`` measure casepilot's retrieval on it.

Formats: ``cran.all.1400`` has records started by ``.I <id>`` and fields ``.T`` title, ``.A``
authors, ``.B`` bibliographic source, ``.W`` text; queries are ``query_id<TAB>text``; qrels are
``query_id<TAB>doc_id<TAB>relevance`` with 1 = complete answer … 4 = minimal interest and
-1 = not relevant.
"""

from __future__ import annotations

import re
from pathlib import Path

from casepilot.errors import DefinitionError

from .store import Document

__all__ = ["gain", "load_documents", "load_qrels", "load_queries"]

_FIELD = re.compile(r"^\.([TABW])\s*$")


def load_documents(path: str | Path) -> list[Document]:
    """The documents of a ``cran.all.1400`` file, in file order.

    ``.W`` is the text (a line that starts indented opens a paragraph; paragraphs are kept
    apart by a blank line, so chunking can follow them); a record with an empty ``.W`` falls
    back to its title, and a record with neither (a few exist) is left out: nothing could
    ever retrieve it.
    """
    path = Path(path)
    docs: list[Document] = []
    record: dict[str, list[str]] | None = None
    doc_id = ""
    current: str | None = None

    def flush() -> None:
        if record is None:
            return
        paragraphs: list[list[str]] = []
        for line in record.get("W", []):
            if not paragraphs or (line[:1].isspace() and line.strip()):
                paragraphs.append([])
            paragraphs[-1].append(line.strip())
        text = "\n\n".join(" ".join(" ".join(p).split()) for p in paragraphs if " ".join(p).strip())
        title, authors, source = (" ".join(" ".join(record.get(f, [])).split()) for f in "TAB")
        if text or title:
            meta = {"authors": authors}
            docs.append(Document(id=doc_id, text=text or title, title=title, source=source, metadata=meta))

    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith(".I"):
            flush()
            doc_id = line[2:].strip()
            if not doc_id:
                raise DefinitionError("a .I line without a document id", file=str(path), line=number)
            record, current = {}, None
            continue
        field = _FIELD.match(line)
        if field:
            if record is None:
                raise DefinitionError(
                    f"field .{field.group(1)} before any .I record", file=str(path), line=number
                )
            current = field.group(1)
            record.setdefault(current, [])
        elif record is not None and current is not None:
            record[current].append(line)
    flush()
    return docs


def load_queries(path: str | Path) -> dict[str, str]:
    """``query id -> text`` from a ``query_id<TAB>text`` file."""
    queries: dict[str, str] = {}
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        qid, sep, text = line.partition("\t")
        if not sep or not text.strip():
            raise DefinitionError("expected query_id<TAB>text", file=str(path), line=number)
        queries[qid.strip()] = text.strip()
    return queries


def load_qrels(path: str | Path) -> dict[str, dict[str, int]]:
    """``query id -> {doc id: relevance}``, keeping only relevant pairs (1 … 4; -1 is dropped)."""
    qrels: dict[str, dict[str, int]] = {}
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 3:
            raise DefinitionError("expected query_id<TAB>doc_id<TAB>relevance", file=str(path), line=number)
        qid, doc, rel = parts[0], parts[1], int(parts[2])
        if 1 <= rel <= 4:
            qrels.setdefault(qid, {})[doc] = rel
    return qrels


def gain(relevance: int) -> int:
    """Graded gain for nDCG: relevance 1 (complete answer) → 4 … 4 (minimal interest) → 1."""
    return 5 - relevance if 1 <= relevance <= 4 else 0
