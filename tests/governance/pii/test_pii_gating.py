"""The NER model runs only where the cheap recognizers leave something unexplained."""

from __future__ import annotations

import pytest

from casepilot.governance.pii import PiiDetector
from casepilot.governance.pii._gating import sentences_needing_ner
from casepilot.governance.pii._lexicon import lexicon
from casepilot.governance.pii._nlp import load_ner_pipeline
from casepilot.governance.pii._tokens import view_of

TEXTS = [
    "Dear Anna Berg, your card 4111 1111 1111 1111 was charged. Questions? Call +46 8 928 571 38.",
    "Tomomi Nishiyama lives at 86036 Rua do Arenque 1634, Goiânia. She moved there in 1977.",
    "The Princess Royal arrived at Ettelgem this morning from Belgium.",
    "Name: Toshimi Arata\nPhone: 0490 75 40 81\nDate: Saturday",
    "we are proud saudis and the japanese border force was there on monday",
    "Producer James Sparks explained to Fuse TV: \"We all liked the idea\".",
]


@pytest.fixture(scope="module")
def full() -> PiiDetector:
    return PiiDetector(ner="full")


def test_sentences_without_unexplained_words_skip_ner() -> None:
    doc = load_ner_pipeline().make_doc("Call me at 0490 75 40 81. Producer Zorblat arrived on Monday.\nthanks")
    phone = doc.text.index("0490")
    ranges = sentences_needing_ner(view_of(doc), [(phone, phone + 13)], lexicon())
    assert [doc[a:b].text for a, b in ranges] == ["Producer Zorblat arrived on Monday."]


@pytest.mark.parametrize("text", TEXTS)
def test_gated_ner_finds_what_full_ner_finds(detector: PiiDetector, full: PiiDetector, text: str) -> None:
    assert detector.ner == "gated"

    def spans(d: PiiDetector) -> list[tuple[str, int, int]]:  # scores may differ: a rule instead of NER
        return [(e.entity_type, e.start, e.end) for e in d.analyze(text)]

    assert spans(detector) == spans(full)
