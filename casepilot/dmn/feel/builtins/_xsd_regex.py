"""XML Schema / XPath regular expressions, translated to the ``regex`` package's syntax.

FEEL's ``matches``, ``replace`` and ``split`` use the regex dialect of XPath 3.1 (F&O
§5.6), which is XML Schema's plus ``^``/``$`` anchors, reluctant quantifiers, back
references and non-capturing groups. Python's ``re`` differs in ways that change results,
so the pattern is parsed and re-emitted rather than passed through (to ``regex`` rather
than ``re`` because it can stop a runaway match — see :func:`run_with_timeout` — and knows
Unicode categories and blocks natively):

* ``\\s`` is exactly space, tab, CR, LF; ``\\w`` is "not punctuation, separator or other";
  ``.`` excludes CR and LF unless flag ``s``; ``$`` is the end of the input (Python's also
  matches before a final newline) unless flag ``m``;
* ``\\p{Lu}``, ``\\P{N}`` map to ``regex``'s categories (the XSD names only), ``\\p{IsBasicLatin}``
  to ``\\p{Block=BasicLatin}``, ``\\i``/``\\c`` to the XML name characters;
* class subtraction ``[a-z-[aeiou]]`` becomes a negative look-ahead;
* flag ``x`` removes whitespace outside classes (it does not start comments as Python's
  verbose mode would), ``q`` takes the pattern literally.

Constructs XSD does not have (look-arounds, ``\\b``, named groups, possessive quantifiers,
``{,n}``) are refused with :class:`RegexError`, as is anything else that cannot be
translated faithfully: FEEL then yields null with the reason, instead of a wrong match.

Matching is backtracking, so a hostile pattern (``^(a+)+$``) can take exponential time; every
match runs with a time budget (:data:`DEFAULT_TIMEOUT_SECONDS`, see :func:`set_regex_timeout`)
and a match that runs out raises :class:`RegexTimeout` (FEEL null with a message), never hangs.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import regex

__all__ = [
    "DEFAULT_TIMEOUT_SECONDS",
    "RegexError",
    "RegexTimeout",
    "compile_xsd",
    "matches_empty",
    "parse_replacement",
    "regex_timeout",
    "run_with_timeout",
    "set_regex_timeout",
]

_T = TypeVar("_T")

DEFAULT_TIMEOUT_SECONDS = 1.0
"""Time budget of one regex call (``matches``, ``replace``, ``split``)."""

_timeout = DEFAULT_TIMEOUT_SECONDS


class RegexError(ValueError):
    """The pattern, flags or replacement are not valid (or not translatable) XPath regex."""


class RegexTimeout(RegexError):
    """A match ran out of its time budget (a pattern that backtracks catastrophically)."""


def set_regex_timeout(seconds: float) -> float:
    """Set the process-wide time budget of one regex call; returns the previous one."""
    global _timeout
    if not seconds > 0:
        raise ValueError(f"a regex timeout must be positive, got {seconds!r}")
    previous, _timeout = _timeout, float(seconds)
    return previous


def regex_timeout() -> float:
    """The current time budget of one regex call, in seconds."""
    return _timeout


def run_with_timeout(call: Callable[[float], _T]) -> _T:
    """Run ``call(timeout)`` (a ``regex`` call taking ``timeout=``); RegexTimeout if it runs out."""
    budget = _timeout
    try:
        return call(budget)
    except TimeoutError:
        raise RegexTimeout(
            f"matching gave up after {budget:g} s (the pattern backtracks too much on this input)"
        ) from None


_SINGLE_ESCAPES = {
    "n": "\n", "r": "\r", "t": "\t", "\\": "\\", "|": "|", ".": ".", "?": "?", "*": "*",
    "+": "+", "(": "(", ")": ")", "{": "{", "}": "}", "-": "-", "[": "[", "]": "]",
    "^": "^", "$": "$",
}  # fmt: skip
_XSD_SPACE = " \t\n\r"

# XML 1.0 (5th edition) NameStartChar / NameChar, for \i and \c
_NAME_START = [
    (0x3A, 0x3A), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A), (0xC0, 0xD6), (0xD8, 0xF6),
    (0xF8, 0x2FF), (0x370, 0x37D), (0x37F, 0x1FFF), (0x200C, 0x200D), (0x2070, 0x218F),
    (0x2C00, 0x2FEF), (0x3001, 0xD7FF), (0xF900, 0xFDCF), (0xFDF0, 0xFFFD), (0x10000, 0xEFFFF),
]  # fmt: skip
_NAME_EXTRA = [(0x2D, 0x2E), (0x30, 0x39), (0xB7, 0xB7), (0x300, 0x36F), (0x203F, 0x2040)]

_CATEGORIES = frozenset({
    "L", "Lu", "Ll", "Lt", "Lm", "Lo", "M", "Mn", "Mc", "Me", "N", "Nd", "Nl", "No",
    "P", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Z", "Zs", "Zl", "Zp",
    "S", "Sm", "Sc", "Sk", "So", "C", "Cc", "Cf", "Co", "Cn", "Cs",
})  # fmt: skip
"""The Unicode general categories XML Schema names in ``\\p{…}``."""


def _ranges_fragment(ranges: tuple[tuple[int, int], ...] | list[tuple[int, int]]) -> str:
    return "".join(_lit(lo) if lo == hi else f"{_lit(lo)}-{_lit(hi)}" for lo, hi in ranges)


def _lit(cp: int) -> str:
    """A code point as it may appear inside a character class."""
    ch = chr(cp)
    if ch.isascii() and (ch.isalnum() or ch == "_"):
        return ch
    return f"\\U{cp:08x}"


def _property(name: str) -> str:
    """The class fragment for ``\\p{name}`` (valid inside and outside ``[…]``)."""
    if name.startswith("Is"):
        block = name[2:]
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 _\-]*", block):
            raise RegexError(f"unsupported Unicode block \\p{{{name}}}")
        fragment = f"\\p{{Block={block}}}"
        try:
            regex.compile(fragment)
        except regex.error:
            raise RegexError(f"unsupported Unicode block \\p{{{name}}}") from None
        return fragment
    if name not in _CATEGORIES:
        raise RegexError(f"unknown Unicode category \\p{{{name}}}")
    return f"\\p{{{name}}}"


_WORD_COMPLEMENT = r"\p{P}\p{Z}\p{C}"
"""What ``\\w`` does NOT match: punctuation, separators and 'other' characters."""


@dataclass
class _Class:
    negate: bool = False
    positive: list[str] = field(default_factory=list)
    complements: list[str] = field(default_factory=list)  # sets whose complement is included
    subtract: _Class | None = None

    def emit(self) -> str:
        base = self._emit_union()
        if self.subtract is not None:
            return f"(?:(?!{self.subtract.emit()}){base})"
        return base

    def _emit_union(self) -> str:
        pos = "".join(self.positive)
        if not self.complements:
            if not pos:
                return r"[\s\S]" if self.negate else "(?!)"
            return f"[{'^' if self.negate else ''}{pos}]"
        if not self.negate:
            alts = ([f"[{pos}]"] if pos else []) + [f"[^{c}]" for c in self.complements]
            return "(?:" + "|".join(alts) + ")"
        # not (pos or not c1 or not c2 …) = not pos and c1 and c2 …
        head = f"(?![{pos}])" if pos else ""
        heads = "".join(f"(?=[{c}])" for c in self.complements[:-1])
        return f"(?:{head}{heads}[{self.complements[-1]}])"


class _Translator:
    """Recursive-descent parser of an XPath regex that emits the equivalent Python regex."""

    def __init__(self, pattern: str, *, extended: bool, dotall: bool, multiline: bool) -> None:
        self.src = pattern
        self.pos = 0
        self.extended = extended
        self.dotall = dotall
        self.multiline = multiline
        self.groups_closed = 0
        self.groups_open = 0

    # -- helpers
    def _peek(self) -> str | None:
        self._skip_space()
        return self.src[self.pos] if self.pos < len(self.src) else None

    def _skip_space(self) -> None:
        if self.extended:
            while self.pos < len(self.src) and self.src[self.pos] in _XSD_SPACE:
                self.pos += 1

    def _next(self) -> str:
        self._skip_space()
        if self.pos >= len(self.src):
            raise RegexError("unexpected end of pattern")
        ch = self.src[self.pos]
        self.pos += 1
        return ch

    def _raw_next(self) -> str:
        """Next character without skipping whitespace (inside classes)."""
        if self.pos >= len(self.src):
            raise RegexError("unterminated character class")
        ch = self.src[self.pos]
        self.pos += 1
        return ch

    # -- grammar
    def translate(self) -> str:
        out = self._regex()
        if self._peek() is not None:
            raise RegexError(f"unbalanced ')' at position {self.pos}")
        return out

    def _regex(self) -> str:
        branches = [self._branch()]
        while self._peek() == "|":
            self.pos += 1
            branches.append(self._branch())
        return "|".join(branches)

    def _branch(self) -> str:
        parts: list[str] = []
        while (ch := self._peek()) is not None and ch not in "|)":
            parts.append(self._piece())
        return "".join(parts)

    def _piece(self) -> str:
        atom, quantifiable = self._atom()
        quant = self._quantifier()
        if quant and not quantifiable:
            raise RegexError(f"quantifier {quant!r} follows nothing that can repeat")
        return atom + quant

    def _quantifier(self) -> str:
        ch = self._peek()
        if ch is None or ch not in "?*+{":
            return ""
        self.pos += 1
        quant = ch
        if ch == "{":
            end = self.src.find("}", self.pos)
            body = self.src[self.pos : end] if end >= 0 else ""
            if self.extended:
                body = "".join(c for c in body if c not in _XSD_SPACE)
            m = re.fullmatch(r"(\d+)(,(\d*))?", body)
            if end < 0 or m is None:
                raise RegexError(f"invalid quantifier at position {self.pos - 1}")
            if m.group(3) and int(m.group(3)) < int(m.group(1)):
                raise RegexError(f"quantifier {{{body}}} has its maximum below its minimum")
            self.pos = end + 1
            quant = "{" + body + "}"
        if self._peek() == "?":
            self.pos += 1
            quant += "?"
        nxt = self._peek()
        if nxt is not None and nxt in "?*+{":
            raise RegexError(f"a quantifier cannot follow another at position {self.pos}")
        return quant

    def _atom(self) -> tuple[str, bool]:
        ch = self._next()
        if ch == ".":
            return ("(?s:.)" if self.dotall else r"[^\n\r]"), True
        if ch == "^":
            return ("(?m:^)" if self.multiline else r"\A"), False
        if ch == "$":
            return ("(?m:$)" if self.multiline else r"\Z"), False
        if ch == "(":
            return self._group(), True
        if ch == "[":
            return self._class().emit(), True
        if ch == "\\":
            return self._escape(), True
        if ch in "?*+{":
            raise RegexError(f"quantifier {ch!r} at position {self.pos - 1} follows nothing")
        return regex.escape(ch), True

    def _group(self) -> str:
        capturing = True
        if self.src.startswith("?", self.pos):
            if not self.src.startswith("?:", self.pos):
                raise RegexError("only (?:…) groups are allowed (no look-arounds or named groups)")
            self.pos += 2
            capturing = False
        if capturing:
            self.groups_open += 1
        inner = self._regex()
        if self._peek() != ")":
            raise RegexError("missing ')'")
        self.pos += 1
        if capturing:
            self.groups_closed += 1
            return f"({inner})"
        return f"(?:{inner})"

    def _escape(self) -> str:
        ch = self._raw_next()
        if ch in _SINGLE_ESCAPES:
            return regex.escape(_SINGLE_ESCAPES[ch])
        if ch in "123456789":
            number = int(ch)
            while (
                self.pos < len(self.src)
                and self.src[self.pos].isdigit()
                and number * 10 + int(self.src[self.pos]) <= self.groups_closed
            ):
                number = number * 10 + int(self.src[self.pos])
                self.pos += 1
            if number > self.groups_closed:
                raise RegexError(f"back-reference \\{number} to a group that is not closed")
            return f"(?:\\{number})"
        cls = self._class_escape(ch)
        if cls is None:
            raise RegexError(f"unsupported escape \\{ch}")
        if ch in "pP":  # XPath: flag i leaves \p{Lu} matching upper case only
            return f"(?-i:{cls.emit()})"
        return cls.emit()

    def _class_escape(self, ch: str) -> _Class | None:
        """Multi-character escapes (``\\d``, ``\\s``, ``\\p{…}``, …) as a class."""
        if ch == "d":
            return _Class(positive=[r"\d"])
        if ch == "D":
            return _Class(positive=[r"\D"])
        if ch == "s":
            return _Class(positive=[r" \t\n\r"])
        if ch == "S":
            return _Class(complements=[r" \t\n\r"])
        if ch == "w":
            return _Class(complements=[_WORD_COMPLEMENT])
        if ch == "W":
            return _Class(positive=[_WORD_COMPLEMENT])
        if ch in "iI":
            frag = _ranges_fragment(_NAME_START)
            return _Class(positive=[frag]) if ch == "i" else _Class(complements=[frag])
        if ch in "cC":
            frag = _ranges_fragment(sorted(_NAME_START + _NAME_EXTRA))
            return _Class(positive=[frag]) if ch == "c" else _Class(complements=[frag])
        if ch in "pP":
            if not self.src.startswith("{", self.pos):
                raise RegexError(f"\\{ch} must be followed by {{name}}")
            end = self.src.find("}", self.pos)
            if end < 0:
                raise RegexError(f"unterminated \\{ch}{{…}}")
            frag = _property(self.src[self.pos + 1 : end])
            self.pos = end + 1
            return _Class(positive=[frag]) if ch == "p" else _Class(complements=[frag])
        return None

    def _class(self) -> _Class:
        """Parse after '[' up to and including the closing ']'."""
        cls = _Class()
        if self.src.startswith("^", self.pos):
            cls.negate = True
            self.pos += 1
        first = True
        while True:
            ch = self._raw_next()
            if ch == "]" and not first:
                return cls
            if ch == "-" and self.src.startswith("[", self.pos) and not first:
                self.pos += 1
                cls.subtract = self._class()
                if self._raw_next() != "]":
                    raise RegexError("a class subtraction must end the character class")
                return cls
            first = False
            if ch == "[":
                raise RegexError("'[' must be escaped inside a character class")
            if ch == "\\":
                esc = self.src[self.pos : self.pos + 1]
                if esc in _SINGLE_ESCAPES:
                    self.pos += 1
                    low = _SINGLE_ESCAPES[esc]
                else:
                    self.pos += 1
                    sub = self._class_escape(esc)
                    if sub is None:
                        raise RegexError(f"unsupported escape \\{esc} in a character class")
                    cls.positive.extend(sub.positive)
                    cls.complements.extend(sub.complements)
                    continue
            else:
                low = ch
            if (
                self.src.startswith("-", self.pos)
                and self.pos + 1 < len(self.src)
                and self.src[self.pos + 1] not in "[]"
            ):
                self.pos += 1
                high = self._raw_next()
                if high == "\\":
                    esc = self._raw_next()
                    if esc not in _SINGLE_ESCAPES:
                        raise RegexError(f"\\{esc} cannot end a character range")
                    high = _SINGLE_ESCAPES[esc]
                if ord(high) < ord(low):
                    raise RegexError(f"character range {low}-{high} is out of order")
                cls.positive.append(f"{_lit(ord(low))}-{_lit(ord(high))}")
            else:
                cls.positive.append(_lit(ord(low)))


def _check_flags(flags: str) -> None:
    bad = set(flags) - set("smixq")
    if bad:
        raise RegexError(f"unknown regex flag(s) {''.join(sorted(bad))!r}; allowed are s, m, i, x, q")


@functools.lru_cache(maxsize=512)
def compile_xsd(pattern: str, flags: str = "") -> regex.Pattern[str]:
    """Compile an XPath regex with XPath ``flags`` (cached); match it with :func:`run_with_timeout`."""
    _check_flags(flags)
    py_flags = regex.IGNORECASE if "i" in flags else 0
    if "q" in flags:
        return regex.compile(regex.escape(pattern), py_flags)
    translator = _Translator(pattern, extended="x" in flags, dotall="s" in flags, multiline="m" in flags)
    text = translator.translate()
    try:
        return regex.compile(text, py_flags)
    except regex.error as exc:  # pragma: no cover - the translator should have refused first
        raise RegexError(f"invalid pattern {pattern!r}: {exc}") from None


def matches_empty(compiled: regex.Pattern[str]) -> bool:
    """Whether the pattern matches the empty string (forbidden for replace and split)."""
    return run_with_timeout(lambda t: compiled.fullmatch("", timeout=t)) is not None


ReplacementPart = str | int


def parse_replacement(text: str, groups: int, literal: bool) -> tuple[ReplacementPart, ...]:
    """Split an XPath replacement string into literal text and group numbers.

    ``$N`` refers to group N (the longest digit run that names an existing group; a group
    beyond the pattern's count stands for the empty string); ``\\$`` and ``\\\\`` escape.
    """
    if literal:
        return (text,)
    parts: list[ReplacementPart] = []
    buf: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            if i + 1 < len(text) and text[i + 1] in "\\$":
                buf.append(text[i + 1])
                i += 2
                continue
            raise RegexError("in a replacement, '\\' must be followed by '\\' or '$'")
        if ch == "$":
            if i + 1 >= len(text) or not text[i + 1].isdigit():
                raise RegexError("in a replacement, '$' must be followed by a group number")
            number = int(text[i + 1])
            i += 2
            while i < len(text) and text[i].isdigit() and number * 10 + int(text[i]) <= groups:
                number = number * 10 + int(text[i])
                i += 1
            if buf:
                parts.append("".join(buf))
                buf = []
            parts.append(number if number <= groups else "")
            continue
        buf.append(ch)
        i += 1
    if buf:
        parts.append("".join(buf))
    return tuple(parts)
