"""``casepilot rag ingest | search | collections``: document collections from a shell.

Each command takes ``--store PATH`` (the Chroma folder, default ``.casepilot/chroma``, or a
Chroma server's ``http://host:port``). Text
and Markdown files are ingested with the file's path (relative to the folder given) as the
document id, so ingesting the same folder again replaces what changed instead of adding
copies; the title is the first heading or line.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

__all__ = ["app"]

app = typer.Typer(name="rag", help="Document collections for retrieval (Chroma, offline embeddings).",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
console = Console()

StoreOption = Annotated[str, typer.Option(
    "--store", help="The Chroma folder of the collections, or a Chroma server's URL (http://host:port).")]
SUFFIXES = (".txt", ".md", ".markdown", ".rst")
_BATCH = 16
"""Documents embedded and stored per call while ingesting (the progress bar moves per batch)."""


def _files(paths: list[Path]) -> Iterator[tuple[Path, Path]]:
    """(file, base folder) for every text file named or found below a folder, in a stable order."""
    for path in paths:
        if path.is_dir():
            for found in sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES):
                yield found, path
        elif path.is_file():
            yield path, path.parent
        else:
            raise typer.BadParameter(f"{path} does not exist")


def _title(text: str, fallback: str) -> str:
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line[:200]
    return fallback


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Text or Markdown files, or folders of them.")],
    collection: Annotated[str, typer.Option("--collection", "-c", help="The collection to ingest into.")],
    store: StoreOption = ".casepilot/chroma",
) -> None:
    """Chunk, embed and store documents (re-ingesting a file replaces its earlier version)."""
    from casepilot.rag.store import Document, DocumentStore

    documents: list[Document] = []
    skipped: list[str] = []
    for file, base in _files(paths):
        text = file.read_text(encoding="utf-8", errors="replace")
        if not text.strip():
            skipped.append(str(file))
            continue
        doc_id = file.relative_to(base).as_posix()
        documents.append(Document(doc_id, text, title=_title(text, file.stem), source=str(file)))
    if not documents:
        raise typer.BadParameter(f"no text found in {', '.join(map(str, paths))} (looked for {', '.join(SUFFIXES)})")
    chunks = 0
    with Progress(TextColumn(f"ingesting into {collection!r}"), BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), console=Console(stderr=True), transient=True) as progress, \
            DocumentStore(store) as docs:
        docs.create_collection(collection)
        task = progress.add_task("documents", total=len(documents))
        for start in range(0, len(documents), _BATCH):
            batch = documents[start:start + _BATCH]
            chunks += docs.ingest(collection, batch)  # each document replaces its earlier version
            progress.advance(task, len(batch))
    console.print(f"{len(documents)} documents, {chunks} chunks in {collection!r} ({store})")
    for name in skipped:
        console.print(f"[yellow]skipped[/yellow] {name}: empty")


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="The question.")],
    collection: Annotated[str, typer.Option("--collection", "-c")],
    k: Annotated[int, typer.Option("--k", min=1, max=100, help="How many passages.")] = 5,
    mode: Annotated[str, typer.Option("--mode", help="hybrid, dense or lexical.")] = "hybrid",
    store: StoreOption = ".casepilot/chroma",
) -> None:
    """The best passages for a question, with their citations."""
    from casepilot.rag.retriever import Retriever
    from casepilot.rag.store import DocumentStore

    with DocumentStore(store) as docs:
        hits = Retriever(docs).search(collection, query, k, mode=mode)  # type: ignore[arg-type]
    table = Table("score", "citation", "title", "passage")
    for hit in hits:
        table.add_row(f"{hit.score:.4f}", hit.citation, hit.title, " ".join(hit.text.split())[:160])
    console.print(table)


@app.command()
def collections(store: StoreOption = ".casepilot/chroma") -> None:
    """The collections in the store, with their size and embedding function."""
    from casepilot.rag.store import DocumentStore

    with DocumentStore(store) as docs:
        table = Table("collection", "chunks", "embedding")
        for info in docs.list_collections():
            table.add_row(info.name, str(info.chunks), info.embedding)
    console.print(table)
