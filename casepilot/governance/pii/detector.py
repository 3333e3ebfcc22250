"""PII detection: Presidio's analyzer over a lean spaCy pipeline plus our recognizers.

One :class:`PiiDetector` per process is enough (see :func:`default_detector`): it
holds the spaCy pipeline and the recognizer registry, both expensive to build and
safe to share.

Overlaps are resolved here rather than left to the anonymizer, so that callers get
disjoint spans: the highest score wins, then the checksum-validated entity types
(a Luhn-valid card beats a phone number of the same digits), then the longer span.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from presidio_analyzer import AnalyzerEngine, RecognizerRegistry, RecognizerResult
from presidio_analyzer.predefined_recognizers import (
    DateRecognizer,
    IpRecognizer,
    UrlRecognizer,
    UsSsnRecognizer,
)

from ._location import LocationRecognizer
from ._ner import SpecificSpacyRecognizer
from ._nlp import LeanSpacyNlpEngine, load_ner_pipeline
from ._person import PersonNameRecognizer
from ._recognizers import (
    AnyCountryCreditCardRecognizer,
    IbanAnyCountryRecognizer,
    LoosePhoneRecognizer,
    OfflineEmailRecognizer,
)

__all__ = ["DEFAULT_ENTITIES", "DetectedEntity", "PiiDetector", "default_detector"]

#: Entity types redacted by default (Presidio's names).
DEFAULT_ENTITIES: tuple[str, ...] = (
    "PERSON",
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "IBAN_CODE",
    "US_SSN",
    "IP_ADDRESS",
    "URL",
    "LOCATION",
    "NRP",
    "DATE_TIME",
)

# Entity types found by formats and checksums; on overlap they beat NER labels
# (spaCy tags "571 38" of a phone number as a DATE with the same fixed score).
_STRUCTURED = frozenset(
    {"CREDIT_CARD", "IBAN_CODE", "EMAIL_ADDRESS", "IP_ADDRESS", "US_SSN", "URL", "PHONE_NUMBER"}
)
# Tie-break between equal scores: checksum-validated and exact formats first.
_PRIORITY = {
    "CREDIT_CARD": 0,
    "IBAN_CODE": 0,
    "EMAIL_ADDRESS": 1,
    "IP_ADDRESS": 1,
    "US_SSN": 2,
    "URL": 3,
    "PHONE_NUMBER": 4,
    "PERSON": 5,
}


@dataclass(frozen=True, slots=True)
class DetectedEntity:
    """One PII span: ``text[start:end]`` is a value of ``entity_type`` (a Presidio name)."""

    entity_type: str
    start: int
    end: int
    score: float


def _registry() -> RecognizerRegistry:
    registry = RecognizerRegistry(supported_languages=["en"])
    for recognizer in (
        SpecificSpacyRecognizer(),
        PersonNameRecognizer(),
        LocationRecognizer(),
        OfflineEmailRecognizer(),
        UrlRecognizer(),
        IpRecognizer(),
        UsSsnRecognizer(),
        DateRecognizer(),
        AnyCountryCreditCardRecognizer(),
        IbanAnyCountryRecognizer(),
        LoosePhoneRecognizer(),
    ):
        registry.add_recognizer(recognizer)
    return registry


def resolve_overlaps(results: Iterable[RecognizerResult]) -> list[DetectedEntity]:
    """Keep a disjoint subset of ``results``.

    Order of preference: validated values (score 1), other confident structured
    values (score >= 0.5), the rest; within a tier the higher score, then the type
    priority, then the longer span.
    """

    def tier(r: RecognizerResult) -> int:
        if r.score >= 0.99:
            return 0
        return 1 if r.entity_type in _STRUCTURED and r.score >= 0.5 else 2

    ranked = sorted(
        results,
        key=lambda r: (tier(r), -r.score, _PRIORITY.get(r.entity_type, 9), -(r.end - r.start), r.start),
    )
    taken: list[DetectedEntity] = []
    for r in ranked:
        if r.end <= r.start or any(r.start < t.end and t.start < r.end for t in taken):
            continue
        taken.append(DetectedEntity(r.entity_type, r.start, r.end, float(r.score)))
    taken.sort(key=lambda e: e.start)
    return taken


class PiiDetector:
    """Finds PII spans in text; thread-safe, build once and share.

    ``entities`` narrows what is reported; ``score_threshold`` drops weak pattern
    hits (Presidio's "very weak" SSN patterns score 0.05).
    """

    def __init__(self, *, entities: Sequence[str] = DEFAULT_ENTITIES, score_threshold: float = 0.35) -> None:
        self.entities: tuple[str, ...] = tuple(entities)
        self.score_threshold = score_threshold
        self._engine = LeanSpacyNlpEngine(load_ner_pipeline())
        self._analyzer = AnalyzerEngine(
            registry=_registry(),
            nlp_engine=self._engine,
            supported_languages=["en"],
            default_score_threshold=score_threshold,
        )

    def analyze(self, text: str) -> list[DetectedEntity]:
        """PII spans of one text, disjoint and in text order."""
        if not text.strip():
            return []
        return self._analyze_with(text, self._engine.process_text(text, "en"))

    def analyze_batch(self, texts: Sequence[str], *, batch_size: int = 64) -> list[list[DetectedEntity]]:
        """Like :meth:`analyze` for many texts, running spaCy batched (much faster)."""
        out: list[list[DetectedEntity]] = []
        for item in self._engine.process_batch(list(texts), "en", batch_size=batch_size):
            text, artifacts = item[0], item[1]
            out.append(self._analyze_with(text, artifacts) if text.strip() else [])
        return out

    def _analyze_with(self, text: str, artifacts: Any) -> list[DetectedEntity]:
        results = self._analyzer.analyze(
            text=text, language="en", entities=list(self.entities), nlp_artifacts=artifacts
        )
        return resolve_overlaps(results)


_default: PiiDetector | None = None
_lock = threading.Lock()


def default_detector() -> PiiDetector:
    """The process-wide detector, built on first use."""
    global _default
    with _lock:
        if _default is None:
            _default = PiiDetector()
        return _default
