"""Personal data recognised by the field that holds it: ``{"applicant": "Big Spender"}`` is a
person's name even though no detector reads "Big Spender" as one (found in a scaffolded loan
case, whose credit-committee checkpoint showed the applicant in clear)."""

from __future__ import annotations

import pytest

from casepilot.governance.pii import JsonLike, Pseudonymizer
from casepilot.governance.pii._field_hints import hinted_type


@pytest.mark.parametrize(("key", "kind"), [
    ("applicant", "PERSON"), ("customerName", "PERSON"), ("Customer-Name", "PERSON"), ("last_name", "PERSON"),
    ("policyholder", "PERSON"), ("phone", "PHONE_NUMBER"), ("mobileNumber", "PHONE_NUMBER"),
    ("email", "EMAIL_ADDRESS"), ("IBAN", "IBAN_CODE"),
    ("name", None), ("file_name", None), ("tool_name", None), ("person", None), ("amount", None), (3, None),
])
def test_which_field_names_promise_personal_data(key: object, kind: str | None) -> None:
    assert hinted_type(key) == kind


def test_a_named_field_is_pseudonymised_whole_whatever_the_detector_reads_in_it(pseudo: Pseudonymizer) -> None:
    payload: JsonLike = {
        "applicant": "Big Spender",
        "co_applicants": None,
        "beneficiary": ["Sunny Side", "Dusty Road"],
        "phone": 4711,  # too short to be checked as a number: left alone
        "name": "Senior analyst review",  # a plan item's name is not a person
        "stage": "Decision",
        "amount": 30000,
    }
    result = pseudo.redact_payload(payload, "case-1")
    assert result.value == {
        "applicant": "<PERSON_1>",
        "co_applicants": None,
        "beneficiary": ["<PERSON_2>", "<PERSON_3>"],
        "phone": 4711,
        "name": "Senior analyst review",
        "stage": "Decision",
        "amount": 30000,
    }
    assert dict(result.entities) == {"PERSON": 3}
    # the same value gets the same token anywhere in the case, and authorised people get it back
    again = pseudo.redact_payload({"customer_name": "Big Spender"}, "case-1")
    assert again.value == {"customer_name": "<PERSON_1>"}
    assert pseudo.reveal("<PERSON_1> asked", "case-1", {"case-officer"}, actor="ann").text == "Big Spender asked"


def test_a_named_value_and_the_same_name_in_text_share_one_token(pseudo: Pseudonymizer) -> None:
    result = pseudo.redact_payload({"applicant": "Anna Berg", "letter": "Anna Berg wrote to us.",
                                    "customer_name": "", "claimant": "<PERSON_7>"}, "case-2")
    assert result.value == {"applicant": "<PERSON_1>", "letter": "<PERSON_1> wrote to us.",
                            "customer_name": "", "claimant": "<PERSON_7>"}


def test_long_text_in_a_named_field_goes_to_the_detector(pseudo: Pseudonymizer) -> None:
    note = "The garage has not sent the invoice yet. " * 4 + "Write to anna.berg@example.se."
    result = pseudo.redact_payload({"customer": note}, "case-3")
    assert result.value == {"customer": note.replace("anna.berg@example.se", "<EMAIL_ADDRESS_1>")}
