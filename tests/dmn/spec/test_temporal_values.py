"""DMN 1.5 §10.3.2.3 temporal values: years beyond four digits and before year 1, fraction
of seconds to the nanosecond, zones by offset and by IANA id through functions, properties
and comparisons, and ``date and time`` built from parts and from every allowed string form."""

from __future__ import annotations

import pickle

import pytest

from casepilot.dmn.feel import compile_expression
from tests.dmn.spec._check import check

NANOSECONDS = [
    ('string(time("10:00:00.123456789"))', '"10:00:00.123456789"'),
    ('string(time("10:00:00.000000001Z"))', '"10:00:00.000000001Z"'),
    ('string(time("10:00:00.100"))', '"10:00:00.1"'),
    ('string(date and time("2012-12-24T23:59:00.123456789Z"))', '"2012-12-24T23:59:00.123456789Z"'),
    ('string(date and time("2012-12-24T23:59:00.1234567891"))', '"2012-12-24T23:59:00.123456789"'),
    ('string(@"2012-12-24T23:59:00.000000500@Europe/Paris")', '"2012-12-24T23:59:00.0000005@Europe/Paris"'),
    ('time("10:00:00.123456789").second', "0.123456789"),
    ('date and time("2012-12-24T23:59:07.000000001").second', "7.000000001"),
    ('string(time(date and time("2012-12-24T23:59:00.000000001+01:00")))', '"23:59:00.000000001+01:00"'),
    (
        'string(date and time(date("2012-12-24"), time("23:59:00.987654321")))',
        '"2012-12-24T23:59:00.987654321"',
    ),
    ("string(time(10, 0, 1.123456789))", '"10:00:01.123456789"'),
    ('string(duration("PT1.123456789S"))', '"PT1.123456789S"'),
    ('string(duration("PT0.000000001S"))', '"PT0.000000001S"'),
    ('string(duration("-PT0.000000001S"))', '"-PT0.000000001S"'),
    ('duration("PT0.000000001S") = duration("PT0S")', "false"),
    ('duration("PT1.000000001S") < duration("PT1.000001S")', "true"),
    ('duration("-PT0.000000001S") < duration("PT0S")', "true"),
    # times and date-times compare to the millisecond (DMN TCK time_005, datetime_003_a)
    ('time("10:00:00.123456789") = time("10:00:00.123")', "true"),
    ('time("10:00:00.123456789") < time("10:00:00.124")', "true"),
]

YEARS = [
    ('string(date("-0044-03-15"))', '"-0044-03-15"'),
    ('string(date("0000-01-01"))', '"0000-01-01"'),
    ('string(date("12345-01-01"))', '"12345-01-01"'),
    ('string(date("-999999999-01-01"))', '"-999999999-01-01"'),
    ('date("-0044-03-15").year', "-44"),
    ('date("12345-01-01").year', "12345"),
    ('date("12345-01-01") > date("9999-12-31")', "true"),
    ('date("-0001-01-01") < date("0001-01-01")', "true"),
    ('date("0001-01-01") - date("-0001-12-31")', '@"P367D"'),
    ('date("9999-12-31") + duration("P1Y")', 'date("10000-12-31")'),
    ('string(date and time("12345-06-07T08:09:10Z"))', '"12345-06-07T08:09:10Z"'),
    ('date and time("-0001-06-07T08:09:10").year', "-1"),
    ("string(date(-44, 3, 15))", '"-0044-03-15"'),
    ("date(-44, 2, 29)", "date(-44, 2, 29)"),
    ("date(-43, 2, 29)", "null"),
    ('date("00012-01-01")', "null"),
]

ZONES = [
    ('time("10:30:00@Europe/Rome").timezone', '"Europe/Rome"'),
    ('date and time("2018-07-10T10:30:00@Europe/Rome").time offset', '@"PT2H"'),
    ('date and time("2018-01-10T10:30:00@Europe/Rome").time offset', '@"PT1H"'),
    ('date and time("2018-01-10T10:30:00@America/Argentina/Buenos_Aires").time offset', '@"-PT3H"'),
    ('date and time("2018-01-10T10:30:00@Etc/GMT+5").time offset', '@"-PT5H"'),
    ('date and time("2018-01-10T10:30:00@Europe/Rome") = date and time("2018-01-10T09:30:00Z")', "true"),
    ('date and time("2018-07-10T10:30:00@Europe/Rome") = date and time("2018-07-10T08:30:00Z")', "true"),
    ('date and time("2018-07-10T10:30:00@Asia/Kolkata") < date and time("2018-07-10T05:30:00Z")', "true"),
    ('date and time("2018-07-10T10:30:00@Asia/Kolkata") = date and time("2018-07-10T05:00:00Z")', "true"),
    (
        'date and time("2018-07-10T10:30:00@Europe/Rome") - date and time("2018-07-10T10:30:00@Europe/London")',
        '@"-PT1H"',
    ),
    (
        'string(date and time(date("2018-07-10"), time("10:30:00@Europe/Rome")))',
        '"2018-07-10T10:30:00@Europe/Rome"',
    ),
    ('string(time(date and time("2018-07-10T10:30:00@Europe/Rome")))', '"10:30:00@Europe/Rome"'),
    ('date(date and time("2018-07-10T23:30:00@Pacific/Kiritimati"))', '@"2018-07-10"'),
    ('day of week(date and time("2018-07-10T23:30:00@Pacific/Kiritimati"))', '"Tuesday"'),
    (
        'string(date and time("2018-07-10T10:30:00@Europe/Rome") + duration("P6M"))',
        '"2019-01-10T10:30:00@Europe/Rome"',
    ),
    (
        'date and time("2018-07-10T10:30:00@Europe/Rome") in [@"2018-07-10T08:00:00Z"..@"2018-07-10T09:00:00Z"]',
        "true",
    ),
    ('time("10:30:00@Europe/Rome") = time("10:30:00@Europe/Rome")', "true"),
    ('date and time("2018-07-10T10:30:00@No/Such_Zone")', "null"),
    ('date and time("2018-07-10T10:30:00@")', "null"),
]

DATE_AND_TIME_FORMS = [
    ('date and time("2018-07-10T10:30:00")', "date and time(date(2018, 7, 10), time(10, 30, 0))"),
    ('date and time("2018-07-10T10:30:00.5")', "date and time(date(2018, 7, 10), time(10, 30, 0.5))"),
    (
        'date and time("2018-07-10T10:30:00Z")',
        'date and time(date(2018, 7, 10), time(10, 30, 0, duration("PT0S")))',
    ),
    (
        'date and time("2018-07-10T10:30:00+05:30")',
        'date and time(date(2018, 7, 10), time(10, 30, 0, duration("PT5H30M")))',
    ),
    (
        'date and time("2018-07-10T10:30:00-00:30")',
        'date and time(date(2018, 7, 10), time(10, 30, 0, duration("-PT30M")))',
    ),
    ('date and time("2018-07-10T10:30:00@UTC")', 'date and time(date(2018, 7, 10), time("10:30:00@UTC"))'),
    ('date and time("2018-07-10")', "date and time(date(2018, 7, 10), time(0, 0, 0))"),
    ('date and time("2018-07-10T24:00:00")', '@"2018-07-11T00:00:00"'),
    ('date and time(date and time("2018-07-10T01:00:00Z"), time("10:30:00"))', '@"2018-07-10T10:30:00"'),
    ('date and time("2018-07-10T10:30")', "null"),
    ('date and time("2018-07-10T10:30:00+5:30")', "null"),
    ('date and time("2018-07-10T10:30:00Z@Europe/Rome")', "null"),
    ('date and time("2018-07-10t10:30:00")', "null"),
    ('date and time("2018-07-10T10:30:60")', "null"),
    ('date and time("2018-02-30T10:30:00")', "null"),
]


@pytest.mark.parametrize(("expression", "expected"), NANOSECONDS)
def test_fractional_seconds_to_the_nanosecond(expression: str, expected: str) -> None:
    check(expression, expected)


@pytest.mark.parametrize(("expression", "expected"), YEARS)
def test_years_before_one_and_beyond_four_digits(expression: str, expected: str) -> None:
    check(expression, expected)


@pytest.mark.parametrize(("expression", "expected"), ZONES)
def test_time_zones_by_offset_and_iana_id(expression: str, expected: str) -> None:
    check(expression, expected)


@pytest.mark.parametrize(("expression", "expected"), DATE_AND_TIME_FORMS)
def test_date_and_time_from_parts_and_strings(expression: str, expected: str) -> None:
    check(expression, expected)


def test_nanosecond_values_survive_pickling() -> None:
    for text in ('@"10:00:00.123456789"', '@"2012-12-24T23:59:00.123456789Z"', '@"PT1.000000001S"'):
        value = compile_expression(text).evaluate({})
        copy = pickle.loads(pickle.dumps(value))
        assert copy == value
        assert copy.nanos == value.nanos
