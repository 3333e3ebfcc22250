"""Range functions: the spec's examples for every relation, unbounded ranges, overloads."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from casepilot.dmn.feel.values import Range
from tests.dmn.feel.builtins._helpers import R, call, call_named


def closed(a: int, b: int) -> Range:
    return R(a, b)


def right_open(a: int, b: int) -> Range:
    return R(a, b, True, False)


def left_open(a: int, b: int) -> Range:
    return R(a, b, False, True)


CASES: list[tuple[str, tuple[Any, Any], bool]] = [
    # before
    ("before", (1, 10), True),
    ("before", (10, 1), False),
    ("before", (1, closed(2, 5)), True),
    ("before", (closed(1, 5), 10), True),
    ("before", (closed(1, 5), closed(6, 8)), True),
    ("before", (closed(1, 5), closed(5, 8)), False),
    ("before", (right_open(1, 5), closed(5, 8)), True),
    ("before", (closed(1, 5), left_open(5, 8)), True),
    ("before", (1, left_open(1, 5)), True),
    ("before", (1, closed(1, 5)), False),
    ("before", (right_open(1, 5), 5), True),
    ("before", (closed(1, 5), 5), False),
    # after
    ("after", (10, 1), True),
    ("after", (1, 10), False),
    ("after", (12, closed(2, 5)), True),
    ("after", (closed(5, 10), 4), True),
    ("after", (closed(6, 8), closed(1, 5)), True),
    ("after", (closed(5, 8), closed(1, 5)), False),
    ("after", (left_open(5, 8), closed(1, 5)), True),
    ("after", (closed(5, 8), right_open(1, 5)), True),
    ("after", (5, right_open(1, 5)), True),
    ("after", (5, closed(1, 5)), False),
    ("after", (left_open(5, 10), 5), True),
    ("after", (closed(5, 10), 5), False),
    # meets / met by
    ("meets", (closed(1, 5), closed(5, 10)), True),
    ("meets", (closed(1, 3), closed(4, 6)), False),
    ("meets", (closed(1, 3), closed(3, 5)), True),
    ("meets", (closed(1, 5), left_open(5, 8)), False),
    ("met by", (closed(5, 10), closed(1, 5)), True),
    ("met by", (closed(3, 4), closed(1, 2)), False),
    ("met by", (closed(3, 5), closed(1, 3)), True),
    ("met by", (left_open(5, 8), closed(1, 5)), False),
    ("met by", (closed(5, 10), right_open(1, 5)), False),
    # overlaps
    ("overlaps", (closed(1, 5), closed(3, 8)), True),
    ("overlaps", (closed(3, 8), closed(1, 5)), True),
    ("overlaps", (closed(1, 8), closed(3, 5)), True),
    ("overlaps", (closed(3, 5), closed(1, 8)), True),
    ("overlaps", (closed(1, 5), closed(6, 8)), False),
    ("overlaps", (closed(6, 8), closed(1, 5)), False),
    ("overlaps", (closed(1, 5), closed(5, 8)), True),
    ("overlaps", (closed(1, 5), left_open(5, 8)), False),
    ("overlaps", (right_open(1, 5), closed(5, 8)), False),
    ("overlaps", (right_open(1, 5), left_open(5, 8)), False),
    ("overlaps", (closed(5, 8), closed(1, 5)), True),
    ("overlaps", (left_open(5, 8), closed(1, 5)), False),
    ("overlaps", (closed(5, 8), right_open(1, 5)), False),
    # overlaps before / after
    ("overlaps before", (closed(1, 5), closed(3, 8)), True),
    ("overlaps before", (closed(1, 5), closed(6, 8)), False),
    ("overlaps before", (closed(1, 5), closed(5, 8)), True),
    ("overlaps before", (closed(1, 5), left_open(5, 8)), False),
    ("overlaps before", (right_open(1, 5), closed(5, 8)), False),
    ("overlaps before", (right_open(1, 5), left_open(1, 5)), True),
    ("overlaps before", (closed(1, 5), left_open(1, 5)), True),
    ("overlaps before", (right_open(1, 5), closed(1, 5)), False),
    ("overlaps before", (closed(1, 5), closed(1, 5)), False),
    ("overlaps after", (closed(3, 8), closed(1, 5)), True),
    ("overlaps after", (closed(6, 8), closed(1, 5)), False),
    ("overlaps after", (closed(5, 8), closed(1, 5)), True),
    ("overlaps after", (left_open(5, 8), closed(1, 5)), False),
    ("overlaps after", (closed(5, 8), right_open(1, 5)), False),
    ("overlaps after", (left_open(1, 5), right_open(1, 5)), True),
    ("overlaps after", (left_open(1, 5), closed(1, 5)), True),
    ("overlaps after", (closed(1, 5), right_open(1, 5)), False),
    ("overlaps after", (closed(1, 5), closed(1, 5)), False),
    ("overlaps after", (left_open(1, 5), R(1, 6, True, False)), False),
    # finishes / finished by
    ("finishes", (10, closed(1, 10)), True),
    ("finishes", (10, right_open(1, 10)), False),
    ("finishes", (closed(5, 10), closed(1, 10)), True),
    ("finishes", (right_open(5, 10), closed(1, 10)), False),
    ("finishes", (right_open(5, 10), right_open(1, 10)), True),
    ("finishes", (closed(1, 10), closed(1, 10)), True),
    ("finishes", (left_open(1, 10), closed(1, 10)), True),
    ("finished by", (closed(1, 10), 10), True),
    ("finished by", (right_open(1, 10), 10), False),
    ("finished by", (closed(1, 10), closed(5, 10)), True),
    ("finished by", (closed(1, 10), right_open(5, 10)), False),
    ("finished by", (right_open(1, 10), right_open(5, 10)), True),
    ("finished by", (closed(1, 10), closed(1, 10)), True),
    ("finished by", (closed(1, 10), left_open(1, 10)), True),
    # includes / during
    ("includes", (closed(1, 10), 5), True),
    ("includes", (closed(1, 10), 12), False),
    ("includes", (closed(1, 10), 1), True),
    ("includes", (closed(1, 10), 10), True),
    ("includes", (left_open(1, 10), 1), False),
    ("includes", (right_open(1, 10), 10), False),
    ("includes", (closed(1, 10), closed(4, 6)), True),
    ("includes", (closed(1, 10), closed(1, 5)), True),
    ("includes", (left_open(1, 10), left_open(1, 5)), True),
    ("includes", (closed(1, 10), left_open(1, 10)), True),
    ("includes", (closed(1, 10), right_open(1, 10)), True),
    ("includes", (closed(1, 10), closed(1, 10)), True),
    ("includes", (left_open(1, 10), closed(1, 5)), False),
    ("during", (5, closed(1, 10)), True),
    ("during", (12, closed(1, 10)), False),
    ("during", (1, closed(1, 10)), True),
    ("during", (10, closed(1, 10)), True),
    ("during", (1, left_open(1, 10)), False),
    ("during", (10, right_open(1, 10)), False),
    ("during", (closed(4, 6), closed(1, 10)), True),
    ("during", (closed(1, 5), closed(1, 10)), True),
    ("during", (left_open(1, 5), left_open(1, 10)), True),
    ("during", (left_open(1, 10), closed(1, 10)), True),
    ("during", (right_open(1, 10), closed(1, 10)), True),
    ("during", (closed(1, 10), closed(1, 10)), True),
    ("during", (closed(1, 5), left_open(1, 10)), False),
    # starts / started by
    ("starts", (1, closed(1, 5)), True),
    ("starts", (1, left_open(1, 8)), False),
    ("starts", (closed(1, 5), closed(1, 5)), True),
    ("starts", (left_open(1, 5), left_open(1, 5)), True),
    ("starts", (closed(1, 5), closed(1, 8)), True),
    ("starts", (left_open(1, 5), closed(1, 5)), False),
    ("starts", (closed(1, 5), closed(2, 8)), False),
    ("starts", (closed(1, 8), closed(1, 5)), False),
    ("started by", (closed(1, 10), 1), True),
    ("started by", (left_open(1, 10), 1), False),
    ("started by", (closed(1, 10), closed(1, 5)), True),
    ("started by", (left_open(1, 10), left_open(1, 5)), True),
    ("started by", (closed(1, 10), left_open(1, 5)), False),
    ("started by", (closed(1, 10), closed(1, 10)), True),
    ("started by", (closed(1, 5), closed(1, 8)), False),
    # coincides
    ("coincides", (5, 5), True),
    ("coincides", (3, 4), False),
    ("coincides", (closed(1, 5), closed(1, 5)), True),
    ("coincides", (left_open(1, 5), right_open(1, 5)), False),
    ("coincides", (closed(1, 5), closed(2, 6)), False),
]


@pytest.mark.parametrize(("name", "args", "expected"), CASES)
def test_spec_examples(name: str, args: tuple[Any, Any], expected: bool) -> None:
    assert call(name, *args) is expected


def test_unbounded_ranges() -> None:
    below_ten = R(None, 10, False, False)  # < 10
    from_five = R(5, None, True, False)  # >= 5
    assert call("before", below_ten, 10) is True
    assert call("before", below_ten, 9) is False
    assert call("includes", below_ten, -1000) is True
    assert call("includes", from_five, 10**9) is True
    assert call("after", 11, below_ten) is True
    assert call("overlaps", below_ten, from_five) is True
    assert call("includes", below_ten, R(None, 3, False, True)) is True
    assert call("during", R(None, 3, False, True), below_ten) is True
    assert call("coincides", below_ten, R(None, 10, False, False)) is True
    assert call("starts", R(None, 3, False, False), below_ten) is True


def test_other_point_types() -> None:
    days = Range(dt.date(2020, 1, 1), dt.date(2020, 12, 31), True, True)
    assert call("during", dt.date(2020, 6, 1), days) is True
    assert call("before", dt.date(2019, 6, 1), days) is True
    assert call("before", "a", "b") is True
    assert call("includes", Range("a", "f", True, True), "c") is True


def test_named_invocation_chooses_the_overload() -> None:
    assert call_named("before", point1=1, point2=10) is True
    assert call_named("before", point=1, range=closed(2, 5)) is True
    # the names "point" and "range" fit both before(point, range) and before(range, point):
    # the order in which the call names them decides, as it would positionally
    assert call_named("before", range=closed(1, 5), point=10) is True
    assert call_named("before", point=10, range=closed(1, 5)) is False
    assert call_named("after", point=10, range=closed(1, 5)) is True
    assert call_named("after", range=closed(1, 5), point=10) is False
    assert call_named("before", range1=closed(1, 5), range2=closed(6, 8)) is True
    assert call_named("during", point=5, range=closed(1, 10)) is True
    assert call_named("includes", range=closed(1, 10), point=5) is True
    assert call_named("before", point=closed(1, 2), range=closed(2, 5)) is None  # wrong type for the name
    assert call_named("meets", point1=1, point2=2) is None


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("before", (1, "a")),
        ("before", (None, 1)),
        ("before", (1, None)),
        ("includes", (closed(1, 10), "a")),
        ("meets", (1, 2)),  # meets has no point signature
        ("meets", (closed(1, 2), 2)),
        ("finishes", (closed(1, 2), 2)),  # finishes(range, point) does not exist
        ("during", (closed(1, 2), 2)),
        ("before", (1,)),
        ("before", (1, 2, 3)),
        ("coincides", (Range(dt.date(2020, 1, 1), None, True, False), Range(1, None, True, False))),
    ],
)
def test_invalid_give_null(name: str, args: tuple[Any, ...]) -> None:
    assert call(name, *args) is None
