"""The FEEL scanner: text → tokens, with FEEL's multi-word names merged into one ``NAME``.

FEEL names may contain spaces and the characters ``. / - + * '`` (``Monthly Salary``,
``date and time``, ``Loan-to-value``). A context-free grammar cannot tell ``a - b`` from
the name ``a-b``, so — like every FEEL implementation — the scanner resolves names against
the names known in scope: the longest run of tokens spelling a known name becomes one
``NAME`` token. Without known names, adjacent plain words (``Monthly Salary``) still merge,
because two juxtaposed names are never valid FEEL otherwise.

The scanner is hand-written (one compiled regex) because lark's contextual lexer cannot do
that merge; the lark LALR parser consumes the token list through :class:`TokenListLexer`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from lark import Token
from lark.lexer import Lexer, LexerState

from casepilot.errors import ExpressionSyntaxError

__all__ = ["KEYWORDS", "RawToken", "TokenListLexer", "known_name_table", "scan", "tokenize"]

KEYWORDS: dict[str, str] = {
    "if": "IF",
    "then": "THEN",
    "else": "ELSE",
    "for": "FOR",
    "in": "IN",
    "return": "RETURN",
    "some": "SOME",
    "every": "EVERY",
    "satisfies": "SATISFIES",
    "and": "AND",
    "or": "OR",
    "between": "BETWEEN",
    "instance": "INSTANCE",
    "of": "OF",
    "function": "FUNCTION",
    "external": "EXTERNAL",
    "true": "TRUE",
    "false": "FALSE",
    "null": "NULL",
}

_PUNCT: dict[str, str] = {
    "**": "POW",
    "..": "DOTDOT",
    "<=": "LE",
    ">=": "GE",
    "!=": "NE",
    "->": "ARROW",
    "+": "PLUS",
    "-": "MINUS",
    "*": "STAR",
    "/": "SLASH",
    "=": "EQ",
    "<": "LT",
    ">": "GT",
    ".": "DOT",
    ",": "COMMA",
    ":": "COLON",
    "(": "LPAR",
    ")": "RPAR",
    "[": "LSQB",
    "]": "RSQB",
    "{": "LBRACE",
    "}": "RBRACE",
}

_NAME_START = r"A-Za-z_$\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\U00010000-\U000EFFFF"
_NAME_PART = _NAME_START + r"0-9\u00B7\u0300-\u036F\u203F-\u2040'"

_SCANNER = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>//[^\n]*|/\*.*?\*/)
  | (?P<badcomment>/\*)
  | (?P<temporal>@"(?:[^"\\]|\\.)*")
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<badstring>")
  | (?P<number>(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[NAME_START][NAME_PART]*)
  | (?P<input>\?)
  | (?P<punct>\*\*|\.\.|<=|>=|!=|->|[-+*/=<>.,:()\[\]{}])
    """.replace("NAME_START", _NAME_START).replace("NAME_PART", _NAME_PART),
    re.VERBOSE | re.DOTALL,
)

_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "'": "'", "\\": "\\"}
"""DMN 1.5 string escape sequences; any other backslash is kept, so ``"\\d"`` stays backslash-d
(regex patterns such as ``replace(s, "(\\d{3})", …)`` depend on it)."""
_ESCAPE_RE = re.compile(r"\\(U[0-9a-fA-F]{8}|U[0-9a-fA-F]{6}|u[0-9a-fA-F]{4}|[nrt\"'\\])")


@dataclass(frozen=True, slots=True)
class RawToken:
    """One scanned token: ``kind`` is the grammar terminal, ``text`` the (decoded) value."""

    kind: str
    text: str
    pos: int
    line: int
    column: int
    end: int


def unescape(body: str) -> str:
    """Decode FEEL string escapes (``\\"``, ``\\n``, ``\\u0041``, ``\\U01F40E``, surrogate pairs).

    A backslash before anything else is an ordinary character (DMN 1.5 §10.3.1.2 rule 66).
    ``\\U`` takes 8 hex digits when they name a code point, else the spec's 6.
    """
    if "\\" not in body:
        return body

    def repl(m: re.Match[str]) -> str:
        code = m.group(1)
        if len(code) == 1:
            return _ESCAPES[code]
        value = int(code[1:], 16)
        if value > 0x10FFFF and len(code) == 9:  # not a code point: read the spec's six digits
            value = int(code[1:7], 16)
            return chr(value) + code[7:] if value <= 0x10FFFF else m.group(0)
        return chr(value) if value <= 0x10FFFF else m.group(0)

    text = _ESCAPE_RE.sub(repl, body)
    # join UTF-16 surrogate pairs written as two \u escapes
    return (
        text.encode("utf-16", "surrogatepass").decode("utf-16", "replace") if _has_surrogate(text) else text
    )


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def scan(text: str, *, max_tokens: int) -> list[RawToken]:
    """Split ``text`` into raw tokens (keywords recognised, names not merged yet)."""
    tokens: list[RawToken] = []
    pos, line, line_start, n = 0, 1, 0, len(text)
    while pos < n:
        m = _SCANNER.match(text, pos)
        column = pos - line_start + 1
        if m is None or m.lastgroup in ("badstring", "badcomment"):
            what = "unterminated string" if m is not None and m.lastgroup == "badstring" else None
            if m is not None and m.lastgroup == "badcomment":
                what = "unterminated comment"
            raise ExpressionSyntaxError(
                what or f"unexpected character {text[pos]!r}", expression=text, line=line, column=column
            )
        group, value = m.lastgroup, m.group()
        end = m.end()
        if group not in ("ws", "comment"):
            if group == "name":
                kind = KEYWORDS.get(value, "NAME")
            elif group == "input":
                kind = "NAME"
            elif group == "punct":
                kind = _PUNCT[value]
            elif group == "string":
                kind, value = "STRING", unescape(value[1:-1])
            elif group == "temporal":
                kind, value = "TEMPORAL", unescape(value[2:-1])
            else:
                kind = "NUMBER"
            tokens.append(RawToken(kind, value, pos, line, column, end))
            if len(tokens) > max_tokens:
                raise ExpressionSyntaxError(
                    f"expression too long (more than {max_tokens} tokens)",
                    expression=text,
                    line=line,
                    column=column,
                )
        newlines = value.count("\n") if group in ("ws", "comment", "string") else 0
        if newlines:
            line += newlines
            line_start = m.start() + m.group().rfind("\n") + 1
        pos = end
    return tokens


def known_name_table(names: Iterable[str], *, max_tokens: int = 64) -> dict[str, list[tuple[str, ...]]]:
    """Index multi-token names by their first token, longest first, for greedy matching."""
    table: dict[str, list[tuple[str, ...]]] = {}
    for name in names:
        try:
            parts = tuple(t.text for t in scan(name, max_tokens=max_tokens))
        except ExpressionSyntaxError:
            continue
        if len(parts) > 1:
            table.setdefault(parts[0], []).append(parts)
    for entries in table.values():
        entries.sort(key=len, reverse=True)
    return table


def _gap_is_space(text: str, left: RawToken, right: RawToken) -> bool:
    gap = text[left.end : right.pos]
    return gap == "" or gap.isspace()


def tokenize(text: str, table: dict[str, list[tuple[str, ...]]], *, max_tokens: int) -> list[RawToken]:
    """Scan and merge multi-word names: known names first (longest match), then adjacent words."""
    raw = scan(text, max_tokens=max_tokens)
    out: list[RawToken] = []
    i, n = 0, len(raw)
    brackets: list[str] = []
    while i < n:
        tok = raw[i]
        if tok.kind in _OPENERS:
            brackets.append(tok.kind)
        elif tok.kind in _CLOSERS and brackets:
            brackets.pop()
        if brackets and brackets[-1] == "LBRACE" and out and out[-1].kind in ("LBRACE", "COMMA"):
            key_end = _context_key_end(raw, i)
            if key_end > i + 1:
                last = raw[key_end - 1]
                name = " ".join(text[tok.pos : last.end].split())
                out.append(RawToken("NAME", name, tok.pos, tok.line, tok.column, last.end))
                i = key_end
                continue
        candidates = table.get(tok.text) if tok.kind not in ("STRING", "TEMPORAL") else None
        matched = 0
        if candidates:
            for parts in candidates:
                k = len(parts)
                if (
                    i + k <= n
                    and all(
                        raw[i + j].text == parts[j] and raw[i + j].kind not in ("STRING", "TEMPORAL")
                        for j in range(k)
                    )
                    and all(_gap_is_space(text, raw[i + j], raw[i + j + 1]) for j in range(k - 1))
                ):
                    matched = k
                    break
        if matched:
            last = raw[i + matched - 1]
            name = " ".join(parts_text(text, raw[i : i + matched]))
            out.append(RawToken("NAME", name, tok.pos, tok.line, tok.column, last.end))
            i += matched
            continue
        if tok.kind == "NAME" and tok.text != "?" and out and out[-1].kind == "NAME" and out[-1].text != "?":
            prev = out[-1]
            if _gap_is_space(text, prev, tok):
                out[-1] = RawToken(
                    "NAME", prev.text + " " + tok.text, prev.pos, prev.line, prev.column, tok.end
                )
                i += 1
                continue
        out.append(tok)
        i += 1
    return _tag_open_interval_brackets(out)


_VALUE_END = frozenset(
    {"NAME", "NUMBER", "STRING", "TEMPORAL", "RPAR", "RSQB", "RBRACE", "TRUE", "FALSE", "NULL"}
)
_AFTER_CLOSE = frozenset(
    {"COMMA", "RPAR", "RSQB", "RBRACE", "THEN", "ELSE", "RETURN", "SATISFIES", "AND", "OR", "COLON", "DOT"}
)


def _tag_open_interval_brackets(tokens: list[RawToken]) -> list[RawToken]:
    """Tell ``]1..2[``'s brackets from list/filter brackets, which LALR(1) cannot.

    A ``]`` that does not follow a value (or ``[``) opens an interval; a ``[`` that is followed
    by nothing that can start an expression closes one.
    """
    for k, tok in enumerate(tokens):
        if tok.kind == "RSQB":
            prev = tokens[k - 1].kind if k else None
            if prev is None or (prev not in _VALUE_END and prev != "LSQB"):
                tokens[k] = RawToken("OPEN_START", tok.text, tok.pos, tok.line, tok.column, tok.end)
        elif tok.kind == "LSQB":
            nxt = tokens[k + 1].kind if k + 1 < len(tokens) else None
            if (nxt is None or nxt in _AFTER_CLOSE) and k and tokens[k - 1].kind in _VALUE_END:
                tokens[k] = RawToken("OPEN_END", tok.text, tok.pos, tok.line, tok.column, tok.end)
    return tokens


_OPENERS = frozenset({"LPAR", "LSQB", "LBRACE"})
_CLOSERS = frozenset({"RPAR", "RSQB", "RBRACE"})
_KEY_PARTS = frozenset({"NAME", "NUMBER", "PLUS", "MINUS", "STAR", "SLASH", "DOT"} | set(KEYWORDS.values()))


def _context_key_end(raw: Sequence[RawToken], start: int) -> int:
    """Index of the ``:`` ending a context key made of name-like tokens (``{foo+bar: 1}``), or start."""
    if raw[start].kind != "NAME":
        return start
    j = start
    while j < len(raw) and raw[j].kind in _KEY_PARTS:
        j += 1
    return j if j < len(raw) and raw[j].kind == "COLON" else start


def parts_text(text: str, tokens: Sequence[RawToken]) -> list[str]:
    """Rebuild a merged name: tokens separated by whitespace join with one space, others touch."""
    pieces: list[str] = []
    for j, t in enumerate(tokens):
        if j and text[tokens[j - 1].end : t.pos] == "":
            pieces[-1] += t.text
        else:
            pieces.append(t.text)
    return pieces


class TokenListLexer(Lexer):
    """Feeds a pre-scanned token list to lark (``lexer=TokenListLexer``; pass tokens as text)."""

    __future_interface__ = 1

    def __init__(self, lexer_conf: Any) -> None:
        pass

    def lex(self, lexer_state: LexerState, parser_state: Any) -> Iterator[Token]:
        tokens: Sequence[RawToken] = lexer_state.text  # type: ignore[assignment]
        for t in tokens:
            yield Token(t.kind, t.text, start_pos=t.pos, line=t.line, column=t.column, end_pos=t.end)
