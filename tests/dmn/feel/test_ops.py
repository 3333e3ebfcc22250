"""FEEL semantics functions used by the built-ins and the DMN engine."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from casepilot.dmn.feel import (
    Range,
    YearMonthDuration,
    compare,
    conforms,
    feel_equal,
    instance_of,
    kind_of,
    parse_time,
    to_feel,
)
from casepilot.dmn.feel.ast import ContextType, FunctionType, GenericType, NamedType
from casepilot.dmn.feel.ops import add, divide, multiply, negate, power, subtract
from casepilot.dmn.feel.values import FeelDate
from tests.dmn.feel._helpers import feel


def test_feel_equal() -> None:
    assert feel_equal(None, None) is True
    assert feel_equal(None, Decimal(1)) is False
    assert feel_equal(Decimal(1), "1") is None
    assert feel_equal(True, Decimal(1)) is None
    assert feel_equal([Decimal(1)], [Decimal(1)]) is True
    assert feel_equal([Decimal(1)], [Decimal(1), Decimal(2)]) is False
    assert feel_equal([Decimal(1)], ["1"]) is None
    assert feel_equal({"a": [None]}, {"a": [None]}) is True
    assert feel_equal({"a": 1}, {"b": 1}) is False
    assert (
        feel_equal(Range(Decimal(1), Decimal(2), True, True), Range(Decimal(1), Decimal(2), True, True))
        is True
    )
    assert (
        feel_equal(Range(Decimal(1), Decimal(2), True, True), Range(Decimal(1), Decimal(2), True, False))
        is False
    )
    assert feel_equal(parse_time("10:00:00@Europe/Paris"), parse_time("09:00:00Z")) is True
    assert feel_equal(parse_time("10:00:00"), parse_time("10:00:00Z")) is False
    assert feel_equal(dt.timedelta(days=1), YearMonthDuration(0)) is None
    assert feel_equal(dt.date(2020, 1, 1), dt.datetime(2020, 1, 1)) is None


def test_compare() -> None:
    assert compare(Decimal(1), Decimal(2)) == -1
    assert compare("b", "a") == 1
    assert compare(dt.date(2020, 1, 1), dt.date(2020, 1, 1)) == 0
    assert compare(YearMonthDuration(1), YearMonthDuration(2)) == -1
    assert compare(True, False) is None
    assert compare(None, Decimal(1)) is None
    assert compare([Decimal(1)], [Decimal(2)]) is None
    assert compare(dt.datetime(2020, 1, 1), dt.datetime(2020, 1, 1, tzinfo=dt.UTC)) is None


def test_arithmetic_helpers() -> None:
    assert add(Decimal(1), Decimal(2)) == 3
    assert add("a", Decimal(1)) is None
    assert add(dt.date(2020, 1, 31), YearMonthDuration(13)) == dt.date(2021, 2, 28)
    # past year 9999 the result is a FeelDate (years up to ±999 999 999), not null
    assert add(dt.date(9999, 12, 1), YearMonthDuration(1)) == FeelDate(10000, 1, 1)
    assert add(dt.date(9999, 12, 31), dt.timedelta(days=1)) == FeelDate(10000, 1, 1)
    assert add(FeelDate(999_999_999, 12, 31), dt.timedelta(days=1)) is None
    assert subtract(YearMonthDuration(1), YearMonthDuration(3)) == YearMonthDuration(-2)
    assert subtract(parse_time("10:00:00+01:00"), parse_time("10:00:00Z")) == dt.timedelta(hours=-1)
    assert multiply(dt.timedelta(hours=1), Decimal("0.5")) == dt.timedelta(minutes=30)
    assert multiply(Decimal(2), "x") is None
    assert divide(Decimal(1), Decimal(0)) is None
    assert divide(YearMonthDuration(3), YearMonthDuration(0)) is None
    assert divide(dt.timedelta(days=1), dt.timedelta(0)) is None
    assert power(Decimal(2), Decimal(10)) == 1024
    assert power(Decimal(-8), Decimal("0.5")) is None
    assert power("a", Decimal(1)) is None
    assert negate("a") is None


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (None, "Null"),
        (True, "boolean"),
        (Decimal(1), "number"),
        ("a", "string"),
        (dt.date(2020, 1, 1), "date"),
        (dt.datetime(2020, 1, 1), "date and time"),
        (dt.time(1), "time"),
        (dt.timedelta(1), "days and time duration"),
        (YearMonthDuration(1), "years and months duration"),
        ([], "list"),
        ({}, "context"),
        (Range(None, None, False, False), "range"),
    ],
)
def test_kind_of(value: object, kind: str) -> None:
    assert kind_of(value) == kind


def test_instance_of_and_conforms() -> None:
    assert instance_of(Decimal(1), NamedType("number"))
    assert instance_of(Decimal(1), NamedType("feel:number"))
    assert instance_of(dt.timedelta(1), NamedType("dayTimeDuration"))
    assert not instance_of(None, NamedType("Any"))
    assert instance_of([Decimal(1), None], GenericType("list", NamedType("number")))
    assert instance_of({"a": "x", "b": 1}, ContextType((("a", NamedType("string")),)))
    assert not instance_of(Decimal(1), FunctionType((), NamedType("Any")))
    assert conforms(None, "number")
    assert conforms(Decimal(1), "number")
    assert not conforms("1", "number")
    assert conforms("anything", "tns:ItemDefinition")
    assert conforms([Decimal(1)], GenericType("list", NamedType("number")))


def test_to_feel_boundary_conversion() -> None:
    assert to_feel({"a": 1, "b": [1.5, (2,)], "r": Range(1, 2, True, True)}) == {
        "a": Decimal(1),
        "b": [Decimal("1.5"), [Decimal(2)]],
        "r": Range(Decimal(1), Decimal(2), True, True),
    }


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('time("10:30:00.0001") = time("10:30:00.0002")', True),
        ('time("10:30:00.0001") < time("10:30:00.0002")', False),  # = and < agree on one precision
        ('time("10:30:00.001") < time("10:30:00.002")', True),
        ('time("10:30:00.0001Z") = time("11:30:00.0009+01:00")', True),
        ('date and time("2018-12-08T00:00:00.0001") = date and time("2018-12-08T00:00:00.0000")', True),
        ('date and time("2018-12-08T00:00:00.0001") >= date and time("2018-12-08T00:00:00.0009")', True),
        ('date and time("2018-12-08T00:00:00.001") = date and time("2018-12-08T00:00:00.002")', False),
        ('date and time("2018-12-08T00:00:00.0001Z") = date and time("2018-12-08T01:00:00.0004+01:00")', True),
        ('date and time("-0001-12-08T00:00:00.0001") = date and time("-0001-12-08T00:00:00.0003")', True),
        ('date and time("-0001-12-08T00:00:00.001") < date and time("-0001-12-08T00:00:00.002")', True),
    ],
)
def test_times_and_date_times_compare_to_the_millisecond(expression: str, expected: bool) -> None:
    assert feel(expression) is expected


def test_time_subtraction_keeps_microseconds() -> None:
    """Comparison rounds to the millisecond; arithmetic does not."""
    assert feel('time("10:30:00.0002") - time("10:30:00.0001")') == dt.timedelta(microseconds=100)
    assert feel('date and time("2018-12-08T00:00:00.0002") - date and time("2018-12-08T00:00:00.0001")') == \
        dt.timedelta(microseconds=100)
