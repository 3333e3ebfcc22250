"""Run the NER model only on the sentences that still need it.

The NER model is most of the cost of detection, while the pattern, list and layout
recognizers already explain most of what it would find. So detection runs in two
passes: the cheap recognizers over the tokenised text, then the NER model over just
the sentences that hold something they left unexplained — a capitalised word that is
neither a common word nor inside a found span, or a month, weekday or year (dates
come mostly from NER). The model's window is a few tokens wide, so a sentence on its
own gets the labels it would get inside the whole text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from spacy.language import Language
from spacy.pipeline import TrainablePipe
from spacy.tokens import Doc, Span

from ._lexicon import Lexicon
from ._tokens import TokenView

__all__ = ["apply_ner", "sentences_needing_ner"]

_DATE_WORD = re.compile(
    r"^(?:(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*|(?:mon|tues|wednes|thurs|fri|satur|sun)day"
    r"|(?:1[89]|20)\d\d)$",
    re.IGNORECASE,
)
_SENTENCE_END = frozenset({".", "!", "?"})


def _unexplained(word: str, covered: bool, lex: Lexicon) -> bool:
    if covered:
        return False
    if _DATE_WORD.match(word):
        return True
    # A common word that is also a name ("Will", "Grace") still deserves the model's opinion.
    return len(word) > 1 and word.isalpha() and (word.istitle() or word.isupper()) and (
        word.lower() not in lex.common_words or lex.is_name(word)
    )


def sentences_needing_ner(
    view: TokenView | None, found: Iterable[tuple[int, int]], lex: Lexicon
) -> list[tuple[int, int]]:
    """spaCy token ranges of the sentences (or lines) the first pass left something unexplained in."""
    if view is None:
        return []
    n = len(view)
    covered = bytearray(view.end(n - 1) + 1 if n else 1)
    for start, end in found:
        covered[start:end] = b"\x01" * (end - start)
    ranges: list[tuple[int, int]] = []
    start, needed = 0, False
    for k in range(n):
        word = view.text[k]
        if not needed and _unexplained(word, bool(covered[view.start[k]]), lex):
            needed = True
        if word in _SENTENCE_END or "\n" in word or "\n" in view.space[k]:
            end = view.doc_index[k] + 1
            if needed:
                ranges.append((start, end))
            start, needed = end, False
    last = view.doc_index[-1] + 1 if n else 0
    if needed and start < last:
        ranges.append((start, last))
    return ranges


def apply_ner(nlp: Language, docs: Sequence[Doc], ranges: Sequence[list[tuple[int, int]]], batch_size: int) -> None:
    """Run the ``ner`` pipe on the given sentences and set the entities on their documents."""
    ner = nlp.get_pipe("ner")
    if not isinstance(ner, TrainablePipe):  # pragma: no cover - a broken model package
        raise TypeError("the spaCy pipeline has no trainable 'ner' component")
    parts = [(k, a, doc[a:b].as_doc()) for k, doc in enumerate(docs) for a, b in ranges[k]]
    labelled = ner.pipe((part for _, _, part in parts), batch_size=batch_size)
    ents: dict[int, list[Span]] = {}
    for (k, offset, _), part in zip(parts, labelled, strict=True):
        doc = docs[k]
        ents.setdefault(k, []).extend(
            Span(doc, e.start + offset, e.end + offset, label=e.label_) for e in part.ents
        )
    for k, spans in ents.items():
        docs[k].ents = spans
