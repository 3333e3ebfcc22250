"""Reversible, consistent pseudonymisation of a case's text and payloads.

Everything that leaves the process — prompts, tool arguments for external services,
retrieval queries, history payloads — goes through :meth:`Pseudonymizer.redact_text`
or :meth:`Pseudonymizer.redact_payload`. Each PII value becomes a token named after
its Presidio entity type, ``<PERSON_1>``, ``<EMAIL_ADDRESS_2>``, and the same value
gets the same token throughout a case, so a model can still reason about "who
did what" without seeing who. The token → value map lives encrypted in the case's
:class:`~.vault.PseudonymVault`; :meth:`Pseudonymizer.reveal` turns tokens back into
values for an actor whose roles the reveal policy allows, and reports every attempt
as a :class:`RevealEvent` for the audit trail. Shredding the case key makes the
values unrecoverable.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import phonenumbers
from presidio_anonymizer import AnonymizerEngine
from presidio_anonymizer.entities import OperatorConfig
from presidio_anonymizer.entities import RecognizerResult as AnonymizerSpan

from casepilot.errors import GovernanceBlocked

from ._field_hints import MAX_HINTED_LENGTH, hinted_type
from .detector import DetectedEntity, PiiDetector, as_unicode, default_detector, surrogates_in
from .vault import PseudonymVault, reveal_tokens

if TYPE_CHECKING:
    from casepilot.governance.governor import RedactedPayload

__all__ = [
    "TOKEN_PATTERN",
    "JsonLike",
    "PayloadRedaction",
    "Pseudonymizer",
    "RedactionResult",
    "RevealEvent",
    "RevealPolicy",
    "RevealResult",
    "roles_policy",
    "whole_value_type",
]

JsonLike: TypeAlias = "dict[str, JsonLike] | list[JsonLike] | tuple[JsonLike, ...] | str | int | float | bool | None"
#: ``(actor, actor_roles, case_id) -> allowed``.
RevealPolicy: TypeAlias = Callable[[str, frozenset[str], str], bool]

#: What a pseudonym looks like in text: ``<ENTITY_TYPE_N>``.
TOKEN_PATTERN = re.compile(r"<(?P<type>[A-Z][A-Z0-9_]*?)_(?P<n>[1-9]\d*)>")
_LONG_INT = 10**8  # integers with 9+ digits may be account, card or phone numbers
_HUGE_INT = 10**40  # ... and none of those has 41: larger ones are left alone (Python may refuse to print them)


@dataclass(frozen=True)
class RedactionResult:
    """A redacted text, what was found in it (type → count) and the tokens it now holds.

    ``repaired`` counts the lone UTF-16 surrogates of the text given that ``text`` holds as
    U+FFFD instead: they are no Unicode characters, and nothing downstream (the store, the
    hash chain, a model's API) can take them.
    """

    text: str
    entities: Mapping[str, int]
    tokens: tuple[str, ...]
    repaired: int = 0


@dataclass(frozen=True)
class PayloadRedaction:
    """A redacted JSON-like value (same shape, keys kept) with the totals of its strings."""

    value: JsonLike
    entities: Mapping[str, int]
    tokens: tuple[str, ...]
    repaired: int = 0


@dataclass(frozen=True)
class RevealEvent:
    """An audited attempt to see personal data: record it in the case history."""

    kind: Literal["pii.revealed", "pii.reveal_denied"]
    case_id: str
    actor: str
    actor_roles: frozenset[str]
    tokens: tuple[str, ...]
    at: datetime

    @property
    def allowed(self) -> bool:
        """Whether the values were shown."""
        return self.kind == "pii.revealed"

    def as_payload(self) -> dict[str, JsonLike]:
        """A JSON-ready form for the case history (tokens only — never the values)."""
        roles: list[JsonLike] = [*sorted(self.actor_roles)]
        tokens: list[JsonLike] = [*self.tokens]
        return {
            "kind": self.kind,
            "case_id": self.case_id,
            "actor": self.actor,
            "actor_roles": roles,
            "tokens": tokens,
            "at": self.at.isoformat(),
            "allowed": self.allowed,
        }


@dataclass(frozen=True)
class RevealResult:
    """The restored text and the event that the caller must record."""

    text: str
    event: RevealEvent


def roles_policy(allowed_roles: Iterable[str]) -> RevealPolicy:
    """A policy that allows actors holding at least one of ``allowed_roles``."""
    allowed = frozenset(allowed_roles)

    def policy(actor: str, roles: frozenset[str], case_id: str) -> bool:
        return bool(allowed & roles)

    return policy


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _normalise(entity_type: str, value: str) -> str:
    """The identity of a value: formatting of numbers and letter case do not matter."""
    if entity_type == "PHONE_NUMBER" and value.lstrip().startswith("+"):
        try:  # "+46 (0)8 928 571 38" and "+46 8 928 571 38" are one number
            number = phonenumbers.parse(value, None)
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) + (
                f"x{number.extension}" if number.extension else ""
            )
        except phonenumbers.NumberParseException:
            pass
    if entity_type in {"PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN"}:
        return "".join(ch for ch in value if ch.isalnum()).upper()
    return " ".join(value.split()).casefold()


@dataclass
class _CaseMap:
    by_value: dict[tuple[str, str], str]
    counters: Counter[str]


class Pseudonymizer:
    """Redacts and reveals PII for cases, keeping mappings in a :class:`PseudonymVault`.

    ``policy`` is a :data:`RevealPolicy` or a set of role names allowed to reveal
    (default: nobody). ``on_reveal`` receives every :class:`RevealEvent`, allowed or
    denied, so the store or agent can append it to the case history; the event is
    also returned. ``clock`` is injected for deterministic histories.

    Tokens are kept consistent within this process through a per-case cache that is
    filled from the vault on first use, so a restarted process continues a case's
    numbering. Two processes redacting the same case at the same moment may issue
    two tokens for one value; both reveal correctly.
    """

    def __init__(
        self,
        vault: PseudonymVault,
        *,
        detector: PiiDetector | None = None,
        policy: RevealPolicy | Iterable[str] = (),
        clock: Callable[[], datetime] = _utcnow,
        on_reveal: Callable[[RevealEvent], None] | None = None,
    ) -> None:
        self._vault = vault
        self._detector = detector
        self._policy: RevealPolicy = policy if callable(policy) else roles_policy(policy)
        self._clock = clock
        self._on_reveal = on_reveal
        self._cases: dict[str, _CaseMap] = {}
        self._lock = threading.RLock()
        self._anonymizer = AnonymizerEngine()  # type: ignore[no-untyped-call]

    @property
    def detector(self) -> PiiDetector:
        """The detector in use (the process-wide one unless another was given)."""
        if self._detector is None:
            self._detector = default_detector()
        return self._detector

    # -- redaction ---------------------------------------------------------------

    def redact_text(self, text: str, case_id: str) -> RedactionResult:
        """Replace every PII value in ``text`` by the case's token for it."""
        return self._redact_found(text, self.detector.analyze(text), case_id)

    def redact_texts(self, texts: Sequence[str], case_id: str) -> list[RedactionResult]:
        """:meth:`redact_text` for many texts, detecting in one batch."""
        found = self.detector.analyze_batch(texts)
        return [self._redact_found(t, f, case_id) for t, f in zip(texts, found, strict=True)]

    def redact_payload(self, obj: JsonLike, case_id: str) -> PayloadRedaction:
        """Redact every string inside a JSON-like value; keys and structure are kept.

        Integers of nine or more digits are checked too (card, account and phone
        numbers arrive as numbers); one that holds PII becomes its token string.
        """
        texts: list[str] = []
        hints: list[str | None] = []
        _collect(obj, texts, hints)
        whole = [whole_value_type(text, hint) for text, hint in zip(texts, hints, strict=True)]
        detect = [text for text, hint in zip(texts, whole, strict=True) if hint is None]
        detected = iter(self.redact_texts(detect, case_id) if detect else [])
        results = iter([next(detected) if hint is None else self.redact_whole(text, hint, case_id)
                        for text, hint in zip(texts, whole, strict=True)])
        entities: Counter[str] = Counter()
        tokens: dict[str, None] = {}
        repaired = 0

        def take() -> str:
            nonlocal repaired
            result = next(results)
            entities.update(result.entities)
            tokens.update(dict.fromkeys(result.tokens))
            repaired += result.repaired
            return result.text

        value = _rebuild(obj, take)
        return PayloadRedaction(value, MappingProxyType(dict(entities)), tuple(tokens), repaired)

    def redact_whole(self, text: str, entity_type: str, case_id: str) -> RedactionResult:
        """``text`` as one token of ``entity_type`` (a field whose name says what it holds)."""
        repaired = surrogates_in(text)
        value = (as_unicode(text) if repaired else text).strip()
        with self._lock:
            token = self._token_for(case_id, entity_type, value)
        return RedactionResult(token, MappingProxyType({entity_type: 1}), (token,), repaired)

    def redact_arguments(self, arguments: Mapping[str, Any], case_id: str) -> RedactedPayload:
        """The Governor's ``PayloadRedactor``: redact a tool's or model call's arguments."""
        from casepilot.governance.governor import RedactedPayload

        result = self.redact_payload(dict(arguments), case_id)
        payload = result.value if isinstance(result.value, dict) else {}
        return RedactedPayload(payload, result.entities)

    def _redact_found(self, text: str, found: Sequence[DetectedEntity], case_id: str) -> RedactionResult:
        # The detector read lone surrogates as U+FFFD (same offsets); the result holds them so too.
        repaired = surrogates_in(text)
        text = as_unicode(text) if repaired else text
        if "<" in text:  # already-issued tokens stay as they are (re-redacting history is a no-op)
            issued = [(m.start(), m.end()) for m in TOKEN_PATTERN.finditer(text)]
            found = [e for e in found if not any(e.start < b and a < e.end for a, b in issued)]
        if not found:
            return RedactionResult(text, MappingProxyType({}), (), repaired)
        used: set[str] = set()

        def tokenizer(entity_type: str) -> Callable[[str], str]:
            def replace(value: str) -> str:
                with self._lock:
                    token = self._token_for(case_id, entity_type, value)
                used.add(token)
                return token

            return replace

        with self._lock:  # issue new tokens in text order, so numbering reads naturally
            for e in found:
                self._token_for(case_id, e.entity_type, text[e.start : e.end])
        types = {e.entity_type for e in found}
        operators = {t: OperatorConfig("custom", {"lambda": tokenizer(t)}) for t in types}
        spans = [AnonymizerSpan(e.entity_type, e.start, e.end, e.score) for e in found]
        redacted = self._anonymizer.anonymize(text=text, analyzer_results=spans, operators=operators).text
        order = [m.group() for m in TOKEN_PATTERN.finditer(redacted) if m.group() in used]
        counts = Counter(e.entity_type for e in found)
        return RedactionResult(redacted, MappingProxyType(dict(counts)), tuple(dict.fromkeys(order)), repaired)

    def _case(self, case_id: str) -> _CaseMap:
        case = self._cases.get(case_id)
        if case is None:
            case = _CaseMap({}, Counter())
            matches = {t: m for t in self._vault.tokens(case_id) if (m := TOKEN_PATTERN.fullmatch(t)) is not None}
            values = reveal_tokens(self._vault, case_id, matches)  # one read for all, not two per token
            for token, m in matches.items():
                etype, n = m.group("type"), int(m.group("n"))
                case.counters[etype] = max(case.counters[etype], n)
                case.by_value[(etype, _normalise(etype, values[token]))] = token
            self._cases[case_id] = case
        return case

    def _token_for(self, case_id: str, entity_type: str, value: str) -> str:
        case = self._case(case_id)
        key = (entity_type, _normalise(entity_type, value))
        token = case.by_value.get(key)
        if token is None:
            case.counters[entity_type] += 1
            token = f"<{entity_type}_{case.counters[entity_type]}>"
            self._vault.put(case_id, token, value)
            case.by_value[key] = token
        return token

    # -- reveal and erasure ----------------------------------------------------

    def reveal(
        self, text: str, case_id: str, actor_roles: Iterable[str], *, actor: str
    ) -> RevealResult:
        """Put the values back for an allowed actor; audit every attempt.

        Raises :class:`~casepilot.errors.GovernanceBlocked` when the policy denies
        (after reporting the denied event), and the vault's ``NotFound`` —
        :class:`~.vault.PseudonymsShredded` for a shredded case — when a token
        cannot be resolved.
        """
        roles = frozenset(actor_roles)
        tokens = tuple(dict.fromkeys(m.group() for m in TOKEN_PATTERN.finditer(text)))
        allowed = bool(self._policy(actor, roles, case_id))
        event = RevealEvent(
            "pii.revealed" if allowed else "pii.reveal_denied", case_id, actor, roles, tokens, self._clock()
        )
        if not allowed:
            self._emit(event)
            raise GovernanceBlocked(
                f"{actor} (roles: {', '.join(sorted(roles)) or 'none'}) may not reveal personal data of case {case_id}",
                policy="pii.reveal",
            )
        values = {token: self._vault.get(case_id, token) for token in tokens}
        self._emit(event)
        restored = TOKEN_PATTERN.sub(lambda m: values[m.group()], text)
        return RevealResult(restored, event)

    def shred(self, case_id: str) -> None:
        """Erase the case key in the vault and forget the cached mapping."""
        with self._lock:
            self._vault.shred(case_id)
            self._cases.pop(case_id, None)

    def _emit(self, event: RevealEvent) -> None:
        if self._on_reveal is not None:
            self._on_reveal(event)


def whole_value_type(text: str, hint: str | None) -> str | None:
    """The entity type to give ``text`` as a whole, when its field's name promises one and the
    value is the datum itself (short, not empty, not already a token); else ``None``: detect."""
    value = text.strip()
    if (hint is None or not value or len(value) > MAX_HINTED_LENGTH or TOKEN_PATTERN.search(value)
            or not any(c.isalnum() for c in value)):
        return None
    return hint


def _collect(obj: JsonLike, out: list[str], hints: list[str | None], hint: str | None = None) -> None:
    """The strings (and long integers) of ``obj`` in order, each with the entity type its
    field's name promises (``hints``; items of a list under such a field share it)."""
    if isinstance(obj, str):
        out.append(obj)
        hints.append(hint)
    elif isinstance(obj, bool) or obj is None or isinstance(obj, float):
        return
    elif isinstance(obj, int):
        if _LONG_INT <= abs(obj) < _HUGE_INT:
            out.append(str(obj))
            hints.append(hint)
    elif isinstance(obj, dict):
        for key, value in obj.items():
            _collect(value, out, hints, hinted_type(key))
    else:
        for item in obj:
            _collect(item, out, hints, hint)


def _rebuild(obj: JsonLike, take: Callable[[], str]) -> JsonLike:
    if isinstance(obj, str):
        return take()
    if isinstance(obj, bool) or obj is None or isinstance(obj, float):
        return obj
    if isinstance(obj, int):
        if not _LONG_INT <= abs(obj) < _HUGE_INT:
            return obj
        text = take()
        return obj if text == str(obj) else text
    if isinstance(obj, dict):
        return {key: _rebuild(value, take) for key, value in obj.items()}
    if isinstance(obj, tuple):
        return tuple(_rebuild(item, take) for item in obj)
    return [_rebuild(item, take) for item in obj]
