"""Retrieval quality and speed of casepilot.rag on Cranfield, against peers measured in the same run.

Run: ``.venv/bin/python bench/rag_bench.py [--corpus tests/corpora/rag/cranfield] [--queries N]``

* **casepilot** dense / lexical / hybrid: ``DocumentStore`` (persistent Chroma in a temporary
  folder, offline WordLlama embeddings, chunks of 1,000 characters with 150 of overlap) and
  ``Retriever.search(..., k=100, distinct_documents=True)`` — document-level rankings, as
  Cranfield judges documents.
* **Chroma direct**: a ``chromadb.PersistentClient`` collection of whole documents with the
  same embedding function (cosine), queried with ``collection.query``.
* **rank_bm25**: ``BM25Okapi`` over whole documents, lower-cased word tokens (plain BM25).
* **bm25s direct**: ``bm25s`` over whole documents with English stop words and stemming
  (the library casepilot's lexical side uses, without chunking or the store).

Metrics over the dev queries with judgements: nDCG@10 (graded: relevance 1 → gain 4 …
4 → gain 1), MAP@100, Recall@100; ingestion in documents per second (embedding and
indexing included); per-query latency median and p95. Queries take turns across systems so
the load of the shared machine falls on all of them alike.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import chromadb
import numpy as np
from chromadb.config import Settings
from rank_bm25 import BM25Okapi
from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import bm25s  # noqa: E402

from casepilot.rag import DocumentStore, Retriever, WordLlamaEmbeddings  # noqa: E402
from casepilot.rag.cranfield import gain, load_documents, load_qrels, load_queries  # noqa: E402
from casepilot.rag.evaluation import average_precision, ndcg, recall  # noqa: E402
from casepilot.rag.lexical import tokenize  # noqa: E402

K = 100


@dataclass
class System:
    name: str
    search: Callable[[str], list[str]]
    ingest_docs_per_s: float
    ndcg10: list[float] = field(default_factory=list)
    map100: list[float] = field(default_factory=list)
    recall100: list[float] = field(default_factory=list)
    latency_ms: list[float] = field(default_factory=list)


def timed(build: Callable[[], object], n_docs: int) -> float:
    start = time.perf_counter()
    build()
    return n_docs / (time.perf_counter() - start)


def p95(values: list[float]) -> float:
    return float(np.percentile(values, 95))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=REPO / "tests" / "corpora" / "rag" / "cranfield")
    parser.add_argument(
        "--queries", type=int, default=0, help="only the first N judged dev queries (0 = all)"
    )
    args = parser.parse_args()
    console = Console(width=150)

    docs = load_documents(args.corpus / "cran.all.1400")
    queries = load_queries(args.corpus / "dev-queries.tsv")
    qrels = load_qrels(args.corpus / "dev-qrels.tsv")
    qids = [q for q in queries if q in qrels]
    if args.queries:
        qids = qids[: args.queries]
    ids = [d.id for d in docs]
    texts = [d.text for d in docs]  # the same text casepilot ingests (.W repeats the title)
    tmp = Path(tempfile.mkdtemp(prefix="rag-bench-"))
    WordLlamaEmbeddings()  # load the model once, outside every timing

    # -- casepilot -------------------------------------------------------------------------
    store = DocumentStore(tmp / "casepilot")

    def ingest_casepilot() -> None:
        store.create_collection("cranfield")
        store.ingest("cranfield", docs)

    cp_rate = timed(ingest_casepilot, len(docs))
    retriever = Retriever(store)
    retriever.search("cranfield", "warm up", 1, mode="lexical")  # the BM25 index is built on first use

    def casepilot(mode: str) -> Callable[[str], list[str]]:
        return lambda q: [
            h.document_id
            for h in retriever.search("cranfield", q, K, mode=mode, distinct_documents=True)  # type: ignore[arg-type]
        ]

    # -- Chroma used directly, same embeddings -------------------------------------------
    client = chromadb.PersistentClient(
        path=str(tmp / "chroma"), settings=Settings(anonymized_telemetry=False)
    )
    ef = WordLlamaEmbeddings()
    holder: dict[str, object] = {}

    def ingest_chroma() -> None:
        col = client.create_collection(
            "cranfield", embedding_function=ef, configuration={"hnsw": {"space": "cosine"}}
        )  # type: ignore[arg-type]
        batch = client.get_max_batch_size()
        for start in range(0, len(ids), batch):
            col.add(ids=ids[start : start + batch], documents=texts[start : start + batch])
        holder["col"] = col

    chroma_rate = timed(ingest_chroma, len(docs))
    chroma_col = holder["col"]

    def chroma_search(q: str) -> list[str]:
        got = chroma_col.query(query_texts=[q], n_results=K, include=["documents", "metadatas", "distances"])  # type: ignore[attr-defined]
        return list(got["ids"][0])

    # -- plain BM25 peers ------------------------------------------------------------------
    def words(text: str) -> list[str]:
        return re.findall(r"\w+", text.lower())

    def build_rank_bm25() -> None:
        holder["rank_bm25"] = BM25Okapi([words(t) for t in texts])

    rank_rate = timed(build_rank_bm25, len(docs))
    rank_index: BM25Okapi = holder["rank_bm25"]  # type: ignore[assignment]

    def rank_search(q: str) -> list[str]:
        scores = rank_index.get_scores(words(q))
        top = np.argsort(-scores, kind="stable")[:K]
        return [ids[i] for i in top]

    def build_bm25s() -> None:
        index = bm25s.BM25()
        index.index(tokenize(texts), show_progress=False)
        holder["bm25s"] = index

    bm25s_rate = timed(build_bm25s, len(docs))
    bm25s_index = holder["bm25s"]

    def bm25s_search(q: str) -> list[str]:
        tokens = [t for t in tokenize([q])[0] if t in bm25s_index.vocab_dict]  # type: ignore[attr-defined]
        if not tokens:
            return []
        scores = bm25s_index.get_scores(tokens)  # type: ignore[attr-defined]
        return [ids[i] for i in np.argsort(-scores, kind="stable")[:K]]

    systems = [
        System("casepilot dense", casepilot("dense"), cp_rate),
        System("casepilot lexical", casepilot("lexical"), cp_rate),
        System("casepilot hybrid", casepilot("hybrid"), cp_rate),
        System("Chroma direct (same embeddings)", chroma_search, chroma_rate),
        System("rank_bm25 (BM25Okapi)", rank_search, rank_rate),
        System("bm25s direct (stemmed)", bm25s_search, bm25s_rate),
    ]

    for qid in qids:
        gains = {doc: float(gain(rel)) for doc, rel in qrels[qid].items()}
        relevant = set(gains)
        for system in systems:
            start = time.perf_counter()
            ranked = system.search(queries[qid])
            system.latency_ms.append((time.perf_counter() - start) * 1000)
            system.ndcg10.append(ndcg(ranked, gains, 10))
            system.map100.append(average_precision(ranked, relevant, K))
            system.recall100.append(recall(ranked, relevant, K))
    store.close()

    table = Table(title=f"Cranfield dev queries ({len(qids)} judged), {len(docs)} documents")
    for col in (
        "system",
        "nDCG@10",
        "MAP@100",
        "Recall@100",
        "ingest docs/s",
        "query ms median",
        "query ms p95",
    ):
        table.add_column(col, justify="left" if col == "system" else "right")
    for s in systems:
        table.add_row(
            s.name,
            f"{statistics.mean(s.ndcg10):.3f}",
            f"{statistics.mean(s.map100):.3f}",
            f"{statistics.mean(s.recall100):.3f}",
            f"{s.ingest_docs_per_s:,.0f}",
            f"{statistics.median(s.latency_ms):.1f}",
            f"{p95(s.latency_ms):.1f}",
        )
    console.print(table)

    by = {s.name: s for s in systems}
    ratios = Table(title="Ratios (casepilot / peer; quality > 1 is better, latency < 1 is faster)")
    for col in ("casepilot", "peer", "nDCG@10", "MAP@100", "Recall@100", "ingest rate", "median latency"):
        ratios.add_column(col, justify="left" if col in ("casepilot", "peer") else "right")
    pairs = [
        ("casepilot dense", "Chroma direct (same embeddings)"),
        ("casepilot lexical", "bm25s direct (stemmed)"),
        ("casepilot lexical", "rank_bm25 (BM25Okapi)"),
        ("casepilot hybrid", "bm25s direct (stemmed)"),
        ("casepilot hybrid", "rank_bm25 (BM25Okapi)"),
        ("casepilot hybrid", "Chroma direct (same embeddings)"),
    ]
    for ours, peer in pairs:
        a, b = by[ours], by[peer]
        ratios.add_row(
            ours,
            peer,
            f"{statistics.mean(a.ndcg10) / statistics.mean(b.ndcg10):.2f}",
            f"{statistics.mean(a.map100) / statistics.mean(b.map100):.2f}",
            f"{statistics.mean(a.recall100) / statistics.mean(b.recall100):.2f}",
            f"{a.ingest_docs_per_s / b.ingest_docs_per_s:.2f}",
            f"{statistics.median(a.latency_ms) / statistics.median(b.latency_ms):.2f}",
        )
    console.print(ratios)


if __name__ == "__main__":
    main()
