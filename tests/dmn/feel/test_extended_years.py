"""Dates and date-times with years outside Python's 1..9999 (FeelDate / FeelDateTime).

The DMN TCK (0100-arithmetic, 1115, 1121) uses years such as -2021 and ±999 999 999; these
tests pin parsing, formatting, comparison, arithmetic and properties of such values, and
that ordinary dates stay plain ``datetime`` objects.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from casepilot.dmn.feel import compare, feel_equal, parse_date, parse_date_and_time, to_feel_string
from casepilot.dmn.feel.values import FeelDate, FeelDateTime, YearMonthDuration
from tests.dmn.feel._helpers import feel, messages


def test_parse_gives_extended_values_only_when_needed() -> None:
    assert parse_date("-2017-01-01") == FeelDate(-2017, 1, 1)
    assert parse_date("999999999-12-31") == FeelDate(999_999_999, 12, 31)
    assert parse_date("0000-02-29") == FeelDate(0, 2, 29)  # year 0 = 1 BCE, a leap year
    assert type(parse_date("2017-01-31")) is dt.date
    value = parse_date_and_time("-2021-01-01T10:10:10+11:00")
    assert isinstance(value, FeelDateTime)
    assert value.date == FeelDate(-2021, 1, 1) and value.time.hour == 10
    assert type(parse_date_and_time("2021-01-01T10:10:10")) is dt.datetime


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('string(date("999999999-12-31"))', "999999999-12-31"),  # TCK 1115 015
        ('string(date("-999999999-12-31"))', "-999999999-12-31"),
        ("string(date(999999999, 12, 31))", "999999999-12-31"),  # TCK 1115 029
        ("string(date(-999999999, 12, 31))", "-999999999-12-31"),
        ('string(date("-0005-03-01"))', "-0005-03-01"),
        ('string(@"-2021-01-01T10:10:10+11:00" + @"P1M")', "-2021-02-01T10:10:10+11:00"),  # TCK 0100
        ('string(@"-2021-01-01T10:10:10+11:00" + @"P1Y")', "-2020-01-01T10:10:10+11:00"),
        ('string(@"-2021-01-01T10:10:10+11:00" - @"P1Y")', "-2022-01-01T10:10:10+11:00"),
        (
            'string(@"P1M" + @"-2021-01-01T10:10:10@Australia/Melbourne")',
            "-2021-02-01T10:10:10@Australia/Melbourne",
        ),
        (
            'string(@"-2021-01-01T10:10:10@Australia/Melbourne" - @"-P1D")',
            "-2021-01-02T10:10:10@Australia/Melbourne",
        ),
        ('string(@"-2021-01-01T10:10:10+11:00" - @"PT1H")', "-2021-01-01T09:10:10+11:00"),
        ('string(@"-2021-01-01T10:10:10+11:00" - @"P1D")', "-2022-12-31T10:10:10+11:00"),
        ('string(date("-2021-02-28") + duration("P1Y"))', "-2020-02-28"),
        ('string(date("-2020-02-29") + duration("P1Y"))', "-2019-02-28"),  # day clamped
        ('string(date("9999-12-31") + duration("P1D"))', "10000-01-01"),  # overflow leaves 1..9999
        ('string(date("10000-01-01") - duration("P1D"))', "9999-12-31"),
        ('string(date("0001-01-01") - duration("P1D"))', "0000-12-31"),
        ('string(date and time("-2021-03-04T24:00:00"))', "-2021-03-05T00:00:00"),
        ('string(date and time(date("-2021-03-04"), time("10:00:00Z")))', "-2021-03-04T10:00:00Z"),
        ('string(date(date and time("-2021-03-04T10:00:00Z")))', "-2021-03-04"),
        ('string(date and time(date("-2021-03-04")))', "-2021-03-04T00:00:00Z"),
    ],
)
def test_strings(text: str, expected: str) -> None:
    assert feel(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # TCK 1121 017-019
        (
            'years and months duration(date and time("-2016-01-30T09:05:00"), date and time("-2017-02-28T02:02:02"))',
            YearMonthDuration(-11),
        ),
        (
            'years and months duration(date and time("2014-12-31T23:59:59"), date and time("-2019-10-01T12:32:59"))',
            YearMonthDuration(-(4033 * 12 + 2)),
        ),
        ('date("10000-01-01") - date("9999-12-31")', dt.timedelta(days=1)),
        ('date("-2021-01-02") - date("-2021-01-01")', dt.timedelta(days=1)),
        (
            'date and time("-2021-01-01T12:00:00Z") - date and time("-2021-01-01T00:00:00Z")',
            dt.timedelta(hours=12),
        ),
        (
            'date and time("-2021-01-01T12:00:00Z") - date and time("-2021-01-01T00:00:00")',
            None,
        ),  # zone vs none
        ('date("-0001-12-31") < date("0001-01-01")', True),
        ('date("-2021-03-04") > date("-2021-03-05")', False),
        ('date("-2021-03-04") = date(-2021, 3, 4)', True),
        ('date("-2021-03-04") = date("2021-03-04")', False),
        ('date and time("-2021-03-04T10:00:00Z") = date and time("-2021-03-04T11:00:00+01:00")', True),
        ('date and time("-2021-03-04T10:00:00Z") = date and time("-2021-03-04T10:00:00")', False),
        ('date("-2021-03-04") in [date("-3000-01-01")..date("2000-01-01")]', True),
        ('is(date and time("-2021-03-04T10:00:00Z"), date and time("-2021-03-04T11:00:00+01:00"))', False),
        ('is(date and time("-2021-03-04T10:00:00Z"), date and time("-2021-03-04T10:00:00Z"))', True),
        ('date("-2021-03-04") instance of date', True),
        ('date and time("-2021-03-04T10:00:00") instance of date and time', True),
        ('date("-2021-03-04").year', Decimal(-2021)),
        ('date("0000-02-29").day', Decimal(29)),
        ('date and time("-2021-03-04T10:00:00.5Z").second', Decimal("0.5")),
        ('date and time("-2021-03-04T10:00:00@Europe/Paris").timezone', "Europe/Paris"),
        ('date and time("-2021-03-04T10:00:00+02:00").time offset', dt.timedelta(hours=2)),
        ('month of year(date("-2021-03-04"))', "March"),
        ('time(date and time("-2021-03-04T10:00:00Z"))', dt.time(10, tzinfo=dt.UTC)),
    ],
)
def test_values(text: str, expected: Any) -> None:
    assert feel(text) == expected


def test_weekday_follows_the_400_year_cycle() -> None:
    # 400 Gregorian years are 146 097 days, a whole number of weeks
    assert feel('day of week(date("-1999-03-04"))') == feel('day of week(date("2001-03-04"))') == "Sunday"
    assert feel('date("-1999-03-04").weekday') == Decimal(7)
    assert feel('week of year(date("-1999-03-04"))') == feel('week of year(date("2001-03-04"))')
    assert feel('day of year(date("10400-12-31"))') == Decimal(366)


def test_limits_of_the_year_range() -> None:
    assert feel('date("999999999-12-31") + duration("P1D")') is None
    assert feel("date(1000000000, 1, 1)") is None
    assert any("not a FEEL date" in m for m in messages('date("1000000000-01-01")'))
    assert feel("date(-2021, 2, 29)") is None  # -2021 is not a leap year


def test_ops_across_representations() -> None:
    assert compare(FeelDate(-1, 1, 1), dt.date(1, 1, 1)) == -1
    assert compare(FeelDate(10000, 1, 1), dt.date(9999, 12, 31)) == 1
    assert feel_equal(FeelDate(10000, 1, 1), FeelDate(10000, 1, 1)) is True
    assert feel_equal(FeelDate(10000, 1, 1), dt.datetime(2000, 1, 1)) is None
    assert (
        to_feel_string(FeelDateTime(FeelDate(-44, 3, 15), dt.time(12, 30, 0, 250000)))
        == "-0044-03-15T12:30:00.25"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # instants within a day of year 1 / 9999: the UTC form needs a year Python lacks (raised before)
        ('date and time("0001-01-01T00:00:00+01:00") < date and time("0001-01-01T00:00:00Z")', True),
        ('date and time("0001-01-01T00:00:00+01:00") = date and time("0001-01-01T00:00:00Z")', False),
        ('date and time("9999-12-31T23:00:00-05:00") > date and time("9999-12-31T23:00:00Z")', True),
        (
            'date and time("9999-12-31T23:00:00-05:00") - date and time("9999-12-31T23:00:00Z")',
            dt.timedelta(hours=5),
        ),
        (
            'string(date and time("9999-12-31T23:00:00@Europe/Paris") + duration("PT2H"))',
            "10000-01-01T01:00:00@Europe/Paris",
        ),
        ('date("-999999999-01-01") - date("999999999-12-31")', None),  # beyond a days-and-time duration
        ('date("2000-01-01") + duration("P999999999Y")', None),
    ],
)
def test_edges_of_python_years(text: str, expected: Any) -> None:
    assert feel(text) == expected
