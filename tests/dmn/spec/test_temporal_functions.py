"""DMN 1.5 §10.3.4.6 date and time functions and §10.3.2.3 temporal semantics (properties,
arithmetic and comparison across zones), written from the specification text."""

from __future__ import annotations

import pytest

from tests.dmn.spec._check import check

FUNCTIONS = [
    ("day of year(date(2019, 9, 17))", "260"),
    ('day of year(date: date and time("2019-12-31T10:00:00"))', "365"),
    ("day of year(date(2020, 12, 31))", "366"),
    ("day of week(date(2019, 9, 17))", '"Tuesday"'),
    ('day of week(date: date and time("2019-09-15T23:00:00Z"))', '"Sunday"'),
    ("month of year(date(2019, 9, 17))", '"September"'),
    ("month of year(date: date(2019, 1, 1))", '"January"'),
    ("week of year(date(2019, 9, 17))", "38"),
    ("week of year(date(2003, 12, 29))", "1"),
    ("week of year(date(2004, 1, 4))", "1"),
    ("week of year(date(2005, 1, 3))", "1"),
    ("week of year(date(2005, 1, 9))", "1"),
    ("week of year(date(2005, 1, 1))", "53"),
    ('week of year(date: date and time("2019-09-17T00:00:00"))', "38"),
    # ISO 8601 week dates: week 1 holds the year's first Thursday, so early January can be
    # week 52/53 of the year before and late December week 1 of the next
    ("week of year(date(2021, 1, 3))", "53"),
    ("week of year(date(2021, 1, 4))", "1"),
    ("week of year(date(2020, 12, 31))", "53"),
    ("week of year(date(2026, 12, 31))", "53"),
    ("week of year(date(2027, 1, 3))", "53"),
    ("week of year(date(2027, 1, 4))", "1"),
    ("week of year(date(2024, 12, 30))", "1"),
    ("week of year(date(2019, 12, 30))", "1"),
    ("week of year(date(2016, 1, 1))", "53"),
    ("week of year(date(2010, 1, 3))", "53"),
    ("week of year(date(2008, 12, 29))", "1"),
    ("week of year(date(2022, 1, 2))", "52"),
    ('week of year(@"2021-01-03T23:00:00-05:00")', "53"),
    ("day of year(date(2019, 12, 31))", "365"),
    ("day of year(date(2019, 1, 1))", "1"),
    ('day of year(@"2020-03-01T10:00:00")', "61"),
    ('day of year("2020-01-01")', "null"),
    ('week of year(@"10:00:00")', "null"),
    ('is(time("23:00:50z"), time("23:00:50+00:00"))', "true"),
    ("day of year(null)", "null"),
    ('day of week("2019-09-17")', "null"),
    ('month of year(time("10:00:00"))', "null"),
    ("week of year(1)", "null"),
    ("day of week(date(-1, 1, 1))", '"Friday"'),
    ("day of year(date(12345, 3, 1))", "60"),
    ('is(date("2012-12-25"), time("23:00:50"))', "false"),
    ('is(date("2012-12-25"), date("2012-12-25"))', "true"),
    ('is(time("23:00:50Z"), time("23:00:50"))', "false"),
    ('is(value1: time("23:00:50+01:00"), value2: time("22:00:50Z"))', "false"),
    ('is(time("10:00:00@Europe/Paris"), time("10:00:00+01:00"))', "false"),
    ("is(1, 1.0)", "true"),
    ('is(1, "1")', "false"),
    ("is([1], 1)", "false"),
    ('is(duration("P1Y"), duration("P12M"))', "true"),
    ('is(duration("P1Y"), duration("P365D"))', "false"),
    ("is({a: 1}, {a: 1})", "true"),
]

PROPERTIES = [
    ('date("2012-12-25").year', "2012"),
    ('date("-0044-03-15").year', "-44"),
    ('date("12345-03-15").month', "3"),
    ('date("2012-12-25").weekday', "2"),
    ('date and time("2012-12-25T10:11:12.5-05:00").second', "12.5"),
    ('date and time("2012-12-25T10:11:12-05:00").timezone', "null"),
    ('date and time("2012-12-25T10:11:12@Europe/Paris").time offset', '@"PT1H"'),
    ('date and time("2012-07-25T10:11:12@Europe/Paris").time offset', '@"PT2H"'),
    ('date and time("2012-12-25T10:11:12@Europe/Paris").timezone', '"Europe/Paris"'),
    ('date and time("2012-12-25T10:11:12").time offset', "null"),
    ('time("10:11:12.25Z").second', "12.25"),
    ('time("10:11:12+05:30").time offset', '@"PT5H30M"'),
    ('time("10:11:12").hour', "10"),
    ('duration("P1Y2M").years', "1"),
    ('duration("P1Y2M").months', "2"),
    ('duration("P2DT3H4M5.5S").days', "2"),
    ('duration("P2DT3H4M5.5S").hours', "3"),
    ('date("2012-12-25").hour', "null"),
    ("[1..5].start", "1"),
    ("(1..5].start included", "false"),
    ("[1..5).end included", "false"),
    ("(< 5).start", "null"),
]

SEMANTICS = [
    ('date and time("2018-12-10T10:30:00@Europe/Rome") = date and time("2018-12-10T10:30:00+01:00")', "true"),
    ('date and time("2018-12-10T10:30:00@Europe/Rome") < date and time("2018-12-10T10:30:00Z")', "true"),
    ('time("10:30:00@Europe/Rome") = time("10:30:00+01:00")', "true"),
    ('time("10:30:00Z") = time("11:30:00+01:00")', "true"),
    ('time("10:30:00") = time("10:30:00Z")', "false"),
    ('date and time("2018-12-10T10:30:00") > date and time("2018-12-10T10:30:00Z")', "null"),
    (
        'date and time("2019-03-31T03:00:00@Europe/Paris") - date and time("2019-03-31T01:00:00@Europe/Paris")',
        '@"PT1H"',
    ),
    # a days-and-time duration is an exact length of time: across the DST change 24 h later is 13:00
    (
        'date and time("2019-03-30T12:00:00@Europe/Paris") + duration("P1D")',
        '@"2019-03-31T13:00:00@Europe/Paris"',
    ),
    (
        'date and time("2019-03-30T12:00:00@Europe/Paris") + duration("P1M")',
        '@"2019-04-30T12:00:00@Europe/Paris"',
    ),
    ('date and time("2012-12-24T23:59:00Z") - date and time("2012-12-24T23:59:00+01:00")', '@"PT1H"'),
    ('date("2012-12-25") - date("2012-12-24")', '@"P1D"'),
    ('date("2012-12-25") + duration("P1M")', '@"2013-01-25"'),
    ('date("2012-01-31") + duration("P1M")', '@"2012-02-29"'),
    ('date("2012-12-25") + duration("PT25H")', '@"2012-12-26"'),
    ('date("-0001-01-01") + duration("P1Y")', "date(0, 1, 1)"),
    ('date("9999-12-31") + duration("P1D")', "date(10000, 1, 1)"),
    ('date("10000-01-01") - date("9999-12-31")', '@"P1D"'),
    ('date("10000-01-01") > date("9999-12-31")', "true"),
    ('date("-0001-12-31") < date("0000-01-01")', "true"),
    ('time("23:00:00") + duration("PT2H")', '@"01:00:00"'),
    ('time("10:00:00Z") - time("09:00:00+01:00")', '@"PT2H"'),
    ('time("10:00:00") + duration("P1M")', "null"),
    ('duration("P1Y") + duration("P1D")', "null"),
    ('duration("PT1H") * 1.5', '@"PT1H30M"'),
    ('duration("P1Y") / 2', '@"P6M"'),
    ('duration("PT1H") / duration("PT30M")', "2"),
    ('duration("P1Y") / duration("P1M")', "12"),
    ('duration("P1Y") / duration("PT1H")', "null"),
    ('duration("P1Y") > duration("P11M")', "true"),
    ('duration("P1Y") > duration("P1D")', "null"),
    ('@"2019-01-01" in [@"2018-12-31"..@"2019-01-02"]', "true"),
]


@pytest.mark.parametrize(("expression", "expected"), FUNCTIONS)
def test_date_and_time_functions(expression: str, expected: str) -> None:
    check(expression, expected)


@pytest.mark.parametrize(("expression", "expected"), PROPERTIES)
def test_temporal_and_range_properties(expression: str, expected: str) -> None:
    check(expression, expected)


@pytest.mark.parametrize(("expression", "expected"), SEMANTICS)
def test_temporal_arithmetic_and_comparison(expression: str, expected: str) -> None:
    check(expression, expected)
