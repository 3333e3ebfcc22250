"""The small text syntax of bindings: ``text=letter; lang='en'; limit=3`` and case-file paths.

Used by the CMMN extension attributes (``casepilot:inputs`` / ``casepilot:outputs``) and by
string values in ``bindings.yaml`` so that both read the same way:

* a bare path (``letter``, ``claim.amount``, ``items.0``) reads the case file;
* a quoted string (``'en'`` or ``"en"``), a number, ``true``/``false``/``null`` is a literal.

Pairs are separated by ``;`` or ``,``. Parsing is by regular expressions and ``json.loads``
of literal tokens only — nothing is ever evaluated.
"""

from __future__ import annotations

import json
import re

from .binding import ArgumentSource, FromCaseFile, LiteralValue

__all__ = ["PATH", "parse_pairs", "parse_source", "valid_path"]

_SEGMENT = r"[^\W\d][\w-]*|\d+"
PATH = re.compile(rf"^(?:{_SEGMENT})(?:\.(?:{_SEGMENT}))*$")
"""A case-file or result path: dot-separated names (letters, digits, ``_``, ``-``) or list indices."""

_PAIR = re.compile(
    r"""\s*(?P<key>[^\s=;,'"]+)\s*=\s*
        (?P<value>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^;,'"]*?)
        \s*(?:[;,]|$)""",
    re.VERBOSE,
)
_NUMBER = re.compile(r"^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$")


def valid_path(text: str) -> bool:
    """Whether ``text`` is a well-formed dotted path."""
    return bool(PATH.match(text))


def parse_pairs(text: str) -> tuple[list[tuple[str, str]], list[str]]:
    """Split ``k=v; k2=v2`` into pairs; the second list holds what could not be read."""
    pairs: list[tuple[str, str]] = []
    problems: list[str] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _PAIR.match(text, pos)
        if m is None or m.end() == pos:
            problems.append(f"cannot read {text[pos:]!r}: expected name=value pairs separated by ';'")
            break
        pairs.append((m.group("key"), m.group("value").strip()))
        pos = m.end()
    return pairs, problems


def parse_source(text: str) -> ArgumentSource | str:
    """An argument source from its text; a message string when the text is neither literal nor path."""
    token = text.strip()
    if not token:
        return "empty value: write a case-file path or a literal"
    if token[0] == "'" and token[-1] == "'" and len(token) >= 2:
        return LiteralValue(re.sub(r"\\(.)", r"\1", token[1:-1]))
    if token[0] == '"' or token in ("true", "false", "null") or _NUMBER.match(token):
        try:
            return LiteralValue(json.loads(token))
        except json.JSONDecodeError:
            return f"malformed literal {token}"
    if valid_path(token):
        return FromCaseFile(token)
    return (
        f"{token!r} is neither a case-file path (names joined by '.') nor a literal ('text', 3, true, null)"
    )
