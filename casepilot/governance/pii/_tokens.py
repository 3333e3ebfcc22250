"""A flat, cached view of a spaCy Doc's tokens for the pure-Python recognizers.

Indexing a ``Doc`` creates a ``Token`` object per access; the name and place
recognizers look at every token and its neighbours several times, which made them
slower than the NER model itself. One pass builds plain lists instead, shared by all
recognizers through the NLP artifacts of the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from spacy.attrs import IDX, LENGTH
from spacy.tokens import Doc

__all__ = ["TokenView", "is_cap_word", "token_view", "view_of"]

_SENTENCE_END = frozenset({".", "!", "?", "\n", ":"})


_INITIAL_COMPOUND = re.compile(r"[A-Z]\.-[A-Z][^\W\d_]+$")  # "H.-Dieter", one spaCy token


def is_cap_word(w: str) -> bool:
    """A capitalised word ("Anna", "O'Brien", "H.-Dieter"), not an acronym ("NATO") or initial."""
    if len(w) < 2 or not w[0].isupper() or w.isupper():
        return False
    return w.replace("'", "").replace("’", "").isalpha() or _INITIAL_COMPOUND.match(w) is not None


@dataclass(frozen=True, slots=True)
class TokenView:
    """Token texts, offsets, the whitespace after each token and whether it is capitalised."""

    text: list[str]
    lower: list[str]
    start: list[int]
    space: list[str]
    cap: list[bool]
    doc_index: list[int]
    """Index of the spaCy token each view token comes from (glued punctuation is split off,
    words spaCy cut in two are joined: see ``_rejoin_words``)."""

    def __len__(self) -> int:
        return len(self.text)

    def end(self, i: int) -> int:
        """Character offset just after token ``i``."""
        return self.start[i] + len(self.text[i])

    def sentence_start(self, i: int) -> bool:
        """Token ``i`` opens a sentence or line (no parser needed)."""
        return i == 0 or "\n" in self.space[i - 1] or self.text[i - 1] in _SENTENCE_END

    def break_before(self, i: int) -> bool:
        """A line break separates token ``i`` from the one before."""
        return i > 0 and ("\n" in self.space[i - 1] or "\n" in self.text[i])


# spaCy leaves some punctuation glued inside a token ('Elizabeth:"I'm'); names hide there.
_GLUE = re.compile(r'[:"“”]|[^:"“”]+')


def view_of(doc: Doc) -> TokenView:
    """Build the view of ``doc`` (prefer :func:`token_view`, which caches it)."""
    # Offsets and lengths come out of one array call: iterating a Doc creates a Token
    # object per token, which cost more than the rest of the view.
    full = doc.text
    text: list[str] = []
    start: list[int] = []
    doc_index: list[int] = []
    for i, (idx, length) in enumerate(doc.to_array([IDX, LENGTH]).tolist()):
        word = full[idx : idx + length]
        if length > 1 and any(ch in word for ch in ':"“”'):
            for m in _GLUE.finditer(word):
                text.append(m.group())
                start.append(idx + m.start())
                doc_index.append(i)
        else:
            text.append(word)
            start.append(idx)
            doc_index.append(i)
    text, start, doc_index = _rejoin_words(text, start, doc_index)
    space = [full[s + len(w) : n] for s, w, n in zip(start, text, [*start[1:], len(full)], strict=True)]
    return TokenView(text, [w.lower() for w in text], start, space, [is_cap_word(w) for w in text], doc_index)


def _rejoin_words(text: list[str], start: list[int], doc_index: list[int]) -> tuple[list[str], list[int], list[int]]:
    """Glue back letters-only tokens that touch: spaCy's contraction rules cut names.

    "Arent" becomes "Are" + "nt" and "Theres" "There" + "s" (as if "aren't", "there's");
    a surname cut so is half missed. A glued token keeps the spaCy index of its last
    piece, so a sentence range that ends on it still covers all of it.
    """
    out_text: list[str] = []
    out_start: list[int] = []
    out_index: list[int] = []
    for word, offset, index in zip(text, start, doc_index, strict=True):
        if out_text and word.isalpha() and out_text[-1].isalpha() and out_start[-1] + len(out_text[-1]) == offset:
            out_text[-1] += word
            out_index[-1] = index
        else:
            out_text.append(word)
            out_start.append(offset)
            out_index.append(index)
    return out_text, out_start, out_index


def token_view(nlp_artifacts: Any) -> TokenView | None:
    """The view of the artifacts' Doc, built on first request and kept on the artifacts."""
    if nlp_artifacts is None or nlp_artifacts.tokens is None:
        return None
    view: TokenView | None = getattr(nlp_artifacts, "_casepilot_tokens", None)
    if view is None:
        view = view_of(nlp_artifacts.tokens)
        nlp_artifacts._casepilot_tokens = view
    return view
