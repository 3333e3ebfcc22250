"""Retrieval quality on the vendored Cranfield collection (all 1,398 non-empty documents)."""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from pathlib import Path

import pytest

from casepilot.errors import DefinitionError
from casepilot.rag import DocumentStore, Mode, Retriever
from casepilot.rag.cranfield import gain, load_documents, load_qrels, load_queries
from casepilot.rag.evaluation import average_precision, ndcg, recall
from tests._corpora import CRANFIELD

HANDFUL = ["1", "2", "4", "5", "7", "8", "10", "11", "13", "14"]
"""The first ten dev queries, fixed."""


@pytest.fixture(scope="module")
def retriever(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Retriever]:
    with DocumentStore(tmp_path_factory.mktemp("cranfield") / "chroma") as store:
        store.create_collection("cranfield")
        store.ingest("cranfield", load_documents(CRANFIELD / "cran.all.1400"))
        yield Retriever(store)


@pytest.fixture(scope="module")
def queries() -> dict[str, str]:
    return load_queries(CRANFIELD / "dev-queries.tsv")


@pytest.fixture(scope="module")
def qrels() -> dict[str, dict[str, int]]:
    return load_qrels(CRANFIELD / "dev-qrels.tsv")


def test_loader_reads_every_record_and_judgement(
    queries: dict[str, str], qrels: dict[str, dict[str, int]]
) -> None:
    docs = load_documents(CRANFIELD / "cran.all.1400")
    assert len(docs) == 1398  # 1,400 records, two of which (471, 995) are empty
    assert {"471", "995"}.isdisjoint(d.id for d in docs)
    first = docs[0]
    assert (
        first.id == "1"
        and first.title == "experimental investigation of the aerodynamics of a wing in a slipstream ."
    )
    assert first.source == "j. ae. scs. 25, 1958, 324." and first.metadata == {"authors": "brenckman,m."}
    assert first.text.count("\n\n") == 3  # indented lines open paragraphs
    assert len(queries) == 150 and queries["1"].startswith("what similarity laws must be obeyed")
    assert set(qrels) <= set(queries) and qrels["1"]["184"] == 2
    assert all(1 <= rel <= 4 for judged in qrels.values() for rel in judged.values())
    assert [gain(r) for r in (1, 2, 3, 4, -1)] == [4, 3, 2, 1, 0]


def test_loader_errors_name_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "queries.tsv"
    bad.write_text("1\tfine\n2 no tab\n", encoding="utf-8")
    with pytest.raises(DefinitionError, match=r"queries.tsv:2: expected query_id<TAB>text"):
        load_queries(bad)
    docs = tmp_path / "cran"
    docs.write_text(".T\ntitle\n", encoding="utf-8")
    with pytest.raises(DefinitionError, match=r"cran:1: field .T before any .I record"):
        load_documents(docs)


def test_hybrid_finds_a_judged_document_in_the_top_ten_for_most_queries(
    retriever: Retriever, queries: dict[str, str], qrels: dict[str, dict[str, int]]
) -> None:
    found = []
    for qid in HANDFUL:
        top = retriever.search("cranfield", queries[qid], 10, mode="hybrid", distinct_documents=True)
        assert len(top) == 10 and len({h.document_id for h in top}) == 10
        found.append(any(h.document_id in qrels[qid] for h in top))
    assert sum(found) >= 8, dict(zip(HANDFUL, found, strict=True))


def test_hybrid_beats_either_side_alone(
    retriever: Retriever, queries: dict[str, str], qrels: dict[str, dict[str, int]]
) -> None:
    qids = [q for q in queries if q in qrels][:50]
    scores: dict[Mode, list[float]] = {"dense": [], "lexical": [], "hybrid": []}
    for qid in qids:
        gains = {doc: float(gain(rel)) for doc, rel in qrels[qid].items()}
        for mode, per_query in scores.items():
            ranked = [
                h.document_id
                for h in retriever.search("cranfield", queries[qid], 10, mode=mode, distinct_documents=True)
            ]
            per_query.append(ndcg(ranked, gains, 10))
    mean = {mode: statistics.mean(values) for mode, values in scores.items()}
    # The dense side counts half (``Retriever.dense_weight``): fused, the two beat either alone.
    assert mean["hybrid"] > max(mean["dense"], mean["lexical"]), mean
    assert mean["dense"] > 0.15 and mean["lexical"] > 0.2, mean  # both sides really retrieve


def test_metrics() -> None:
    ranked = ["a", "x", "b", "y"]
    assert ndcg(ranked, {"a": 1.0, "b": 1.0}, 10) == pytest.approx((1 + 1 / 2) / (1 + 1 / 1.5849625007211562))
    assert ndcg(["x"], {"a": 2.0}, 10) == 0.0 and ndcg(["a"], {}, 10) == 0.0
    assert average_precision(ranked, {"a", "b"}, 100) == pytest.approx((1 + 2 / 3) / 2)
    assert recall(ranked, {"a", "b", "c"}, 2) == pytest.approx(1 / 3)
