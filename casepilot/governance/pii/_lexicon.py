"""Word lists behind the name recognizer: given names, surnames, common words.

Names come from Faker's person providers (MIT; ~80 locales, so European, Slavic,
Nordic, Asian names are covered, not only US census names). The lists are read
from the installed package at first use — nothing is downloaded — and cached.

``COMMON_WORDS`` holds English words that are also names in some locale ("May",
"Will", "Long", "Street"…): a token that is a common word is only taken as a name
with more evidence (a neighbouring name token or a title), which keeps precision.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from spacy.lang.en.stop_words import STOP_WORDS

__all__ = ["Lexicon", "lexicon"]

_GAELIC = re.compile(r"(?:O['’]|Mc|Mac)([A-Z][a-z]+)$")

# Words that open or sit inside a personal name without being one.
TITLES = frozenset(
    (
        "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "madam", "madame", "dame", "lord", "lady",
        "rev", "fr", "mister", "doctor", "professor",
        # the letters of a European claims desk: German, French, Italian, Spanish, Dutch forms
        "herr", "frau", "mme", "mlle", "monsieur", "mademoiselle", "sig", "sig.ra", "sig.na", "signor",
        "signora", "signorina", "dott", "dott.ssa", "sr", "sra", "srta", "señor", "señora", "dhr", "mevr",
        "mevrouw", "meneer", "ing", "ir", "drs", "mag", "dipl"
    )
)

# Lower-case words inside or in front of a surname ("van der", "de la", "von", "bin", "al-").
PARTICLES = frozenset(
    (
        "van", "von", "der", "den", "de", "del", "della", "di", "da", "dos", "das", "du", "la", "le", "ten",
        "ter", "bin", "ibn", "al", "el", "st", "zu", "zum", "zur", "vom", "des", "dei", "degli", "dalla",
        "dello", "lo", "het", "'t", "te", "ben", "bint", "abu", "ap", "af", "y"
    )
)

# Cue words right before a name ("I am", "dear", "by", …); the strong ones ("my name is",
# "call me") are recognised as phrases by the person recognizer.
NAME_CUES = frozenset(
    (
        "named", "dear", "hi", "hello", "hey", "am", "'m", "i'm", "im", "signed", "regards", "by"
    )
)

# Verbs that follow a person as subject ("Timotea lives on …", "Mourik began writing").
PERSON_VERBS = frozenset(
    (
        "lives", "lived", "began", "begins", "spent", "spends", "says", "said", "told", "tells", "wrote",
        "writes", "works", "worked", "studied", "studies", "married", "died", "retired", "joined",
        "founded", "asked", "asks", "wants", "wanted", "went", "moved", "replied", "answered", "smiled",
        "laughed"
    )
)

# Surname endings across European languages ("Szczepańska", "Musliyevich", "Ásgeirsdóttir").
SURNAME_SUFFIXES = (
    "ová", "ova", "eva", "ski", "ska", "cki", "cka", "ić", "vić", "ov", "ev", "vich", "enko", "escu",
    "sson", "dóttir", "dottir", "poulos", "akis", "oglu", "oğlu", "nen", "shvili", "dze", "czyk", "wicz",
)
# Words that often start a sentence in title case and appear in some locale's name list.
_EXTRA_COMMON = frozenset(
    (
        "street", "road", "avenue", "lane", "drive", "square", "suite", "apt", "apartment", "box", "city",
        "town", "state", "county", "village", "north", "south", "east", "west", "new", "old", "saint",
        "san", "santa", "port", "mount", "lake", "river", "park", "hill", "hills", "bay", "bank", "card",
        "credit", "account", "phone", "email", "mail", "address", "number", "code", "date", "time", "year",
        "years", "month", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
        "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
        "november", "december", "today", "tomorrow", "yesterday", "please", "thanks", "thank", "hello",
        "dear", "sir", "madam", "regards", "customer", "client", "patient", "user", "team", "support",
        "company", "group", "inc", "ltd", "llc", "corp", "insurance", "services", "international", "global",
        # street words of the European addresses in letters ("Rue de Virton", "Via Nuova")
        "rue", "via", "viale", "piazza", "calle", "avenida", "rua", "straat", "strasse", "straße", "laan", "plein",
        "platz", "gasse", "chemin", "boulevard"
    )
)

# Short and colloquial country names that Faker's formal list lacks.
_EXTRA_COUNTRIES = frozenset(
    (
        "usa", "u.s.a.", "us", "uk", "u.k.", "england", "scotland", "wales", "britain", "holland",
        "czechia", "russia", "vatican", "greenland", "united states", "united kingdom", "great britain",
        "northern ireland", "south korea", "north korea", "ivory coast", "czech republic", "new zealand",
        "south africa", "united arab emirates",
    )
)


@dataclass(frozen=True)
class Lexicon:
    """Case-folded word sets used by :class:`~._recognizers.PersonNameRecognizer`."""

    first_names: frozenset[str]
    last_names: frozenset[str]
    common_words: frozenset[str]
    countries: frozenset[str]
    """Country names in English, case-folded, multi-word ones space-joined."""
    cities: frozenset[str]
    """Towns of many countries (Faker's address providers), case-folded."""
    groups: frozenset[str]
    """Nationalities, religious and political groups (``data/nrp.txt``), singular."""
    group_forms: frozenset[str]
    """``groups`` with their plurals, for a one-lookup pre-check."""

    def group_of(self, word: str) -> str | None:
        """The NRP entry ``word`` names, also in the plural ("saudis", "surinameses")."""
        w = word.casefold()
        if w not in self.group_forms:
            return None
        for candidate in (w, w[:-1] if w.endswith("s") else "", w[:-2] if w.endswith("es") else ""):
            if candidate and candidate in self.groups:
                return candidate
        return None

    def is_first(self, word: str) -> bool:
        """A given name that is not also a common English word."""
        w = word.casefold()
        return w in self.first_names and w not in self.common_words

    def is_last(self, word: str) -> bool:
        """A surname that is not also a common English word, or a Gaelic/Scottish form of a name.

        "O'Ahmed", "McWard", "MacBailey": the prefix makes a surname of any listed name,
        and the lists hold only some of these forms.
        """
        w = word.casefold()
        if w in self.last_names and w not in self.common_words:
            return True
        stem = _GAELIC.match(word)
        if stem is None:
            return False
        rest = stem.group(1).casefold()
        return (rest in self.last_names or rest in self.first_names) and rest not in self.common_words

    def is_name(self, word: str) -> bool:
        """Any listed name, common word or not."""
        w = word.casefold()
        return w in self.first_names or w in self.last_names


def _names(attrs: tuple[str, ...]) -> set[str]:
    import faker.providers.person as person

    out: set[str] = set()
    for info in pkgutil.iter_modules(person.__path__):
        module = importlib.import_module(f"{person.__name__}.{info.name}")
        provider = getattr(module, "Provider", None)
        for attr in attrs:
            values = getattr(provider, attr, None)
            if isinstance(values, dict | list | tuple | set | frozenset):
                for value in values:
                    if isinstance(value, str):
                        out.update(part.casefold() for part in value.split() if len(part) > 1)
    return out


def _places() -> tuple[set[str], set[str]]:
    import faker.providers.address as address

    countries: set[str] = set(_EXTRA_COUNTRIES)
    cities: set[str] = set()
    for info in pkgutil.iter_modules(address.__path__):
        provider = getattr(importlib.import_module(f"{address.__name__}.{info.name}"), "Provider", None)
        for attr in ("cities", "city_names", "towns"):
            values = getattr(provider, attr, None)
            if isinstance(values, list | tuple):
                cities.update(v.casefold() for v in values if isinstance(v, str))
        values = getattr(provider, "countries", None)
        if info.name.startswith("en") and isinstance(values, list | tuple):
            countries.update((v if isinstance(v, str) else str(v[0])).casefold() for v in values)
    return countries, cities


def _groups() -> set[str]:
    text = resources.files(__package__).joinpath("data/nrp.txt").read_text(encoding="utf-8")
    return {line.strip().casefold() for line in text.splitlines() if line.strip() and not line.startswith("#")}


def _common_words() -> set[str]:
    from faker.providers.lorem.en_US import Provider as Lorem

    words = {w.casefold() for w in Lorem.word_list}
    return words | {w.casefold() for w in STOP_WORDS} | set(_EXTRA_COMMON)


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """Build the lexicon once per process."""
    first = _names(("first_names", "first_names_male", "first_names_female", "first_names_nonbinary"))
    last = _names(("last_names", "last_names_male", "last_names_female"))
    countries, cities = _places()
    groups = _groups()
    # Demonyms are never evidence of a name ("English", "German" are also surnames).
    common = _common_words() | groups | {g + "s" for g in groups}
    return Lexicon(
        frozenset(first),
        frozenset(last),
        frozenset(common),
        frozenset(countries),
        frozenset(c for c in cities if c not in common),
        frozenset(groups),
        frozenset(groups | {g + "s" for g in groups} | {g + "es" for g in groups}),
    )
