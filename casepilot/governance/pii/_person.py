"""A person-name recognizer from name lists, capitalisation and cue words.

spaCy's small English model finds about six in ten personal names in mixed,
multinational text ("Šárka Ottová", "Tomomi Nishiyama", "leone mazzi"); names are
the commonest PII in case files, so this recognizer adds a second, independent
signal computed from the same tokens (no second model run):

* a run of capitalised words (with initials, particles and hyphens: "Jansen-van Ooyen",
  "Roche-de la Salle", "Ahmed al-Maktoum") is a name when
  it holds a given name, or two or more words with a surname among them, or an
  initial between words ("Faina D. Yefremova");
* after a title or a cue ("Mr", "Dr", "my name is", "Name:", "Dear") a run of one to
  three capitalised words is a name whatever the lists say;
* lower-case or upper-case text needs stronger evidence: a given name followed by
  another listed name;
* a second pass spreads names: other mentions of a found name's words, and the
  other items of an enumeration holding a name ("Eklund, Michael and Hodge").

Words that are also common English words ("May", "Will", "Bank") never count as
evidence on their own. Titles and cue words are left outside the span; particles right
in front of a found name are taken into it ("zu Henschel", "al-Mitchell"), so a span
is the whole name and no fragment of it stays in clear.
"""

from __future__ import annotations

import re
from typing import Any

from presidio_analyzer import RecognizerResult

from ._lexicon import NAME_CUES, PARTICLES, PERSON_VERBS, SURNAME_SUFFIXES, TITLES, Lexicon
from ._lexicon_recognizer import LexiconRecognizer
from ._tokens import TokenView, token_view

__all__ = ["PersonNameRecognizer"]

_MAX_RUN = 10  # tokens, counting hyphens, initials and particles ("Mathilde Langern-von der Stiffel")
_SEPARATORS = frozenset({",", "and", "&", "or"})
_GAELIC_SHAPE = re.compile(r"(?:O['’]|Mc|Mac)[A-Z][a-z]+$")  # "O'Walsh", "McEdwards", "MacSmall"
# Particles that may open a surname on their own ("was van der Arent", "contact zu Henschel"); the
# others ("la", "le", "al", "st", …) are too often ordinary words or places before a capital.
_LEADING_PARTICLES = frozenset(
    {"van", "von", "der", "den", "de", "del", "della", "di", "du", "ten", "ter", "zu", "zum", "zur", "vom", "dos",
     "dei", "degli", "dalla", "dello", "bin", "ibn"}
)
_MAX_PARTICLES = 3  # "van de la", "van 't"
_CONFIDENT = 0.9  # a name with a given name, or after a cue
_KNOWN = 0.89  # another mention of a confident name: above the NER model's 0.85
# After these a particle-like word is an ordinary word ("the van Henschel drove") or part of
# a street name ("Rue de Virton", "avenue de Provence", "Via dei Fiorentini").
_DETERMINERS = frozenset(
    {"the", "a", "an", "my", "his", "her", "our", "their", "your", "its", "this", "that", "rue", "avenue", "via",
     "viale", "piazza", "corso", "strada", "calle", "avenida", "rua", "boulevard", "chemin", "place", "quai", "allée",
     "impasse", "cours", "straat", "laan", "weg", "plein", "route"}
)


def _is_initial(w: str) -> bool:
    return (len(w) == 1 and w.isupper()) or (len(w) == 2 and w[0].isupper() and w[1] == ".")


def _surname_shaped(w: str) -> bool:
    return (len(w) > 4 and w.lower().endswith(SURNAME_SUFFIXES)) or _GAELIC_SHAPE.match(w) is not None


def _is_plain_word(w: str) -> bool:
    """An all-lower or all-upper alphabetic word (names in lower- or upper-cased text)."""
    return len(w) > 1 and w.isalpha() and (w.islower() or w.isupper())


class PersonNameRecognizer(LexiconRecognizer):
    """PERSON spans from name lists and cues over the spaCy tokens Presidio already has."""

    ENTITY = "PERSON"

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        """Scan the tokens once for name runs, then spread what was found."""
        view = token_view(nlp_artifacts)
        if view is None:
            return []
        lex = self.lex
        spans: list[tuple[int, int, float]] = []  # token index range and score
        i, n = 0, len(view)
        while i < n:
            j = _run_end(view, i)
            if j > i:
                judged = _judge_run(view, i, j, lex)
                if judged is not None:
                    spans.append(judged)
                i = j
                continue
            plain = _judge_plain(view, i, lex)
            if plain is not None:
                spans.append(plain)
                i = plain[1]
            else:
                i += 1
        ner = [(e.start_char, e.end_char) for e in nlp_artifacts.entities if e.label_ == "PERSON"]
        spans += _spread(view, spans, ner, lex)
        spans = _trust_known_words(view, [_whole_compound(view, a, b, s) for a, b, s in spans])
        return [RecognizerResult("PERSON", view.start[_with_particles(view, a)], view.end(b - 1), s) for a, b, s in spans]


def _whole_compound(v: TokenView, a: int, b: int, score: float) -> tuple[int, int, float]:
    """Widen a span over hyphen-joined capitalised halves: "White-McWard", never "White-" + name."""
    while a >= 2 and v.text[a - 1] == "-" and _glued(v, a - 1) and v.cap[a - 2]:
        a -= 2
    while b + 1 < len(v) and v.text[b] == "-" and _glued(v, b) and v.cap[b + 1]:
        b += 2
    return a, b, score


def _trust_known_words(v: TokenView, spans: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    """Raise weak spans made only of words of a confident name elsewhere in the text.

    "Lauren Hostaden-van der Mulder … Hostaden-van der Mulder was hit": the second
    mention is the same person, and must not lose to a model's guess that "Hostaden"
    is a town (which would split the name in two).
    """
    known = {v.text[k] for a, b, s in spans if s >= _CONFIDENT for k in range(a, b) if v.cap[k]}
    if not known:
        return spans
    out: list[tuple[int, int, float]] = []
    for a, b, s in spans:
        words = [v.text[k] for k in range(a, b) if v.cap[k]]
        out.append((a, b, _KNOWN if s < _KNOWN and words and all(x in known for x in words) else s))
    return out


def _with_particles(v: TokenView, a: int) -> int:
    """Start of the name at token ``a`` with the particles right before it ("zu Henschel", "al-Mitchell").

    Not after an article or possessive: in "the van Henschel drove" the van is a vehicle.
    """
    k, count = a, 0
    while k > 0 and count < _MAX_PARTICLES and not v.break_before(k):
        if v.text[k - 1] == "-" and k > 1 and _glued(v, k - 1) and v.lower[k - 2] in PARTICLES and v.text[k - 2].islower():
            k -= 2  # "al-"
        elif v.lower[k - 1] in PARTICLES and v.text[k - 1].islower() and v.space[k - 1] == " ":
            k -= 1
        else:
            break
        count += 1
    if k < a and k > 0 and v.lower[k - 1] in _DETERMINERS:
        return a
    return k


def _run_end(v: TokenView, i: int) -> int:
    """End (exclusive) of the run of name-shaped tokens starting at ``i`` (``i`` if none)."""
    w, cap = v.text, v.cap
    if not (cap[i] or (_is_initial(w[i]) and i + 1 < len(v) and cap[i + 1]) or _particle_start(v, i)):
        return i
    j = i + 1
    while j < len(v) and j - i < _MAX_RUN and not v.break_before(j):
        tok, prev = w[j], w[j - 1]
        if cap[j] or _is_initial(tok) or (tok == "." and len(prev) == 1 and _is_initial(prev)):
            j += 1
        elif tok in "-'" and _glued(v, j) and j + 1 < len(v) and cap[j + 1]:
            j += 1  # "Mayo-Walters"
        elif tok == "-" and _glued(v, j) and _particles_then_name(v, j + 1):
            j += 1  # "Jansen-van Ooyen", "Wilson-al-Grant"
        elif v.lower[j] in PARTICLES and _particles_then_name(v, j):
            j += 1  # "Willemine ten Pas", "Daan van der Leek", "Ahmed al-Maktoum"
        else:
            break
    return j


def _particle_start(v: TokenView, i: int) -> bool:
    """A lower-case particle opening a surname: "van der Arent", "al-Mitchell" — not "the van Henschel"."""
    word = v.text[i]
    if not word.islower() or (i > 0 and v.lower[i - 1] in _DETERMINERS):
        return False
    glued_al = word in {"al", "el"} and i + 2 < len(v) and v.text[i + 1] == "-" and _glued(v, i + 1) and v.cap[i + 2]
    return glued_al or (word in _LEADING_PARTICLES and _particles_then_name(v, i))


def _glued(v: TokenView, j: int) -> bool:
    """Token ``j`` touches both neighbours (a hyphen inside a word, not a dash between words)."""
    return j > 0 and not v.space[j - 1] and not v.space[j]


def _particles_then_name(v: TokenView, j: int) -> bool:
    """Tokens from ``j`` are one to three particles (each maybe hyphen-glued) and then a capitalised word."""
    k, count = j, 0
    while k < len(v) and count < _MAX_PARTICLES and v.lower[k] in PARTICLES and not v.break_before(k):
        k, count = k + 1, count + 1
        if k < len(v) and v.text[k] == "-" and _glued(v, k):
            k += 1  # "al-Maktoum"
    return count > 0 and k < len(v) and v.cap[k] and not v.break_before(k)


def _judge_run(v: TokenView, i: int, j: int, lex: Lexicon) -> tuple[int, int, float] | None:
    w, low = v.text, v.lower
    cue = _cue_before(v, i) > 0
    while i < j:
        # Leading titles/cues ("Mr", "Dear") are evidence but not part of the name.
        if low[i].rstrip(".") in TITLES or low[i] in NAME_CUES:
            cue = True
            i += 1
            if i < j and w[i] == ".":
                i += 1
        elif low[i] in lex.common_words and not lex.is_first(w[i]):
            # Sentence-initial "Please", "Yesterday Mr …" — but "Per Olsen", "Will Smith" and the
            # first half of "North-Hobbs" stay.
            if lex.is_name(w[i]) and i + 1 < j and v.cap[i + 1] and (lex.is_first(w[i + 1]) or lex.is_last(w[i + 1])):
                break
            if i + 1 < j and w[i + 1] == "-" and _glued(v, i + 1):
                break
            i += 1
        else:
            break
    while j > i and (low[j - 1] in lex.common_words or w[j - 1] in "-'"):
        if j - 2 >= i and lex.is_name(w[j - 1]) and lex.is_first(w[j - 2]):
            break  # "Robert Green", "Linda West": a surname that is also a word
        if j - 2 > i and w[j - 2] == "-" and _glued(v, j - 2) and v.cap[j - 1]:
            break  # "Smith-Park": the second half of a double-barrelled name
        j -= 1
    if 0 < i < j and w[i].islower() and low[i - 1] in _DETERMINERS:
        while i < j and not v.cap[i]:
            i += 1  # "Avenue du Golf": the particle belongs to the street
    # "Contact Anna Berg": a sentence-initial unknown word before a given name is not part of it.
    while i < j - 1 and v.sentence_start(i) and not lex.is_name(w[i]) and lex.is_first(w[i + 1]):
        i += 1
    if i >= j:
        return None
    words = [w[k] for k in range(i, j) if v.cap[k]]
    firsts = sum(lex.is_first(x) for x in words)
    lasts = sum(lex.is_last(x) for x in words)
    verb_after = j < len(v) and low[j] in PERSON_VERBS
    if firsts and len(words) >= 2:
        score = 0.9
    elif any(_is_initial(w[k]) for k in range(i + 1, j - 1)) and len(words) >= 2:
        score = 0.85  # "Faina D. Yefremova", "Ravil G Yefimov"
    elif (firsts or lasts) and cue:
        score = 0.9
    elif lasts and len(words) >= 2:
        score = 0.8
    elif len(words) >= 2 and _surname_shaped(words[-1]):
        score = 0.75  # "Wisława Szczepańska", "Bekbolat Musliyevich"
    elif cue and words:
        score = 0.7
    elif firsts:
        # A lone given name; spaCy often calls these places ("Mette", "Magnus").
        place = words[0].lower() in lex.cities or words[0].lower() in lex.countries
        score = 0.55 if place else 0.86
    elif verb_after and words and words[0].lower() not in lex.cities and words[0].lower() not in lex.countries:
        score = 0.6 if len(words) >= 2 else 0.5  # "Tomomi Nishiyama lives at …"
    elif len(words) >= 2 and any(low[k] in PARTICLES for k in range(i + 1, j - 1)):
        score = 0.5  # "Willemine ten Pas" — but also "Soto del Barco": NER may overrule
    elif w[i].islower() and any(x.casefold() not in lex.common_words for x in words):
        score = 0.5  # "van der Freshour", "al-Mitchell" — but also "de Bilt": NER may overrule
    elif (lasts or (len(words) == 1 and _surname_shaped(words[0]))) and not v.sentence_start(i) \
            and not (j < len(v) and v.text[j].isalpha() and v.text[j].islower() and v.lower[j] not in PERSON_VERBS
                     and v.lower[j] not in {"and", "or", "was", "is", "has", "had", "will", "would", "said"}):
        score = 0.4  # a lone surname mid-sentence, not used as a modifier ("Flood damage")
    else:
        return None
    return i, j, score


def _judge_plain(v: TokenView, i: int, lex: Lexicon) -> tuple[int, int, float] | None:
    """Lower- or upper-case text: a given name followed by another name, or any word after "my name is"."""
    w = v.text
    if not _is_plain_word(w[i]) or v.lower[i] in PARTICLES:
        return None  # "the van de Boer lent us": a particle is no given name
    cue = _cue_before(v, i)
    if not (lex.is_first(w[i]) or (cue == 2 and v.lower[i] not in lex.common_words)):
        return None
    j = i + 1
    while j < len(v) and j - i < 3 and _is_plain_word(w[j]) and not v.break_before(j) \
            and (lex.is_last(w[j]) or lex.is_first(w[j]) or _surname_shaped(w[j])):
        j += 1
    if j - i >= 2 or cue:
        return i, j, 0.6
    return None


def _cue_before(v: TokenView, i: int) -> int:
    """2 after "name is", "name:", "call me"; 1 after a title or cue word; else 0."""
    k = i - 1
    while k >= 0 and v.text[k] in {":", ",", ".", "?", "is", "was"} and i - k <= 2:
        k -= 1
    if k < 0:
        return 0
    word = v.lower[k].rstrip(".")
    if word in {"named", "called"} or (word in {"name", "surname"} and k < i - 1):  # "name is", "name:"
        return 2
    if word == "me" and k > 0 and v.lower[k - 1] in {"call", "calls", "called"}:
        return 2
    return 1 if word in TITLES or word in NAME_CUES else 0


def _spread(
    v: TokenView, spans: list[tuple[int, int, float]], ner: list[tuple[int, int]], lex: Lexicon
) -> list[tuple[int, int, float]]:
    """Second pass: a name found once marks its other mentions and its list neighbours.

    "…founders: Eklund, Michael and Hodge" — one given name makes the whole
    enumeration names; "directed by Maciej Borkowski and starring Borkowski" — the
    surname alone is the same person.
    """
    n = len(v)
    covered = [False] * n
    ranges = [(a, b) for a, b, _ in spans]
    for start, end in ner:  # NER spans are token-aligned: map offsets to indices
        a = next((k for k in range(n) if v.start[k] >= start), n)
        b = next((k for k in range(a, n) if v.start[k] >= end), n)
        ranges.append((a, b))
    words: set[str] = set()
    for a, b in ranges:
        for k in range(a, b):
            covered[k] = True
            if v.cap[k] and v.lower[k] not in lex.common_words:
                words.add(v.text[k])
    added: list[tuple[int, int, float]] = []
    for k in range(n):
        if not covered[k] and v.text[k] in words:
            covered[k] = True
            added.append((k, k + 1, 0.8))
    for chain in _chains(v, lex):
        seeded = any(covered[k] for k in chain)
        all_given = len(chain) >= 3 and all(lex.is_first(v.text[k]) for k in chain)
        if seeded or all_given:
            for k in chain:
                if not covered[k]:
                    covered[k] = True
                    added.append((k, k + 1, 0.7))
    return added


def _chains(v: TokenView, lex: Lexicon) -> list[list[int]]:
    """Single-word items of enumerations ("A, B and C"): capitalised or lower-case given names."""
    w, cap, n = v.text, v.cap, len(v)

    def item(k: int) -> bool:
        if cap[k]:
            return v.lower[k] not in lex.common_words or lex.is_first(w[k])
        return w[k].islower() and w[k].isalpha() and lex.is_first(w[k])

    def single(k: int) -> bool:  # not part of a longer capitalised run
        return not (k + 1 < n and cap[k + 1]) and not (k > 0 and cap[k - 1]) and item(k)

    chains: list[list[int]] = []
    k = 0
    while k < n:
        if not single(k):
            k += 1
            continue
        chain = [k]
        while True:
            j = k + 1
            while j < n and v.lower[j] in _SEPARATORS and j - k <= 2:
                j += 1
            if j == k + 1 or j >= n or not single(j):
                break
            chain.append(j)
            k = j
        if len(chain) >= 2:
            chains.append(chain)
        k += 1
    return chains
