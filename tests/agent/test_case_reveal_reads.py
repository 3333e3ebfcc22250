"""What a case's condition view (``casepilot.agent._case_reveal``) reads from the vault.

A condition whose variables hold no pseudonym costs no vault read (and no copy of the
variables); one that reads pseudonyms reveals all of them in one read, and only those of the
variables it reads; nothing is remembered between evaluations, so an erasure takes effect at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

import pytest

from casepilot.agent._case_reveal import CaseReveal
from casepilot.agent.privacy import CasePrivacy
from casepilot.errors import PersonalDataErased
from casepilot.governance.pii import InMemoryVault

CASE = "case-1"
VARIABLES = {
    "payee": "<PERSON_1>",
    "clerk": "<PERSON_2>",
    "iban": "<IBAN_CODE_1>",
    "amount": 40,
    "note": {"lines": ["paid to <PERSON_1>"]},
}


class CountingVault(InMemoryVault):
    """Records every read a caller makes (a ``get_many`` is one read, whatever it does inside)."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: list[list[str]] = []
        self._inside = False

    def get_many(self, case_id: str, tokens: Iterable[str]) -> dict[str, str]:
        wanted = list(tokens)
        self.reads.append(sorted(wanted))
        self._inside = True
        try:
            return super().get_many(case_id, wanted)
        finally:
            self._inside = False

    def get(self, case_id: str, token: str) -> str:
        if not self._inside:
            self.reads.append([token])
        return super().get(case_id, token)


class _Privacy:
    def __init__(self, vault: CountingVault) -> None:
        self.vault = vault

    def redact_value(self, value: Any, case_id: str) -> tuple[Any, dict[str, int]]:
        return value, {}


@pytest.fixture
def vault() -> CountingVault:
    vault = CountingVault()
    vault.put(CASE, "<PERSON_1>", "John Smith")
    vault.put(CASE, "<PERSON_2>", "Ann Lee")
    vault.put(CASE, "<IBAN_CODE_1>", "DE89370400440532013000")
    return vault


def _reveal(vault: CountingVault) -> CaseReveal:
    return CaseReveal(cast(CasePrivacy, _Privacy(vault)), CASE)


def test_a_condition_reading_no_pseudonym_reads_nothing_and_copies_nothing(vault: CountingVault) -> None:
    reveal = _reveal(vault)
    assert reveal(VARIABLES, frozenset({"amount"})) is VARIABLES
    assert reveal(VARIABLES, frozenset({"amount", "unknown"})) is VARIABLES
    assert vault.reads == []


def test_only_the_variables_read_are_revealed_in_one_read_each_time(vault: CountingVault) -> None:
    reveal = _reveal(vault)
    view = reveal(VARIABLES, frozenset({"payee", "iban", "note", "amount"}))
    assert view["payee"] == "John Smith" and view["iban"] == "DE89370400440532013000"
    assert view["note"] == {"lines": ["paid to John Smith"]}
    assert view["clerk"] == "<PERSON_2>"  # not read: not revealed
    assert VARIABLES["payee"] == "<PERSON_1>"  # the stored variables are untouched
    assert vault.reads == [["<IBAN_CODE_1>", "<PERSON_1>"]]  # one read, each pseudonym once
    reveal(VARIABLES, frozenset({"payee"}))
    assert len(vault.reads) == 2  # nothing kept between evaluations


def test_erased_data_raises_naming_what_the_condition_reads(vault: CountingVault) -> None:
    reveal = _reveal(vault)
    reveal(VARIABLES, frozenset({"payee"}))
    vault.shred(CASE)
    with pytest.raises(PersonalDataErased, match=r"reads payee, whose personal data cannot be revealed"):
        reveal(VARIABLES, frozenset({"payee", "amount"}))
    assert reveal(VARIABLES, frozenset({"amount"})) is VARIABLES  # what reads no personal data still works


def test_one_engine_operation_reads_each_pseudonym_once_and_forgets_it_after(vault: CountingVault) -> None:
    reveal = _reveal(vault)
    with reveal.batch():  # one operation: several if-parts read the payee
        for read in ({"payee"}, {"payee", "amount"}, {"payee", "iban"}):
            reveal(VARIABLES, frozenset(read))
    assert vault.reads == [["<PERSON_1>"], ["<IBAN_CODE_1>"]]  # each pseudonym read once, not per condition
    vault.shred(CASE)
    with pytest.raises(PersonalDataErased):  # nothing kept past the operation: the erasure holds at once
        reveal(VARIABLES, frozenset({"payee"}))


class Text(str):
    """A str subclass (as some libraries hand back): still searched for pseudonyms."""


def test_pseudonyms_are_found_in_nested_values_and_text_subclasses(vault: CountingVault) -> None:
    variables = {"who": Text("<PERSON_1>"), "parties": ({"name": "<PERSON_2>"}, ["<PERSON_1>", 3]), "n": 2}
    view = _reveal(vault)(variables, frozenset(variables))
    assert view["who"] == "John Smith" and view["parties"] == [{"name": "Ann Lee"}, ["John Smith", 3]]
    assert view["n"] == 2 and vault.reads == [["<PERSON_1>", "<PERSON_2>"]]
