"""A person-name recognizer from name lists, capitalisation and cue words.

spaCy's small English model finds about six in ten personal names in mixed,
multinational text ("Šárka Ottová", "Tomomi Nishiyama", "leone mazzi"); names are
the commonest PII in case files, so this recognizer adds a second, independent
signal computed from the same tokens (no second model run):

* a run of capitalised words (with initials, particles and hyphens) is a name when
  it holds a given name, or two or more words with a surname among them;
* after a title or a cue ("Mr", "Dr", "my name is", "Name:", "Dear") a run of one to
  three capitalised words is a name whatever the lists say;
* lower-case or upper-case text needs stronger evidence: a given name followed by
  another listed name.

Words that are also common English words ("May", "Will", "Bank") never count as
evidence on their own. Titles and cue words are left outside the span.
"""

from __future__ import annotations

from typing import Any

from presidio_analyzer import EntityRecognizer, RecognizerResult
from spacy.tokens import Doc, Token

from ._lexicon import NAME_CUES, PARTICLES, TITLES, Lexicon, lexicon

__all__ = ["PersonNameRecognizer"]

_MAX_RUN = 5
_SEPARATORS = frozenset({",", "and", "&", "or"})


def _is_initial(tok: Token) -> bool:
    text = tok.text
    return (len(text) == 1 and text.isupper()) or (len(text) == 2 and text[0].isupper() and text[1] == ".")


def _is_cap_word(tok: Token) -> bool:
    text = tok.text
    if not text[:1].isupper() or len(text) < 2:
        return False
    body = text.replace("'", "").replace("’", "")
    return body.isalpha() and not text.isupper()


def _chains(doc: Doc, lex: Lexicon) -> list[list[int]]:
    """Single-word items of enumerations ("A, B and C"): capitalised or lower-case given names."""

    def item(k: int) -> bool:
        tok = doc[k]
        if _is_cap_word(tok):
            return tok.lower_ not in lex.common_words or lex.is_first(tok.text)
        return tok.is_lower and tok.is_alpha and lex.is_first(tok.text)

    def single(k: int) -> bool:  # not part of a longer capitalised run
        return item(k) and not (k + 1 < len(doc) and _is_cap_word(doc[k + 1])) \
            and not (k > 0 and _is_cap_word(doc[k - 1]))

    chains: list[list[int]] = []
    k, n = 0, len(doc)
    while k < n:
        if not single(k):
            k += 1
            continue
        chain = [k]
        while True:
            j = k + 1
            while j < n and doc[j].lower_ in _SEPARATORS and j - k <= 2:
                j += 1
            if j == k + 1 or j >= n or not single(j):
                break
            chain.append(j)
            k = j
        if len(chain) >= 2:
            chains.append(chain)
        k += 1
    return chains


class PersonNameRecognizer(EntityRecognizer):
    """PERSON spans from name lists and cues over the spaCy tokens Presidio already has."""

    def __init__(self, lex: Lexicon | None = None) -> None:
        self._lex = lex
        super().__init__(supported_entities=["PERSON"], name="PersonNameRecognizer")

    def load(self) -> None:
        """Build the lexicon (cached per process)."""
        if self._lex is None:
            self._lex = lexicon()

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        """Scan the document once for capitalised runs and lower/upper-case name pairs."""
        if nlp_artifacts is None or nlp_artifacts.tokens is None:
            return []
        doc: Doc = nlp_artifacts.tokens
        lex = self._lex or lexicon()
        results: list[RecognizerResult] = []
        i, n = 0, len(doc)
        while i < n:
            j = self._run_end(doc, i)
            if j > i:
                found = self._judge_run(doc, i, j, lex)
                if found is not None:
                    results.append(found)
                i = j
                continue
            found, j = self._judge_plain(doc, i, lex)
            if found is not None:
                results.append(found)
            i = max(j, i + 1)
        return results + self._spread(doc, results, nlp_artifacts, lex)

    @staticmethod
    def _spread(doc: Doc, found: list[RecognizerResult], nlp_artifacts: Any, lex: Lexicon) -> list[RecognizerResult]:
        """Second pass: a name found once marks its other mentions and its list neighbours.

        "…founders: Eklund, Michael and Hodge" — one given name makes the whole
        enumeration names; "directed by Maciej Borkowski and starring Borkowski" —
        the surname alone is the same person.
        """
        covered = [False] * len(doc)
        seeds = [(r.start, r.end) for r in found]
        seeds += [(e.start_char, e.end_char) for e in nlp_artifacts.entities if e.label_ == "PERSON"]
        words: set[str] = set()
        for start, end in seeds:
            span = doc.char_span(start, end, alignment_mode="expand")
            if span is None:
                continue
            for tok in span:
                covered[tok.i] = True
                if _is_cap_word(tok) and tok.lower_ not in lex.common_words:
                    words.add(tok.text)
        added: list[RecognizerResult] = []

        def add(k: int, score: float) -> None:
            covered[k] = True
            added.append(RecognizerResult("PERSON", doc[k].idx, doc[k].idx + len(doc[k].text), score))

        for tok in doc:
            if not covered[tok.i] and tok.text in words:
                add(tok.i, 0.8)
        # Enumerations: items joined by "," / "and" / "&" / "or".
        for chain in _chains(doc, lex):
            seeded = any(covered[k] for k in chain)
            all_given = len(chain) >= 3 and all(lex.is_first(doc[k].text) for k in chain)
            if seeded or all_given:
                for k in chain:
                    if not covered[k]:
                        add(k, 0.7)
        return added

    @staticmethod
    def _run_end(doc: Doc, i: int) -> int:
        """End (exclusive) of the run of name-shaped tokens starting at ``i`` (``i`` if none)."""
        if not (_is_cap_word(doc[i]) or (_is_initial(doc[i]) and i + 1 < len(doc) and _is_cap_word(doc[i + 1]))):
            return i
        j = i + 1
        while j < len(doc) and j - i < _MAX_RUN:
            tok, prev = doc[j], doc[j - 1]
            if "\n" in prev.whitespace_ or "\n" in tok.text:
                break
            if _is_cap_word(tok) or _is_initial(tok) or (tok.text == "." and _is_initial(prev) and len(prev.text) == 1):
                j += 1
            elif j + 1 < len(doc) and _is_cap_word(doc[j + 1]) and (
                tok.lower_ in PARTICLES or (tok.text in "-'" and not prev.whitespace_)
            ):
                j += 1  # "Willemine ten Pas", "Mayo-Walters"
            else:
                break
        return j

    def _judge_run(self, doc: Doc, i: int, j: int, lex: Lexicon) -> RecognizerResult | None:
        # Leading titles/cues ("Mr", "Dear") are evidence but not part of the name.
        cue = self._cue_before(doc, i)
        while i < j and (doc[i].lower_.rstrip(".") in TITLES or doc[i].lower_ in NAME_CUES):
            cue = True
            i += 1
            if i < j and doc[i].text == ".":
                i += 1
        while i < j and doc[i].lower_ in lex.common_words and not lex.is_first(doc[i].text):
            # Sentence-initial "Please", "Thanks", … — but "Per Olsen", "Will Smith" stay.
            if lex.is_name(doc[i].text) and i + 1 < j and (lex.is_first(doc[i + 1].text) or lex.is_last(doc[i + 1].text)):
                break
            i += 1
        while j > i and (doc[j - 1].lower_ in lex.common_words or doc[j - 1].text in "-'"):
            j -= 1
        if i >= j:
            return None
        words = [t for t in doc[i:j] if _is_cap_word(t)]
        firsts = sum(lex.is_first(t.text) for t in words)
        lasts = sum(lex.is_last(t.text) for t in words)
        inner_initial = any(_is_initial(t) for t in doc[i + 1 : j - 1])
        if firsts and len(words) >= 2:
            score = 0.9
        elif inner_initial and len(words) >= 2:
            score = 0.85  # "Faina D. Yefremova", "Ravil G Yefimov"
        elif len(words) >= 2 and any(t.lower_ in PARTICLES for t in doc[i + 1 : j - 1]):
            score = 0.5  # "Willemine ten Pas" — but also "Soto del Barco": NER may overrule
        elif (firsts or lasts) and cue:
            score = 0.9
        elif lasts and len(words) >= 2:
            score = 0.8
        elif cue and words:
            score = 0.7
        elif firsts:
            # A lone given name; spaCy often calls these places ("Mette", "Magnus").
            place = words[0].lower_ in lex.cities or words[0].lower_ in lex.countries
            score = 0.55 if place else 0.86
        elif lasts and i > 0 and not doc[i - 1].is_sent_start and doc[i - 1].is_alpha:
            score = 0.4
        else:
            return None
        return RecognizerResult("PERSON", doc[i].idx, doc[j - 1].idx + len(doc[j - 1].text), score)

    def _judge_plain(self, doc: Doc, i: int, lex: Lexicon) -> tuple[RecognizerResult | None, int]:
        """Lower- or upper-case text: a given name followed by another listed name."""
        tok = doc[i]
        if not tok.is_alpha or len(tok.text) < 2 or not (tok.is_lower or tok.is_upper):
            return None, i + 1
        if not lex.is_first(tok.text):
            return None, i + 1
        j = i + 1
        while j < len(doc) and j - i < 3 and doc[j].is_alpha and len(doc[j].text) > 1 \
                and (doc[j].is_lower or doc[j].is_upper) and "\n" not in doc[j - 1].whitespace_ \
                and (lex.is_last(doc[j].text) or lex.is_first(doc[j].text)):
            j += 1
        if j - i >= 2 or self._cue_before(doc, i):
            return RecognizerResult("PERSON", tok.idx, doc[j - 1].idx + len(doc[j - 1].text), 0.6), j
        return None, i + 1

    @staticmethod
    def _cue_before(doc: Doc, i: int) -> bool:
        """A title or cue word just before ``i`` (skipping ':' , ',' and '.')."""
        k = i - 1
        while k >= 0 and doc[k].text in {":", ",", ".", "is"} and i - k <= 2:
            if doc[k].text == "is" and k >= 1 and doc[k - 1].lower_ == "name":
                return True
            k -= 1
        if k < 0:
            return False
        word = doc[k].lower_.rstrip(".")
        return word in TITLES or word in NAME_CUES
