"""FEEL inside a process sees the clear values behind the case file's pseudonyms — nothing stored does.

A process run in a case gets its variables from the case file, which holds pseudonyms for
personal data (``<PERSON_1>``, clear values encrypted in the case's vault). A gateway
condition ``payee = "John Smith"`` evaluated on ``<PERSON_1>`` takes the wrong branch. So
every FEEL expression casepilot evaluates inside a process (gateway and sequence-flow
conditions, timer expressions, multi-instance expressions, service-task input and output
mappings, business-rule task inputs and the decision itself) is evaluated on a *revealed
view*: the pseudonyms inside the variables the expression reads are replaced by their clear
values for that one evaluation. The view is never written anywhere — the process data keeps
the pseudonyms — and nothing leaves the process by it (evaluation is in-process).

* **Only what is read.** Only the variables an expression names (its FEEL free names) are
  searched for pseudonyms, and those are revealed with one vault read (``get_many``); the
  revealer keeps what it revealed for its runner's life (one run of the process), in memory.
* **What is stored is concealed again.** A result that is kept — an argument of a service
  task (its call is stored, reviewed by governance and, for an external tool, sent out
  pseudonymised), a variable an output mapping or a decision writes, a timer's due time —
  gets the pseudonyms back: every clear value revealed for the evaluation is replaced by
  its pseudonym wherever it appears in the result (case-insensitively), and results that
  become process variables also pass through the host's ``conceal`` (the case's PII
  detector, the same one every stored tool result passes), which catches what a FEEL
  function derived from a clear value (``substring(payee, 1, 4)``).
* **Fail closed on erased data.** A pseudonym that cannot be revealed (the case's personal
  data was erased, or the text only looks like a pseudonym) stops the evaluation with
  :class:`PersonalDataErased`: the expression is never evaluated on the pseudonym (it
  would compare ``<PERSON_1>`` and answer *some* branch), nor on null (``payee != "x"``
  would then hold). The step fails, and with it the process (its process task faults; a
  process started on its own fails its case), saying which variables could not be read.

Without a revealer (a process run outside a case, scenarios, tests) values are used as
they are.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any, Protocol

from casepilot.errors import CasepilotError, NotFound
from casepilot.governance.pii import PseudonymVault
from casepilot.governance.pii.pseudonymizer import TOKEN_PATTERN
from casepilot.governance.pii.vault import reveal_tokens

__all__ = ["PersonalDataErased", "Revealer", "VaultRevealer", "conceal", "needs_detector", "reveal_names", "tokens_in"]


class PersonalDataErased(CasepilotError):
    """An expression reads personal data that cannot be revealed (erased): it is not evaluated."""


class Revealer(Protocol):
    """What the process's FEEL evaluation asks of the host's privacy layer."""

    def reveal(self, tokens: Collection[str]) -> Mapping[str, str]:
        """``token -> clear value`` for every one of ``tokens``; :class:`PersonalDataErased` when one cannot be."""
        ...

    def conceal(self, value: Any) -> Any:
        """``value`` (about to become process data) with the personal data in it pseudonymised."""
        ...


class VaultRevealer:
    """A :class:`Revealer` over a case's pseudonym vault (``conceal``: the case's pseudonymiser, if given)."""

    def __init__(self, vault: PseudonymVault, case_id: str, conceal: Callable[[Any], Any] | None = None) -> None:
        self.vault = vault
        self.case_id = case_id
        self._conceal = conceal
        self._clear: dict[str, str] = {}

    def reveal(self, tokens: Collection[str]) -> Mapping[str, str]:
        missing = [t for t in dict.fromkeys(tokens) if t not in self._clear]
        if missing:
            try:
                self._clear.update(reveal_tokens(self.vault, self.case_id, missing))
            except NotFound as exc:
                raise PersonalDataErased(
                    f"the personal data behind {', '.join(sorted(missing))} of case {self.case_id} cannot be "
                    f"revealed ({exc})") from exc
        return {t: self._clear[t] for t in tokens}

    def conceal(self, value: Any) -> Any:
        return value if self._conceal is None else self._conceal(value)


def tokens_in(value: Any, out: list[str] | None = None) -> list[str]:
    """The pseudonyms inside ``value`` (strings, nested in dicts and lists)."""
    found = [] if out is None else out
    if isinstance(value, str):
        if "<" in value:
            found.extend(m.group() for m in TOKEN_PATTERN.finditer(value))
    elif isinstance(value, Mapping):
        for item in value.values():
            tokens_in(item, found)
    elif isinstance(value, (list, tuple)):
        for item in value:
            tokens_in(item, found)
    return found


def _map_strings(value: Any, fn: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, Mapping):
        return {k: _map_strings(v, fn) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_map_strings(v, fn) for v in value]
    return value


def has_strings(value: Any) -> bool:
    """Whether ``value`` holds a string anywhere (a result without one needs no concealing)."""
    if isinstance(value, str):
        return True
    if isinstance(value, Mapping):
        return any(has_strings(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(has_strings(v) for v in value)
    return False


def strings_in(value: Any, out: set[str] | None = None) -> set[str]:
    """Every string inside ``value``."""
    found: set[str] = set() if out is None else out
    if isinstance(value, str):
        found.add(value)
    elif isinstance(value, Mapping):
        for item in value.values():
            strings_in(item, found)
    elif isinstance(value, (list, tuple)):
        for item in value:
            strings_in(item, found)
    return found


def needs_detector(result: Any, names: Mapping[str, Any], read: Iterable[str]) -> bool:
    """Whether a kept result holds a string that is not a verbatim copy of a stored string it read
    (a copy is pseudonymised already; a new text may carry what FEEL derived from a clear value)."""
    made = strings_in(result)
    if not made:
        return False
    stored: set[str] = set()
    for name in read:
        if name in names:
            strings_in(names[name], stored)
    return not made <= stored


def reveal_names(names: Mapping[str, Any], read: Iterable[str], revealer: Revealer) -> tuple[dict[str, Any], dict[str, str]]:
    """``names`` with the pseudonyms in the variables of ``read`` revealed, and the ``token -> clear`` used.

    A copy: ``names`` (the process data) is not touched.
    """
    read = [n for n in read if n in names]
    found: list[str] = []
    for name in read:
        tokens_in(names[name], found)
    if not found:
        return dict(names), {}
    clear = dict(revealer.reveal(found))
    view = dict(names)
    for name in read:
        view[name] = _map_strings(names[name], lambda s: TOKEN_PATTERN.sub(lambda m: clear[m.group()], s)
                                  if "<" in s else s)
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

    return _map_strings(value, put_back)
