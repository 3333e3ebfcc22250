"""DMN 1.5 §10.3.4.1 conversion functions, written from the specification text.

Each case is ``(expression, expected)``, both FEEL; ``null`` is expected whenever the spec's
parameter domain is left (wrong type, out-of-range field, malformed literal).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from casepilot.dmn.feel import Range
from tests.dmn.spec._check import check

DATE = [
    ('date("2012-12-25")', '@"2012-12-25"'),
    ('date(from: "2012-12-25")', '@"2012-12-25"'),
    ("date(2012, 12, 25)", '@"2012-12-25"'),
    ("date(year: 2012, month: 12, day: 25)", '@"2012-12-25"'),
    ('date(date and time("2012-12-25T12:00:00Z"))', '@"2012-12-25"'),
    ('date(from: date and time("2012-12-25T12:00:00@Europe/Paris"))', '@"2012-12-25"'),
    ('date("-2012-12-25")', "date(-2012, 12, 25)"),
    ('date("12345-01-01")', "date(12345, 1, 1)"),
    ('date("999999999-12-31")', "date(999999999, 12, 31)"),
    ("date(2012, 13, 1)", "null"),
    ("date(2012, 2, 30)", "null"),
    ("date(2013, 2, 29)", "null"),
    ("date(2012, 0, 1)", "null"),
    ('date("2012-1-1")', "null"),
    ('date("12-01-01")', "null"),
    ('date("012345-01-01")', "null"),
    ('date("+2012-01-01")', "null"),
    ('date("1000000000-01-01")', "null"),
    ('date("2012-12-25 ")', "null"),
    ("date(null)", "null"),
    ("date(2012)", "null"),
    ('date(2012, "12", 25)', "null"),
    ("date(null, 12, 25)", "null"),
    ("date(1)", "null"),
    ('date(from: "2012-12-25", year: 2012)', "null"),
]

TIME = [
    ('time("23:59:00")', '@"23:59:00"'),
    ('time(from: "23:59:00Z")', '@"23:59:00Z"'),
    ('time("23:59:00.5+01:00")', 'time(23, 59, 0.5, duration("PT1H"))'),
    ("time(23, 59, 0)", '@"23:59:00"'),
    ('time(23, 59, 0, duration("PT2H"))', '@"23:59:00+02:00"'),
    ('time(23, 59, 0, duration("-PT2H30M"))', '@"23:59:00-02:30"'),
    ('time(hour: 1, minute: 2, second: 3, offset: duration("PT0S"))', '@"01:02:03Z"'),
    ("time(hour: 1, minute: 2, second: 3)", '@"01:02:03"'),
    ("time(12, 0, 1.25)", '@"12:00:01.25"'),
    ('time(date and time("2012-12-25T10:11:12+05:00"))', '@"10:11:12+05:00"'),
    ('time(date and time("2012-12-25T10:11:12@Europe/Paris"))', '@"10:11:12@Europe/Paris"'),
    ('time(time("10:00:00"))', '@"10:00:00"'),
    ("time(24, 0, 0)", "null"),
    ("time(23, 60, 0)", "null"),
    ("time(23, 0, 60)", "null"),
    ("time(-1, 0, 0)", "null"),
    ('time(1, 0, 0, duration("P1M"))', "null"),
    ('time(1, 0, 0, duration("PT19H"))', "null"),
    ('time("25:00:00")', "null"),
    ('time("10:00")', "null"),
    ('time("10:00:00+19:00")', "null"),
    ('time("10:00:00@No/Such_Zone")', "null"),
    ("time(null)", "null"),
    ("time(1, null, 0)", "null"),
    ('time("2012-12-25")', "null"),
]

DATE_AND_TIME = [
    ('date and time("2012-12-24T23:59:00")', '@"2012-12-24T23:59:00"'),
    ('date and time(from: "2012-12-24T23:59:00Z")', '@"2012-12-24T23:59:00Z"'),
    ('date and time("2012-12-24T23:59:00-05:00")', '@"2012-12-24T23:59:00-05:00"'),
    ('date and time("2012-12-24T23:59:00@America/New_York")', '@"2012-12-24T23:59:00@America/New_York"'),
    ('date and time(date("2012-12-24"), time("23:59:00"))', '@"2012-12-24T23:59:00"'),
    ('date and time(date: date("2012-12-24"), time: time("23:59:00Z"))', '@"2012-12-24T23:59:00Z"'),
    (
        'date and time(date and time("2012-12-24T10:00:00+02:00"), time("23:59:00"))',
        '@"2012-12-24T23:59:00"',
    ),
    ('date and time("-2012-12-24T23:59:00")', 'date and time(date(-2012, 12, 24), time("23:59:00"))'),
    ('date and time("2012-12-24T24:00:00")', '@"2012-12-25T00:00:00"'),
    ('date and time("2012-12-24")', '@"2012-12-24T00:00:00"'),
    ('date and time("2012-12-24T23:59")', "null"),
    ('date and time("2012-12-24 23:59:00")', "null"),
    ('date and time("2012-12-24T23:59:00+25:00")', "null"),
    # offsets reach ±18:00 and no further (xsd / java.time ZoneOffset)
    ('date and time("2012-12-24T23:59:00-18:00")', '@"2012-12-24T23:59:00-18:00"'),
    ('date and time("2012-12-24T23:59:00+18:01")', "null"),
    ('date and time("2012-12-24T23:59:00+18:00:01")', "null"),
    ('time("10:00:00-18:30")', "null"),
    ('date and time("2012-12-24T23:59:00+02:00@Europe/Paris")', "null"),
    ('date and time("2012-12-24T23:59:00Z@Europe/Paris")', "null"),
    ('date and time("2012-12-24T23:59:00+01")', "null"),
    ('date and time("2012-12-24t23:59:00")', "null"),
    ('date and time("2100-02-29T00:00:00")', "null"),
    ('date and time("0000-02-29T00:00:00")', '@"0000-02-29T00:00:00"'),
    ('date and time("2012-13-24T23:59:00")', "null"),
    ('date and time(date("2012-12-24"), "23:59:00")', "null"),
    ('date and time(null, time("10:00:00"))', "null"),
    ("date and time(null)", "null"),
    ("date and time(12)", "null"),
]

NUMBER = [
    ('number("1 000,0", " ", ",")', "1000.0"),
    ('number("1,000.21", ",", ".")', "1000.21"),
    ('number("1.000,21", ".", ",")', "1000.21"),
    ('number(from: "1.000,21", grouping separator: ".", decimal separator: ",")', "1000.21"),
    ('number("12345", null, null)', "12345"),
    ('number("12345")', "12345"),
    ('number("-12.5")', "-12.5"),
    ('number("1,000", ",", ",")', "null"),
    ('number("1x000", "x", null)', "null"),
    ('number("1;5", null, ";")', "null"),
    ('number("abc")', "null"),
    ('number("")', "null"),
    ("number(null)", "null"),
    ("number(12)", "null"),
]

STRING = [
    ("string(1.1)", '"1.1"'),
    ("string(1.10)", '"1.1"'),
    ("string(-0.5)", '"-0.5"'),
    ("string(1000000)", '"1000000"'),
    ("string(123456789012345678901234567890.1234)", '"123456789012345678901234567890.1234"'),
    ("string(true)", '"true"'),
    ('string("a")', '"a"'),
    ('string(date("2012-12-25"))', '"2012-12-25"'),
    ('string(date("-0044-03-15"))', '"-0044-03-15"'),
    ('string(time("10:30:00.5Z"))', '"10:30:00.5Z"'),
    ('string(time("10:30:00+01:00"))', '"10:30:00+01:00"'),
    ('string(time("10:30:00@Europe/Paris"))', '"10:30:00@Europe/Paris"'),
    ('string(date and time("2012-12-25T10:30:00"))', '"2012-12-25T10:30:00"'),
    ('string(duration("P1D"))', '"P1D"'),
    ('string(duration("PT36H"))', '"P1DT12H"'),
    ('string(duration("-PT90M"))', '"-PT1H30M"'),
    ('string(duration("PT0S"))', '"PT0S"'),
    ('string(duration("PT1.5S"))', '"PT1.5S"'),
    ('string(duration("P13M"))', '"P1Y1M"'),
    ('string(duration("P0Y"))', '"P0M"'),
    ('string(years and months duration(date("2011-12-22"), date("2013-08-24")))', '"P1Y8M"'),
    ("string([1, 2.50])", '"[1, 2.5]"'),
    ("string(from: 12)", '"12"'),
    ("string([1..10))", '"[1..10)"'),
    ("string((1..10])", '"(1..10]"'),
    ("string([])", '"[]"'),
    ("string([[1], []])", '"[[1], []]"'),
    ('string(@"P0M")', '"P0M"'),
    ('string(@"-P2Y")', '"-P2Y"'),
    ('string(@"P1DT0.001S")', '"P1DT0.001S"'),
    ('string(@"2012-12-25T10:30:00+00:00")', '"2012-12-25T10:30:00Z"'),
    ('string(@"2012-12-25T10:30:00-00:30")', '"2012-12-25T10:30:00-00:30"'),
    ('string(@"24:00:00")', '"00:00:00"'),
    ("string(0.000001)", '"0.000001"'),
    ("string(1.0e10)", '"10000000000"'),
    ("string(false)", '"false"'),
    ("string(null)", "null"),
]

DURATION = [
    ('duration("P1Y2M")', "years and months duration(date(2000, 1, 1), date(2001, 3, 1))"),
    ('duration("P1DT2H")', '@"PT26H"'),
    ('duration("PT1.5S")', '@"PT1500S" / 1000'),
    ('duration("-P1D")', '@"-PT24H"'),
    ('duration("PT1000M")', '@"PT16H40M"'),
    ('duration("P100Y")', '@"P1200M"'),
    ('duration("P2Y15M")', '@"P3Y3M"'),
    ('duration(from: "PT1H")', '@"PT60M"'),
    ('duration("P0D")', '@"PT0S"'),
    ('duration("P")', "null"),
    ('duration("PT")', "null"),
    ('duration("P1DT")', "null"),
    ('duration("P-1D")', "null"),
    ('duration("P1.5D")', "null"),
    ('duration("P0.5Y")', "null"),
    ('duration("1D")', "null"),
    ('duration("p1d")', "null"),
    ('duration("P1Y2M3D")', "null"),
    ('duration("PT1H2S3M")', "null"),
    ("duration(null)", "null"),
    ("duration(1)", "null"),
    ('years and months duration(date("2011-12-22"), date("2013-08-24"))', '@"P1Y8M"'),
    ('years and months duration(date("2013-08-24"), date("2011-12-22"))', '@"-P1Y8M"'),
    ('years and months duration(from: date("2015-01-31"), to: date("2015-02-28"))', '@"P0M"'),
    ('years and months duration(date("2015-01-31"), date("2015-03-01"))', '@"P1M"'),
    ('years and months duration(date and time("2015-12-24T12:15:00"), date("2016-12-25"))', '@"P1Y"'),
    ('years and months duration(null, date("2013-08-24"))', "null"),
    ('years and months duration(date("2013-08-24"), "2014-08-24")', "null"),
    ('years and months duration(time("10:00:00"), time("11:00:00"))', "null"),
]

RANGE = [
    ('range("[18..21)")', "[18..21)"),
    ('range(from: "(18..21]")', "(18..21]"),
    ('range("]18..21[")', "(18..21)"),
    ('range("[\\"a\\"..\\"z\\"]")', '["a".."z"]'),
    ('range("[@\\"2019-01-01\\"..@\\"2020-01-01\\")")', '[@"2019-01-01"..@"2020-01-01")'),
    ('range("[date(\\"2019-01-01\\")..date(\\"2020-01-01\\")]")', '[@"2019-01-01"..@"2020-01-01"]'),
    ('range("[duration(\\"P1D\\")..duration(\\"P2D\\")]")', '[@"P1D"..@"P2D"]'),
    ('range("< 10")', Range(None, Decimal(10), False, False)),
    ('range(">= @\\"2019-01-01\\"")', Range(date(2019, 1, 1), None, True, False)),
    ('range("[1..1]")', "[1..1]"),
    ('range("[10..1]")', "null"),
    ('range("[1..\\"a\\"]")', "null"),
    ('range("[date(\\"2019-01-01\\")..1]")', "null"),
    ('range("[1..2")', "null"),
    ('range("1..2")', "null"),
    ('range("foo")', "null"),
    ('range("")', "null"),
    ("range(null)", "null"),
    ("range(1)", "null"),
    ('range("[a..b]")', "null"),
    # grammar rule 68: endpoints are literals, not expressions
    ('range("[-1..1]")', "[-1..1]"),
    ('range("[1+1..10]")', "null"),
    ('range("[1..abs(-10)]")', "null"),
    ('range("[null..10]")', "null"),
    ('range("[true..true]")', "null"),
    ('range("[date(\\"2019-01-01\\" + \\"\\")..date(\\"2020-01-01\\")]")', "null"),
    ('range("[date(2019, 1, 1)..date(2020, 1, 1)]")', "null"),
    ('range("< 5 * 2")', "null"),
]

NOT = [
    ("not(true)", "false"),
    ("not(negand: false)", "true"),
    ("not(null)", "null"),
    ("not(1)", "null"),
    ('not("true")', "null"),
]


@pytest.mark.parametrize(("expression", "expected"), DATE + TIME + DATE_AND_TIME)
def test_temporal_conversions(expression: str, expected: Any) -> None:
    check(expression, expected)


@pytest.mark.parametrize(("expression", "expected"), NUMBER + STRING + NOT)
def test_number_string_and_not(expression: str, expected: Any) -> None:
    check(expression, expected)


@pytest.mark.parametrize(("expression", "expected"), DURATION)
def test_durations(expression: str, expected: Any) -> None:
    check(expression, expected)


@pytest.mark.parametrize(("expression", "expected"), RANGE)
def test_range_from_string(expression: str, expected: Any) -> None:
    check(expression, expected)
