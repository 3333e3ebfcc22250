"""A location recognizer for what spaCy's small model misses: address blocks, towns.

Three independent, cheap signals over the text and the tokens Presidio already has:

* gazetteer — English country names and Faker's town lists (many countries), in
  title or upper case ("Finland", "SEINÄJOKI", "Brønderslev");
* address layout — a line "Country 12345" (or just "Country") is a country and the
  line above it, when it is a short run of words without digits, is the town; and
  "… 54, Town" after a house number;
* prepositions — "in/to/from/near" followed by a capitalised word that is not a
  known personal name ("flew to Loeches", "moved here from Tjæreborg").

Scores are below spaCy's (0.85) except for gazetteer hits, so that NER keeps the
last word where it has an opinion.
"""

from __future__ import annotations

import re
from typing import Any

from presidio_analyzer import EntityRecognizer, RecognizerResult

from ._lexicon import Lexicon, lexicon
from ._tokens import TokenView, token_view

__all__ = ["LocationRecognizer"]

_LINE_PREFIX = re.compile(r"^[\s>?*•\-]*")
_COUNTRY_LINE = re.compile(r"^(?P<name>[^\d\n]+?)(?:\s+[\dA-Z][\d\s-]*)?\s*$")
_TOWN_LINE = re.compile(r"^[^\W\d_][^\W\d]*(?:[ -][^\W\d]+){0,4}$")
_NOT_TOWN = re.compile(r"^(?:suite|apt|apartment|unit|box|psc|po|p\.o\.|floor|building)\b", re.IGNORECASE)
_STREET_WORDS = (
    r"street|st|road|rd|avenue|ave|lane|ln|drive|dr|place|pl|terrace|way|court|ct|boulevard|blvd|"
    r"square|sq|crescent|close|gardens|park|row|hill|alley|highway|hwy|parkway|pkwy|plaza|circle|cir"
)
_TOWN_WORD = r"[^\W\d_](?:[^\W\d_]|['’-])*"
_TOWN_LINK = r"(?:u|de|del|la|le|nad|pod|am|an|im|sur|sous|di|da|do|dos|das|y|i|na|v)"
_AFTER_NUMBER = re.compile(
    r"(?:\d[\dA-Za-z]*\.?|\b(?i:" + _STREET_WORDS + r")\.?),[ \t]+"
    r"(?P<town>" + _TOWN_WORD + r"(?:[ \t](?:" + _TOWN_LINK + r"[ \t])?" + _TOWN_WORD + r"){0,2})"
    r"(?=\s*(?:[.?!,;\n]|$))"
)
_CUES = frozenset({"in", "to", "from", "near"})
# Two-word cues after which a capitalised word is a place even if NER or the name lists
# say person ("originally from Eckenroth", "flew to Loeches", "University of VIERHÖF").
_STRONG_CUES = frozenset(
    {
        ("originally", "from"), ("flew", "to"), ("fly", "to"), ("returned", "to"), ("moved", "to"),
        ("travelling", "to"), ("traveling", "to"), ("coming", "to"), ("arrived", "at"), ("arrived", "in"),
        ("university", "of"), ("city", "of"), ("town", "of"), ("village", "of"), ("lives", "in"),
        ("living", "in"), ("born", "in"), ("based", "in"), ("located", "in"), ("here", "from"),
        ("i'm", "in"), ("'m", "in"), ("am", "in"), ("home", "city"), ("visit", "to"), ("trip", "to"),
    }
)
_MAX_GAZ = 4


class LocationRecognizer(EntityRecognizer):
    """LOCATION spans from gazetteers, address layout and prepositions."""

    def __init__(self, lex: Lexicon | None = None) -> None:
        self._lex = lex
        super().__init__(supported_entities=["LOCATION"], name="LocationRecognizer")

    def load(self) -> None:
        """Build the lexicon (cached per process)."""
        if self._lex is None:
            self._lex = lexicon()

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        """Collect candidates from all three signals (overlaps are resolved by the detector)."""
        lex = self._lex or lexicon()
        results = self._address_lines(text, lex)
        for m in _AFTER_NUMBER.finditer(text):
            town = m.group("town")
            words = town.split()
            if words[0][0].isupper() and words[-1][0].isupper() and not lex.is_first(words[0]):
                results.append(RecognizerResult("LOCATION", m.start("town"), m.end("town"), 0.6))
        view = token_view(nlp_artifacts)
        if view is not None:
            results += self._tokens(view, lex)
        return results

    @staticmethod
    def _address_lines(text: str, lex: Lexicon) -> list[RecognizerResult]:
        results: list[RecognizerResult] = []
        lines: list[tuple[int, str]] = []
        offset = 0
        for raw in text.split("\n"):
            prefix = _LINE_PREFIX.match(raw)
            skip = prefix.end() if prefix else 0
            lines.append((offset + skip, raw[skip:].rstrip()))
            offset += len(raw) + 1
        for idx, (start, line) in enumerate(lines):
            m = _COUNTRY_LINE.match(line)
            if not m or m.group("name").strip().casefold() not in lex.countries:
                continue
            name = m.group("name").strip()
            results.append(RecognizerResult("LOCATION", start, start + len(name), 0.8))
            prev = next((lines[k] for k in range(idx - 1, -1, -1) if lines[k][1].strip()), None)
            if prev is not None:
                p_start, p_line = prev
                if _TOWN_LINE.match(p_line) and p_line[0].isupper() and not _NOT_TOWN.match(p_line):
                    # Layout outranks NER here: spaCy calls many towns persons ("Salvador").
                    results.append(RecognizerResult("LOCATION", p_start, p_start + len(p_line), 0.9))
        return results

    @staticmethod
    def _tokens(v: TokenView, lex: Lexicon) -> list[RecognizerResult]:
        results: list[RecognizerResult] = []
        w, n = v.text, len(v)
        for i in range(n):
            word = w[i]
            if not word.isalpha() or not (word.istitle() or (word.isupper() and len(word) > 1)):
                if i > 1 and word.isalpha() and word.islower() and (v.lower[i - 2], v.lower[i - 1]) in _STRONG_CUES \
                        and word not in lex.common_words:
                    results.append(RecognizerResult("LOCATION", v.start[i], v.end(i), 0.6))  # lower-cased text
                continue
            key, best = "", 0
            for size in range(1, min(_MAX_GAZ, n - i) + 1):
                key = w[i] if size == 1 else key + v.space[i + size - 2] + w[i + size - 1]
                folded = key.casefold()
                if folded in lex.countries or (
                    folded in lex.cities and len(folded) > 3 and (size > 1 or not lex.is_name(word))
                ):
                    best = size
            if best:
                results.append(RecognizerResult("LOCATION", v.start[i], v.end(i + best - 1), 0.86))
            elif i > 1 and (v.lower[i - 2], v.lower[i - 1]) in _STRONG_CUES and v.lower[i] not in lex.common_words:
                j = _place_end(v, i)
                results.append(RecognizerResult("LOCATION", v.start[i], v.end(j - 1), 0.87))
            elif i > 0 and v.text[i - 1] in _CUES and not lex.is_name(word) and v.lower[i] not in lex.common_words \
                    and not (word.isupper() and len(word) <= 4):  # "from ATM", "FROM Users"
                j = _place_end(v, i)
                results.append(RecognizerResult("LOCATION", v.start[i], v.end(j - 1), 0.45))
        return results


def _place_end(v: TokenView, i: int) -> int:
    """End of a place name of up to three words in the case of the first ("Bremen Ohlenhof", "BASHALL TOWN")."""
    upper = v.text[i].isupper()
    j = i + 1
    while j < len(v) and j - i < 3 and v.text[j].isalpha() and (
        v.text[j].isupper() if upper else v.text[j].istitle()
    ):
        j += 1
    return j
