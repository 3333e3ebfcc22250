"""DMN 1.5 §10.3.1 grammar and §10.3.2 semantics of FEEL expressions, from the specification.

- Grammar rule 49 has an expression on both sides of a comparison, so comparisons chain
  left to right: ``3 > 2 = true`` is ``(3 > 2) = true``; ``true = 3 > 2`` compares
  ``true = 3`` (null, different kinds) with 2, hence null.
- §10.3.2.5 (for): an iteration context ``i in a..b`` counts up or down by one, over numbers
  and (DMN 1.5) dates; ``partial`` is the list of results so far; nested contexts iterate as
  nested loops, later ones seeing earlier variables.
- §10.3.2.6 (some / every) over the same iteration contexts; an empty list is false / true.
- §10.3.2.5 filters and paths: in ``l[cond]`` the item's entries shadow outer names, ``item``
  names the item itself, a number selects by position (negative from the end), and a path
  over a list maps over it.
"""

from __future__ import annotations

import pytest

from tests.dmn.spec._check import check

CHAINED_COMPARISONS = [
    ("3 > 2 = true", "true"),
    ("true = 3 > 2", "null"),
    ("1 = 1 = true", "true"),
    ("1 < 2 < 3", "null"),  # (1 < 2) < 3 compares a boolean with a number
    ("1 in [1] = true", "true"),
    ("5 between 1 and 10 = true", "true"),
    ("5 between 1 and 10 and true", "true"),
    ("1 instance of number = true", "true"),
    ("[1] instance of list<number> = true", "true"),
    ("1 = 1 and 2 = 2", "true"),
    ("(3 > 2) = true", "true"),
    ("1 + 1 = 2", "true"),
    ("2 = 1 + 1", "true"),
]


@pytest.mark.parametrize(("expression", "expected"), CHAINED_COMPARISONS)
def test_comparisons_chain_left_to_right(expression: str, expected: str) -> None:
    check(expression, expected)


PRECEDENCE = [
    ("-abs(1)", "-1"),
    ("1 + 1 between 1 and 3", "true"),
    ("1 in [1] and true", "true"),
    ("1 + 1 instance of number", "true"),
    ("if true then if false then 1 else 2 else 3", "2"),
    ("-.5", "-0.5"),
    ("- - 1", "1"),
    ("1 + 2 * 3", "7"),
    ("2 * 3 ** 2", "18"),
    ("1 - 2 - 3", "-4"),
    ("8 / 2 / 2", "2"),
    ("for x in [1, 2] return x in [2]", "[false, true]"),
]


@pytest.mark.parametrize(("expression", "expected"), PRECEDENCE)
def test_operator_precedence(expression: str, expected: str) -> None:
    check(expression, expected)


ITERATION = [
    ("for i in 1..3 return i", "[1, 2, 3]"),
    ("for i in 3..1 return i", "[3, 2, 1]"),
    ("for i in 1..1 return i", "[1]"),
    ("for i in -1..1 return i", "[-1, 0, 1]"),
    ('for d in @"2021-01-01"..@"2021-01-03" return d', '[@"2021-01-01", @"2021-01-02", @"2021-01-03"]'),
    ('for d in @"2021-01-03"..@"2021-01-01" return d', '[@"2021-01-03", @"2021-01-02", @"2021-01-01"]'),
    ('for d in @"2020-02-28"..@"2020-03-01" return day of year(d)', "[59, 60, 61]"),
    ("for i in 1..3, j in 1..i return j", "[1, 1, 2, 1, 2, 3]"),
    ("for x in [1, 2], y in [3, 4] return x * y", "[3, 4, 6, 8]"),
    ("for i in 0..4 return if i = 0 then 1 else i * partial[-1]", "[1, 1, 2, 6, 24]"),
    ("for i in 1..3 return for j in 1..2 return i * j", "[[1, 2], [2, 4], [3, 6]]"),
    ("for i in [] return i", "[]"),
    ("sum(for i in 1..100 return i)", "5050"),
    ("for i in 1.5..3 return i", "null"),
    ('for i in "a".."c" return i', "null"),
    ("{l: [[1, 2], [3, 4]], r: for x in l return x[1]}.r", "[1, 3]"),
]


@pytest.mark.parametrize(("expression", "expected"), ITERATION)
def test_for_iterates_lists_and_ranges(expression: str, expected: str) -> None:
    check(expression, expected)


QUANTIFIED = [
    ("some x in [1, 2, 3] satisfies x > 2", "true"),
    ("every x in [1, 2, 3] satisfies x > 0", "true"),
    ("some x in [] satisfies x > 2", "false"),
    ("every x in [] satisfies x > 2", "true"),
    ("some x in [1, 2], y in [2, 3] satisfies x * y = 6", "true"),
    ("every x in [1, 2], y in [2, 3] satisfies x * y > 2", "false"),
    ("some x in [null, 3] satisfies x > 2", "true"),
    ("every i in 1..3 satisfies i > 0", "true"),
    ("some i in 3..1 satisfies i = 1", "true"),
    ("every x in [1, 2] satisfies x in [1, 2]", "true"),
]


@pytest.mark.parametrize(("expression", "expected"), QUANTIFIED)
def test_quantified_expressions(expression: str, expected: str) -> None:
    check(expression, expected)


FILTERS_AND_PATHS = [
    (
        '{LastName: "Smith", Emp: [{name: "Smith", dept: 10}, {name: "Jones", dept: 20}],'
        ' Dept: [{number: 10, manager: "Boss"}, {number: 20, manager: "Other"}],'
        " r: Dept[number = Emp[name = LastName].dept[1]].manager[1]}.r",
        '"Boss"',
    ),
    ("{x: 5, l: [{x: 1}, {x: 7}], r: l[x > 2]}.r", "[{x: 7}]"),
    ("{x: 5, l: [{y: 1}, {y: 7}], r: l[y > x]}.r", "[{y: 7}]"),
    ("{x: 5, l: [{y: 1}, {y: 7}], r: l[item.y > x]}.r", "[{y: 7}]"),
    ("{item: 10, l: [1, 20], r: l[item > 5]}.r", "[20]"),
    ("[{item: 1}, {item: 5}][item > 2]", "[{item: 5}]"),
    ("{l: [{a: 1, b: 2}], r: l[a = 1].b[1]}.r", "2"),
    ("{outer: 1, inner: {outer: 2, v: outer}, r: inner.v}.r", "2"),
    ("{outer: 1, inner: {v: outer}, r: inner.v}.r", "1"),
    ("{a: 1, b: {a: a + 1}.a}.b", "2"),
    ("[1, 2, 3][item > 1][item < 3]", "[2]"),
    ("[1, 2, 3][-2]", "2"),
    ("[1, 2, 3][0]", "null"),
    ("[1, 2, 3][4]", "null"),
    ("1[item = 1]", "[1]"),
    ("[{a: 1}, {b: 2}].a", "[1, null]"),
    ("[{a: {b: 1}}, {a: {b: 2}}].a.b", "[1, 2]"),
    ('[@"2020-01-01", @"2021-01-01"].year', "[2020, 2021]"),
    ("{l: [{a: [1, 2]}, {a: [3]}], r: flatten(l.a)}.r", "[1, 2, 3]"),
    ("null.a", "null"),
]


@pytest.mark.parametrize(("expression", "expected"), FILTERS_AND_PATHS)
def test_filters_and_paths(expression: str, expected: str) -> None:
    check(expression, expected)
