"""NRP (nationality, religious or political group) from a curated word list.

spaCy's small model tags NORP well in running prose but misses plurals and
lower-case forms ("we are proud saudis") and often calls a demonym before a noun a
person ("the German place downtown"). A lookup over the same tokens fixes both; a
lower-case word counts only in the plural or after a copula ("I am bruneian"), so
"a liberal estimate" stays untouched; languages ("studying English") and institutions
("European Union") are not groups of people.
"""

from __future__ import annotations

from typing import Any

from presidio_analyzer import RecognizerResult

from ._lexicon_recognizer import LexiconRecognizer
from ._tokens import token_view

__all__ = ["GroupRecognizer"]

_COPULA = frozenset({"am", "are", "is", "was", "were", "be", "being", "'m", "'re"})
# Before these words a demonym names a language ("studying English", "in German").
_LANGUAGE_CUES = frozenset(
    {"speak", "speaks", "spoke", "speaking", "study", "studies", "studying", "studied", "learn", "learning",
     "learned", "teach", "teaches", "teaching", "translate", "translated", "in", "into", "fluent"}
)
# After these a demonym is part of an institution's name ("European Union").
_INSTITUTIONS = frozenset({"union", "commission", "parliament", "council", "court", "bank", "central", "league"})


class GroupRecognizer(LexiconRecognizer):
    """NRP spans for listed nationalities, religions and political groups."""

    ENTITY = "NRP"

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        """One pass over the tokens, two-word names ("Costa Rican") first."""
        view = token_view(nlp_artifacts)
        if view is None:
            return []
        lex = self.lex
        results: list[RecognizerResult] = []
        i, n = 0, len(view)
        while i < n:
            word = view.text[i]
            if not word.isalpha():
                i += 1
                continue
            size = 0
            if i + 1 < n and f"{view.lower[i]} {view.lower[i + 1]}" in lex.countries:
                i += 2  # "Czech Republic" is a place, not a group
                continue
            if i + 1 < n and view.space[i] == " " and lex.group_of(f"{word} {view.text[i + 1]}"):
                size = 2
            elif lex.group_of(word):
                size = 1
            if size:
                last = view.text[i + size - 1]
                lower = word.islower()
                plural = lex.group_of(last) != last.casefold()
                after_copula = i > 0 and view.lower[i - 1] in _COPULA
                language = i > 0 and view.lower[i - 1] in _LANGUAGE_CUES
                institution = i + size < n and view.lower[i + size] in _INSTITUTIONS
                if (not lower or plural or after_copula) and not language and not institution:
                    results.append(RecognizerResult("NRP", view.start[i], view.end(i + size - 1), 0.88))
                i += size
            else:
                i += 1
        return results
