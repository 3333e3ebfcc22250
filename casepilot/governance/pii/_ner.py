"""spaCy's entities as Presidio results, keeping only dates that pin down a time.

The small model tags durations and vague references as DATE ("a year", "this
month", "the weekend"); they identify no one and only add noise to redaction, so a
DATE_TIME from NER must contain a digit, a month or a weekday name — and must not be
a bare number of nine or more digits (the model tags account and phone numbers) nor a
duration ("30 days", "8+ years") or a decade or ordinal ("the 60s", "10th year").

A bare number of up to four digits is a date only as a year: between ``YEARS`` and not
right after a word that names a number ("Invoice 2023", "PIN 1984"). The model tags
every such number DATE ("Invoice 9999 attached", "Order no. 4711"), which hid amounts
and references behind ``<DATE_TIME_1>``.
"""

from __future__ import annotations

import re
from typing import Any

from presidio_analyzer import RecognizerResult
from presidio_analyzer.predefined_recognizers import SpacyRecognizer

__all__ = ["SpecificSpacyRecognizer"]

_SPECIFIC_DATE = re.compile(
    r"\d|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b|"
    r"\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\b|\b(?:noon|midnight)\b",
    re.IGNORECASE,
)


class SpecificSpacyRecognizer(SpacyRecognizer):
    """PERSON, LOCATION, NRP and specific DATE_TIME from the NER component."""

    def __init__(self) -> None:
        super().__init__(supported_entities=["PERSON", "LOCATION", "NRP", "DATE_TIME"])

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        """Presidio's conversion, then drop unspecific dates."""
        results: list[RecognizerResult] = super().analyze(text, entities, nlp_artifacts)
        return [r for r in results
                if r.entity_type != "DATE_TIME" or _is_date(text[r.start : r.end], text[: r.start])]


_DURATION = re.compile(
    r"^(?:(?:about|around|over|under|within|for|the|a|an|first|last|next|\d+\+?|[a-z]+-?)\s+)*"
    r"(?:\d+\+?\s*)?(?:days?|weeks?|months?|years?|hours?|minutes?|seconds?|yrs?|decades?)(?:\s+(?:old|ago|later))?$",
    re.IGNORECASE,
)


_VAGUE = re.compile(r"^(?:the\s+)?(?:'?\d0s|\d+(?:st|nd|rd|th)\s+(?:year|anniversary|birthday))$", re.IGNORECASE)


YEARS = range(1800, 2200)
"""The bare numbers that can be years."""

_NUMBER_CUE = re.compile(
    r"(?:\b(?:no|nr|num|number|invoice|order|ref|reference|code|pin|id|account|acct|room|ext|extension|"
    r"amount|total|sum|item|page|policy|claim|ticket|case|unit|apt|suite|box|version|v)\.?|#)\s*:?\s*$",
    re.IGNORECASE)


def _is_date(value: str, before: str = "") -> bool:
    """Specific: not a duration ("30 days") nor a long bare number (a phone or account number);
    a bare short number only as a year (see the module's docstring)."""
    if value.isdigit() and len(value) > 8:
        return False
    if value.isdigit() and len(value) <= 4:
        return int(value) in YEARS and not _NUMBER_CUE.search(before[-40:])
    return bool(_SPECIFIC_DATE.search(value)) and not _DURATION.match(value) and not _VAGUE.match(value)
