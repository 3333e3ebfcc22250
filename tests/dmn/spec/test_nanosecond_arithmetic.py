"""DMN 1.5 §10.3.2.3 / §10.3.2.11 (Table 57): arithmetic on temporal values keeps fractions of
a second to the nanosecond — time and date and time ± days-and-time duration (carrying across
the microsecond, the second, midnight and the year), differences of times and date-times,
duration + − × ÷, negation and abs(). Python's datetime stops at microseconds; these would
all lose the last three digits without the explicit carry of ``_temporal_arith``."""

from __future__ import annotations

import pytest

from tests.dmn.spec._check import check, value_of

ARITHMETIC = [
    # time ± duration
    ('string(time("10:20:30.123456789") + duration("PT0.000000011S"))', '"10:20:30.1234568"'),
    ('string(time("10:20:30.123456789") - duration("PT0.123456789S"))', '"10:20:30"'),
    ('string(time("23:59:59.999999999") + duration("PT0.000000001S"))', '"00:00:00"'),
    ('string(time("00:00:00") - duration("PT0.000000001S"))', '"23:59:59.999999999"'),
    (
        'string(time("10:00:00.000000001@Europe/Paris") + duration("PT1H"))',
        '"11:00:00.000000001@Europe/Paris"',
    ),
    # date and time ± duration
    (
        'string(date and time("2020-01-01T00:00:00.000000001") + duration("PT1.999999999S"))',
        '"2020-01-01T00:00:02"',
    ),
    (
        'string(date and time("2020-01-01T00:00:00.000000001Z") - duration("PT0.000000002S"))',
        '"2019-12-31T23:59:59.999999999Z"',
    ),
    (
        'string(duration("PT0.000000005S") + date and time("2020-01-01T00:00:00"))',
        '"2020-01-01T00:00:00.000000005"',
    ),
    (
        'string(date and time("2020-03-29T01:59:59.999999999@Europe/Paris") + duration("PT0.000000001S"))',
        '"2020-03-29T03:00:00@Europe/Paris"',
    ),
    (
        'string(date and time("2020-01-31T10:00:00.000000007") + duration("P1M"))',
        '"2020-02-29T10:00:00.000000007"',
    ),
    (
        'string(date and time("-0005-01-01T00:00:00.000000001") + duration("PT0.000000001S"))',
        '"-0005-01-01T00:00:00.000000002"',
    ),
    (
        'string(date and time("12345-01-01T00:00:00.999999999") + duration("PT0.000000001S"))',
        '"12345-01-01T00:00:01"',
    ),
    # differences
    (
        'date and time("2020-01-01T00:00:00.000000001") - date and time("2020-01-01T00:00:00")',
        '@"PT0.000000001S"',
    ),
    (
        'date and time("2020-01-01T00:00:00") - date and time("2020-01-01T00:00:00.000000001")',
        '@"-PT0.000000001S"',
    ),
    (
        'date and time("2020-01-02T00:00:00.5Z") - date and time("2020-01-01T23:00:00.000000001-01:00")',
        '@"PT0.499999999S"',
    ),
    (
        'date and time("-0005-01-01T00:00:00.000000001") - date and time("-0005-01-01T00:00:00")',
        '@"PT0.000000001S"',
    ),
    ('time("10:00:00.000000005") - time("10:00:00.000000001")', '@"PT0.000000004S"'),
    ('time("10:00:00.000000005Z") - time("11:00:00.000000001+01:00")', '@"PT0.000000004S"'),
    ('date and time("2020-01-01T00:00:00.000000001Z") - date("2020-01-01")', '@"PT0.000000001S"'),
    # durations
    ('duration("PT0.000000001S") + duration("PT0.000000001S")', '@"PT0.000000002S"'),
    ('duration("PT1S") - duration("PT0.000000001S")', '@"PT0.999999999S"'),
    ('duration("PT0.000000001S") - duration("PT1S")', '@"-PT0.999999999S"'),
    ('duration("PT0.000000001S") * 3', '@"PT0.000000003S"'),
    ('1.5 * duration("PT0.000000002S")', '@"PT0.000000003S"'),
    ('duration("PT1S") / 3', '@"PT0.333333333S"'),
    ('duration("PT0.000000003S") / duration("PT0.000000001S")', "3"),
    ('duration("PT1.000000001S") / duration("PT1S")', "1.000000001"),
    ('-duration("PT0.000000001S")', '@"-PT0.000000001S"'),
    ('abs(duration("-PT1.000000001S"))', '@"PT1.000000001S"'),
    ('abs(duration("-PT0.000000001S"))', '@"PT0.000000001S"'),
    ('duration("PT0.000000001S") + duration("-PT0.000000001S") = duration("PT0S")', "true"),
    ('duration("PT0.000000002S") > duration("PT0.000000001S")', "true"),
    ('max([duration("PT0.000000002S"), duration("PT0.000000003S")])', '@"PT0.000000003S"'),
    ('duration("P1DT0.000000001S") - duration("P1D")', '@"PT0.000000001S"'),
    # properties of computed values
    ('(time("10:00:00.999999999") + duration("PT0.000000002S")).second', "1.000000001"),
    ('(date and time("2020-01-01T23:59:59.999999999") + duration("PT0.000000001S")).day', "2"),
]


@pytest.mark.parametrize(("expression", "expected"), ARITHMETIC)
def test_arithmetic_keeps_nanoseconds(expression: str, expected: str) -> None:
    check(expression, expected)


def test_nanosecond_results_are_not_truncated_to_microseconds() -> None:
    difference = value_of('time("10:00:00.000000999") - time("10:00:00")')
    assert difference.microseconds == 0 and difference.nanos == 999
    shifted = value_of('date and time("2020-01-01T00:00:00") + duration("PT0.000000999S")')
    assert shifted.microsecond == 0 and shifted.nanos == 999


def test_arithmetic_without_sub_microsecond_digits_gives_plain_values() -> None:
    value = value_of('time("10:00:00.000000001") + duration("PT0.000000999S")')
    assert type(value).__name__ == "time" and value.microsecond == 1


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # is() tells apart values = does not: = compares times to the millisecond (TCK 0068)
        ('time("10:00:00.000000001") = time("10:00:00")', "true"),
        ('is(time("10:00:00.000000001"), time("10:00:00"))', "false"),
        ('is(time("10:00:00.000000001"), time("10:00:00.000000001"))', "true"),
        (
            'is(date and time("2020-01-01T00:00:00.000000002Z"), date and time("2020-01-01T00:00:00.000000001Z"))',
            "false",
        ),
        ('is(duration("PT0.000000001S"), duration("PT0S"))', "false"),
    ],
)
def test_is_compares_to_the_nanosecond(expression: str, expected: str) -> None:
    check(expression, expected)


def test_iso_forms_of_values_leaving_feel_keep_nine_digits() -> None:
    """JSON encoders and str() call isoformat(): the digits below the microsecond survive."""
    moment = value_of('date and time("2020-01-01T10:00:00.000000001+01:00")')
    assert moment.isoformat() == "2020-01-01T10:00:00.000000001+01:00"
    assert str(moment) == "2020-01-01 10:00:00.000000001+01:00"
    assert moment.isoformat(timespec="seconds") == "2020-01-01T10:00:00+01:00"
    clock = value_of('time("10:00:00.123456789")')
    assert clock.isoformat() == "10:00:00.123456789"
    assert value_of('time("10:00:00.5")').isoformat() == "10:00:00.500000"
