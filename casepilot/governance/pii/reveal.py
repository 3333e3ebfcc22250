"""Expressions and decisions see the clear values behind a case's pseudonyms — nothing stored does.

A case file holds pseudonyms for personal data (``<PERSON_1>``, the clear values encrypted in
the case's vault). A condition ``payee = "John Smith"`` evaluated on ``<PERSON_1>`` answers
wrongly. So what casepilot evaluates in-process on case data — a BPMN process's FEEL (gateway
and sequence-flow conditions, timers, multi-instance expressions, mappings, business-rule
tasks), a CMMN case's sentry if-parts and item rules, a decision task's DMN decision — is
evaluated on a *revealed view*: the pseudonyms inside the variables the expression reads are
replaced by their clear values for that one evaluation. The view is never written anywhere —
the data keeps the pseudonyms — and nothing leaves the process by it (evaluation is in-process).

* **Only what is read.** Only the variables an expression names (its FEEL free names; for a
  decision, the inputs its model declares) are searched for pseudonyms, and those are
  revealed with one vault read (``get_many``). An expression whose variables hold no
  pseudonym costs no vault read and no copy of the variables.
* **What is stored is concealed again.** A result that is kept gets the pseudonyms back:
  every clear value revealed for the evaluation is replaced by its pseudonym wherever it
  appears in the result (:func:`conceal`, case-insensitively). A BPMN result that becomes
  process data also passes through the host's ``conceal`` (the case's PII detector) when it
  holds new text (:func:`needs_detector`), which catches what FEEL derived from a clear value
  (``substring(payee, 1, 4)``). A *decision's* result — a CMMN decision task's, a BPMN
  business-rule task's — is concealed by :func:`conceal_derived`: every string in it that is not
  exactly a pseudonym goes through the detector too, and a string that still shares a run of
  characters with a clear value the decision read is pseudonymised whole (see there).
* **Fail closed on erased data.** A pseudonym that cannot be revealed (the case's personal
  data was erased, or the text only looks like a pseudonym) stops the evaluation with
  :class:`~casepilot.errors.PersonalDataErased`: the expression is never evaluated on the
  pseudonym (it would compare ``<PERSON_1>`` and answer *something*), nor on null
  (``payee != "x"`` would then hold). What the host does then is its business (a process
  fails; a case's decision task faults; a case whose condition cannot be read fails).

Without a revealer (no privacy layer, scenarios, tests) values are used as they are.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any, Protocol

from casepilot.errors import NotFound, PersonalDataErased
from casepilot.governance.pii.pseudonymizer import TOKEN_PATTERN
from casepilot.governance.pii.vault import PseudonymVault, reveal_tokens

__all__ = [
    "PersonalDataErased",
    "Revealer",
    "VaultRevealer",
    "conceal",
    "conceal_derived",
    "has_strings",
    "map_strings",
    "needs_detector",
    "reveal_names",
    "strings_in",
    "tokens_in",
]


class Revealer(Protocol):
    """What in-process evaluation asks of the host's privacy layer."""

    def reveal(self, tokens: Collection[str]) -> Mapping[str, str]:
        """``token -> clear value`` for every one of ``tokens``; :class:`PersonalDataErased` when one cannot be."""
        ...

    def conceal(self, value: Any) -> Any:
        """``value`` (about to be stored) with the personal data in it pseudonymised."""
        ...

    def conceal_as(self, text: str, kind: str) -> str:
        """``text`` (about to be stored) pseudonymised whole, as one datum of entity type ``kind``."""
        ...


class VaultRevealer:
    """A :class:`Revealer` over a case's pseudonym vault (``conceal``: the case's pseudonymiser, if given).

    It keeps what it revealed for its own life, in memory: give it a short one (one run of a
    process, one evaluation), never one that outlives an erasure.
    """

    def __init__(
        self,
        vault: PseudonymVault,
        case_id: str,
        conceal: Callable[[Any], Any] | None = None,
        conceal_as: Callable[[str, str], str] | None = None,
    ) -> None:
        self.vault = vault
        self.case_id = case_id
        self._conceal = conceal
        self._conceal_as = conceal_as
        self._clear: dict[str, str] = {}

    def reveal(self, tokens: Collection[str]) -> Mapping[str, str]:
        missing = [t for t in dict.fromkeys(tokens) if t not in self._clear]
        if missing:
            try:
                self._clear.update(reveal_tokens(self.vault, self.case_id, missing))
            except NotFound as exc:
                raise PersonalDataErased(
                    f"the personal data behind {', '.join(sorted(missing))} of case {self.case_id} cannot be "
                    f"revealed ({exc})"
                ) from exc
        return {t: self._clear[t] for t in tokens}

    def conceal(self, value: Any) -> Any:
        return value if self._conceal is None else self._conceal(value)

    def conceal_as(self, text: str, kind: str) -> str:
        return text if self._conceal_as is None else self._conceal_as(text, kind)


def strings_in(value: Any) -> Iterator[str]:
    """Every string inside ``value`` (itself, or nested in dicts' values, lists and tuples) — the one walk
    the functions below share."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from strings_in(item)


def map_strings(value: Any, fn: Callable[[str], str]) -> Any:
    """A copy of ``value`` with ``fn`` applied to every string inside it (tuples become lists, as in JSON)."""
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, Mapping):
        return {k: map_strings(v, fn) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [map_strings(v, fn) for v in value]
    return value


_PLAIN = frozenset({int, float, bool, Decimal, type(None), dt.date, dt.datetime, dt.time, dt.timedelta})
"""Types of values that never hold a pseudonym (a quick test before any walk)."""


def _may_hold_tokens(value: Any) -> bool:
    cls = value.__class__
    return "<" in value if cls is str else cls not in _PLAIN


def tokens_in(value: Any) -> list[str]:
    """The pseudonyms inside ``value``, in order (repeats included).

    Called for every variable a condition reads, so a plain text or a number is answered
    without walking (most variables are one or the other, and hold no pseudonym)."""
    if isinstance(value, str):
        return [m.group() for m in TOKEN_PATTERN.finditer(value)] if "<" in value else []
    if not isinstance(value, (dict, list, tuple, Mapping)):
        return []
    return [m.group() for text in strings_in(value) if "<" in text for m in TOKEN_PATTERN.finditer(text)]


def has_strings(value: Any) -> bool:
    """Whether ``value`` holds a string anywhere (a result without one needs no concealing)."""
    return next(strings_in(value), None) is not None


def needs_detector(result: Any, names: Mapping[str, Any], read: Iterable[str]) -> bool:
    """Whether a kept result holds a string that is not a verbatim copy of a stored string it read
    (a copy is pseudonymised already; a new text may carry what FEEL derived from a clear value)."""
    made = set(strings_in(result))
    if not made:
        return False
    stored = {text for name in read if name in names for text in strings_in(names[name])}
    return not made <= stored


def reveal_names(
    names: Mapping[str, Any], read: Iterable[str], revealer: Revealer
) -> tuple[Mapping[str, Any], dict[str, str]]:
    """``names`` with the pseudonyms in the variables of ``read`` revealed, and the ``token -> clear`` used.

    ``names`` itself (not a copy) when those variables hold no pseudonym: then the revealer is
    not asked at all. Else a copy: ``names`` (the stored data) is never touched.
    """
    read = [n for n in read if n in names and _may_hold_tokens(names[n])]
    if not read:  # the common case (numbers, codes, texts without one): no walk, no vault read, no copy
        return names, {}
    found = [token for name in read for token in tokens_in(names[name])]
    if not found:
        return names, {}
    clear = dict(revealer.reveal(found))

    def clear_text(text: str) -> str:
        return TOKEN_PATTERN.sub(lambda m: clear[m.group()], text) if "<" in text else text

    view = dict(names)
    for name in read:
        view[name] = map_strings(names[name], clear_text)
    return view, clear


def conceal(value: Any, clear: Mapping[str, str]) -> Any:
    """``value`` with every clear value of ``clear`` (``token -> clear``) back as its token, case-insensitively.

    Longest clear values first, so a name containing another is replaced whole. Over-replacing
    (a short clear value inside an unrelated word) errs on the private side.
    """
    if not clear or not has_strings(value):
        return value
    pairs = sorted(((text, token) for token, text in clear.items() if text.strip()), key=lambda p: -len(p[0]))
    patterns = [(re.compile(re.escape(text), re.IGNORECASE), token) for text, token in pairs]

    def put_back(text: str) -> str:
        for pattern, token in patterns:
            text = pattern.sub(lambda _m, token=token: token, text)  # type: ignore[misc]
        return text

    return map_strings(value, put_back)


FRAGMENT = 4
"""How many characters in a row a stored string may share with a clear value the decision read
before it counts as derived from it (``substring(iban, 1, 4)``: a country code and check digits)."""


def conceal_derived(value: Any, clear: Mapping[str, str], revealer: Revealer) -> Any:
    """A decision's result (``clear``: the ``token -> clear`` it was evaluated on), as it may be stored.

    A decision may derive text from a clear value other than by copying it — ``substring(payee,
    1, 4)``, ``upper(payee)``, ``"ref " + substring(iban, 5, 8)`` — and what it returns is kept in
    the case file (a CMMN decision task's output, a BPMN business-rule task's result). So:

    1. every clear value copied into it (any case) is put back as its pseudonym (:func:`conceal`);
    2. then, unless every string in it is exactly a pseudonym, it goes through the host's
       ``conceal`` — the case's PII detector — like new text a process mapping derives; a
       table's literal (``"domestic"``) passes through unchanged unless the detector reads
       personal data in it (erring on the private side);
    3. a string that still shares :data:`FRAGMENT` characters in a row (case-insensitively)
       with a clear value it read, outside pseudonyms, is pseudonymised whole as that value's
       entity type (``conceal_as``): a detector does not recognise four characters of an IBAN
       or a first name on its own, and nothing derived from a clear value may be stored clear.

    Without any clear value (the decision read no personal data) the value is returned as it is.
    """
    if not clear:
        return value
    result = conceal(value, clear)
    if not has_strings(result) or all(TOKEN_PATTERN.fullmatch(text) for text in strings_in(result)):
        return result
    result = revealer.conceal(result)
    grams = _fragments(clear)
    if not grams:
        return result

    def whole(text: str) -> str:
        outside = TOKEN_PATTERN.sub(lambda _m: "\x00", text).casefold()  # no run across a pseudonym
        kind = next((k for gram, k in grams.items() if gram in outside), None)
        return text if kind is None else revealer.conceal_as(text, kind)

    return map_strings(result, whole)


def _fragments(clear: Mapping[str, str]) -> dict[str, str]:
    """Every run of :data:`FRAGMENT` characters of the clear values (casefolded, not blank) -> the
    entity type of the pseudonym it belongs to."""
    grams: dict[str, str] = {}
    for token, text in clear.items():
        match = TOKEN_PATTERN.fullmatch(token)
        kind = match.group("type") if match else "PII"
        folded = text.casefold()
        for i in range(len(folded) - FRAGMENT + 1):
            gram = folded[i:i + FRAGMENT]
            if gram.strip() and len(gram.strip()) == FRAGMENT:
                grams.setdefault(gram, kind)
    return grams
