"""Where an argument value a planner wrote itself came from (DESIGN.md: provenance travels with data).

A binding's argument read from the case file carries that variable's provenance. A value
the planner wrote itself (an LLM's argument, a scripted planner's) has none of its own:
it is model text, untrusted — unless it merely repeats, verbatim, something a trusted
source said. The rule, fail closed:

* a planner-written value is **trusted** only when it occurs verbatim in a trusted
  case-file value (the starting request, a person's input, the definition) — its source
  is then ``request:<variable>`` for the request, else the variable's own source (with
  ``via`` naming the variable);
* it stays **untrusted** when it also occurs in an untrusted value (its source then names
  where: ``tool:<tool>``, ``case:<id>``…) or occurs nowhere (``planner:<name>``).

"Occurs verbatim" means: a string equal to a trusted string or found inside a trusted
text at word boundaries (``DE89…300`` does not occur in ``DE89…3000``); a number equal to
a trusted number or written as a whole number token in a trusted text (``100`` occurs in
"pay 100.00 EUR", not in "1000"); booleans and ``null`` only by equality; a list or dict
only when every element (every value) does. Strings compare after the case's
pseudonymisation (the caller redacts the arguments with the same vault first), so a
``<PERSON_1>`` the model copied matches the ``<PERSON_1>`` in the stored request.

Chat messages count too: what a person said in the case's chat (``person:…`` actor, user
role) is trusted as that person; what the agent or a model wrote there is not.

Trust answers "could anything but a trusted source have put this value here?"; a guardrail
sometimes needs the other half: "did a trusted source say it at all?" A recipient the user
typed is untrusted once a tool result also mentions it (the tool could have suggested it),
yet the user did name it. ``ValueSources.named`` answers that (the ``named_in_request``
guardrail input): the value occurs verbatim, by the same rule, in a trusted value —
whatever untrusted values also hold it.

A third question is *which field* a value was copied from: a recipient found in an e-mail's
``sender`` field is not the same as one found inside an e-mail's ``body``, a URL found in the
channel the user named not the same as one found in a web page. ``ValueSources.fields`` (the
``argument_fields`` guardrail input) lists, for each value of an argument (one for a scalar,
each element of a list), the untrusted case-file fields — paths with list indices dropped, so
``results.0.sender`` reads ``results.sender`` — where it occurs verbatim, by the same rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from casepilot.tools import Provenance

__all__ = ["ValueSources"]

_NUMBER = re.compile(r"(?<![\w.,-])-?\d+(?:\.\d+)?(?![\w]|[.,]\d)")
"""A whole number token in a text: not part of a word, a longer number or a decimal."""


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def _number(value: Any) -> Decimal | None:
    """``value`` as an exact Decimal when it is a finite number (never a bool)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _occurs_in(needle: str, text: str) -> bool:
    """``needle`` is inside ``text`` and not glued to a longer word or number at either end."""
    if not needle.strip():
        return False
    start = text.find(needle)
    while start >= 0:
        end = start + len(needle)
        left_ok = start == 0 or not (_is_word(needle[0]) and _is_word(text[start - 1]))
        right_ok = end == len(text) or not (_is_word(needle[-1]) and _is_word(text[end]))
        if left_ok and right_ok:
            return True
        start = text.find(needle, start + 1)
    return False


def _field(path: str) -> str:
    """A case-file path with its list indices dropped: ``results.0.sender`` -> ``results.sender``."""
    return ".".join(part for part in path.split(".") if not part.isdigit())


class _Pool:
    """The values of one trust level, indexed for the lookups above."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, Provenance]] = []
        self.numbers: dict[Decimal, Provenance] = {}
        self.others: list[tuple[Any, Provenance]] = []
        """Booleans, nulls and empty containers: matched by equality only."""
        self._text_numbers: dict[Decimal, Provenance] | None = None

    def add(self, value: Any, provenance: Provenance) -> None:
        number = _number(value)
        if isinstance(value, str):
            self.texts.append((value, provenance))
        elif number is not None:
            self.numbers.setdefault(number, provenance)
        else:
            self.others.append((value, provenance))

    def _numbers_in_texts(self) -> dict[Decimal, Provenance]:
        if self._text_numbers is None:
            found: dict[Decimal, Provenance] = {}
            for text, provenance in self.texts:
                for match in _NUMBER.finditer(text):
                    found.setdefault(Decimal(match.group()), provenance)
            self._text_numbers = found
        return self._text_numbers

    def find(self, value: Any) -> Provenance | None:
        """The provenance of a value of this pool that ``value`` occurs in, if any."""
        if isinstance(value, str):
            for text, provenance in self.texts:
                if value == text or _occurs_in(value, text):
                    return provenance
            return None
        number = _number(value)
        if number is not None:
            return self.numbers.get(number) or self._numbers_in_texts().get(number)
        for other, provenance in self.others:
            if type(other) is type(value) and other == value:
                return provenance
        return None


class ValueSources:
    """The case file (and chat) split by trust, to look planner-written values up in.

    ``provenance`` is the case's per-variable provenance (``AgentFacts.provenance``); a path
    takes the provenance of its longest recorded prefix, a variable without any is
    untrusted (``unknown``) — so ``claim.amount`` written by a tool stays untrusted inside a
    trusted ``claim``.
    """

    def __init__(self, variables: Mapping[str, Any], provenance: Mapping[str, Mapping[str, Any]],
                 chat: Sequence[Mapping[str, Any]] = ()) -> None:
        self.trusted = _Pool()
        self.untrusted = _Pool()
        self._fields: dict[str, _Pool] = {}
        """The untrusted values by case-file field (path, list indices dropped)."""
        for name, value in variables.items():
            for leaf, origin, path in self._leaves(value, name, self._recorded(provenance, name, None), provenance):
                (self.trusted if origin.is_trusted else self.untrusted).add(leaf, origin)
                if not origin.is_trusted:
                    self._fields.setdefault(_field(path), _Pool()).add(leaf, origin)
        for message in chat:
            actor = str(message.get("actor", ""))
            text = str(message.get("text", ""))
            if message.get("role") == "user" and actor.startswith("person:"):
                self.trusted.add(text, Provenance("trusted", actor, via="chat"))
            else:
                self.untrusted.add(text, Provenance("untrusted", f"chat:{actor or 'unknown'}", via="chat"))

    @staticmethod
    def _recorded(provenance: Mapping[str, Mapping[str, Any]], path: str,
                  inherited: Provenance | None) -> Provenance:
        entry = provenance.get(path)
        if entry is None:
            return inherited if inherited is not None else Provenance.untrusted("unknown")
        source = str(entry.get("source", "unknown"))
        if entry.get("trust") != "trusted":
            return Provenance("untrusted", source, via=path)
        if source == "request":
            source = f"request:{path.split('.', 1)[0]}"
        return Provenance("trusted", source, via=path)

    def _leaves(self, value: Any, path: str, origin: Provenance,
                provenance: Mapping[str, Mapping[str, Any]]) -> Iterator[tuple[Any, Provenance, str]]:
        if isinstance(value, Mapping) and value:
            for key, child in value.items():
                sub = f"{path}.{key}"
                yield from self._leaves(child, sub, self._recorded(provenance, sub, origin), provenance)
        elif isinstance(value, list | tuple) and value:
            for index, child in enumerate(value):
                sub = f"{path}.{index}"
                yield from self._leaves(child, sub, self._recorded(provenance, sub, origin), provenance)
        else:
            yield value, origin, path

    def provenance_of(self, value: Any, fallback: Provenance) -> Provenance:
        """Trusted only when ``value`` occurs in a trusted value and in no untrusted one.

        ``fallback`` (``planner:<name>``, untrusted) is the answer when it occurs nowhere.
        A non-empty list or dict is trusted only when every element is.
        """
        if isinstance(value, Mapping) and value:
            return self._all(list(value.values()), fallback)
        if isinstance(value, list | tuple) and value:
            return self._all(list(value), fallback)
        tainted = self.untrusted.find(value)
        if tainted is not None:
            return Provenance("untrusted", tainted.source, via=tainted.via)
        found = self.trusted.find(value)
        return found if found is not None else fallback

    def named(self, value: Any) -> bool:
        """Whether ``value`` occurs verbatim in a trusted value (the request, a person's words),
        whether or not an untrusted value holds it too; a non-empty list or dict only when every
        element does. Empty containers, and values found nowhere trusted, are not named."""
        if isinstance(value, Mapping):
            return bool(value) and all(self.named(v) for v in value.values())
        if isinstance(value, list | tuple):
            return bool(value) and all(self.named(v) for v in value)
        return self.trusted.find(value) is not None

    def fields(self, value: Any) -> list[list[str]]:
        """For each value of an argument (``value`` itself, or each element of a list or dict), the
        untrusted case-file fields (paths, list indices dropped, sorted) where it occurs verbatim."""
        if isinstance(value, Mapping):
            values = list(value.values())
        elif isinstance(value, list | tuple):
            values = list(value)
        else:
            values = [value]
        return [sorted(name for name, pool in self._fields.items() if pool.find(v) is not None) for v in values]

    def _all(self, values: list[Any], fallback: Provenance) -> Provenance:
        found = [self.provenance_of(v, fallback) for v in values]
        return next((p for p in found if not p.is_trusted), found[0])
