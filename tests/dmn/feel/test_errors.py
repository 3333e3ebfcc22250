"""Syntax errors point at the offending position and say what was expected; unknown names hint."""

from __future__ import annotations

import pytest

from casepilot.dmn.feel import ExpressionError, ExpressionSyntaxError, compile_expression

from ._helpers import messages


@pytest.mark.parametrize(
    ("text", "line", "column", "fragment"),
    [
        ("1 +", 1, 4, "expected a name, a number"),
        ("(1", 1, 3, "expected ')'"),
        ("1 + * 2", 1, 5, "unexpected '*'"),
        ("1 +\n  * 2", 2, 3, "unexpected '*'"),
        ("if x then 1", 1, 12, "expected 'else'"),
        ("{a 1}", 1, 4, "expected ':'"),
        ("f(a: 1, 2)", 1, 9, "expected a name"),
        ("x instance of", 1, 14, "expected a name"),
        ('"abc', 1, 1, "unterminated string"),
        ('1\n + "abc', 2, 4, "unterminated string"),
        ("/* open", 1, 1, "unterminated comment"),
        ("1 # 2", 1, 3, "unexpected character '#'"),
        ("a.", 1, 3, "expected a name"),
        ("", 1, 1, "empty expression"),
        ("f(a: 1, a: 2)", 1, 2, "named argument is given twice"),
        ("function(a, a) a", 1, 1, "declared twice"),
        ("x instance of foo<number>", 1, 15, "unknown generic type"),
        ("x instance of list<a: number>", 1, 15, "context<"),
    ],
)
def test_syntax_error_position(text: str, line: int, column: int, fragment: str) -> None:
    with pytest.raises(ExpressionSyntaxError) as info:
        compile_expression(text)
    error = info.value
    assert (error.line, error.column) == (line, column)
    assert fragment in str(error)
    assert error.expression == text
    assert isinstance(error, ExpressionError)


def test_unknown_name_did_you_mean() -> None:
    notes = messages("Monthly Salry * 12", {"Monthly Salary": 1000, "Other": 1})
    assert notes == ["unknown name 'Monthly Salry'; did you mean 'Monthly Salary'?"]


def test_unknown_function_did_you_mean_builtin() -> None:
    result, notes = compile_expression('substrin("abc", 2)').evaluate_with_messages({})
    assert result is None
    assert "did you mean 'substring'" in notes[0]


def test_unknown_name_in_nested_scope_suggests_local_names() -> None:
    notes = messages("{total amount: 1, r: totl amount}.r")
    assert "did you mean 'total amount'" in notes[0]


def test_unknown_name_without_candidates() -> None:
    assert messages("qqqqqq") == ["unknown name 'qqqqqq'"]


def test_messages_are_bounded_and_unique() -> None:
    notes = messages("for i in 1..200 return nope + i")
    assert notes == ["unknown name 'nope'"]


def test_builtin_explanations_reach_the_messages() -> None:
    result, notes = compile_expression('abs("x")').evaluate_with_messages({})
    assert result is None
    assert notes and notes[0].startswith("abs:")
    assert compile_expression('abs("x")').evaluate({}) is None


def test_missing_context_entry_did_you_mean() -> None:
    assert messages("applicant.incme", {"applicant": {"income": 1, "age": 2}}) == [
        "the context has no entry 'incme'; did you mean 'income'?"
    ]
