"""PII detection: Presidio's analyzer over a lean spaCy pipeline plus our recognizers.

The parts are Presidio's — NLP engine, recognizer registry, pattern and checksum
recognizers, context enhancer — and the loop over them is the one in
``AnalyzerEngine.analyze`` without its per-call recognizer lookup and quadratic
de-duplication (we resolve overlaps ourselves, below).

By default the NER model runs only on the sentences that the cheap recognizers
leave unexplained (``ner="gated"``, see ``_gating``): same findings, about a third
of the model's work. ``ner="full"`` runs it on every text, like Presidio does.

One :class:`PiiDetector` per process is enough (see :func:`default_detector`): it
holds the spaCy pipeline and the recognizer registry, both expensive to build and
safe to share.

Overlaps are resolved here rather than left to the anonymizer, so that callers get
disjoint spans: the highest score wins, then the checksum-validated entity types
(a Luhn-valid card beats a phone number of the same digits), then the longer span.
A name is never left in pieces: a group word inside a longer name is part of the name
("Christian Röhricht"), and when another finding wins part of a name, the rest of the
name is still redacted — joined to the winner when that is a name too.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from presidio_analyzer import RecognizerRegistry, RecognizerResult
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.predefined_recognizers import UsSsnRecognizer

from ._gating import apply_ner, sentences_needing_ner
from ._groups import GroupRecognizer
from ._lexicon import NAME_CUES, TITLES, lexicon
from ._location import LocationRecognizer
from ._ner import SpecificSpacyRecognizer
from ._nlp import LeanSpacyNlpEngine, load_ner_pipeline, with_context
from ._person import PersonNameRecognizer
from ._recognizers import (
    AnyCountryCreditCardRecognizer,
    CompactDateRecognizer,
    GatedIpRecognizer,
    GatedUrlRecognizer,
    IbanAnyCountryRecognizer,
    LicenceContextRecognizer,
    LoosePhoneRecognizer,
    OfflineEmailRecognizer,
)
from ._tokens import token_view

__all__ = ["DEFAULT_ENTITIES", "MAX_CHUNK", "DetectedEntity", "PiiDetector", "as_unicode", "default_detector",
           "surrogates_in"]

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
    "US_DRIVER_LICENSE",
)

# Entity types found by formats and checksums; on overlap they beat NER labels
# (spaCy tags "571 38" of a phone number as a DATE with the same fixed score).
_STRUCTURED = frozenset(
    {"CREDIT_CARD", "IBAN_CODE", "EMAIL_ADDRESS", "IP_ADDRESS", "US_SSN", "URL", "PHONE_NUMBER", "US_DRIVER_LICENSE"}
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


_WARM_UP = (
    "Dr. Anna Berg (anna.berg@example.com, +46 8 928 571 38, https://www.example.se/) paid with "
    "4111 1111 1111 1111 from GB56HXDO88167774656119 on 2/8/2024; SSN 460-89-9847, IP 10.0.0.1, Oslo, Norway."
)


@dataclass(frozen=True, slots=True)
class DetectedEntity:
    """One PII span: ``text[start:end]`` is a value of ``entity_type`` (a Presidio name)."""

    entity_type: str
    start: int
    end: int
    score: float


class WeakHitContextEnhancer(LemmaContextAwareEnhancer):
    """Presidio's context enhancement, applied only to weak pattern hits.

    Context words lift a weak match ("SSN: 460899847" scores 0.05 on its own) over
    the threshold; strong and validated hits and NER results need no lift, and
    skipping them avoids Presidio deep-copying every result of every text. A context
    word lifts a weak hit to at least 0.5, enough to beat an NER label on the same
    digits ("SSN 460899847" is no DATE).
    """

    def __init__(self) -> None:
        super().__init__(context_similarity_factor=0.45, min_score_with_context_similarity=0.5)

    def enhance_using_context(
        self,
        text: str,
        raw_results: list[RecognizerResult],
        nlp_artifacts: Any,
        recognizers: list[Any],
        context: list[str] | None = None,
    ) -> list[RecognizerResult]:
        """Enhance the weak structured hits, pass the rest through."""
        weak = [r for r in raw_results if r.score < 0.5 and r.entity_type in _STRUCTURED]
        if not weak:
            return raw_results
        rest = [r for r in raw_results if not (r.score < 0.5 and r.entity_type in _STRUCTURED)]
        enhanced: list[RecognizerResult] = super().enhance_using_context(
            text, weak, with_context(nlp_artifacts), recognizers, context
        )
        return rest + enhanced


def _registry() -> RecognizerRegistry:
    registry = RecognizerRegistry(supported_languages=["en"])
    for recognizer in (
        SpecificSpacyRecognizer(),
        PersonNameRecognizer(),
        LocationRecognizer(),
        GroupRecognizer(),
        OfflineEmailRecognizer(),
        GatedUrlRecognizer(),
        GatedIpRecognizer(),
        UsSsnRecognizer(),
        CompactDateRecognizer(),
        AnyCountryCreditCardRecognizer(),
        IbanAnyCountryRecognizer(),
        LoosePhoneRecognizer(),
        LicenceContextRecognizer(),
    ):
        registry.add_recognizer(recognizer)
    return registry


def resolve_overlaps(results: Iterable[RecognizerResult], text: str | None = None) -> list[DetectedEntity]:
    """Keep a disjoint subset of ``results``.

    Order of preference: validated values (score 1), other confident structured
    values (score >= 0.5, reached by weak patterns through context words), the rest;
    within a tier the higher score, then the type priority, then the longer span.

    With ``text`` given, a name that loses to an overlapping finding is not simply
    dropped: the part of it that holds a name word the winner does not cover is kept
    (a surname in clear beside a redacted given name is still a leak) — as a wider
    span when the winner is a name too ("Pieter Jansen" + "Jansen-van Ooyen"),
    otherwise as a name of its own.
    """

    def tier(r: RecognizerResult) -> int:
        if r.score >= 0.99:
            return 0
        return 1 if r.entity_type in _STRUCTURED and r.score >= 0.5 else 2

    ranked = sorted(
        _without_groups_inside_names(list(results), text),
        key=lambda r: (tier(r), -r.score, _PRIORITY.get(r.entity_type, 9), -(r.end - r.start), r.start),
    )
    taken: list[DetectedEntity] = []
    for r in ranked:
        if r.end <= r.start:
            continue
        hit = [t for t in taken if r.start < t.end and t.start < r.end]
        if not hit:
            taken.append(DetectedEntity(r.entity_type, r.start, r.end, float(r.score)))
            continue
        if r.entity_type != "PERSON" or text is None:
            continue
        rest = _rest_of_name(text, r.start, r.end, hit)
        if not rest:
            continue
        if all(t.entity_type == "PERSON" for t in hit):
            start, end = min(r.start, *(t.start for t in hit)), max(r.end, *(t.end for t in hit))
            taken = [t for t in taken if t not in hit]
            taken.append(DetectedEntity("PERSON", start, end, max(t.score for t in hit)))
        else:
            taken += [DetectedEntity("PERSON", a, b, float(r.score)) for a, b in rest]
    taken.sort(key=lambda e: e.start)
    return taken


def _without_groups_inside_names(results: list[RecognizerResult], text: str | None) -> list[RecognizerResult]:
    """Drop a group word inside a name that holds another name word: "Christian" in "Christian Röhricht".

    Not in "The Costa Rican" (a model's PERSON around a group and a common word).
    """
    if text is None:
        return results
    names = [(r.start, r.end) for r in results if r.entity_type == "PERSON" and r.score >= 0.5]

    def inside_name(g: RecognizerResult) -> bool:
        return any(
            a <= g.start and g.end <= b and (_rest_of_name(text, a, b, [DetectedEntity("NRP", g.start, g.end, 0.0)]))
            for a, b in names
        )

    return [r for r in results if not (r.entity_type == "NRP" and names and inside_name(r))]


def _rest_of_name(text: str, start: int, end: int, winners: Sequence[DetectedEntity]) -> list[tuple[int, int]]:
    """The pieces of ``text[start:end]`` no winner covers that hold a name-like word (trimmed).

    A name-like word is capitalised and neither a common word nor a title or cue: the
    rest of "Diana Usamov Suite" after "Diana Usamov" is "Suite", no name; the rest of
    "Signed Sean O'Brien" after "Sean O'Brien" is "Signed".
    """
    common = lexicon().common_words | TITLES | NAME_CUES
    pieces: list[tuple[int, int]] = []
    for w in sorted(winners, key=lambda t: t.start):
        pieces.append((start, max(start, w.start)))
        start = max(start, w.end)
    pieces.append((start, end))
    out: list[tuple[int, int]] = []
    for a, b in pieces:
        while a < b and not text[a].isalnum():
            a += 1
        while b > a and not text[b - 1].isalnum():
            b -= 1
        words = text[a:b].replace("-", " ").split()
        if any(len(word) >= 2 and word[0].isupper() and word.casefold() not in common for word in words):
            out.append((a, b))
    return out


class PiiDetector:
    """Finds PII spans in text; thread-safe, build once and share.

    ``entities`` narrows what is reported; ``score_threshold`` drops weak pattern
    hits (Presidio's "very weak" SSN patterns score 0.05); ``ner`` chooses between
    running the NER model on unexplained sentences only (default) or on everything.
    """

    def __init__(
        self,
        *,
        entities: Sequence[str] = DEFAULT_ENTITIES,
        score_threshold: float = 0.35,
        ner: Literal["gated", "full"] = "gated",
    ) -> None:
        self.entities: tuple[str, ...] = tuple(entities)
        self.score_threshold = score_threshold
        self.ner = ner
        self._nlp = load_ner_pipeline()
        self._engine = LeanSpacyNlpEngine(self._nlp)
        self._enhancer = WeakHitContextEnhancer()
        self._entity_list = list(self.entities)
        self._entity_set = frozenset(self.entities)
        self._recognizers = _registry().get_recognizers(language="en", entities=self._entity_list)
        for recognizer in self._recognizers:
            recognizer.load()
        # Recognizers that read the NER labels; the others run once, before NER.
        self._ner_readers = [r for r in self._recognizers if isinstance(r, SpecificSpacyRecognizer | PersonNameRecognizer)]
        self._lex = lexicon()
        # Compile every pattern and build the word lists now, not on a user's first call.
        self.analyze(_WARM_UP)

    def analyze(self, text: str) -> list[DetectedEntity]:
        """PII spans of one text, disjoint and in text order."""
        return self.analyze_batch([text])[0]

    def analyze_batch(self, texts: Sequence[str], *, batch_size: int = 128) -> list[list[DetectedEntity]]:
        """Like :meth:`analyze` for many texts, running spaCy batched (much faster).

        Texts longer than ``MAX_CHUNK`` characters (OCR output, long documents) are
        cut at line or word breaks into pieces analysed separately: spaCy refuses
        very long inputs and its cost grows with length anyway. A lone UTF-16
        surrogate (no Unicode character; spaCy cannot encode it) is read as U+FFFD:
        one character for one, so the spans stand where they do in the text given.
        """
        pieces: list[tuple[int, int, str]] = []  # (text index, offset, piece)
        for index, text in enumerate(texts):
            pieces += [(index, offset, piece) for offset, piece in _chunks(as_unicode(text)) if piece.strip()]
        out: list[list[DetectedEntity]] = [[] for _ in texts]
        found = self._gated([p for _, _, p in pieces], batch_size) if self.ner == "gated" else [
            self._resolve(item[0], self._run(item[0], item[1], self._recognizers), item[1])
            for item in self._engine.process_batch([p for _, _, p in pieces], "en", batch_size=batch_size)
        ]
        for (index, offset, _), spans in zip(pieces, found, strict=True):
            out[index] += [DetectedEntity(e.entity_type, e.start + offset, e.end + offset, e.score) for e in spans]
        return out

    def _gated(self, texts: list[str], batch_size: int) -> list[list[DetectedEntity]]:
        """Cheap recognizers first, then NER on the sentences they leave unexplained (see ``_gating``)."""
        docs = [self._nlp.make_doc(text) for text in texts]
        first: list[tuple[Any, list[RecognizerResult], list[DetectedEntity]]] = []
        for text, doc in zip(texts, docs, strict=True):
            artifacts = self._engine._doc_to_nlp_artifact(doc, "en")
            raw = self._run(text, artifacts, self._recognizers)
            first.append((artifacts, raw, self._resolve(text, raw, artifacts)))
        ranges = [
            sentences_needing_ner(token_view(artifacts), ((e.start, e.end) for e in spans), self._lex)
            for artifacts, _, spans in first
        ]
        apply_ner(self._nlp, docs, ranges, batch_size)
        out: list[list[DetectedEntity]] = []
        for text, doc, (artifacts, raw, spans) in zip(texts, docs, first, strict=True):
            if not doc.ents:
                out.append(spans)
                continue
            labelled = self._engine._doc_to_nlp_artifact(doc, "en")
            labelled._casepilot_tokens = getattr(artifacts, "_casepilot_tokens", None)
            kept = [r for r in raw if not _from(r, self._ner_readers)]
            out.append(self._resolve(text, kept + self._run(text, labelled, self._ner_readers), labelled))
        return out

    def _run(self, text: str, artifacts: Any, recognizers: Sequence[Any]) -> list[RecognizerResult]:
        # What ``AnalyzerEngine.analyze`` does, minus the per-call recognizer lookup and
        # quadratic de-duplication (overlaps are resolved below anyway): the same
        # recognizers, the same context enhancement, the same threshold.
        results: list[RecognizerResult] = []
        for recognizer in recognizers:
            for r in recognizer.analyze(text=text, entities=self._entity_list, nlp_artifacts=artifacts):
                r.recognition_metadata = r.recognition_metadata or {}
                r.recognition_metadata.setdefault(RecognizerResult.RECOGNIZER_IDENTIFIER_KEY, recognizer.id)
                results.append(r)
        return results

    def _resolve(self, text: str, results: list[RecognizerResult], artifacts: Any) -> list[DetectedEntity]:
        results = self._enhancer.enhance_using_context(text, results, artifacts, self._recognizers)
        return resolve_overlaps(
            (r for r in results if r.score >= self.score_threshold and r.entity_type in self._entity_set), text
        )


def _from(result: RecognizerResult, recognizers: Sequence[Any]) -> bool:
    rid = (result.recognition_metadata or {}).get(RecognizerResult.RECOGNIZER_IDENTIFIER_KEY)
    return any(rid == r.id for r in recognizers)


_SURROGATE = re.compile("[\ud800-\udfff]")


def as_unicode(text: str) -> str:
    """``text`` with every lone UTF-16 surrogate replaced by U+FFFD (same length, same offsets).

    Python strings can hold them (``json.loads('"\\ud800"')``, ``surrogateescape``d bytes);
    UTF-8 cannot, so spaCy, the store and PostgreSQL all fail on them.
    """
    return _SURROGATE.sub("\ufffd", text) if _SURROGATE.search(text) else text


def surrogates_in(text: str) -> int:
    """How many lone surrogates ``as_unicode`` replaces in ``text``."""
    return len(_SURROGATE.findall(text))


MAX_CHUNK = 20_000
"""Longest piece of text handed to spaCy at once (characters)."""


def _chunks(text: str) -> list[tuple[int, str]]:
    """``text`` cut into pieces of at most ``MAX_CHUNK`` characters at line, else word, breaks."""
    pieces: list[tuple[int, str]] = []
    start = 0
    while len(text) - start > MAX_CHUNK:
        window = text[start : start + MAX_CHUNK]
        cut = max(window.rfind("\n"), window.rfind(" "))
        end = start + (cut + 1 if cut > MAX_CHUNK // 2 else MAX_CHUNK)
        pieces.append((start, text[start:end]))
        start = end
    pieces.append((start, text[start:]))
    return pieces


_default: PiiDetector | None = None
_lock = threading.Lock()


def default_detector() -> PiiDetector:
    """The process-wide detector, built on first use."""
    global _default
    with _lock:
        if _default is None:
            _default = PiiDetector()
        return _default
