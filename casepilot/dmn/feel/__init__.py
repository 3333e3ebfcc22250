"""FEEL (DMN 1.5 chapter 10) and the ``${…}`` condition dialect: compile once, evaluate pure.

Typical use::

    expr = compile_expression("if Age >= 18 then \"adult\" else \"minor\"")
    expr.evaluate({"Age": 42})                      # 'adult'
    compile_unary_tests("[18..65)").matches(30)     # True
    compile_condition("${amount > 1000 && !approved}").evaluate({"amount": 5000, "approved": False})

Values follow :mod:`casepilot.dmn.feel.values`; runtime errors give FEEL null with messages
(:meth:`CompiledExpression.evaluate_with_messages`), syntax errors raise
``ExpressionSyntaxError`` with line and column, and hostile expressions (too deep, too many
iterations, too large results) raise ``ExpressionError`` (budgets: :class:`Limits`,
``CompiledExpression.with_limits``).

Names containing spaces are read without help (``Monthly Salary``); names containing
operators or keywords (``Loan-to-value``, ``Is for sale``) need ``known_names=`` — the names
in scope — because FEEL itself cannot tell ``a-b`` from ``a - b`` otherwise.

Dates are Python dates, except years outside 1..9999 (up to ±999 999 999, as in
``java.time``), which are :class:`FeelDate` / :class:`FeelDateTime` — use ``kind_of`` or
``conforms`` rather than ``isinstance(v, datetime.date)`` to type-check FEEL values.
``(= x)`` / ``(!= x)`` used as values are ranges marked with their operator.

Fractions of a second keep nine digits (``time("10:00:00.123456789")`` prints back as
written; see ``_nanos``), also through arithmetic (``_temporal_arith``); ``=``/``<`` on times
and date-times compare to the millisecond, as the DMN TCK expects (durations compare exactly).
"""

from __future__ import annotations

from casepilot.errors import ExpressionError, ExpressionSyntaxError

from ._api import (
    CompiledExpression,
    CompiledUnaryTests,
    Dialect,
    compile_condition,
    compile_expression,
    compile_unary_tests,
)
from ._runtime import Limits, UserFunction
from .ops import compare, feel_equal, kind_of
from .temporal import parse_date, parse_date_and_time, parse_duration, parse_time, to_feel_string
from .types import conforms, instance_of
from .values import FEEL_DECIMAL, FeelDate, FeelDateTime, FeelFunction, Range, YearMonthDuration, to_feel

__all__ = [
    "FEEL_DECIMAL",
    "CompiledExpression",
    "CompiledUnaryTests",
    "Dialect",
    "ExpressionError",
    "ExpressionSyntaxError",
    "FeelDate",
    "FeelDateTime",
    "FeelFunction",
    "Limits",
    "Range",
    "UserFunction",
    "YearMonthDuration",
    "compare",
    "compile_condition",
    "compile_expression",
    "compile_unary_tests",
    "conforms",
    "feel_equal",
    "instance_of",
    "kind_of",
    "parse_date",
    "parse_date_and_time",
    "parse_duration",
    "parse_time",
    "to_feel",
    "to_feel_string",
]
