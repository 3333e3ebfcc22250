from __future__ import annotations

import itertools

import pytest

from casepilot.errors import RetrievalError
from casepilot.rag import chunk_text


def test_short_text_is_one_chunk_and_an_exact_slice() -> None:
    text = "  Hail damage is covered.\n"
    [chunk] = chunk_text(text, size=100, overlap=10)
    assert chunk.text == "Hail damage is covered." == text[chunk.start : chunk.end]
    assert chunk.index == 0


def test_paragraphs_are_kept_whole_when_they_fit() -> None:
    text = "First paragraph, one sentence.\n\nSecond paragraph. Two sentences.\n\nThird."
    chunks = chunk_text(text, size=40, overlap=0)
    assert [c.text for c in chunks] == [
        "First paragraph, one sentence.",
        "Second paragraph. Two sentences.\n\nThird.",
    ]


def test_long_paragraphs_split_at_sentences_with_overlap() -> None:
    text = "One is here. Two is here. Three is here. Four is here. Five is here. Six is here."
    chunks = chunk_text(text, size=40, overlap=15)
    assert [c.text for c in chunks] == [
        "One is here. Two is here. Three is here.",
        "Three is here. Four is here.",
        "Four is here. Five is here. Six is here.",
    ]
    for chunk in chunks:
        assert len(chunk.text) <= 40 and text[chunk.start : chunk.end] == chunk.text
    # the overlap repeats whole trailing sentences of the previous chunk, never more than asked
    for before, after in itertools.pairwise(chunks):
        assert after.start < before.end and before.end - after.start <= 15


def test_no_overlap_means_disjoint_chunks_covering_every_sentence() -> None:
    sentences = [f"Sentence number {i} ends here." for i in range(12)]
    text = " ".join(sentences)
    chunks = chunk_text(text, size=100, overlap=0)
    assert len(chunks) > 1
    for before, after in itertools.pairwise(chunks):
        assert after.start > before.end
    assert " ".join(c.text for c in chunks) == text


def test_an_over_long_sentence_is_cut_between_words() -> None:
    text = " ".join(["aerodynamics"] * 30)  # 389 characters, no sentence end
    chunks = chunk_text(text, size=50, overlap=0)
    assert all(len(c.text) <= 50 for c in chunks)
    assert all(c.text.split() == ["aerodynamics"] * len(c.text.split()) for c in chunks)
    assert sum(len(c.text.split()) for c in chunks) == 30


@pytest.mark.parametrize(("size", "overlap"), [(0, 0), (100, 100), (100, -1)])
def test_bad_settings_are_refused(size: int, overlap: int) -> None:
    with pytest.raises(RetrievalError, match="overlap"):
        chunk_text("text", size=size, overlap=overlap)


def test_empty_text_is_refused() -> None:
    with pytest.raises(RetrievalError, match="empty"):
        chunk_text(" \n\t ")
