"""Column indexes for large decision tables: find candidate rules without testing each one.

A column qualifies when every rule's entry in it is ``-``, or every non-``-`` entry is
a *numeric* test (number literal, comparison with a number, numeric range, or a comma
list of those), or every one is a *string* test (string literal or list of literals).
Such tests are unions of intervals (or sets of strings), so the column's value space
can be cut into elementary segments — each boundary point, and the open stretch
between two points — on which every rule's test has a constant outcome. The index
stores, per segment, the bit mask of the rules whose test matches there; a lookup is
one ``bisect`` (or one dict probe) and the candidates of several indexed columns are
combined with ``&``. Values of another type (null, a string in a numeric column…)
match only the ``-`` rules, exactly as the tests themselves would decide.

Masks are built with a running XOR over segment starts/ends, so building is linear in
rules plus segments (big-int operations), not quadratic.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from casepilot.dmn._fastpath import constant_expression, split_top_level

__all__ = ["ColumnIndex", "build_index"]

_NUMBER = r"-?(?:\d+(?:\.\d*)?|\.\d+)"
_CMP = re.compile(rf"^(<=|>=|<|>)\s*({_NUMBER})$")
_RANGE = re.compile(rf"^([\[\]\(])\s*({_NUMBER})\s*\.\.\s*({_NUMBER})\s*([\[\]\)])$")

Interval = tuple[Decimal | None, Decimal | None, bool, bool]
"""(low, high, low included, high included); None is unbounded."""


def _numeric(text: str) -> list[Interval] | None:
    out: list[Interval] = []
    for part in (p.strip() for p in split_top_level(text)):
        ok, lit = constant_expression(part)
        if ok:
            if not isinstance(lit, Decimal):
                return None
            out.append((lit, lit, True, True))
            continue
        if m := _CMP.match(part):
            n = Decimal(m.group(2))
            op = m.group(1)
            out.append((None, n, False, op == "<=") if op[0] == "<" else (n, None, op == ">=", False))
            continue
        if m := _RANGE.match(part):
            out.append((Decimal(m.group(2)), Decimal(m.group(3)), m.group(1) == "[", m.group(4) == "]"))
            continue
        return None
    return out


def _strings(text: str) -> frozenset[str] | None:
    values = []
    for part in (p.strip() for p in split_top_level(text)):
        ok, lit = constant_expression(part)
        if not ok or not isinstance(lit, str):
            return None
        values.append(lit)
    return frozenset(values)


@dataclass(frozen=True, slots=True)
class ColumnIndex:
    """Candidate rules for one input column, as bit masks over rule positions."""

    column: int
    always: int
    """Rules whose entry is ``-`` (they match any value)."""
    points: tuple[Decimal, ...] = ()
    segments: tuple[int, ...] = ()
    """Numeric: mask per segment, ``2*i`` = below ``points[i]``, ``2*i+1`` = at it."""
    strings: dict[str, int] | None = None

    def candidates(self, value: Any) -> int:
        if self.strings is not None:
            if value.__class__ is str:
                return self.strings.get(value, 0) | self.always
            return self.always
        if value.__class__ is not Decimal:
            return self.always
        i = bisect_left(self.points, value)
        if i < len(self.points) and self.points[i] == value:
            return self.segments[2 * i + 1]
        return self.segments[2 * i]


def _run_of(iv: Interval, where: dict[Decimal, int], count: int) -> tuple[int, int] | None:
    """The contiguous segments an interval covers (segments are convex pieces of the line)."""
    lo, hi, lo_in, hi_in = iv
    first = 0 if lo is None else 2 * where[lo] + (1 if lo_in else 2)
    last = count - 1 if hi is None else 2 * where[hi] + (1 if hi_in else 0)
    return (first, last) if first <= last else None


def _merge(runs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(runs):
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _numeric_index(column: int, entries: Sequence[list[Interval] | None], always: int) -> ColumnIndex:
    points = sorted({b for ivs in entries if ivs for iv in ivs for b in (iv[0], iv[1]) if b is not None})
    where = {p: i for i, p in enumerate(points)}
    count = 2 * len(points) + 1
    toggles = [0] * (count + 1)
    for rule, ivs in enumerate(entries):
        if not ivs:
            continue
        bit = 1 << rule
        runs = [r for iv in ivs if (r := _run_of(iv, where, count)) is not None]
        # Toggle each run's ends; a running XOR then gives every segment its rules.
        for start, end in _merge(runs):
            toggles[start] ^= bit
            toggles[end + 1] ^= bit
    segments = []
    running = 0
    for seg in range(count):
        running ^= toggles[seg]
        segments.append(running | always)
    return ColumnIndex(column, always, tuple(points), tuple(segments))


def build_index(column: int, entries: Sequence[str]) -> ColumnIndex | None:
    """An index for one column given each rule's entry text, or None if the column does not qualify."""
    always = 0
    numeric: list[list[Interval] | None] = []
    strings: list[frozenset[str] | None] = []
    num_ok = str_ok = True
    for rule, text in enumerate(entries):
        stripped = text.strip()
        if stripped in ("-", ""):
            always |= 1 << rule
            numeric.append(None)
            strings.append(None)
            continue
        n = _numeric(stripped) if num_ok else None
        s = _strings(stripped) if str_ok else None
        num_ok = num_ok and n is not None
        str_ok = str_ok and s is not None
        if not (num_ok or str_ok):
            return None
        numeric.append(n)
        strings.append(s)
    if always == (1 << len(entries)) - 1:
        return None  # nothing to discriminate
    if num_ok:
        return _numeric_index(column, numeric, always)
    table: dict[str, int] = {}
    for rule, values in enumerate(strings):
        for v in values or ():
            table[v] = table.get(v, 0) | (1 << rule)
    return ColumnIndex(column, always, strings={k: m | always for k, m in table.items()})
