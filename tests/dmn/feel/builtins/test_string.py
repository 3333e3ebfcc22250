"""String functions (non-regex part)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.dmn.feel.builtins._helpers import D, call, call_named


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("f", 1), "f"),
        (("f", 1, 1), "f"),
        (("foobar", 6), "r"),
        (("foobar", 1, 6), "foobar"),
        (("foobar", 3), "obar"),
        (("foobar", 3, 3), "oba"),
        (("foobar", -2, 1), "a"),
        (("foob r", -2, 1), " "),
        (("foobar", -6, 6), "foobar"),
        (("foobar", 3, 3.8), "oba"),
        (("foobar", 1, 100), "foobar"),
        (("foobar", 2, 0), ""),
        # code points, not UTF-16 units: the emoji is one character
        (("a\U0001f600b", 2, 1), "\U0001f600"),
        (("a\U0001f600b", 3), "b"),
    ],
)
def test_substring(args: tuple[Any, ...], expected: str) -> None:
    assert call("substring", *args) == expected


@pytest.mark.parametrize(
    "args",
    [("foobar", 0), ("foobar", 7), ("foobar", -7), ("foobar", 1, -1), (None, 1), ("x", None), (1, 1), ("x",)],
)
def test_substring_invalid(args: tuple[Any, ...]) -> None:
    assert call("substring", *args) is None


def test_string_length_and_case() -> None:
    assert call("string length", "") == D(0)
    assert call("string length", "abc") == D(3)
    assert call("string length", "\U0001f600") == D(1)
    assert call_named("string length", string="aaaaa dddd ") == D(11)
    assert call("string length", 1) is None
    assert call("upper case", "aBc4") == "ABC4"
    assert call("lower case", "aBc4") == "abc4"
    assert call("lower case", "?@{") == "?@{"
    assert call_named("lower case", string="xyZ ") == "xyz "
    assert call("upper case", None) is None


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("foobar", "bar"), "foo"),
        (("foobar", "o"), "f"),
        (("foobar", "x"), ""),
        (("", ""), ""),
        (("abc", ""), ""),
        (("abc", "a"), ""),
        (("abc", "c"), "ab"),
    ],
)
def test_substring_before(args: tuple[str, str], expected: str) -> None:
    assert call("substring before", *args) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("foobar", "ob"), "ar"),
        (("foobar", "o"), "obar"),
        (("foobar", "x"), ""),
        (("", "a"), ""),
        (("abc", ""), "abc"),
        (("abc", "c"), ""),
    ],
)
def test_substring_after(args: tuple[str, str], expected: str) -> None:
    assert call("substring after", *args) == expected


def test_substring_before_after_named_and_null() -> None:
    assert call_named("substring before", string="foobar", match="b") == "foo"
    assert call_named("substring after", string="foobar", match="b") == "ar"
    assert call("substring before", None, "x") is None
    assert call("substring after", "x", 1) is None


def test_contains_starts_ends() -> None:
    assert call("contains", "foobar", "bar") is True
    assert call("contains", "abc", "") is True
    assert call("contains", "", "ab") is False
    assert call("contains", "", "") is True
    assert call("contains", None, "bar") is None
    assert call("contains", "bar", None) is None
    assert call_named("contains", string="foobar", match="b") is True
    assert call("starts with", "foobar", "fo") is True
    assert call("starts with", "foobar", "x") is False
    assert call("ends with", "foobar", "r") is True
    assert call("ends with", "foobar", "o") is False
    assert call("ends with", 1, "1") is None


def test_string_join() -> None:
    assert call("string join", ["a", "b", "c"]) == "abc"
    assert call("string join", ["a", "b", "c"], " and ") == "a and b and c"
    assert call("string join", ["a", "b", "c"], "") == "abc"
    assert call("string join", ["a", "b", "c"], None) == "abc"
    assert call("string join", ["a"], "X") == "a"
    assert call("string join", ["a", None, "c"]) == "ac"
    assert call("string join", ["a", None, "c"], "X") == "aXc"
    assert call("string join", []) == ""
    assert call("string join", [], "X") == ""
    assert call("string join", "a", "X") == "a"  # singleton list
    assert call_named("string join", delimiter="X", list=["a", "c"]) == "aXc"
    assert call_named("string join", list="a", delimiter="X") == "a"


@pytest.mark.parametrize(
    "args", [(), (["a", "c"], "X", "foo"), (None,), (None, "X"), ([1, 2, 3], "X"), (123, "X"), (["a"], 1)]
)
def test_string_join_invalid(args: tuple[Any, ...]) -> None:
    assert call("string join", *args) is None


def test_string_join_bad_names() -> None:
    assert call_named("string join", list=["a", "c"], delimitr="X") is None
    assert call_named("string join", lst=["a", "c"], delimiter="X") is None
