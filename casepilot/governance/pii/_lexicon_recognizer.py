"""Base of the recognizers that read the shared word lists over the tokens Presidio already has."""

from __future__ import annotations

from presidio_analyzer import EntityRecognizer

from ._lexicon import Lexicon, lexicon

__all__ = ["LexiconRecognizer"]


class LexiconRecognizer(EntityRecognizer):
    """Supports one entity type; the lexicon is built on first use and cached per process."""

    ENTITY = ""

    def __init__(self, lex: Lexicon | None = None) -> None:
        self._lex = lex
        super().__init__(supported_entities=[self.ENTITY], name=type(self).__name__)

    def load(self) -> None:
        """Build the lexicon (cached per process)."""
        if self._lex is None:
            self._lex = lexicon()

    @property
    def lex(self) -> Lexicon:
        return self._lex or lexicon()
