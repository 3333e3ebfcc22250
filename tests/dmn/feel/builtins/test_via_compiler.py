"""The built-ins as FEEL expressions reach them: named parameters with spaces, functions as
arguments, null propagation, and the reasons for null (expressions from the DMN TCK)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from casepilot.dmn.feel import compile_expression
from casepilot.dmn.feel.builtins import collect_messages, use_clock
from casepilot.dmn.feel.values import YearMonthDuration

D = Decimal


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('substring(string: "foobar", start position: 3)', "obar"),
        ('substring("foobar", -2, 1)', "a"),
        ('string length(string: "xyz123")', D(6)),
        ('substring before(string: "foobar", match: "bar")', "foo"),
        ('replace(input: "abc", pattern: "[A-Z]", replacement: "#", flags: "i")', "###"),
        ('replace("abracadabra", "a(.)", "a$1$1")', "abbraccaddabbra"),
        ('matches("banana", "[a-z]{3}")', True),
        ('string join(delimiter: "X", list: ["a", "c"])', "aXc"),
        ("decimal(n: 15/7, scale: 3)", D("2.143")),
        ("round half up(n: 5.5, scale: 0)", D(6)),
        ("modulo(-10.1, 4.5)", D("3.4")),
        ("abs(n: -1)", D(1)),
        ("sqrt(number: 4)", D(2)),
        ("all(true, null, true)", None),
        ("any([false, true])", True),
        ("mode(6, 3, 9, 6, 6)", [D(6)]),
        ("product(list: [6, 3, 9, 6, 6])", D(5832)),
        ("sort(list: [3, 1, 4, 5, 2], precedes: function(x, y) x < y)", [D(1), D(2), D(3), D(4), D(5)]),
        ("sort([3, 1, 2], function(x, y) x > y)", [D(3), D(2), D(1)]),
        ("list replace([2, 4, 7, 8], function(item, newItem) item < newItem, 5)", [D(5), D(5), D(7), D(8)]),
        (
            "list replace(match: function(item, newItem) item = 2, newItem: 4, list: [1, 2, 3])",
            [D(1), D(4), D(3)],
        ),
        ("list replace([2, 4], function(item, newItem, extra) item = 2, 5)", None),
        ("list replace(position: 2, newItem: 4, list: [1, 2, 3])", [D(1), D(4), D(3)]),
        ("insert before([1, 3], 1, 2)", [D(2), D(1), D(3)]),
        ("index of([1, 2, 3, 2], 2)", [D(2), D(4)]),
        ("union([1, 2], [2, 3])", [D(1), D(2), D(3)]),
        (
            'context put(context: {x: 1, y: {a: 0}}, keys: ["y", "a"], value: 2)',
            {"x": D(1), "y": {"a": D(2)}},
        ),
        ('context([{key: "a", value: 1}]) = {a: 1}', True),
        ('get entries({a: "foo"})', [{"key": "a", "value": "foo"}]),
        ('get value({a: 1}, "a")', D(1)),
        ("context merge([{a: 1}, {b: 2}])", {"a": D(1), "b": D(2)}),
        ("date(year: 2017, month: 8, day: 30)", dt.date(2017, 8, 30)),
        (
            'time(hour: 11, minute: 59, second: 0, offset: duration("-PT2H"))',
            dt.time(11, 59, tzinfo=dt.timezone(dt.timedelta(hours=-2))),
        ),
        (
            'years and months duration(from: date("2011-12-22"), to: date("2013-08-24"))',
            YearMonthDuration(20),
        ),
        ('day of week(date: @"2019-09-17")', "Tuesday"),
        ('month of year(@"2019-09-17T10:10:10")', "September"),
        ('week of year(date("2019-09-17"))', D(38)),
        ('string(date("2017-12-31"))', "2017-12-31"),
        ('number("1 000,0", " ", ",")', D(1000)),
        ("before(1, [2..5])", True),
        ("overlaps before([1..5), (1..5])", True),
        ("includes(range: [1..10], point: 5)", True),
        ('range("[18..21)") = [18..21)', True),
        ('is(@"2012-12-25", @"2012-12-25")', True),
        ("not(negand: false)", True),
        ("abs(number: -1)", None),
        ("floor(n: 1.5, scal: 1)", None),
    ],
)
def test_expression(expression: str, expected: Any) -> None:
    assert compile_expression(expression).evaluate({}) == expected


def test_now_and_today_read_the_injected_clock() -> None:
    fixed = dt.datetime(2024, 2, 29, 12, tzinfo=dt.UTC)
    with use_clock(fixed):
        assert compile_expression("now()").evaluate({}) == fixed
        assert compile_expression("today()").evaluate({}) == dt.date(2024, 2, 29)


def test_reasons_for_null_reach_a_sink() -> None:
    with collect_messages() as messages:
        assert compile_expression('substring("abc", 0)').evaluate({}) is None
    assert messages == ["substring: start position 0 is outside a string of length 3"]
