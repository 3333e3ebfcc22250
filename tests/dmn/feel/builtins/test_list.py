"""List functions and numeric aggregates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from casepilot.dmn.feel.builtins import get_builtin
from casepilot.dmn.feel.values import YearMonthDuration
from tests.dmn.feel.builtins._helpers import D, PyFunction, call, call_named, num


def n(*values: Any) -> list[Any]:
    return [num(v) for v in values]


def test_list_contains_count() -> None:
    assert call("list contains", [1, 2, 3], 2) is True
    assert call("list contains", [1, 2, 3], 4) is False
    assert call("list contains", [1, None], None) is True
    assert call("list contains", [1, "1"], "1") is True
    assert call("list contains", [True], 1) is False  # booleans are not numbers
    assert call("list contains", [[1, 2]], [1, 2]) is True
    assert call("list contains", None, 1) is None
    assert call("count", [1, 2, 3]) == D(3)
    assert call("count", []) == D(0)
    assert call("count", 5) == D(1)  # singleton list
    assert call("count", None) is None
    assert call_named("count", list=[1]) == D(1)


@pytest.mark.parametrize(
    ("name", "args", "expected"),
    [
        ("min", ([1, 2, 3],), 1),
        ("min", (3, 1, 2), 1),
        ("min", (5,), 5),
        ("min", (["b", "a"],), "a"),
        ("max", ([1, 2, 3],), 3),
        ("max", (1, 3, 2), 3),
        ("max", ([D("1.5"), D("1.50001")],), D("1.50001")),
    ],
)
def test_min_max(name: str, args: tuple[Any, ...], expected: Any) -> None:
    assert call(name, *args) == num(expected)


def test_min_max_temporal_and_invalid() -> None:
    dates = [dt.date(2020, 1, 2), dt.date(2019, 5, 1)]
    assert call("min", dates) == dt.date(2019, 5, 1)
    assert call("max", [YearMonthDuration(3), YearMonthDuration(14)]) == YearMonthDuration(14)
    assert call("min", []) is None
    assert call("max", [1, "a"]) is None
    assert call("min", [1, None]) is None
    assert call("min", [True]) is None
    assert call("min") is None
    assert call("min", None) is None
    assert call_named("min", list=[3, 1]) == D(1)
    assert call_named("max", list=7) == D(7)


def test_sum_mean_product_median() -> None:
    assert call("sum", [1, 2, 3]) == D(6)
    assert call("sum", 1, 2, 3) == D(6)
    assert call("sum", 1) == D(1)
    assert call("sum", []) is None
    assert call("sum", [1, "a"]) is None
    assert call("sum", [1, None]) is None
    assert call("mean", [1, 2, 3]) == D(2)
    assert call("mean", 1, 2) == D("1.5")
    assert call("mean", []) is None
    assert call("product", [6, 3, 9, 6, 6]) == D(5832)
    assert call("product", 2, 3, 4) == D(24)
    assert call("product", [2.5, 1, 2.5, 3]) == D("18.75")
    assert call("product", []) is None
    assert call("median", [8, 2, 5, 3, 4]) == D(4)
    assert call("median", [6, 1, 2, 3]) == D("2.5")
    assert call("median", 6, 1, 2) == D(2)
    assert call("median", []) is None
    assert call_named("sum", list=[1, 2]) == D(3)
    assert call_named("product", l=[2, 4]) is None


def test_stddev_and_mode() -> None:
    assert str(call("stddev", [2, 4, 7, 5]))[:15] == "2.0816659994661"
    assert call("stddev", 2, 4, 7, 5) == call("stddev", [2, 4, 7, 5])
    assert call("stddev", [47]) is None
    assert call("stddev", 47) is None
    assert call("stddev", []) is None
    assert call("stddev", [1, 2, "foo", 4]) is None
    assert call("mode", [6, 3, 9, 6, 6]) == n(6)
    assert call("mode", [3, 6, 1, 9, 6, 1, 3]) == n(1, 3, 6)
    assert call("mode", [2.5, 1, 2.5, 3]) == n(2.5)
    assert call("mode", [D("2.5"), D("2.50")]) == [D("2.5")]
    assert call("mode", []) == []
    assert call("mode", 6) == n(6)
    assert call("mode", 6, 3, 9, 6, 6) == n(6)
    assert call("mode", [1, 2, "foo"]) is None
    assert call("mode", None) is None
    assert call_named("mode", list=[6, 3, 6]) == n(6)


@pytest.mark.parametrize("name", ["all", "and"])
def test_all(name: str) -> None:
    assert call(name, [True, False, True]) is False
    assert call(name, [True, True]) is True
    assert call(name, [True, None, True]) is None
    assert call(name, [True, 123]) is None
    assert call(name, [False, None]) is False  # false wins over non-booleans
    assert call(name, []) is True
    assert call(name, True) is True
    assert call(name, False) is False
    assert call(name, None) is None
    assert call(name, 123) is None
    assert call(name, True, False, True) is False
    assert call(name) is None
    assert call_named(name, list=[True, True]) is True
    assert call_named(name, l=[True]) is None


@pytest.mark.parametrize("name", ["any", "or"])
def test_any(name: str) -> None:
    assert call(name, [True, False]) is True
    assert call(name, [False, False]) is False
    assert call(name, [123, False]) is None
    assert call(name, [None, True]) is True
    assert call(name, []) is False
    assert call(name, True) is True
    assert call(name, None, False) is None
    assert call(name) is None
    assert call_named(name, list=[False, False]) is False


def test_sublist() -> None:
    assert call("sublist", [4, 5, 6], 1, 2) == n(4, 5)
    assert call("sublist", [4, 5, 6], 2) == n(5, 6)
    assert call("sublist", [4, 5, 6], -1) == n(6)
    assert call("sublist", [4, 5, 6], -2, 1) == n(5)
    assert call("sublist", [4, 5, 6], 1, 0) == []
    assert call("sublist", [4, 5, 6], 0) is None
    assert call("sublist", [4, 5, 6], 4) is None
    assert call("sublist", [4, 5, 6], 2, 3) is None
    assert call("sublist", [4, 5, 6], 1, None) is None
    assert call_named("sublist", list=[4, 5, 6], start_position=2, length=1) == n(5)


def test_append_concatenate() -> None:
    assert call("append", [1], 2, 3) == n(1, 2, 3)
    assert call("append", [1]) == n(1)
    assert call("append", [1], None) == [D(1), None]
    assert call("append", None, 1) is None
    assert call("concatenate", [1, 2], [3]) == n(1, 2, 3)
    assert call("concatenate", [1], [], [[2]]) == [D(1), [D(2)]]
    assert call("concatenate") == []
    assert call("concatenate", [1], None) is None
    original = n(1, 2)
    call("append", original, 3)
    assert original == n(1, 2)  # never mutated


def test_insert_before_remove_reverse() -> None:
    assert call("insert before", [1, 3], 1, 2) == n(2, 1, 3)
    assert call("insert before", [1, 3], 2, 2) == n(1, 2, 3)
    assert call("insert before", [1, 3], -1, 2) == n(1, 2, 3)
    assert call("insert before", [1, 3], 3, 2) is None
    assert call("insert before", [1, 3], 0, 2) is None
    assert call("insert before", [1, 3], 1, None) == [None, D(1), D(3)]
    assert call_named("insert before", list=[1], position=1, newItem=0) == n(0, 1)
    assert call("remove", [1, 2, 3], 2) == n(1, 3)
    assert call("remove", [1, 2, 3], -1) == n(1, 2)
    assert call("remove", [1, 2, 3], 4) is None
    assert call("remove", [1, 2, 3], "1") is None
    assert call("reverse", [1, 2, 3]) == n(3, 2, 1)
    assert call("reverse", []) == []
    assert call("reverse", None) is None


def test_index_of_union_distinct_flatten() -> None:
    assert call("index of", [1, 2, 3, 2], 2) == n(2, 4)
    assert call("index of", [1, 2], 5) == []
    assert call("index of", [D("1.0"), 1], 1) == n(1, 2)
    assert call("union", [1, 2], [2, 3]) == n(1, 2, 3)
    assert call("union", [1, [2]], [[2], 3]) == [D(1), [D(2)], D(3)]
    assert call("union") == []
    assert call("distinct values", [1, 2, 3, 2, 1]) == n(1, 2, 3)
    assert call("distinct values", [D(1), D("1.00"), "1", True, None, None]) == [D(1), "1", True, None]
    assert call("distinct values", [{"a": 1}, {"a": 1}, [1], [1]]) == [{"a": D(1)}, [D(1)]]
    assert call("flatten", [[1, 2], [[3]], 4]) == n(1, 2, 3, 4)
    assert call("flatten", []) == []
    assert call("flatten", None) is None


def test_sort() -> None:
    less = PyFunction(("x", "y"), lambda x, y: x < y)
    greater = PyFunction(("x", "y"), lambda x, y: x > y)
    assert call("sort", [3, 1, 4, 5, 2], less) == n(1, 2, 3, 4, 5)
    assert call("sort", [3, 1, 4, 5, 2], greater) == n(5, 4, 3, 2, 1)
    assert call_named("sort", list=[3, 1], precedes=less) == n(1, 3)
    assert call("sort", [], less) == []
    assert call("sort", [3, 1, 2]) == n(1, 2, 3)  # without precedes: the < order
    assert call("sort", ["b", "a"]) == ["a", "b"]
    assert call("sort", [1, "a"]) is None
    assert call("sort", [2, 1], PyFunction(("x", "y"), lambda x, y: None)) is None
    assert call("sort", [2, 1], PyFunction(("x",), lambda x: True)) is None
    assert call("sort", [2, 1], 5) is None
    assert call("sort", [2, 1], None) is None
    # a built-in with two parameters may serve as precedes
    before = get_builtin("before")
    assert call("sort", [3, 1, 2], before) == n(1, 2, 3)


def test_list_replace() -> None:
    assert call("list replace", [1, 2, 3], 2, 4) == n(1, 4, 3)
    assert call("list replace", [1, 2, 3], -1, 4) == n(1, 2, 4)
    assert call("list replace", [1, 2, 3], 2.5, 4) == n(1, 4, 3)
    assert call("list replace", [1, 2, 3], -1.5, 4) == n(1, 2, 4)
    assert call("list replace", [1, 2, 3], 3, None) == [D(1), D(2), None]
    assert call("list replace", 1, 1, 5) == n(5)
    for bad in (0, 4, -4, None, "2"):
        assert call("list replace", [1, 2, 3], bad, 4) is None
    assert call("list replace", None, 1, 4) is None
    assert call("list replace", [1, 2, 3], "2") is None
    assert call("list replace", [1, 2, 3], 2, 4, 4) is None
    smaller = PyFunction(("item", "newItem"), lambda item, new: item < new)
    assert call("list replace", [2, 4, 7, 8], smaller, 5) == n(5, 5, 7, 8)
    always = PyFunction(("item", "newItem"), lambda item, new: True)
    assert call("list replace", [1, 2], always, 5) == n(5, 5)
    assert call("list replace", [2, 4], PyFunction(("item", "newItem"), lambda i, j: i), 5) is None
    assert call("list replace", [2, 4], PyFunction(("item",), lambda i: True), 5) is None
    assert call("list replace", [2, 4], PyFunction(("a", "b", "c"), lambda a, b, c: True), 5) is None
    assert call_named("list replace", position=2, newItem=4, list=[1, 2, 3]) == n(1, 4, 3)
    is_two = PyFunction(("item", "newItem"), lambda item, new: item == Decimal(2))
    assert call_named("list replace", match=is_two, newItem=4, list=[1, 2, 3]) == n(1, 4, 3)
    assert call_named("list replace", position=2, newItem=4, list=[1, 2, 3], foo=1) is None
