"""Money amounts in a customer's letter: find them, read them exactly, pick the claimed one.

The claim extractor feeds the case's routing (``claim.amount > 10000`` and
``claim.confidence < 0.75`` send a claim to a senior analyst), so a misread amount is a
wrongly paid claim. Reading "EUR 25000" as 250 with high confidence was exactly that bug.
This module therefore reads a number whole or not at all, and says how unsure it is.

Why our own parser: ``price-parser`` (0.5.1, tried on every notation below) normalises
one price per string well, but it reads ``€25k`` as 25 and ``£1.2m`` as 1.2, finds only the
first price of a text and gives no positions. Finding the candidates in a letter, telling
them from dates, phone numbers and references, and choosing among them — the part that
matters here — would be ours anyway; the normalisation is a few lines under the rules below.

What counts as an amount (a *candidate*)
    1. A number with a currency marker right before or after it (whitespace allowed, no
       other text): the symbols ``€ $ US$ £``, the ISO codes ``EUR USD GBP CHF JPY CAD AUD
       SEK NOK DKK PLN CZK`` (upper case) and the words euro(s), dollar(s), pound(s),
       franc(s), Franken (any case). A marker with a number on both sides belongs to the
       one after it ("in 2024 EUR 500" is 500).
    2. A number without a marker only right after an amount word (amount, total, sum,
       cost(s), price, quote(d), estimate(d), Betrag, Summe, Kosten, montant, somme, coût,
       prix, importe, bedrag), joined to it only by a few filler words ("is", "of",
       "about", ":" ...). Its currency is unknown, so its confidence is low.
    Nothing else. Dates, phone numbers (``+44 …``, ``0265969390``), IBANs, postcodes and
    policy or claim numbers carry no marker; besides, dates, IBANs and ``+`` phone numbers
    are blanked out first, a number glued to letters, ``-``, ``/``, ``#`` or ``+``
    (``POL-2026-0042``, ``CLM4711``) is never read, and neither is one with a leading zero.

How a number is read
    * Grouped: one to three digits, then groups of exactly three digits, all with the same
      separator — ``,`` ``.`` a space (also no-break and narrow no-break) or an apostrophe
      (``'`` ``’``) — then optionally one or two decimals after the other mark (``.`` after
      ``,`` groups, ``,`` after ``.`` groups, either after space or apostrophe groups).
    * Ungrouped: digits, optionally one or two decimals after ``.`` or ``,``.
    * A lone separator is read by what follows it: exactly three digits make it a thousands
      separator (``1,250`` = ``1.250`` = 1250), one or two make it a decimal mark
      (``1,25`` = ``1.25`` = 1.25). Letters do not write money with three decimals.
    * A number that goes on past these shapes (``1,2345``, ``25.00.00``) is not read at all:
      a partial read is how 25000 became 250.
    * ``25,-`` and ``25.–`` are 25.
    * Multipliers ``k``/``K``/thousand/Tsd (×1,000), ``m``/``M``/``mn``/million/Mio
      (×1,000,000), ``bn``/billion/Mrd (×1,000,000,000). Before a multiplier a lone
      separator is always a decimal mark (``£1.250m`` is 1,250,000; ``1,5 Mio.`` is
      1,500,000): nobody writes thousands of thousands.
    * Exactly: :class:`~decimal.Decimal`, never float; written decimals are kept
      (``1250.50`` stays ``1250.50``).

Which candidate is the claim (:func:`pick_claim`)
    A candidate is *supported* when a claim word (claim, damage, repair, total, invoice,
    quote, estimate, cost, amount, Schaden, Reparatur, Rechnung, Gesamt, Betrag, Kosten,
    montant, dommage, réparation, facture, sinistre, devis, coût, somme) stands in the same
    sentence up to 60 characters before it or 20 after. The claim is the largest supported
    candidate, or the largest of all when none is supported: when unsure, the larger figure
    errs towards more review, never less.

How sure the pick is (the guardrail sends anything below 0.75 to a senior analyst)
    * no candidate: 0.0;
    * one amount (repeats of the same value in the same currency count once): 0.95, or 0.6
      when its currency is unknown (a person has to check what was meant);
    * several different amounts: 0.7, minus 0.1 for each further different amount, minus
      0.1 when the pick is not the only supported one, minus 0.1 when the currencies differ
      or one is unknown; never below 0.2. Several amounts therefore always go to a person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

__all__ = ["AmountCandidate", "ClaimPick", "find_amounts", "parse_number", "pick_claim"]

# -- the grammar ---------------------------------------------------------------------------------

_SPACE = "[ \u00a0\u202f]"
"""One space inside a number: plain, no-break or narrow no-break (French typography)."""

_NUM = (
    r"(?!0\d)"  # amounts have no leading zero; phone numbers and account numbers often do
    r"(?:"
    r"\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?"  # 1,250,000.50
    r"|\d{1,3}(?:\.\d{3})+(?:,\d{1,2})?"  # 1.250.000,50
    rf"|\d{{1,3}}(?:{_SPACE}\d{{3}})+(?:[.,]\d{{1,2}})?"  # 1 250 000,50
    r"|\d{1,3}(?:['’]\d{3})+(?:[.,]\d{1,2})?"  # 1'250'000.50
    r"|\d+(?:[.,]\d{1,2})?"  # 1250000.50 / 1250000,50
    r")"
    r"(?:[.,][-–—]{1,2})?"  # 25,- / 25.–
    rf"(?!\d|[.,'’]\d|{_SPACE}\d)"  # whole or not at all: 25.00.00, 1,2345, 25 0000 are not read
)
"""A number as written in a letter (see the module docstring for the rules)."""

_MULT_NUM = r"(?!0\d)\d+(?:[.,]\d+)?"
"""A number before a multiplier: a lone separator is a decimal mark (1.250m, 1,5 Mio.)."""

_MULTIPLIERS: dict[str, Decimal] = {
    "k": Decimal(1000), "thousand": Decimal(1000), "tsd": Decimal(1000), "tsd.": Decimal(1000),
    "m": Decimal(10**6), "mn": Decimal(10**6), "million": Decimal(10**6), "millions": Decimal(10**6),
    "mio": Decimal(10**6), "mio.": Decimal(10**6),
    "bn": Decimal(10**9), "billion": Decimal(10**9), "mrd": Decimal(10**9), "mrd.": Decimal(10**9),
}
_CODES = ("EUR", "USD", "GBP", "CHF", "JPY", "CAD", "AUD", "SEK", "NOK", "DKK", "PLN", "CZK")
_MULT = (
    r"\s?(?P<{name}>(?i:thousand|tsd\.?|millions?|mio\.?|mn|bn|billion|mrd\.?|k|m))"
    # 25kg or 5 Mary is no multiplier; 25kEUR is one
    rf"(?:(?=US\$|(?:{'|'.join(_CODES)})(?![^\W\d_]))|(?![^\W\d_]))"
)
_WORDS: dict[str, str] = {
    "euro": "EUR", "euros": "EUR", "dollar": "USD", "dollars": "USD", "pound": "GBP", "pounds": "GBP",
    "franc": "CHF", "francs": "CHF", "franken": "CHF",
}
_SYMBOLS: dict[str, str] = {"€": "EUR", "US$": "USD", "$": "USD", "£": "GBP"}
_CUR = (
    r"(?P<{name}>US\$|[€$£]"
    rf"|(?:(?<![^\W\d_])|(?<=\d[kKmM])|(?<=\d [kKmM]))(?:{'|'.join(_CODES)})(?![^\W\d_])"  # 25kEUR
    r"|(?<![^\W\d_])(?i:euros?|dollars?|pounds?|francs?|franken)(?![^\W\d_]))"
)

_AMOUNT = re.compile(
    # marker first: EUR 25,000 · €25k · US$ 1,250.50
    rf"{_CUR.format(name='pre')}\s{{0,2}}"
    rf"(?:(?P<pre_mnum>{_MULT_NUM}){_MULT.format(name='pre_mult')}|(?P<pre_num>{_NUM}))"
    r"(?![^\W_]|[/#]|-\d)"
    # number first: 25.000,00 € · 1250.50 EUR · 25k€ — the marker must not lead a number itself
    rf"|(?<![^\W_]|[.,'’/#+\-])(?<!\d{_SPACE})"
    rf"(?:(?P<post_mnum>{_MULT_NUM}){_MULT.format(name='post_mult')}|(?P<post_num>{_NUM}))"
    rf"\s{{0,2}}{_CUR.format(name='post')}(?!\s{{0,2}}\d)"
)

_AMOUNT_WORD = (
    r"(?i:amount|total|sum|costs?|price|quoted?|quotes|estimated?|"
    r"betrag|gesamtbetrag|summe|kosten|montant|somme|co[uû]t|prix|importe|bedrag)"
)
_FILLER = (
    r"(?:\s*[:=]|\s+(?i:is|was|are|were|of|at|to|comes\s+to|came\s+to|amounts\s+to|about|around|"
    r"approximately|approx\.|roughly|some|ca\.|circa|beträgt|betragen|von|ist|est|de|du|s'élève\s+à))"
)
_BARE = re.compile(
    rf"(?<![^\W\d_]){_AMOUNT_WORD}(?![^\W\d_]){_FILLER}{{0,3}}\s*"
    rf"(?:(?P<mnum>{_MULT_NUM}){_MULT.format(name='mult')}|(?P<num>{_NUM}))"
    r"(?![^\W_]|[/#%]|-\d|\s*(?i:percent|per\s*cent|minutes?|hours?|days?|weeks?|months?|years?|"
    r"km|kilomet|miles?|items?|pieces?|times|parts?)\b)"
)

_MONTH = (
    r"(?:(?i:jan(?:uary|uar|vier)?|feb(?:ruary|ruar)?|f[ée]vrier|m[aä]r(?:ch|z)?|mars|apr(?:il)?|avril|"
    r"mai|june?|juni|juin|july?|juli|juillet|aug(?:ust)?|ao[uû]t|sep(?:t|tember)?|septembre|"
    r"o[ck]t(?:ober|obre)?|nov(?:ember|embre)?|d[ée][cz](?:ember|embre)?)"
    r"|May|MAY)\.?"  # "may" is also a verb: "the EUR 80 may rise" keeps its amount
)
_MASKS = re.compile(
    r"\b\d{1,2}[./-]\d{1,2}[./-]\d{2,4}\b"  # 03.05.2024 · 3/5/24
    r"|\b\d{4}-\d{2}-\d{2}\b"  # 2024-05-03
    rf"|\b\d{{1,2}}(?:st|nd|rd|th|\.)?\s+{_MONTH}(?:,?\s+\d{{4}})?(?![^\W\d_])"  # 3 May 2024 · 3. Mai
    rf"|(?<![^\W\d_]){_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+(?:19|20)\d\d\b"  # May 3, 2024
    rf"|(?<![^\W\d_]){_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)\b"  # May 3rd
    rf"|(?<![^\W\d_]){_MONTH}\s+(?:19|20)\d\d\b"  # May 2024
    r"|\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,3})?\b"  # IBAN
    r"|\+\d[\d\s().-]{6,}\d"  # +44 20 7946 0958
)
"""Text that looks numeric but is never money; blanked out (same length) before the search."""

_CLAIM_WORD = re.compile(
    r"(?<![^\W\d_])(?:claim|damage|repair|total|invoice|quote|estimate|cost|amount|"
    r"schaden|reparatur|rechnung|gesamt|betrag|kosten|montant|dommage|r[ée]paration|facture|"
    r"sinistre|devis|co[uû]t|somme)",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?;]\s|\n\s*\n")
_BEFORE, _AFTER = 60, 20


# -- reading -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AmountCandidate:
    """One amount found in a text, where it stands, and what it is."""

    value: Decimal
    """The amount, exactly as written (decimals kept)."""
    currency: str | None
    """ISO 4217 code, or ``None`` when the number had an amount word but no currency marker."""
    start: int
    """Offset of the amount's first character in the text."""
    end: int
    """Offset just past its last character."""
    supported: bool
    """Whether a claim word stands near it in the same sentence (see the module docstring)."""


def parse_number(number: str, multiplier: str | None = None) -> Decimal:
    """Read one number that matched the grammar, exactly.

    ``multiplier`` is the suffix (``k``, ``m``, ``Mio.`` …) if one followed; then a lone
    separator is a decimal mark. Raises ``ValueError`` for text that is not such a number,
    so a caller can never get a partial read.
    """
    text = re.sub(r"[.,][-–—]{1,2}$", "", number.strip())
    if multiplier is not None:
        if not re.fullmatch(_MULT_NUM, text):
            raise ValueError(f"not a number before a multiplier: {number!r}")
        scaled = Decimal(text.replace(",", ".")) * _MULTIPLIERS[multiplier.lower()]
        return scaled.quantize(Decimal(1)) if scaled == scaled.to_integral_value() else scaled.normalize()
    if not re.fullmatch(_NUM, text):
        raise ValueError(f"not a money amount: {number!r}")
    decimals = re.search(r"[.,](\d{1,2})$", text)
    if decimals is None:
        return Decimal(re.sub(r"\D", "", text))
    whole = re.sub(r"\D", "", text[: decimals.start()])
    return Decimal(f"{whole}.{decimals.group(1)}")


def _currency(marker: str) -> str:
    return _SYMBOLS.get(marker) or _WORDS.get(marker.lower()) or marker.upper()


def _masked(text: str) -> str:
    return _MASKS.sub(lambda m: "#" * len(m.group()), text)


def _supported(text: str, start: int, end: int) -> bool:
    before = text[max(0, start - _BEFORE):start]
    ends = list(_SENTENCE_END.finditer(before))
    if ends:
        before = before[ends[-1].end():]
    after = text[end:end + _AFTER]
    stop = _SENTENCE_END.search(after)
    if stop is not None:
        after = after[:stop.start()]
    return bool(_CLAIM_WORD.search(before) or _CLAIM_WORD.search(after))


def find_amounts(text: str) -> list[AmountCandidate]:
    """Every candidate amount in ``text``, in reading order (rules in the module docstring)."""
    masked = _masked(text)
    found: list[AmountCandidate] = []
    taken: list[tuple[int, int]] = []
    for m in _AMOUNT.finditer(masked):
        side = "pre" if m.group("pre") is not None else "post"
        if m.group(f"{side}_mnum") is not None:
            value = parse_number(m.group(f"{side}_mnum"), m.group(f"{side}_mult"))
        else:
            value = parse_number(m.group(f"{side}_num"))
        found.append(AmountCandidate(value, _currency(m.group(side)), m.start(), m.end(),
                                     _supported(text, m.start(), m.end())))
        taken.append(m.span())
    for m in _BARE.finditer(masked):
        start = m.start("mnum") if m.group("mnum") is not None else m.start("num")
        if any(a < m.end() and start < b for a, b in taken):
            continue  # the number already counted with its currency marker
        if m.group("mnum") is not None:
            value = parse_number(m.group("mnum"), m.group("mult"))
        else:
            value = parse_number(m.group("num"))
        found.append(AmountCandidate(value, None, start, m.end(), True))
    return sorted(found, key=lambda c: c.start)


# -- choosing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimPick:
    """The claimed amount chosen from a letter, and how sure the choice is."""

    amount: Decimal | None
    """The claimed amount, ``None`` when the letter holds none."""
    currency: str | None
    """Its ISO 4217 code, ``None`` when unknown."""
    confidence: float
    """0–1; below 0.75 the case's guardrail routes the claim to a senior analyst."""
    candidates: int
    """How many amounts the letter holds (repeats included)."""


def pick_claim(text: str) -> ClaimPick:
    """Choose the claimed amount in a letter and rate the choice (rules in the module docstring)."""
    candidates = find_amounts(text)
    if not candidates:
        return ClaimPick(None, None, 0.0, 0)
    supported = [c for c in candidates if c.supported]
    pick = max(supported or candidates, key=lambda c: c.value)
    distinct = {(c.value, c.currency) for c in candidates}
    if len(distinct) == 1:
        confidence = 0.95 if pick.currency is not None else 0.6
    else:
        confidence = 0.7 - 0.1 * (len(distinct) - 2)
        if {(c.value, c.currency) for c in supported} != {(pick.value, pick.currency)}:
            confidence -= 0.1  # no claim word, or claim words near several amounts
        currencies = {c.currency for c in candidates}
        if len(currencies) > 1 or None in currencies:
            confidence -= 0.1
        confidence = max(0.2, round(confidence, 2))
    return ClaimPick(pick.value, pick.currency, confidence, len(candidates))
