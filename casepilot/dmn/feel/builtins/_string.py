"""String functions (DMN 1.5 §10.3.4.3).

Positions count Unicode code points (Python ``str`` indexing), never UTF-16 units, and
start at 1; a negative position counts from the end. The regex functions use the XPath
dialect via :mod:`._xsd_regex`, and every match runs with its time budget: a pattern that
backtracks catastrophically gives null with a message instead of hanging the caller.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import regex

from ._core import MISSING, BuiltinArgumentError, builtin
from ._support import need_int, need_list, need_string, type_name
from ._xsd_regex import RegexError, compile_xsd, matches_empty, parse_replacement, run_with_timeout

__all__: list[str] = []


@builtin("substring", "string", "start position", "length?")
def _substring(string: Any, start: Any, length: Any = MISSING) -> str:
    text = need_string(string, "string")
    begin = need_int(start, "start position")
    size = len(text)
    if begin == 0 or abs(begin) > size:
        raise BuiltinArgumentError(f"start position {begin} is outside a string of length {size}")
    index = begin - 1 if begin > 0 else size + begin
    if length is MISSING:
        return text[index:]
    count = need_int(length, "length")
    if count < 0:
        raise BuiltinArgumentError(f"length must not be negative, got {count}")
    return text[index : index + count]


@builtin("string length", "string")
def _string_length(string: Any) -> Decimal:
    return Decimal(len(need_string(string, "string")))


@builtin("upper case", "string")
def _upper_case(string: Any) -> str:
    return need_string(string, "string").upper()


@builtin("lower case", "string")
def _lower_case(string: Any) -> str:
    return need_string(string, "string").lower()


@builtin("substring before", "string", "match")
def _substring_before(string: Any, match: Any) -> str:
    text, sub = need_string(string, "string"), need_string(match, "match")
    index = text.find(sub)
    return "" if index < 0 or not sub else text[:index]


@builtin("substring after", "string", "match")
def _substring_after(string: Any, match: Any) -> str:
    text, sub = need_string(string, "string"), need_string(match, "match")
    if not sub:
        return text
    index = text.find(sub)
    return "" if index < 0 else text[index + len(sub) :]


@builtin("contains", "string", "match")
def _contains(string: Any, match: Any) -> bool:
    return need_string(match, "match") in need_string(string, "string")


@builtin("starts with", "string", "match")
def _starts_with(string: Any, match: Any) -> bool:
    return need_string(string, "string").startswith(need_string(match, "match"))


@builtin("ends with", "string", "match")
def _ends_with(string: Any, match: Any) -> bool:
    return need_string(string, "string").endswith(need_string(match, "match"))


def _compile(pattern: Any, flags: Any) -> tuple[regex.Pattern[str], str]:
    text = need_string(pattern, "pattern")
    # an explicit null means "no flags", as for an omitted optional parameter (Drools, jDMN)
    flag_text = "" if flags is MISSING or flags is None else need_string(flags, "flags")
    try:
        return compile_xsd(text, flag_text), flag_text
    except RegexError as exc:
        raise BuiltinArgumentError(f"pattern {text!r}: {exc}") from None


def _refuse_empty_match(compiled: regex.Pattern[str], what: str, pattern: Any) -> None:
    try:
        empty = matches_empty(compiled)
    except RegexError as exc:
        raise BuiltinArgumentError(f"{what} {pattern!r}: {exc}") from None
    if empty:
        raise BuiltinArgumentError(f"{what} {pattern!r} matches the empty string")


@builtin("matches", "input", "pattern", "flags?")
def _matches(input: Any, pattern: Any, flags: Any = MISSING) -> bool:
    text = need_string(input, "input")
    compiled, _ = _compile(pattern, flags)
    try:
        return run_with_timeout(lambda t: compiled.search(text, timeout=t)) is not None
    except RegexError as exc:
        raise BuiltinArgumentError(f"pattern {pattern!r}: {exc}") from None


@builtin("replace", "input", "pattern", "replacement", "flags?")
def _replace(input: Any, pattern: Any, replacement: Any, flags: Any = MISSING) -> str:
    text = need_string(input, "input")
    template = need_string(replacement, "replacement")
    compiled, flag_text = _compile(pattern, flags)
    _refuse_empty_match(compiled, "pattern", pattern)
    try:
        parts = parse_replacement(template, compiled.groups, "q" in flag_text)
    except RegexError as exc:
        raise BuiltinArgumentError(str(exc)) from None

    def expand(m: regex.Match[str]) -> str:
        return "".join(p if isinstance(p, str) else (m.group(p) or "") for p in parts)

    try:
        return run_with_timeout(lambda t: compiled.sub(expand, text, timeout=t))
    except RegexError as exc:
        raise BuiltinArgumentError(f"pattern {pattern!r}: {exc}") from None


@builtin("split", "string", "delimiter", "flags?")
def _split(string: Any, delimiter: Any, flags: Any = MISSING) -> list[str]:
    """``split(string, delimiter)`` is XPath ``fn:tokenize``; the optional ``flags`` are those
    of ``matches`` (DMN 1.5 lists two parameters; the XPath function, and engines, take three)."""
    text = need_string(string, "string")
    compiled, _ = _compile(delimiter, flags)
    _refuse_empty_match(compiled, "delimiter", delimiter)
    if not text:
        return []

    def cut(timeout: float) -> list[str]:
        pieces: list[str] = []
        last = 0
        for m in compiled.finditer(text, timeout=timeout):
            pieces.append(text[last : m.start()])
            last = m.end()
        pieces.append(text[last:])
        return pieces

    try:
        return run_with_timeout(cut)
    except RegexError as exc:
        raise BuiltinArgumentError(f"delimiter {delimiter!r}: {exc}") from None


@builtin("string join", "list", "delimiter?")
def _string_join(list_: Any, delimiter: Any = MISSING) -> str:
    items = need_list(list_, "list")
    sep = "" if delimiter is MISSING or delimiter is None else need_string(delimiter, "delimiter")
    for item in items:
        if item is not None and not isinstance(item, str):
            raise BuiltinArgumentError(f"list must contain only strings, found {type_name(item)}")
    return sep.join(item for item in items if item is not None)
