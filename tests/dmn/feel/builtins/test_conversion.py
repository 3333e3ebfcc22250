"""Conversion functions: date, time, date and time, number, string, duration, years and months duration."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from casepilot.dmn.feel.values import Range, YearMonthDuration
from tests.dmn.feel.builtins._helpers import D, call, call_named

UTC = dt.UTC


def test_date() -> None:
    assert call("date", "2017-12-31") == dt.date(2017, 12, 31)
    assert call("date", dt.datetime(2017, 8, 14, 14, 25)) == dt.date(2017, 8, 14)
    assert type(call("date", dt.datetime(2017, 8, 14, 14, 25))) is dt.date
    assert call("date", dt.date(2017, 10, 11)) == dt.date(2017, 10, 11)
    assert call("date", 2017, 1, 1) == dt.date(2017, 1, 1)
    assert call_named("date", year=2017, month=8, day=30) == dt.date(2017, 8, 30)
    assert call_named("date", **{"from": "2012-12-25"}) == dt.date(2012, 12, 25)


@pytest.mark.parametrize(
    "args",
    [
        (None,),
        (None, None),
        (None, 2, 1),
        (2017, None, 1),
        (2017, 1, None),
        (),
        ("2012-12-25T",),
        ("",),
        ("2012/12/25",),
        ("2017-13-10",),
        ("2017-12-32",),
        ("+2012-12-02",),
        (2017, 13, 31),
        (2017, 12, 32),
        (2017, -8, 2),
        (2017, 2, 29),
        (1,),
        ([],),
        ("2017", 1, 1),
    ],
)
def test_date_invalid(args: tuple[Any, ...]) -> None:
    assert call("date", *args) is None


def test_date_and_time() -> None:
    assert call("date and time", "2016-12-24T23:59:00-08:00") == dt.datetime(
        2016, 12, 24, 23, 59, tzinfo=dt.timezone(dt.timedelta(hours=-8))
    )
    assert call("date and time", "2017-01-01") == dt.datetime(2017, 1, 1)
    paris = call("date and time", "2017-09-03T09:45:30@Europe/Paris")
    assert paris.tzinfo == ZoneInfo("Europe/Paris")
    assert call("date and time", dt.date(2017, 1, 2)) == dt.datetime(2017, 1, 2, tzinfo=UTC)
    stamp = dt.datetime(2017, 1, 2, 3, 4)
    assert call("date and time", stamp) == stamp
    combined = call(
        "date and time", dt.date(2015, 12, 24), dt.time(0, 0, 1, tzinfo=dt.timezone(-dt.timedelta(hours=1)))
    )
    assert combined == dt.datetime(2015, 12, 24, 0, 0, 1, tzinfo=dt.timezone(-dt.timedelta(hours=1)))
    from_datetime = call("date and time", dt.datetime(2017, 8, 10, 10, 20), dt.time(23, 59, 1))
    assert from_datetime == dt.datetime(2017, 8, 10, 23, 59, 1)
    assert call_named("date and time", date=dt.date(2020, 1, 1), time=dt.time(1, 2)) == dt.datetime(
        2020, 1, 1, 1, 2
    )
    assert call_named("date and time", **{"from": "2020-01-01T01:02:03"}) == dt.datetime(2020, 1, 1, 1, 2, 3)
    for bad in [
        ("2017-13-01T00:00:00",),
        ("x",),
        (1,),
        (None,),
        (dt.time(1), dt.date(2020, 1, 1)),
        ("2020-01-01", dt.time(1)),
    ]:
        assert call("date and time", *bad) is None


def test_time() -> None:
    assert call("time", "01:02:03") == dt.time(1, 2, 3)
    assert call("time", "11:22:33.444") == dt.time(11, 22, 33, 444000)
    assert call("time", "23:59:00Z") == dt.time(23, 59, tzinfo=UTC)
    assert call("time", dt.datetime(2017, 8, 10, 10, 20, tzinfo=UTC)) == dt.time(10, 20, tzinfo=UTC)
    assert call("time", dt.datetime(2017, 8, 10, 10, 20)).tzinfo is None
    paris = call("time", dt.datetime(2017, 8, 10, 10, 20, tzinfo=ZoneInfo("Europe/Paris")))
    assert paris.tzinfo == ZoneInfo("Europe/Paris")
    assert call("time", dt.date(2017, 8, 10)) == dt.time(0, 0, tzinfo=UTC)
    assert call("time", 12, 0, 0, None) == dt.time(12, 0)
    assert call("time", 12, 59, 1.3, dt.timedelta(hours=-1)) == dt.time(
        12, 59, 1, 300000, tzinfo=dt.timezone(dt.timedelta(hours=-1))
    )
    assert call("time", 11, 59, 45, dt.timedelta(0)) == dt.time(11, 59, 45, tzinfo=UTC)
    assert call("time", 11, 59, 45) == dt.time(11, 59, 45)
    offset = dt.timedelta(hours=2, minutes=45, seconds=55)
    assert call("time", 11, 59, 45, offset).utcoffset() == offset
    assert call_named("time", hour=11, minute=59, second=0, offset=dt.timedelta(hours=-2)) == dt.time(
        11, 59, tzinfo=dt.timezone(dt.timedelta(hours=-2))
    )
    assert call_named("time", **{"from": "12:45:00"}) == dt.time(12, 45)


@pytest.mark.parametrize(
    "args",
    [
        (None,),
        (None, 11, 45, dt.timedelta(0)),
        (12, None, 45, dt.timedelta(0)),
        (12, 0, None, None),
        (),
        (2017,),
        ([],),
        ("",),
        ("23:59:60",),
        ("24:00:01",),
        ("7:00:00",),
        ("13:20:00+19:00",),
        ("13:20:00@xyz/abc",),
        (24, 59, 45, None),
        (-24, 59, 45, None),
        (23, 60, 45, None),
        (23, 59, 60, None),
        (12, 0, 0, dt.timedelta(hours=19)),
        (12, 0, 0, YearMonthDuration(1)),
        (12, 0, 0, "Z"),
    ],
)
def test_time_invalid(args: tuple[Any, ...]) -> None:
    assert call("time", *args) is None


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("1 000,0", " ", ","), "1000.0"),
        (("1,000.0", ",", "."), "1000.0"),
        (("1.000,5", ".", ","), "1000.5"),
        (("1000",), "1000"),
        (("-12.5",), "-12.5"),
        (("12", None, None), "12"),
        ((".5",), "0.5"),
        (("1.23e4",), "12300"),
    ],
)
def test_number(args: tuple[Any, ...], expected: str) -> None:
    assert call("number", *args) == Decimal(expected)


@pytest.mark.parametrize(
    "args",
    [
        ("1,000.0", ",", ","),
        ("1 000", "x", None),
        ("1,5", None, ";"),
        ("abc",),
        ("1.000,5", None, ","),
        ("",),
        (None,),
        (12,),
        ("1e",),
    ],
)
def test_number_invalid(args: tuple[Any, ...]) -> None:
    assert call("number", *args) is None


def test_number_named() -> None:
    got = call_named("number", **{"from": "1 000,5", "grouping separator": " ", "decimal separator": ","})
    assert got == D("1000.5")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (D("1.10"), "1.1"),
        (D(2), "2"),
        ("abc", "abc"),
        (True, "true"),
        (dt.date(2017, 1, 2), "2017-01-02"),
        (dt.time(1, 2, 3, tzinfo=UTC), "01:02:03Z"),
        (dt.datetime(2017, 1, 2, 3, 4, 5), "2017-01-02T03:04:05"),
        (dt.timedelta(days=1, hours=2), "P1DT2H"),
        (YearMonthDuration(14), "P1Y2M"),
        ([D(1), "a"], '[1, "a"]'),
        ({"a": D(1)}, "{a: 1}"),
        (Range(D(1), D(10), True, False), "[1..10)"),
    ],
)
def test_string(value: Any, expected: str) -> None:
    assert call("string", value) == expected


def test_string_null_and_named() -> None:
    assert call("string", None) is None
    assert call_named("string", **{"from": D(5)}) == "5"
    assert call("string") is None


def test_duration() -> None:
    assert call("duration", "P1D") == dt.timedelta(days=1)
    assert call("duration", "-PT1H2M") == -dt.timedelta(hours=1, minutes=2)
    assert call("duration", "P1Y2M") == YearMonthDuration(14)
    assert call("duration", "P26M") == YearMonthDuration(26)
    assert call_named("duration", **{"from": "PT24H"}) == dt.timedelta(days=1)
    bad_values: list[Any] = [None, "", "P", "1Y", "P1H", 2017, [], dt.timedelta(1)]
    for bad in bad_values:
        assert call("duration", bad) is None


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        (dt.date(2011, 12, 22), dt.date(2013, 8, 24), 20),
        (dt.date(2013, 8, 24), dt.date(2011, 12, 22), -20),
        (dt.date(2015, 1, 21), dt.date(2016, 1, 21), 12),
        (dt.date(2016, 1, 1), dt.date(2016, 1, 1), 0),
        (dt.datetime(2017, 12, 31, 13), dt.datetime(2017, 12, 31, 12), 0),
        (dt.datetime(2016, 9, 30, 23, 25), dt.datetime(2017, 12, 28, 12, 12, 12), 14),
        (dt.datetime(2010, 5, 30, 3, 55, 58), dt.datetime(2017, 12, 15, 0, 59, 59), 90),
        (dt.datetime(2014, 12, 31, 23, 59, 59), dt.datetime(2019, 10, 1, 12, 32, 59), 57),
        (dt.datetime(2014, 12, 31, 23, 59, 59), dt.datetime(2016, 12, 31, 0, 0, 1), 24),
        (dt.date(2013, 8, 24), dt.datetime(2017, 12, 15, 0, 59, 59), 51),
        (dt.datetime(2017, 2, 28, 23, 59, 59), dt.date(2019, 7, 23), 28),
    ],
)
def test_years_and_months_duration(start: dt.date, end: dt.date, months: int) -> None:
    assert call("years and months duration", start, end) == YearMonthDuration(months)


def test_years_and_months_duration_invalid_and_named() -> None:
    assert call("years and months duration", None, dt.date(2017, 8, 11)) is None
    assert call("years and months duration", dt.date(2017, 8, 11), None) is None
    assert call("years and months duration", "2012-12-25", dt.date(2017, 8, 11)) is None
    assert call("years and months duration", dt.date(2017, 8, 11)) is None
    assert call("years and months duration") is None
    assert call_named(
        "years and months duration", **{"from": dt.date(2016, 1, 21), "to": dt.date(2015, 1, 21)}
    ) == YearMonthDuration(-12)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[18..21)", Range(D(18), D(21), True, False)),
        ("(1..10]", Range(D(1), D(10), False, True)),
        ("]1..10[", Range(D(1), D(10), False, False)),
        ("< 10", Range(None, D(10), False, False)),
        (">= 5", Range(D(5), None, True, False)),
        ('["a".."z"]', Range("a", "z", True, True)),
        ('[@"2019-01-01"..@"2019-12-31"]', Range(dt.date(2019, 1, 1), dt.date(2019, 12, 31), True, True)),
        (
            '[date("2019-01-01")..date("2019-12-31")]',
            Range(dt.date(2019, 1, 1), dt.date(2019, 12, 31), True, True),
        ),
    ],
)
def test_range(text: str, expected: Range) -> None:
    assert call("range", text) == expected


@pytest.mark.parametrize("text", ["[x..10]", "abs(1)", "[1..", "1+1", "", "x" * 1001])
def test_range_invalid(text: str) -> None:
    assert call("range", text) is None


def test_range_named_and_types() -> None:
    assert call_named("range", **{"from": "[1..2]"}) == Range(D(1), D(2), True, True)
    assert call("range", None) is None
    assert call("range", 5) is None
