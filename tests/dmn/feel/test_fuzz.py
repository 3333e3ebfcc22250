"""Property tests: arbitrary text never crashes the compiler or the evaluator."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casepilot.dmn.feel import ExpressionError, compile_condition, compile_expression, compile_unary_tests

PIECES = [
    "1", "2.5", "-", "+", "*", "/", "**", "(", ")", "[", "]", "{", "}", "..", ".", ",", ":", "=", "!=", "<",
    ">=", "and", "or", "not", "if", "then", "else", "for", "in", "return", "some", "every", "satisfies",
    "between", "instance of", "function", "null", "true", '"s"', '@"2020-01-01"', '@"P1D"', "x", "y z",
    "item", "?", "count", "date and time", "?", " ", "\n", "list<number>", "external",
]  # fmt: skip

fragments = st.lists(st.sampled_from(PIECES), max_size=25).map(" ".join)
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _evaluate(compile_fn: object, text: str) -> None:
    try:
        compiled = compile_fn(text)  # type: ignore[operator]
    except ExpressionError:
        return
    try:
        if hasattr(compiled, "matches"):
            compiled.matches(1, {"x": 1, "y z": [1, 2]})
        else:
            compiled.evaluate({"x": 1, "y z": [1, 2]})
    except ExpressionError:
        return


@FAST
@given(fragments)
def test_feel_token_soup(text: str) -> None:
    _evaluate(compile_expression, text)


@FAST
@given(fragments)
def test_unary_tests_token_soup(text: str) -> None:
    _evaluate(compile_unary_tests, text)


@FAST
@given(st.text(max_size=60))
def test_feel_arbitrary_text(text: str) -> None:
    _evaluate(compile_expression, text)


@FAST
@given(st.text(alphabet="${}()[]'\"!&|=<>?:.+-*/%abc0129 ", max_size=40))
def test_juel_arbitrary_text(text: str) -> None:
    _evaluate(compile_condition, "${" + text + "}")
