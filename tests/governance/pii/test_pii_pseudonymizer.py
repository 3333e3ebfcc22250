"""Consistent tokens, payload redaction, audited reveal and erasure."""

from __future__ import annotations

import pytest

from casepilot.errors import GovernanceBlocked
from casepilot.governance.pii import (
    TOKEN_PATTERN,
    InMemoryVault,
    JsonLike,
    PiiDetector,
    Pseudonymizer,
    PseudonymsShredded,
    RevealEvent,
)

from .conftest import FixedClock

LETTER = "Dear Anna Berg, we received anna.berg@example.se and +46 (0)8 928 571 38 from Anna Berg."


def test_same_value_same_token_within_a_case(pseudo: Pseudonymizer) -> None:
    result = pseudo.redact_text(LETTER, "case-1")
    assert result.text == "Dear <PERSON_1>, we received <EMAIL_ADDRESS_1> and <PHONE_NUMBER_1> from <PERSON_1>."
    assert dict(result.entities) == {"PERSON": 2, "EMAIL_ADDRESS": 1, "PHONE_NUMBER": 1}
    assert result.tokens == ("<PERSON_1>", "<EMAIL_ADDRESS_1>", "<PHONE_NUMBER_1>")
    again = pseudo.redact_text("Anna Berg called again from +46 8 928 571 38.", "case-1")
    assert again.text == "<PERSON_1> called again from <PHONE_NUMBER_1>."


def test_numbering_follows_text_order_and_cases_are_separate(pseudo: Pseudonymizer) -> None:
    first = pseudo.redact_text("Ole Hansen met Kari Nordmann.", "case-1")
    assert first.text == "<PERSON_1> met <PERSON_2>."
    other = pseudo.redact_text("Kari Nordmann met Ole Hansen.", "case-2")
    assert other.text == "<PERSON_1> met <PERSON_2>."


def test_text_without_pii_is_unchanged(pseudo: Pseudonymizer) -> None:
    result = pseudo.redact_text("The claim was approved.", "case-1")
    assert result.text == "The claim was approved." and result.tokens == () and not result.entities


def test_payload_keeps_keys_and_shape(pseudo: Pseudonymizer) -> None:
    payload: JsonLike = {
        "to": "anna.berg@example.se",
        "amount": 125.5,
        "count": 3,
        "approved": True,
        "note": None,
        "card": 4111111111111111,
        "lines": ["Pay GB56HXDO88167774656119", ("Anna Berg",)],
    }
    result = pseudo.redact_payload(payload, "case-1")
    assert result.value == {
        "to": "<EMAIL_ADDRESS_1>",
        "amount": 125.5,
        "count": 3,
        "approved": True,
        "note": None,
        "card": "<CREDIT_CARD_1>",
        "lines": ["Pay <IBAN_CODE_1>", ("<PERSON_1>",)],
    }
    assert dict(result.entities) == {"EMAIL_ADDRESS": 1, "CREDIT_CARD": 1, "IBAN_CODE": 1, "PERSON": 1}
    assert set(result.tokens) == {"<EMAIL_ADDRESS_1>", "<CREDIT_CARD_1>", "<IBAN_CODE_1>", "<PERSON_1>"}


def test_long_int_without_pii_stays_an_int(pseudo: Pseudonymizer) -> None:
    assert pseudo.redact_payload({"n": 1234567890}, "case-1").value == {"n": 1234567890}


def test_reveal_for_allowed_role_is_audited(
    pseudo: Pseudonymizer, events: list[RevealEvent], clock: FixedClock
) -> None:
    redacted = pseudo.redact_text(LETTER, "case-1").text
    shown = pseudo.reveal(redacted, "case-1", {"case-officer", "staff"}, actor="u-7")
    assert shown.text == LETTER
    assert shown.event == RevealEvent(
        "pii.revealed", "case-1", "u-7", frozenset({"case-officer", "staff"}),
        ("<PERSON_1>", "<EMAIL_ADDRESS_1>", "<PHONE_NUMBER_1>"), clock.now,
    )
    assert events == [shown.event] and shown.event.allowed


def test_reveal_denied_is_audited_and_blocked(pseudo: Pseudonymizer, events: list[RevealEvent]) -> None:
    redacted = pseudo.redact_text(LETTER, "case-1").text
    with pytest.raises(GovernanceBlocked, match="may not reveal") as info:
        pseudo.reveal(redacted, "case-1", {"clerk"}, actor="u-9")
    assert info.value.policy == "pii.reveal"
    assert [(e.kind, e.actor, e.allowed) for e in events] == [("pii.reveal_denied", "u-9", False)]


def test_callable_policy(vault: InMemoryVault, detector: PiiDetector) -> None:
    pseudo = Pseudonymizer(vault, detector=detector, policy=lambda actor, roles, case: actor == "dpo")
    redacted = pseudo.redact_text("Ole Hansen", "c").text
    assert pseudo.reveal(redacted, "c", set(), actor="dpo").text == "Ole Hansen"
    with pytest.raises(GovernanceBlocked):
        pseudo.reveal(redacted, "c", {"admin"}, actor="someone")


def test_default_policy_allows_nobody(vault: InMemoryVault, detector: PiiDetector) -> None:
    pseudo = Pseudonymizer(vault, detector=detector)
    redacted = pseudo.redact_text("Ole Hansen", "c").text
    with pytest.raises(GovernanceBlocked):
        pseudo.reveal(redacted, "c", {"admin"}, actor="root")


def test_shred_makes_reveal_fail_clearly(pseudo: Pseudonymizer) -> None:
    redacted = pseudo.redact_text(LETTER, "case-1").text
    pseudo.shred("case-1")
    with pytest.raises(PseudonymsShredded, match="unrecoverable"):
        pseudo.reveal(redacted, "case-1", {"case-officer"}, actor="u-7")
    with pytest.raises(PseudonymsShredded):
        pseudo.redact_text("Ole Hansen", "case-1")


def test_a_new_process_continues_the_case(vault: InMemoryVault, detector: PiiDetector) -> None:
    Pseudonymizer(vault, detector=detector).redact_text("Ole Hansen met Kari Nordmann.", "c")
    later = Pseudonymizer(vault, detector=detector)
    assert later.redact_text("Kari Nordmann and Per Olsen", "c").text == "<PERSON_2> and <PERSON_3>"


def test_only_tokens_leave_the_process(pseudo: Pseudonymizer) -> None:
    result = pseudo.redact_text(LETTER, "case-1")
    assert all(TOKEN_PATTERN.fullmatch(t) for t in result.tokens)
    assert "Anna" not in repr(result) and "928" not in repr(result)


def test_plugs_into_the_governor_as_its_redactor(pseudo: Pseudonymizer) -> None:
    from casepilot.governance.governor import PayloadRedactor, RedactedPayload

    redactor: PayloadRedactor = pseudo
    result = redactor.redact_arguments({"query": "refund Anna Berg", "limit": 5}, "case-1")
    assert result == RedactedPayload({"query": "refund <PERSON_1>", "limit": 5}, {"PERSON": 1})


def test_redaction_is_idempotent(pseudo: Pseudonymizer) -> None:
    text = LETTER + " IBAN GB56HXDO88167774656119, IP 10.1.2.3, in Oslo on 2/8/2024."
    once = pseudo.redact_text(text, "case-1")
    twice = pseudo.redact_text(once.text, "case-1")
    assert twice.text == once.text and not twice.entities and twice.tokens == ()


def test_reveal_of_a_token_the_case_never_issued_fails_clearly(pseudo: Pseudonymizer) -> None:
    from casepilot.governance.pii import UnknownPseudonym

    pseudo.redact_text("Ole Hansen", "case-1")
    with pytest.raises(UnknownPseudonym, match="no pseudonym '<PERSON_7>'"):
        pseudo.reveal("<PERSON_1> and <PERSON_7>", "case-1", {"case-officer"}, actor="u-7")


def test_reveal_event_payload_for_the_history(pseudo: Pseudonymizer) -> None:
    redacted = pseudo.redact_text("Ole Hansen", "case-1").text
    event = pseudo.reveal(redacted, "case-1", {"staff", "case-officer"}, actor="u-7").event
    assert event.as_payload() == {
        "kind": "pii.revealed",
        "case_id": "case-1",
        "actor": "u-7",
        "actor_roles": ["case-officer", "staff"],
        "tokens": ["<PERSON_1>"],
        "at": "2026-01-02T03:04:05+00:00",
        "allowed": True,
    }
    assert "Hansen" not in repr(event.as_payload())
