"""Argument binding, overload choice, null on bad input, and the message sink."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from casepilot.dmn.feel.builtins import (
    BUILTIN_NAMES,
    Builtin,
    BuiltinArgumentError,
    collect_messages,
    get_builtin,
)
from casepilot.dmn.feel.values import FeelFunction
from tests.dmn.feel.builtins._helpers import D, call, call_named, messages_of

SPEC_NAMES = {
    # conversion
    "date", "date and time", "time", "number", "string", "duration", "years and months duration", "range",
    # boolean
    "not",
    # string
    "substring", "string length", "upper case", "lower case", "substring before", "substring after",
    "replace", "contains", "starts with", "ends with", "matches", "split", "string join",
    # list
    "list contains", "count", "min", "max", "sum", "mean", "all", "any", "sublist", "append",
    "concatenate", "insert before", "remove", "reverse", "index of", "union", "distinct values",
    "flatten", "product", "median", "stddev", "mode", "and", "or", "list replace", "sort",
    # numeric
    "decimal", "floor", "ceiling", "round up", "round down", "round half up", "round half down",
    "abs", "modulo", "sqrt", "log", "exp", "odd", "even",
    # temporal
    "is", "day of year", "day of week", "month of year", "week of year", "now", "today",
    # range
    "before", "after", "meets", "met by", "overlaps", "overlaps before", "overlaps after",
    "finishes", "finished by", "includes", "during", "starts", "started by", "coincides",
    # context
    "get value", "get entries", "context", "context put", "context merge",
}  # fmt: skip


def test_every_spec_function_is_registered() -> None:
    assert SPEC_NAMES <= BUILTIN_NAMES
    for name in BUILTIN_NAMES:
        fn = get_builtin(name)
        assert isinstance(fn, Builtin)
        assert isinstance(fn, FeelFunction)
        assert fn.name == name


def test_unknown_name_gives_none() -> None:
    assert get_builtin("no such function") is None
    assert get_builtin("is defined") is None  # not in DMN 1.5


def test_parameter_names_are_the_specs() -> None:
    substring = get_builtin("substring")
    assert substring is not None
    assert substring.parameter_names == ("string", "start position", "length")
    date = get_builtin("date")
    assert date is not None
    assert [ov.params for ov in date.overloads] == [("from",), ("year", "month", "day")]


def test_positional_optional_and_named() -> None:
    assert call("substring", "foobar", 3) == "obar"
    assert call("substring", "foobar", 3, 2) == "ob"
    assert call_named("substring", string="foobar", start_position=3) == "obar"
    assert call_named("substring", length=2, string="foobar", start_position=3) == "ob"


@pytest.mark.parametrize(
    ("named", "why"),
    [
        ({"string": "foobar"}, "required parameter missing"),
        ({"string": "foobar", "start position": D(1), "foo": D(1)}, "unknown parameter"),
        ({"string": "foobar", "length": D(1)}, "gap before a given optional parameter"),
    ],
)
def test_named_binding_failures_give_null(named: dict[str, Any], why: str) -> None:
    fn = get_builtin("substring")
    assert fn is not None
    with collect_messages() as messages:
        assert fn.invoke(named=named) is None, why
    assert messages and "substring" in messages[0]


def test_arity_errors_give_null_with_message() -> None:
    result, messages = messages_of("abs")
    assert result is None
    assert messages == ["abs: 0 argument(s) do not fit the signature (n)"]
    assert call("abs", 1, 1) is None


def test_wrong_type_message_names_the_parameter() -> None:
    result, messages = messages_of("abs", "x")
    assert result is None
    assert messages == ["abs: n must be a number or a duration, got string"]


def test_missing_optional_differs_from_explicit_null() -> None:
    assert call("floor", 1.56) == D(1)
    assert call("floor", 1.56, None) is None


def test_overloads_by_arity_and_by_name() -> None:
    assert call("date", 2017, 1, 2).isoformat() == "2017-01-02"
    assert call("date", "2017-01-02").isoformat() == "2017-01-02"
    assert call_named("date", year=2017, month=8, day=30).isoformat() == "2017-08-30"
    assert call_named("date", **{"from": "2012-12-25"}).isoformat() == "2012-12-25"
    assert call_named("date", year=2017, month=8) is None


def test_call_raises_instead_of_null() -> None:
    fn = get_builtin("sqrt")
    assert fn is not None
    assert fn.call([D(4)]) == D(2)
    with pytest.raises(BuiltinArgumentError, match="sqrt: number must be a number"):
        fn.call(["4"])
    with pytest.raises(BuiltinArgumentError, match="sqrt"):
        fn.call([], {"n": D(4)})


def test_unexpected_python_errors_become_null() -> None:
    # exp of a huge number overflows decimal128: ArithmeticError inside → null with message
    result, messages = messages_of("exp", Decimal("1E+10"))
    assert result is None
    assert messages and messages[0].startswith("exp: ")


def test_collect_messages_with_a_callable_sink_and_nesting() -> None:
    seen: list[str] = []
    with collect_messages(seen.append) as own:
        call("abs", "x")
        with collect_messages() as inner:
            call("sqrt", "y")
        call("not", 1)
    assert own == []
    assert len(seen) == 2 and seen[0].startswith("abs:") and seen[1].startswith("not:")
    assert inner and inner[0].startswith("sqrt:")


def test_no_sink_is_fine() -> None:
    assert call("abs", "x") is None


def test_accepts_arity() -> None:
    fn = get_builtin("min")
    assert fn is not None
    assert fn.accepts_arity(1) and fn.accepts_arity(5)
    assert not fn.accepts_arity(0)
    sub = get_builtin("substring")
    assert sub is not None
    assert sub.accepts_arity(2) and sub.accepts_arity(3) and not sub.accepts_arity(4)
    assert "substring(string, start position, length?)" in repr(sub)
