"""A bare number of up to four digits is a date only as a year (issue 15): spaCy tags every
such number DATE, which hid amounts and references ("amount 9999", "Invoice 9999") behind
``<DATE_TIME_1>`` in documents; years ("founded in 1977") stay dates."""

from __future__ import annotations

import pytest

from casepilot.governance.pii import InMemoryVault, PiiDetector, Pseudonymizer
from tests.agent._support import INJECTION


def _dates(detector: PiiDetector, text: str) -> list[str]:
    return [text[e.start:e.end] for e in detector.analyze(text) if e.entity_type == "DATE_TIME"]


@pytest.mark.parametrize("text", [
    "Invoice 9999 attached.",
    "The code is 9999.",
    "Reference 9999",
    "Order no. 4711 was shipped.",
    "Invoice 2023 attached.",  # a year's digits after a word that names a number
    "PIN 1984, please keep it safe.",
    "We counted 12 boxes and 345 letters.",
])
def test_bare_numbers_are_not_dates(detector: PiiDetector, text: str) -> None:
    assert _dates(detector, text) == []


@pytest.mark.parametrize(("text", "date"), [
    ("The orchestra was founded in 1977.", "1977"),
    ("It happened in 1999.", "1999"),
    ("Order no. 4711 of 2023", "2023"),
    ("The car was hit on 3 May 2024.", "3 May 2024"),
])
def test_years_and_dates_still_are(detector: PiiDetector, text: str, date: str) -> None:
    assert _dates(detector, text) == [date]


def test_the_injected_document_keeps_its_amount(detector: PiiDetector) -> None:
    redacted = Pseudonymizer(InMemoryVault(), detector=detector).redact_text(INJECTION, "case-1").text
    assert "Invoice 7731 attached" in redacted and "amount 9999 now" in redacted
    assert "DATE_TIME" not in redacted
