"""DMN 1.5 §10.3.1 lexical rules, written from the specification text.

Comments (``//`` to the end of the line, ``/* … */`` across lines) may stand wherever
whitespace may, in expressions and in unary tests alike — so ``- // anything`` is still the
match-anything entry. String literals count Unicode code points, astral ones included, and
take ``\\u`` / ``\\U`` escapes (grammar rule 35). The ``is()`` examples of §10.3.4 write the
UTC offset as a lower-case ``z`` (``time("23:00:50z")``), so it parses as ``Z``.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from casepilot.dmn.feel import compile_unary_tests
from tests.dmn.spec._check import check

COMMENTS = [
    ("1 + /* two */ 2", "3"),
    ("1 + 2 // three", "3"),
    ("// a leading line\n1", "1"),
    ("/* a\nblock\nacross lines */ 1 /* and after */", "1"),
    ("[1, /* x */ 2]", "[1, 2]"),
    ("{a: 1, // after a\n b: 2}.b", "2"),
    ("if /* c */ true then 1 // then\n else 2", "1"),
    ("sum(1, /* two */ 2)", "3"),
    ("for i /* c */ in [1] return i", "[1]"),
    ("10 //5", "10"),
    ('"a // not a comment"', '"a // not a comment"'),
    ('"a /* not a comment */"', '"a /* not a comment */"'),
    ('"http://example.org"', '"http://example.org"'),
]


@pytest.mark.parametrize(("expression", "expected"), COMMENTS)
def test_comments_are_whitespace_in_expressions(expression: str, expected: str) -> None:
    check(expression, expected)


UNARY_COMMENTS = [
    ("> 5 // more than five", Decimal(6), True),
    ("/* lead */ [1..10]", Decimal(5), True),
    ("1, /* or */ 2", Decimal(2), True),
    ("not(1, /* c */ 2)", Decimal(2), False),
    ("- // any value", Decimal(2), True),
    ("- /* any value */", None, True),
    ("/* nothing but a comment */", "x", True),
]


@pytest.mark.parametrize(("tests", "value", "matches"), UNARY_COMMENTS)
def test_comments_are_whitespace_in_unary_tests(tests: str, value: object, matches: bool) -> None:
    assert compile_unary_tests(tests).matches(value) is matches


UNICODE = [
    ('string length("\U0001f600")', "1"),
    ('string length("\\U01F600")', "1"),
    ('substring("\U0001f600abc", 2, 1)', '"a"'),
    ('substring("a\U0001f600b", 2, 1)', '"\U0001f600"'),
    ('"\\u00e9" = "\u00e9"', "true"),
    ('"\\U01F40E" = "\U0001f40e"', "true"),
    ('"\\u0041"', '"A"'),
    ('contains("\U0001f600x", "x")', "true"),
    ('string length("\\t")', "1"),
    ('upper case("\u00df")', '"SS"'),
    ('"B" < "a"', "true"),  # code point order
]


@pytest.mark.parametrize(("expression", "expected"), UNICODE)
def test_strings_are_sequences_of_code_points(expression: str, expected: str) -> None:
    check(expression, expected)


LOWER_CASE_Z = [
    ('time("23:00:50z")', '@"23:00:50Z"'),
    ('is(time("23:00:50z"), time("23:00:50+00:00"))', "true"),
    ('is(time("23:00:50z"), time("23:00:50"))', "false"),
    ('is(date("2012-12-25"), time("23:00:50"))', "false"),
    ('date and time("2017-01-01T23:59:01z")', '@"2017-01-01T23:59:01Z"'),
    ('date and time(date("2017-01-01"), time("23:59:01z"))', '@"2017-01-01T23:59:01Z"'),
    ('@"2017-01-01T23:59:01z"', '@"2017-01-01T23:59:01Z"'),
    ('time("23:00:50x")', "null"),
]


@pytest.mark.parametrize(("expression", "expected"), LOWER_CASE_Z)
def test_a_lower_case_z_is_utc(expression: str, expected: str) -> None:
    check(expression, expected)
