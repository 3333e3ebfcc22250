"""Recognizers that Presidio lacks or that we configure differently.

Presidio's own pattern/checksum recognizers are reused where they are good
(IP addresses, URLs, US SSN, dates, e-mail syntax, Luhn). Added here:

* :class:`OfflineEmailRecognizer` — Presidio's e-mail recognizer validates the
  domain with ``tldextract``, whose default extractor fetches the public-suffix
  list over the network on first use. Ours uses the snapshot bundled in the package.
* :class:`AnyCountryCreditCardRecognizer` — Presidio's pattern misses 2-series
  Mastercard / JCB 2131 and 12-digit Maestro; Luhn validation is Presidio's.
* :class:`IbanAnyCountryRecognizer` — every country of the IBAN registry
  (python-stdnum's table), any letter case, grouped or not, mod-97 checked.
* :class:`LoosePhoneRecognizer` — international, European and local formats
  ("+46 (0)8 928 571 38", "03.93.92.16.85", "0490 75 40 81", "(37) 788-063", and bare
  digits: "07314277224", "0265969390"): a number counts when it is internationally
  written and parses, when a phone context word ("call", "fax", "mobile", "tel", …)
  stands next to it, or when ``phonenumbers`` finds it a valid national number of a
  European or North American plan written the way people write phone numbers.
* :class:`LicenceContextRecognizer` — a driving-licence number right after the phrase.
* :class:`GatedUrlRecognizer`, :class:`GatedIpRecognizer`,
  :class:`CompactDateRecognizer` — Presidio's own patterns behind a cheap
  pre-check (its URL pattern alone cost more time than the NER model).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import phonenumbers
import tldextract
from presidio_analyzer import EntityRecognizer, Pattern, RecognizerResult
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    DateRecognizer,
    EmailRecognizer,
    IpRecognizer,
    UrlRecognizer,
)
from stdnum import iban as stdnum_iban

__all__ = [
    "AnyCountryCreditCardRecognizer",
    "CompactDateRecognizer",
    "GatedIpRecognizer",
    "GatedUrlRecognizer",
    "IbanAnyCountryRecognizer",
    "LicenceContextRecognizer",
    "LoosePhoneRecognizer",
    "OfflineEmailRecognizer",
    "offline_tld_extractor",
]


@lru_cache(maxsize=1)
def offline_tld_extractor() -> tldextract.TLDExtract:
    """A TLD extractor that never touches the network (bundled public-suffix snapshot)."""
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)


class OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's e-mail recognizer with an offline domain check (and no scan without an "@")."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: Any = None, regex_flags: int | None = None
    ) -> list[RecognizerResult]:
        """Presidio's scan, skipped when the text cannot hold an address."""
        if "@" not in text:
            return []
        results: list[RecognizerResult] = super().analyze(text, entities, nlp_artifacts, regex_flags)
        return results

    def validate_result(self, pattern_text: str) -> bool:
        """The address must end in a known public suffix."""
        return bool(offline_tld_extractor()(pattern_text).fqdn)


_CARD_CONTEXT = re.compile(
    r"\b(?:card|credit|debit|visa|mastercard|amex|maestro|discover|jcb|diners|cc|pan)\b", re.IGNORECASE
)


class AnyCountryCreditCardRecognizer(CreditCardRecognizer):
    """Card numbers of 12–19 digits from every scheme, Luhn-checked.

    A number whose first digit belongs to no card scheme (0, 7, 8, 9) is a card only
    when a card word stands within 40 characters before it; one written after "+" is
    an international phone number.
    """

    PATTERNS = [  # noqa: RUF012 - Presidio reads a class attribute
        *CreditCardRecognizer.PATTERNS,
        Pattern("Card 12-19 digits", r"(?<![\d-])\d{12,19}(?![\d-])", 0.3),
        Pattern("Card grouped", r"(?<![\d-])\d{4}(?:[ -]\d{3,6}){2,4}(?![\d-])", 0.3),
    ]

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: Any = None, regex_flags: int | None = None
    ) -> list[RecognizerResult]:
        """Presidio's match-and-Luhn, then the scheme/context rule above."""
        results: list[RecognizerResult] = super().analyze(text, entities, nlp_artifacts, regex_flags)
        return [
            r for r in results
            if 12 <= sum(ch.isdigit() for ch in text[r.start : r.end]) <= 19
            and text[max(0, r.start - 1) : r.start] != "+"  # "+44…" is a phone number
            and (text[r.start] in "123456" or _CARD_CONTEXT.search(text, max(0, r.start - 40), r.start))
        ]


# Cheap tests for "could this text hold one at all?" in front of Presidio's costly
# patterns (its URL pattern alone took longer than the NER model).
_WORD = re.compile(r"\S+")
_URL_HINT = re.compile(r"[A-Za-z0-9-]\.[A-Za-z]{2}")
_IP_HINT = re.compile(r"\d\.\d|[0-9A-Fa-f]:[0-9A-Fa-f:]")
_DATE_HINT = re.compile(r"\d[/.\-]\d|[A-Za-z]-\d|\d-[A-Za-z]")


class GatedUrlRecognizer(UrlRecognizer):
    """Presidio's URL recognizer, run only on the words that have a "name.tld"-like dot.

    A URL holds no whitespace, so scanning each such whitespace-delimited word gives
    the matches a scan of the whole text would, without the pattern's backtracking
    over every position of every text.
    """

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: Any = None, regex_flags: int | None = None
    ) -> list[RecognizerResult]:
        """Presidio's scan on candidate words, offsets mapped back to the text."""
        results: list[RecognizerResult] = []
        for word in _WORD.finditer(text):
            if not _URL_HINT.search(word.group()):
                continue
            for r in super().analyze(word.group(), entities, nlp_artifacts, regex_flags):
                r.start += word.start()
                r.end += word.start()
                results.append(r)
        return results


class GatedIpRecognizer(IpRecognizer):
    """Presidio's IPv4/IPv6 recognizer, run only on texts with "d.d" or "h:h"."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: Any = None, regex_flags: int | None = None
    ) -> list[RecognizerResult]:
        """Presidio's scan behind a one-pass pre-check."""
        if not _IP_HINT.search(text):
            return []
        results: list[RecognizerResult] = super().analyze(text, entities, nlp_artifacts, regex_flags)
        return results


class CompactDateRecognizer(DateRecognizer):
    """Presidio's date patterns scoring 0.5 or more, as one alternation behind a pre-check."""

    PATTERNS = [  # noqa: RUF012 - Presidio reads a class attribute
        Pattern("Dates", "|".join(f"(?:{p.regex})" for p in DateRecognizer.PATTERNS if p.score >= 0.5), 0.6)
    ]

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: Any = None, regex_flags: int | None = None
    ) -> list[RecognizerResult]:
        """One scan, only when a digit touches a separator."""
        if not _DATE_HINT.search(text):
            return []
        results: list[RecognizerResult] = super().analyze(text, entities, nlp_artifacts, regex_flags)
        return results


_IBAN_CANDIDATE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[ -]?[A-Za-z0-9]){11,32}")


class IbanAnyCountryRecognizer(EntityRecognizer):
    """IBANs of every registry country, in any case, validated by format and checksum."""

    def __init__(self) -> None:
        super().__init__(supported_entities=["IBAN_CODE"], name="IbanAnyCountryRecognizer")

    def load(self) -> None:
        """Nothing to load."""

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        """Find the longest valid IBAN at each candidate start."""
        results: list[RecognizerResult] = []
        for match in _IBAN_CANDIDATE.finditer(text):
            start, candidate = match.start(), match.group()
            # Trailing groups may be unrelated ("… 2 days"): shorten until the checksum holds.
            for end in range(len(candidate), 14, -1):
                if not candidate[end - 1].isalnum():
                    continue
                if stdnum_iban.is_valid(candidate[:end]):
                    results.append(RecognizerResult("IBAN_CODE", start, start + end, 1.0))
                    break
        return results


_PHONE_CANDIDATE = re.compile(
    r"(?<![\w+/.:-])"
    r"(?:(?:\+|00)\d{1,3}[ .-]?)?"  # country code
    r"(?:\(0\)[ .-]?)?"  # national trunk prefix shown as (0)
    r"(?:\(\d{1,5}\)[ .-]?)?"  # area code in parentheses
    r"\d{1,12}(?:[ .-]\d{1,10}){0,5}"
    r"(?:\s?(?:x|ext\.?)\s?\d{1,5})?"  # extension
    r"(?![\w]|[.-]\d)"
)
_NANP = re.compile(r"\d{3}([-. ])\d{3}\1\d{4}")
_DATE_LIKE = re.compile(r"^\d{1,4}([./-])\d{1,2}\1\d{1,4}$")
_PHONE_CONTEXT = re.compile(
    r"\b(?:phone|tel|telephone|call|called|calling|mobile|cell|cellphone|fax|desk|office|home|work|"
    r"contact|reach|dial|text|sms|whatsapp|messages?|answering|hotline|landline|ph|mob|"
    r"(?:phone|mobile|cell|contact|fax|telephone|registered)\s+(?:number|no\.?)|"
    r"(?:my|your|his|her|our|their)\s+(?:new\s+)?number)\b",
    re.IGNORECASE,
)
_CONTEXT_BEFORE = 40
_CONTEXT_AFTER = 12
# A label right before the digits that makes them a reference, not a phone: "Policy 0265969390",
# "claim no. 0123456789", "Invoice #0612345678". (Not "customer": "customer 07314277224 called".)
_REFERENCE_LABEL = re.compile(
    r"\b(?:policy|polic(?:e|y)holder\s+id|claim|ref|reference|invoice|order|account|acct|contract|case|ticket|file|"
    r"dossier|booking|tracking|transaction|serial|registration|vat|tax|iban|card|id|bic|swift|sort\s+code)"
    r"\s*(?:number|no\.?|nr\.?|num\.?|#|id|code)?\s*[:#.]?\s*$",
    re.IGNORECASE,
)
_CURRENCY_BEFORE = re.compile(r"(?:[€$£¥]|\b(?:eur|usd|gbp|chf|sek|nok|dkk|pln))\s*$", re.IGNORECASE)
_CURRENCY_AFTER = re.compile(
    r"(?:[.,]\d{1,2}\b|\s*(?:[€$£¥]|(?:eur|usd|gbp|chf|sek|nok|dkk|pln|euros?|dollars?|pounds?)\b))", re.IGNORECASE
)
# Digits grouped in threes after the first group, one separator throughout: "714 448 305",
# "1.250.000" — how amounts and counts are written, whatever a numbering plan allows.
_THOUSANDS = re.compile(r"\d{1,3}(?:([ .,'])\d{3})(?:\1\d{3})*")
# Plans whose national numbers start with a trunk "0" (or, in Italy, a leading 0 of the number):
# "07314 277224" (GB), "026 596 9390" (NL), "030 1234567" (DE), "01 23 45 67 89" (FR), "02 1234 5678" (IT).
_TRUNK_REGIONS = ("GB", "IE", "NL", "BE", "DE", "AT", "CH", "FR", "IT", "SE", "FI", "DK", "AU")
# Plans without one, where only a grouped layout the plan uses counts: "(212) 555-0199", "612 34 56 78",
# "333 123 4567" — bare, such digits are as likely an amount or a reference.
_GROUPED_REGIONS = ("US", "IT", "ES", "PT")


class LoosePhoneRecognizer(EntityRecognizer):
    """Phone numbers in international, European and local formats.

    Presidio's ``PhoneRecognizer`` tries a handful of regions through
    ``phonenumbers``' matcher and misses most European layouts; this one scans once
    with a permissive pattern and then demands evidence: an international prefix that
    parses as a possible number, or a phone context word nearby.
    """

    def __init__(self) -> None:
        super().__init__(supported_entities=["PHONE_NUMBER"], name="LoosePhoneRecognizer")

    def load(self) -> None:
        """Nothing to load."""

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        """Scan for digit groups that look like and are framed as phone numbers."""
        results: list[RecognizerResult] = []
        for match in _PHONE_CANDIDATE.finditer(text):
            score = self._score(text, match.start(), match.end(), match.group())
            if score:
                results.append(RecognizerResult("PHONE_NUMBER", match.start(), match.end(), score))
        return results

    @staticmethod
    def _score(text: str, start: int, end: int, value: str) -> float:
        main = re.split(r"\s?(?:x|ext\.?)\s?", value, maxsplit=1)[0]
        digits = sum(ch.isdigit() for ch in main)
        if not 7 <= digits <= 15 or _DATE_LIKE.match(main):
            return 0.0
        international = main.startswith(("+", "00"))
        if international and digits >= 8:
            try:
                number = phonenumbers.parse("+" + main.lstrip("+")[2 if main.startswith("00") else 0 :], None)
            except phonenumbers.NumberParseException:
                number = None
            if number is not None and phonenumbers.is_possible_number(number):
                return 0.75
        before = text[max(0, start - _CONTEXT_BEFORE) : start]
        if _REFERENCE_LABEL.search(before) or _CURRENCY_BEFORE.search(before) \
                or _CURRENCY_AFTER.match(text, end, end + _CONTEXT_AFTER):
            return 0.0  # "Policy 0265969390", "EUR 612 345 678"
        after = text[end : end + _CONTEXT_AFTER]
        if _PHONE_CONTEXT.search(before) or _PHONE_CONTEXT.search(after):
            return 0.6
        # Without context only unmistakable layouts count: an area code in parentheses,
        # a national trunk "0" with grouped digits, or the North American 3-3-4 form.
        # "Claim 2024 123 456" stays a reference number.
        grouped = len(re.findall(r"[ .-]", main)) >= 2
        if digits >= 9 and ("(" in main or (main.startswith("0") and grouped) or _NANP.fullmatch(main)):
            return 0.5  # enough to beat an NER "DATE" on the same digits
        if not international and _national_number(main, digits):
            return 0.5
        return 0.0


def _national_number(main: str, digits: int) -> bool:
    """A valid national number written as one, with no word around it to say so.

    With a trunk "0": valid in one of ``_TRUNK_REGIONS`` — bare ("07314277224",
    "0265969390") or grouped any way ("06-12345678", "030 515904"); eight digits only
    with the area code in parentheses ("(022) 90386": "02122024" is a date). Without one: a
    grouping that ``phonenumbers`` accepts for a valid number of ``_GROUPED_REGIONS``
    ("612 34 56 78", "333 1234567", "1-212-555-0199") and that is not a thousands
    grouping ("612 345 678" may be an amount) — never bare digits, which are as often
    a customer number or an amount: those need a context word.
    """
    plain = "".join(ch for ch in main if ch.isdigit())
    if plain.startswith("0"):
        # Eight digits only behind an area code in parentheses ("(022) 90386"): bare, they are a date.
        shortest = 8 if main.startswith("(0") else 9
        return digits >= shortest and plain[1] != "0" and any(_valid_in(plain, r) for r in _TRUNK_REGIONS)
    if not re.search(r"[ .()-]", main) or not 9 <= digits <= 11 or _THOUSANDS.fullmatch(main):
        return False
    return any(
        any(m.start == 0 and m.end == len(main) for m in phonenumbers.PhoneNumberMatcher(
            main, region, leniency=phonenumbers.Leniency.STRICT_GROUPING))
        for region in _GROUPED_REGIONS
    )


@lru_cache(maxsize=4096)
def _valid_in(plain: str, region: str) -> bool:
    try:
        number = phonenumbers.parse(plain, region)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number_for_region(number, region)


_LICENCE = re.compile(
    r"\b(?:driver'?s?|driving)[ -]licen[cs]e(?:[ -](?:number|no\.?|nr\.?|#|id))?\s*(?:is|was|:|=)?\s*"
    r"(?P<id>[A-Z0-9](?:[A-Z0-9 -]{3,18}[A-Z0-9]))(?![A-Za-z0-9])",
    re.IGNORECASE,
)


class LicenceContextRecognizer(EntityRecognizer):
    """A driving-licence number named as such ("my driver's license number is 2270-66-1551").

    Licence formats differ by state and country and look like any other identifier,
    so (unlike Presidio's pattern list) this recognizer needs the phrase itself; the
    value must hold at least four digits.
    """

    def __init__(self) -> None:
        super().__init__(supported_entities=["US_DRIVER_LICENSE"], name="LicenceContextRecognizer")

    def load(self) -> None:
        """Nothing to load."""

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        """The identifier right after a licence phrase."""
        if "licen" not in text.lower():
            return []
        return [
            RecognizerResult("US_DRIVER_LICENSE", m.start("id"), m.end("id"), 0.7)
            for m in _LICENCE.finditer(text)
            if sum(ch.isdigit() for ch in m.group("id")) >= 4
        ]
