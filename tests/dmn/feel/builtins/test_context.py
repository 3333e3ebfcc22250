"""Context functions."""

from __future__ import annotations

from typing import Any

import pytest

from tests.dmn.feel.builtins._helpers import D, call, call_named


def test_get_value() -> None:
    assert call("get value", {"a": 1}, "a") == D(1)
    assert call("get value", {"a": 1}, "b") is None
    assert call("get value", {"a": None}, "a") is None
    assert call("get value", {"a": 1}, 1) is None
    assert call("get value", [1], "a") is None
    assert call_named("get value", m={"a": "x"}, key="a") == "x"
    assert call_named("get value", map={"a": "x"}, key="a") is None


def test_get_entries() -> None:
    assert call("get entries", {"a": "foo", "b": "bar"}) == [
        {"key": "a", "value": "foo"},
        {"key": "b", "value": "bar"},
    ]
    assert call("get entries", {}) == []
    assert call_named("get entries", m={"a": 1}) == [{"key": "a", "value": D(1)}]
    for bad in [(), ({"a": "foo"}, {"b": "bar"}), (None,), (123,), ([1, 2, 3],)]:
        assert call("get entries", *bad) is None
    assert call_named("get entries", map={"a": 1}) is None


def test_context() -> None:
    assert call("context", [{"key": "a", "value": 1}, {"key": "b", "value": 2}]) == {"a": D(1), "b": D(2)}
    assert call("context", []) == {}
    assert call("context", {"key": "a", "value": 1}) == {"a": D(1)}
    assert call("context", {"key": "a", "value": None}) == {"a": None}
    assert call("context", {"key": "", "value": 1}) == {"": D(1)}
    assert call("context", [{"key": "a", "value": 1, "ignored": "x"}]) == {"a": D(1)}
    assert call_named("context", entries=[{"key": "a", "value": 1}]) == {"a": D(1)}
    assert call_named("context", entris=[{"key": "a", "value": 1}]) is None
    # entries are ordered
    assert list(call("context", [{"key": "z", "value": 1}, {"key": "a", "value": 2}])) == ["z", "a"]


@pytest.mark.parametrize(
    "args",
    [
        ([{"key": "a", "value": 1}, {"key": "a", "value": 2}],),
        ({"value": 1},),
        ({"key": None, "value": 1},),
        ({"key": "a"},),
        ({"key": 1, "value": 1},),
        (None,),
        (),
        ("foo",),
        ([1],),
    ],
)
def test_context_invalid(args: tuple[Any, ...]) -> None:
    assert call("context", *args) is None


def test_context_put() -> None:
    assert call("context put", {}, "a", 1) == {"a": D(1)}
    assert call("context put", {"a": 1}, "b", 2) == {"a": D(1), "b": D(2)}
    assert call("context put", {"a": 1}, "a", 2) == {"a": D(2)}
    assert list(call("context put", {"a": 1, "b": 2, "c": 3}, "b", 3)) == ["a", "b", "c"]
    assert call("context put", {}, "", 1) == {"": D(1)}
    assert call("context put", {}, "a", None) == {"a": None}
    original = {"a": D(1)}
    assert call("context put", original, "a", 2) == {"a": D(2)}
    assert original == {"a": D(1)}
    assert call_named("context put", context={}, key="a", value=1) == {"a": D(1)}


def test_context_put_nested() -> None:
    base = {"x": 1, "y": {"a": 0}}
    assert call("context put", base, ["y", "a"], 2) == {"x": D(1), "y": {"a": D(2)}}
    assert call("context put", base, ["y", "b"], 2) == {"x": D(1), "y": {"a": D(0), "b": D(2)}}
    deep = {"x": 1, "y": {"a": {"b": {"c": 1}}}}
    assert call("context put", deep, ["y", "a", "b", "c"], 2) == {"x": D(1), "y": {"a": {"b": {"c": D(2)}}}}
    assert call_named("context put", context=base, keys=["y", "a"], value=2) == {"x": D(1), "y": {"a": D(2)}}
    nested = {"a": {"b": D(1)}}
    assert call("context put", nested, ["a", "b"], 2) == {"a": {"b": D(2)}}
    assert nested == {"a": {"b": D(1)}}


@pytest.mark.parametrize(
    "args",
    [
        ({}, None, 1),
        (None, "a", 1),
        ({}, "a"),
        ({}, "a", 1, 1),
        ([], "a", 1),
        ({}, 1, 1),
        ({"y": {"a": 0}}, ["y", None], 2),
        ({"y": {"a": 0}}, [None, "a"], 2),
        ({"y": {"a": 0}}, [None], 2),
        ({"y": {"a": 0}}, [], 2),
        ({"y": {"a": 0}}, ["y", "a", "b", "c"], 2),
        ({"y": {"a": 0}}, ["z", "a"], 2),
    ],
)
def test_context_put_invalid(args: tuple[Any, ...]) -> None:
    assert call("context put", *args) is None


def test_context_put_named_invalid() -> None:
    assert call_named("context put", context={}, ky="a", value=1) is None
    assert call_named("context put", context={"y": {"a": 0}}, key=["y", "a"], value=2) is None


def test_context_merge() -> None:
    assert call("context merge", [{"a": 1}, {"b": 2}]) == {"a": D(1), "b": D(2)}
    assert call("context merge", [{"a": 1}, {"a": 2, "b": 3}]) == {"a": D(2), "b": D(3)}
    assert call("context merge", []) == {}
    assert call("context merge", {"a": 1}) == {"a": D(1)}
    assert call_named("context merge", contexts=[{"a": 1}]) == {"a": D(1)}
    assert call("context merge", [{"a": 1}, 2]) is None
    assert call("context merge", None) is None
    assert call("context merge", [{"a": 1}], [{"b": 1}]) is None
