"""Personal data recognised by the field that holds it, not only by how it reads.

A detector reads text: "Big Spender" or "Ooyen" in a letter may pass as ordinary words, but
``{"applicant": "Big Spender"}`` says plainly that the value is a person's name — and a
detector that reads "Sunny Side" as the name "Sunny" beside the word "Side" would leave half
of it in clear. When a payload field's name says what it holds and its value is short (the
datum itself, not a note about it), the whole value is pseudonymised as that type without
asking the detector. The names are an explicit list rather than a
pattern such as ``*_name``: ``file_name``, ``tool_name`` or a plan item's ``name`` are not
people, and turning them into tokens would break the case; so are bare ``person`` and
``driver``, which casepilot's own records and many tools use for identities and software.
"""

from __future__ import annotations

import re

__all__ = ["MAX_HINTED_LENGTH", "hinted_type"]

_PERSON = frozenset({
    "account_holder", "applicant", "applicant_name", "beneficiary", "beneficiary_name", "claimant",
    "claimant_name", "client_name", "contact_name", "customer", "customer_name", "debtor", "debtor_name",
    "driver_name", "first_name", "full_name", "given_name", "insured", "insured_name",
    "last_name", "patient", "patient_name", "payee_name", "person_name", "policy_holder",
    "policyholder", "surname", "witness", "witness_name",
})
_PHONE = frozenset({"mobile", "mobile_number", "phone", "phone_number", "telephone", "tel"})
_EMAIL = frozenset({"email", "email_address", "e_mail"})
_IBAN = frozenset({"iban", "iban_code"})

_TYPES: dict[str, str] = {
    **dict.fromkeys(_PERSON, "PERSON"),
    **dict.fromkeys(_PHONE, "PHONE_NUMBER"),
    **dict.fromkeys(_EMAIL, "EMAIL_ADDRESS"),
    **dict.fromkeys(_IBAN, "IBAN_CODE"),
}

MAX_HINTED_LENGTH = 120
"""A longer value is text about something (a note, a letter), not the datum the name promises."""

_SEPARATORS = re.compile(r"[^a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def hinted_type(key: object) -> str | None:
    """The entity type a field named ``key`` holds (``customerName``, ``Customer-Name`` and
    ``customer_name`` alike), or ``None`` when its name says nothing about personal data."""
    if not isinstance(key, str) or len(key) > 64:
        return None
    words = _SEPARATORS.sub("_", _CAMEL.sub("_", key).lower()).strip("_")
    return _TYPES.get(words)
