"""Parsing and formatting of FEEL dates, times, date-times and durations; string() of values."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from casepilot.dmn.feel import (
    Range,
    YearMonthDuration,
    parse_date,
    parse_date_and_time,
    parse_duration,
    parse_time,
)
from casepilot.dmn.feel.temporal import format_number, parse_temporal_literal, parse_zone, to_feel_string


def test_parse_date() -> None:
    assert parse_date("2017-01-31") == dt.date(2017, 1, 31)
    assert type(parse_date("2017-01-31")) is dt.date


@pytest.mark.parametrize(
    "text",
    [
        "2017-1-31",
        "2017-02-30",
        "20170131",
        "2017-01-31T00:00:00",
        "",
        "1000000000-01-01",  # beyond ±999 999 999
        "10000-02-30",
        "-0001-02-29",  # 2 BCE is not a leap year
        "010000-01-01",  # more than four digits may not start with 0
    ],
)
def test_parse_date_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_date(text)


def test_parse_time_variants() -> None:
    assert parse_time("10:30:00") == dt.time(10, 30)
    assert parse_time("10:30:00.25") == dt.time(10, 30, 0, 250000)
    assert parse_time("10:30:00Z").utcoffset() == dt.timedelta(0)
    assert parse_time("10:30:00+01:30").utcoffset() == dt.timedelta(hours=1, minutes=30)
    assert parse_time("10:30:00-05:00").utcoffset() == dt.timedelta(hours=-5)
    zoned = parse_time("10:30:00@Europe/Paris")
    assert isinstance(zoned.tzinfo, ZoneInfo) and zoned.tzinfo.key == "Europe/Paris"
    assert parse_time("24:00:00") == dt.time(0, 0)


@pytest.mark.parametrize("text", ["25:00:00", "10:60:00", "10:30", "10:30:00@Nowhere/City", "10:30:00+19:00"])
def test_parse_time_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_time(text)


def test_parse_date_and_time() -> None:
    assert parse_date_and_time("2017-01-31T10:30:00") == dt.datetime(2017, 1, 31, 10, 30)
    assert parse_date_and_time("2017-01-31") == dt.datetime(2017, 1, 31)
    aware = parse_date_and_time("2017-01-31T10:30:00+02:00")
    assert aware.utcoffset() == dt.timedelta(hours=2)
    assert parse_date_and_time("2021-01-01T24:00:00") == dt.datetime(2021, 1, 2)
    zoned = parse_date_and_time("2018-12-08T10:30:11@Australia/Melbourne")
    assert zoned.utcoffset() == dt.timedelta(hours=11)


def test_parse_duration_kinds() -> None:
    assert parse_duration("P1Y2M") == YearMonthDuration(14)
    assert parse_duration("-P1Y") == YearMonthDuration(-12)
    assert parse_duration("P13M") == YearMonthDuration(13)
    assert parse_duration("P1DT2H3M4.5S") == dt.timedelta(days=1, hours=2, minutes=3, seconds=4.5)
    assert parse_duration("-PT1H") == -dt.timedelta(hours=1)
    assert parse_duration("P0D") == dt.timedelta(0)
    assert parse_duration("PT0.S") == dt.timedelta(0)


@pytest.mark.parametrize("text", ["P", "PT", "1D", "P1Y1D", "P1H", "PT1D", "P-1D", "P1.5D"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_parse_temporal_literal_dispatch() -> None:
    assert parse_temporal_literal("2020-01-01") == dt.date(2020, 1, 1)
    assert parse_temporal_literal("2020-01-01T01:00:00") == dt.datetime(2020, 1, 1, 1)
    assert parse_temporal_literal("01:00:00") == dt.time(1)
    assert parse_temporal_literal("P2D") == dt.timedelta(days=2)
    with pytest.raises(ValueError):
        parse_temporal_literal("foo")


def test_parse_zone() -> None:
    assert parse_zone("Z") is dt.UTC
    assert parse_zone("@Etc/UTC") == ZoneInfo("Etc/UTC")
    assert parse_zone("-03:30").utcoffset(None) == dt.timedelta(hours=-3, minutes=-30)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1.10"), "1.1"),
        (Decimal("1E+2"), "100"),
        (Decimal("-0"), "0"),
        (Decimal("0.000001"), "0.000001"),
        (Decimal("123456789012345678901234567890.1234"), "123456789012345678901234567890.1234"),
        (None, "null"),
        (True, "true"),
        ("abc", "abc"),
        (dt.date(2020, 1, 2), "2020-01-02"),
        (dt.time(10, 30, 0, 120000), "10:30:00.12"),
        (parse_time("10:30:11@Australia/Melbourne"), "10:30:11@Australia/Melbourne"),
        (parse_time("10:30:11Z"), "10:30:11Z"),
        (parse_date_and_time("2018-12-08T10:30:11+05:30"), "2018-12-08T10:30:11+05:30"),
        (
            parse_date_and_time("2018-12-08T10:30:11@Australia/Melbourne"),
            "2018-12-08T10:30:11@Australia/Melbourne",
        ),
        (dt.datetime(2018, 12, 8, 10, 30, 11), "2018-12-08T10:30:11"),
        (dt.timedelta(days=1, hours=2, minutes=3, seconds=4.5), "P1DT2H3M4.5S"),
        (dt.timedelta(0), "PT0S"),
        (-dt.timedelta(days=1), "-P1D"),
        (dt.timedelta(hours=49), "P2DT1H"),
        (YearMonthDuration(14), "P1Y2M"),
        (YearMonthDuration(12), "P1Y"),
        (YearMonthDuration(0), "P0M"),
        (YearMonthDuration(-3), "-P3M"),
        ([Decimal(1), "a", None], '[1, "a", null]'),
        ({"a": Decimal(1), "b c": [True]}, "{a: 1, b c: [true]}"),
        (Range(Decimal(1), Decimal(10), True, False), "[1..10)"),
        (Range(None, Decimal(10), False, False), "< 10"),
        (Range(dt.date(2020, 1, 1), None, True, False), '>= @"2020-01-01"'),
    ],
)
def test_to_feel_string(value: object, text: str) -> None:
    assert to_feel_string(value) == text


def test_format_number_keeps_non_finite_readable() -> None:
    assert format_number(Decimal("Infinity")) == "Infinity"


@pytest.mark.parametrize(
    "text",
    ["2017-01-31", "10:30:00", "10:30:00+01:00", "2017-01-31T10:30:00@Europe/Paris", "P1DT2H", "P1Y2M"],
)
def test_round_trip(text: str) -> None:
    assert to_feel_string(parse_temporal_literal(text)) == text
