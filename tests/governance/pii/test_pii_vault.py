"""The in-memory vault: encrypted at rest, per-case keys, shredding."""

from __future__ import annotations

import pytest

from casepilot.errors import NotFound
from casepilot.governance.pii import InMemoryVault, PseudonymsShredded, PseudonymVault, UnknownPseudonym


def test_round_trip_and_issue_order() -> None:
    vault = InMemoryVault()
    vault.put("c1", "<PERSON_1>", "Šárka Ottová")
    vault.put("c1", "<EMAIL_ADDRESS_1>", "sarka@example.cz")
    assert vault.get("c1", "<PERSON_1>") == "Šárka Ottová"
    assert vault.tokens("c1") == ["<PERSON_1>", "<EMAIL_ADDRESS_1>"]
    assert vault.tokens("other") == []


def test_plaintext_is_never_kept_in_clear() -> None:
    vault = InMemoryVault()
    vault.put("c1", "<PERSON_1>", "Tomomi Nishiyama")
    stored = b"".join(vault._cipher["c1"].values())
    assert b"Tomomi" not in stored and b"Nishiyama" not in stored


def test_cases_are_isolated() -> None:
    vault = InMemoryVault()
    vault.put("c1", "<PERSON_1>", "Alice Martin")
    with pytest.raises(UnknownPseudonym):
        vault.get("c2", "<PERSON_1>")


def test_unknown_token_is_not_found() -> None:
    vault = InMemoryVault()
    vault.put("c1", "<PERSON_1>", "Alice Martin")
    with pytest.raises(NotFound, match="no pseudonym"):
        vault.get("c1", "<PERSON_2>")


def test_shred_makes_values_unrecoverable_and_refuses_new_ones() -> None:
    vault = InMemoryVault()
    vault.put("c1", "<PERSON_1>", "Alice Martin")
    vault.put("c2", "<PERSON_1>", "Bob Stone")
    vault.shred("c1")
    with pytest.raises(PseudonymsShredded, match="shredded"):
        vault.get("c1", "<PERSON_1>")
    with pytest.raises(PseudonymsShredded):
        vault.put("c1", "<PERSON_2>", "Carol King")
    assert vault.tokens("c1") == []
    assert vault.get("c2", "<PERSON_1>") == "Bob Stone"


def test_in_memory_vault_satisfies_the_protocol() -> None:
    assert isinstance(InMemoryVault(), PseudonymVault)
