"""The agent's privacy layer: pseudonymise before anything is stored or sent, reveal only
inside the process or to authorised people.

Case variables are kept pseudonymised in the store (``<PERSON_1>``), their clear values
encrypted in the store's per-case vault, so erasing the case key erases the PII
everywhere — history, state snapshots and checkpoints hold only tokens. In-process tools
get the real values (``reveal_payload``) for the duration of the call; external tools and
language models only ever see tokens.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from enum import Enum
from typing import Any

import orjson

from casepilot.governance.governor import RedactedPayload
from casepilot.governance.pii import TOKEN_PATTERN, Pseudonymizer, PseudonymVault
from casepilot.governance.pii._field_hints import hinted_type
from casepilot.governance.pii.pseudonymizer import whole_value_type
from casepilot.governance.pii.vault import reveal_tokens

__all__ = ["CasePrivacy", "jsonable"]


def _strings(obj: Any, out: list[tuple[str, str | None]], hint: str | None = None) -> None:
    """Every string of ``obj``, with the entity type its field's name promises (``hinted_type``)."""
    if isinstance(obj, str):
        out.append((obj, hint))
    elif isinstance(obj, Mapping):
        for key, value in obj.items():
            _strings(value, out, hinted_type(key))
    elif isinstance(obj, (list, tuple)):
        for item in obj:
            _strings(item, out, hint)


def _rebuild(obj: Any, take: Callable[[], str]) -> Any:
    if isinstance(obj, str):
        return take()
    if isinstance(obj, Mapping):
        return {k: _rebuild(v, take) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_rebuild(v, take) for v in obj]
    return obj


def _json_default(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value  # as orjson writes any enum, and json one of text or numbers (``jsonable``)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.time, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, Mapping):
        return dict(value)
    return str(value)


_dumps = json.JSONEncoder(default=_json_default, allow_nan=False).encode
"""``json.dumps(obj, default=_json_default, allow_nan=False)`` without building an encoder per call."""
_loads = json.JSONDecoder().decode
_ORJSON_AS_JSON = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME
"""``orjson`` options that make it write what ``_dumps`` writes: dataclasses and temporals through
``_json_default`` (not its own forms). Keys that are not text it refuses (``json`` writes a float
key its own way), and ``jsonable`` asks ``json``."""


def jsonable(obj: Any) -> Any:
    """A JSON-compatible copy: decimals as strings (exact), temporals in ISO-8601.

    This runs for several payloads of every agent step, so ``orjson`` does the round trip
    when its result is the same (in a fifth of the time): it refuses what it cannot write as
    ``json`` does (an integer beyond 64 bits, a key that is not text) but writes NaN and the infinities
    as ``null`` — so output with a ``null`` anywhere goes through ``json`` as well, whose
    ``allow_nan=False`` tells them apart. What ``json`` cannot take (NaN, odd keys) takes
    the explicit walk below. (``orjson`` reads back exactly what it wrote: no integer it
    writes is beyond 64 bits, floats round-trip.)
    """
    try:
        text = orjson.dumps(obj, default=_json_default, option=_ORJSON_AS_JSON)
        if b"null" not in text:
            return orjson.loads(text)
    except TypeError:  # orjson.JSONEncodeError
        pass
    try:
        return _loads(_dumps(obj))
    except (TypeError, ValueError):
        return _jsonable_walk(obj)


def _jsonable_walk(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(k): _jsonable_walk(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable_walk(v) for v in obj]
    if isinstance(obj, float) and obj != obj:  # NaN is not JSON
        return None
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    return _json_default(obj)


class CasePrivacy:
    """Pseudonymisation of case data over a vault (the store's vault in production)."""

    def __init__(
        self, vault: PseudonymVault, *, pseudonymizer: Pseudonymizer | None = None, clean_cache: int = 20_000
    ) -> None:
        self.vault = vault
        self.pseudonymizer = pseudonymizer or Pseudonymizer(vault)
        self._clean: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._clean_limit = clean_cache
        self._lock = threading.Lock()

    def _is_clean(self, case_id: str, text: str) -> bool:
        with self._lock:
            key = (case_id, text)
            if key in self._clean:
                self._clean.move_to_end(key)
                return True
            return False

    def _mark_clean(self, case_id: str, texts: Iterable[str]) -> None:
        with self._lock:
            for text in texts:
                self._clean[(case_id, text)] = None
            while len(self._clean) > self._clean_limit:
                self._clean.popitem(last=False)

    def redact_value(self, obj: Any, case_id: str) -> tuple[Any, dict[str, int]]:
        """``obj`` with every string's PII replaced by tokens (numbers and other values untouched).

        Texts this object produced for the case before (already pseudonymised) are not run
        through the detector again: the case's stored values pass here at every step.
        """
        pairs: list[tuple[str, str | None]] = []
        _strings(obj, pairs)
        # A short value in a field whose name says what it holds ("applicant") is that datum as a
        # whole, whatever the detector would read in it; everything else goes to the detector.
        kinds = [(text, whole_value_type(text, hint)) for text, hint in pairs]
        todo = sorted({t for t, kind in kinds if kind is None and t.strip() and not self._is_clean(case_id, t)})
        wholes = {(t, kind): self.pseudonymizer.redact_whole(t, kind, case_id)
                  for t, kind in set(kinds) if kind is not None}
        if not todo and not wholes:
            return obj, {}
        done = dict(zip(todo, self.pseudonymizer.redact_texts(todo, case_id), strict=True)) if todo else {}
        self._mark_clean(case_id, [r.text for r in done.values()])
        counts: dict[str, int] = {}
        results = [wholes[(t, kind)] if kind is not None else done.get(t) for t, kind in kinds]
        for result in results:
            if result is not None:
                for entity, n in result.entities.items():
                    counts[entity] = counts.get(entity, 0) + n
        stream = iter(zip(kinds, results, strict=True))

        def take() -> str:
            (text, _kind), result = next(stream)
            return result.text if result is not None else text

        return _rebuild(obj, take), counts

    def redact_arguments(self, arguments: Mapping[str, Any], case_id: str) -> RedactedPayload:
        """The Governor's redaction hook (``PayloadRedactor``)."""
        value, counts = self.redact_value(dict(arguments), case_id)
        return RedactedPayload(jsonable(value), counts)

    def reveal_payload(self, obj: Any, case_id: str) -> Any:
        """Clear values for an in-process tool call (never stored, never sent out)."""
        tokens: list[str] = []

        def collect(value: Any) -> None:
            if isinstance(value, str):
                tokens.extend(match.group() for match in TOKEN_PATTERN.finditer(value))
            elif isinstance(value, Mapping):
                for item in value.values():
                    collect(item)
            elif isinstance(value, (list, tuple)):
                for item in value:
                    collect(item)

        collect(obj)
        if not tokens:
            return obj
        clear = reveal_tokens(self.vault, case_id, tokens)  # one read for all of them

        def walk(value: Any) -> Any:
            if isinstance(value, str):
                return TOKEN_PATTERN.sub(lambda match: clear[match.group()], value)
            if isinstance(value, Mapping):
                return {k: walk(v) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return [walk(v) for v in value]
            return value

        return walk(obj)

    def forget(self, case_id: str) -> None:
        """Drop everything this process remembers of a case's values (after its vault key is shredded)."""
        self.pseudonymizer.shred(case_id)
        with self._lock:
            for key in [k for k in self._clean if k[0] == case_id]:
                del self._clean[key]

    @staticmethod
    def tokens_in(obj: Any) -> set[str]:
        pairs: list[tuple[str, str | None]] = []
        _strings(obj, pairs)
        return {m.group() for t, _hint in pairs for m in TOKEN_PATTERN.finditer(t)}
