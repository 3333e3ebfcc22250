"""The ``${…}`` condition dialect (Flowable / Camunda style) on the FEEL evaluator."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from casepilot.dmn.feel import ExpressionSyntaxError, compile_condition, compile_expression
from casepilot.dmn.feel.juel import parse_juel

VARS: dict[str, Any] = {
    "amount": 5000,
    "approved": False,
    "customer": {"name": "Ann", "tags": ["gold", "eu"], "address": {"city": "Lyon"}},
    "blank": "",
    "nothing": None,
    "items": [],
    "x": 3,
}

CASES: list[tuple[str, Any]] = [
    ("${amount > 1000 && !approved}", True),
    ("${amount gt 1000 and not approved}", True),
    ("${amount <= 1000 || approved}", False),
    ("${amount le 1000 or approved}", False),
    ("${amount >= 5000}", True),
    ("${amount ge 5001}", False),
    ("${amount < 6000}", True),
    ("${amount lt 5000}", False),
    ("${amount == 5000}", True),
    ("${amount eq 5000}", True),
    ("${amount != 5000}", False),
    ("${amount ne 1}", True),
    ("${customer.name == 'Ann'}", True),
    ("${customer['name'] == \"Ann\"}", True),
    ("${customer.address.city}", "Lyon"),
    ("${customer[\"address\"]['city']}", "Lyon"),
    ("${customer.tags[0]}", "gold"),
    ("${customer.tags[1] == 'eu'}", True),
    ("${customer.tags[5]}", None),
    ("${empty blank}", True),
    ("${empty nothing}", True),
    ("${empty items}", True),
    ("${empty customer}", False),
    ("${empty customer.tags}", False),
    ("${not empty customer.name}", True),
    ("${empty x}", False),
    ("${x % 2 == 1 ? 'odd' : 'even'}", "odd"),
    ("${x mod 2}", Decimal(1)),
    ("${x div 2}", Decimal("1.5")),
    ("${-x + 10 / 4}", Decimal("-0.5")),
    ("${(x + 1) * 2}", Decimal(8)),
    ("${x - -1}", Decimal(4)),
    ("${1.5e2}", Decimal(150)),
    ("${'it\\'s'}", "it's"),
    ("${true && null}", None),
    ("${nothing == null}", True),
    ("${x != null}", True),
    ("${amount == '5000'}", None),  # no coercion between number and string (documented)
    ("${!nothing}", None),  # three-valued: a condition treats it as false
    ("#{x >= 3}", True),
    ("  ${x >= 3}  ", True),
    ("${x > 1 ? x > 2 ? 'big' : 'mid' : 'small'}", "big"),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_condition(text: str, expected: Any) -> None:
    assert compile_condition(text).evaluate(VARS) == expected


def test_feel_when_not_wrapped() -> None:
    expr = compile_condition("amount > 1000 and not(approved)")
    assert expr.dialect == "feel"
    assert expr.evaluate(VARS) is True


def test_juel_dialect_and_free_names() -> None:
    expr = compile_expression("customer.name == 'Ann' && amount > limit", dialect="juel")
    assert expr.dialect == "juel"
    assert expr.free_names == frozenset({"customer", "amount", "limit"})
    assert expr.evaluate({**VARS, "limit": 1}) is True


def test_same_ast_as_feel() -> None:
    assert parse_juel("${a.b >= 2 && !c}") == compile_expression("a.b >= 2 and not(c)").ast


@pytest.mark.parametrize(
    ("text", "construct"),
    [
        ("${vars:get('x')}", "function call vars:get"),
        ("${planItemInstances().active().count() > 0}", "method call planItemInstances"),
        ("${execution.getVariable('x')}", "method call execution.getVariable"),
        ("${a[b]}", "dynamic index"),
        ("${a[1.5]}", "whole number"),
    ],
)
def test_unsupported_constructs_are_named(text: str, construct: str) -> None:
    with pytest.raises(ExpressionSyntaxError, match=construct):
        compile_condition(text)


def test_syntax_error_positions_count_the_wrapper() -> None:
    with pytest.raises(ExpressionSyntaxError) as info:
        compile_condition("${a ^ b}")
    assert (info.value.line, info.value.column) == (1, 5)
    with pytest.raises(ExpressionSyntaxError) as info:
        compile_condition("${a +}")
    assert info.value.column == 6
    assert "expected" in str(info.value)
    with pytest.raises(ExpressionSyntaxError, match="empty"):
        compile_condition("${ }")


def test_unknown_dialect() -> None:
    from casepilot.dmn.feel import ExpressionError

    with pytest.raises(ExpressionError, match="dialect"):
        compile_expression("1", dialect="python")  # type: ignore[arg-type]
