"""Range functions (DMN 1.5 §10.3.4.7): Allen's interval relations on points and ranges.

Each function has the spec's overloads — ``(point1, point2)``, ``(point, range)``,
``(range, point)``, ``(range1, range2)`` as applicable — chosen by the argument types
(positional) or by the parameter names (named). The definitions are the spec's formulas;
an unbounded range end (``< 10`` has no start) behaves as −∞/+∞. Values that cannot be
compared (``before(1, "a")``) give null.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from casepilot.dmn.feel.values import Range

from ._core import BuiltinArgumentError, builtin
from ._support import feel_eq, feel_lt, type_name

__all__: list[str] = []


class _Inf:
    __slots__ = ("sign",)

    def __init__(self, sign: int) -> None:
        self.sign = sign


_NEG, _POS = _Inf(-1), _Inf(1)


def _lt(a: Any, b: Any) -> bool:
    if isinstance(a, _Inf) or isinstance(b, _Inf):
        sa = a.sign if isinstance(a, _Inf) else 0
        sb = b.sign if isinstance(b, _Inf) else 0
        return sa < sb
    r = feel_lt(a, b)
    if r is None:
        raise BuiltinArgumentError(f"cannot compare {type_name(a)} with {type_name(b)}")
    return r


def _eq(a: Any, b: Any) -> bool:
    if isinstance(a, _Inf) or isinstance(b, _Inf):
        return a is b
    r = feel_eq(a, b)
    if r is None:
        raise BuiltinArgumentError(f"cannot compare {type_name(a)} with {type_name(b)}")
    return r


class _R:
    """A range with unbounded ends replaced by ±∞ and short attribute names."""

    __slots__ = ("e", "ei", "s", "si")

    def __init__(self, value: Any, param: str) -> None:
        if not isinstance(value, Range):
            raise BuiltinArgumentError(f"{param} must be a range, got {type_name(value)}")
        if value.operator == "!=":
            raise BuiltinArgumentError(f"{param} (!= x) is not an interval")
        self.s = _NEG if value.start is None else value.start
        self.e = _POS if value.end is None else value.end
        self.si = value.start_included
        self.ei = value.end_included


def _point(value: Any, param: str) -> Any:
    if value is None or isinstance(value, Range):
        raise BuiltinArgumentError(f"{param} must be a point (a comparable value), got {type_name(value)}")
    return value


Impl = Callable[..., bool]
_PP = ("point1", "point2")
_PR = ("point", "range")
_RP = ("range", "point")
_RR = ("range1", "range2")


def _kinds(args: Sequence[Any]) -> tuple[bool, bool]:
    return isinstance(args[0], Range), isinstance(args[1], Range)


_GUARDS: dict[tuple[str, str], Callable[[Sequence[Any]], bool]] = {
    _PP: lambda a: _kinds(a) == (False, False),
    _PR: lambda a: _kinds(a) == (False, True),
    _RP: lambda a: _kinds(a) == (True, False),
    _RR: lambda a: _kinds(a) == (True, True),
}


def _define(name: str, params: tuple[str, str], fn: Impl) -> None:
    kinds = ["range" if p.startswith("range") else "point" for p in params]

    def impl(a: Any, b: Any) -> bool:
        x = _R(a, params[0]) if kinds[0] == "range" else _point(a, params[0])
        y = _R(b, params[1]) if kinds[1] == "range" else _point(b, params[1])
        return fn(x, y)

    builtin(name, *params, guard=_GUARDS[params])(impl)


# before / after
_define("before", _PP, lambda p1, p2: _lt(p1, p2))
_define("before", _PR, lambda p, r: _lt(p, r.s) or (_eq(p, r.s) and not r.si))
_define("before", _RP, lambda r, p: _lt(r.e, p) or (_eq(r.e, p) and not r.ei))
_define("before", _RR, lambda r1, r2: _lt(r1.e, r2.s) or ((not r1.ei or not r2.si) and _eq(r1.e, r2.s)))
_define("after", _PP, lambda p1, p2: _lt(p2, p1))
_define("after", _PR, lambda p, r: _lt(r.e, p) or (_eq(p, r.e) and not r.ei))
_define("after", _RP, lambda r, p: _lt(p, r.s) or (_eq(r.s, p) and not r.si))
_define("after", _RR, lambda r1, r2: _lt(r2.e, r1.s) or ((not r1.si or not r2.ei) and _eq(r1.s, r2.e)))

# meets / met by
_define("meets", _RR, lambda r1, r2: r1.ei and r2.si and _eq(r1.e, r2.s))
_define("met by", _RR, lambda r1, r2: r1.si and r2.ei and _eq(r1.s, r2.e))


# overlaps family
def _overlaps(r1: _R, r2: _R) -> bool:
    return (_lt(r2.s, r1.e) or (_eq(r1.e, r2.s) and r1.ei and r2.si)) and (
        _lt(r1.s, r2.e) or (_eq(r1.s, r2.e) and r1.si and r2.ei)
    )


def _overlaps_before(r1: _R, r2: _R) -> bool:
    return (
        (_lt(r1.s, r2.s) or (_eq(r1.s, r2.s) and r1.si and not r2.si))
        and (_lt(r2.s, r1.e) or (_eq(r1.e, r2.s) and r1.ei and r2.si))
        and (_lt(r1.e, r2.e) or (_eq(r1.e, r2.e) and (not r1.ei or r2.ei)))
    )


_define("overlaps", _RR, _overlaps)
_define("overlaps before", _RR, _overlaps_before)
_define("overlaps after", _RR, lambda r1, r2: _overlaps_before(r2, r1))

# finishes / finished by
_define("finishes", _PR, lambda p, r: r.ei and _eq(r.e, p))
_define(
    "finishes",
    _RR,
    lambda r1, r2: (
        r1.ei == r2.ei and _eq(r1.e, r2.e) and (_lt(r2.s, r1.s) or (_eq(r1.s, r2.s) and (not r1.si or r2.si)))
    ),
)
_define("finished by", _RP, lambda r, p: r.ei and _eq(r.e, p))
_define(
    "finished by",
    _RR,
    lambda r1, r2: (
        r1.ei == r2.ei and _eq(r1.e, r2.e) and (_lt(r1.s, r2.s) or (_eq(r1.s, r2.s) and (r1.si or not r2.si)))
    ),
)


# includes / during
def _contains_point(r: _R, p: Any) -> bool:
    return (_lt(r.s, p) and _lt(p, r.e)) or (_eq(r.s, p) and r.si) or (_eq(r.e, p) and r.ei)


def _contains_range(r1: _R, r2: _R) -> bool:
    return (_lt(r1.s, r2.s) or (_eq(r1.s, r2.s) and (r1.si or not r2.si))) and (
        _lt(r2.e, r1.e) or (_eq(r1.e, r2.e) and (r1.ei or not r2.ei))
    )


_define("includes", _RP, _contains_point)
_define("includes", _RR, _contains_range)
_define("during", _PR, lambda p, r: _contains_point(r, p))
_define("during", _RR, lambda r1, r2: _contains_range(r2, r1))

# starts / started by
_define("starts", _PR, lambda p, r: _eq(r.s, p) and r.si)
_define(
    "starts",
    _RR,
    lambda r1, r2: (
        _eq(r1.s, r2.s) and r1.si == r2.si and (_lt(r1.e, r2.e) or (_eq(r1.e, r2.e) and (not r1.ei or r2.ei)))
    ),
)
_define("started by", _RP, lambda r, p: _eq(r.s, p) and r.si)
_define(
    "started by",
    _RR,
    lambda r1, r2: (
        _eq(r1.s, r2.s) and r1.si == r2.si and (_lt(r2.e, r1.e) or (_eq(r1.e, r2.e) and (not r2.ei or r1.ei)))
    ),
)

# coincides
_define("coincides", _PP, lambda p1, p2: _eq(p1, p2))
_define(
    "coincides",
    _RR,
    lambda r1, r2: _eq(r1.s, r2.s) and r1.si == r2.si and _eq(r1.e, r2.e) and r1.ei == r2.ei,
)
