"""The expression engine SpiffWorkflow runs processes with: FEEL, never Python.

SpiffWorkflow's default ``PythonScriptEngine`` evaluates gateway conditions, timer
expressions and multi-instance expressions with ``eval`` and script tasks with ``exec``.
A model is data written by users and modelers we do not trust, so casepilot hands every
process a :class:`FeelScriptEngine` instead: expressions are compiled and evaluated by
``casepilot.dmn.feel`` (pure, budgeted, no access to Python objects), scripts are refused
(they are refused at deploy already; this is the second lock), and the engine owns the
clock timers read, so hosts and tests move time without sleeping.

The class deliberately does not inherit from ``PythonScriptEngine``: no Python evaluation
path exists on it to be reached by accident.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from casepilot.dmn.feel import compile_expression
from casepilot.errors import ExpressionError

from ._values import to_plain

__all__ = ["Clock", "FeelEnvironment", "FeelScriptEngine", "ManualClock", "evaluate_feel"]

Clock = Callable[[], dt.datetime]
"""Returns the current time, timezone-aware (UTC)."""

SCRIPT_REFUSED = "scripts cannot run in casepilot; use a service task or a FEEL expression"


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ManualClock:
    """A clock that moves only when told to (scenarios, tests, replays)."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.now = start or dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, delta: dt.timedelta) -> None:
        """Move the clock forward by ``delta``."""
        self.now = self.now + delta


def evaluate_feel(expression: str, data: Mapping[str, Any], extra: Mapping[str, Any] | None = None) -> Any:
    """Evaluate FEEL ``expression`` over process ``data`` (and ``extra`` names); a plain result.

    A syntax error raises ``ExpressionSyntaxError``; runtime problems give FEEL null (None).
    """
    names: dict[str, Any] = dict(extra or {})
    names.update(data)
    return to_plain(compile_expression(expression.strip()).evaluate(names))


class FeelEnvironment:
    """What SpiffWorkflow calls ``script_engine.environment``: FEEL evaluation over a context."""

    def evaluate(self, expression: str, context: Mapping[str, Any],
                 external_context: Mapping[str, Any] | None = None) -> Any:
        return evaluate_feel(expression, context, external_context)

    def execute(self, script: str, context: Any, external_context: Any = None) -> bool:
        raise ExpressionError(SCRIPT_REFUSED, expression=script)

    def call_service(self, context: Any, **kwargs: Any) -> Any:
        raise ExpressionError("service tasks are answered by the host (ServiceCall), not by the engine")


DecisionEvaluator = Callable[[str, Mapping[str, Any]], Any]
"""(decision id or name, process data) -> the decision's value (a business-rule task's result)."""


class FeelScriptEngine:
    """Drop-in for SpiffWorkflow's script engine that evaluates FEEL only.

    ``clock`` is read by timer events; ``decide`` evaluates business-rule tasks' decisions
    (casepilot.dmn models, wired by :class:`casepilot.bpmn.ProcessDefinitions`).
    """

    def __init__(self, clock: Clock | None = None, decide: DecisionEvaluator | None = None) -> None:
        self.environment = FeelEnvironment()
        self.clock: Clock = clock or _utc_now
        self.decide = decide

    def now(self) -> dt.datetime:
        """The engine's current time (what timers compare against)."""
        return self.clock()

    def validate(self, expression: str) -> None:
        compile_expression(expression.strip())

    def evaluate(self, task: Any, expression: str, external_context: Mapping[str, Any] | None = None) -> Any:
        """Evaluate a FEEL expression in the task's data (SpiffWorkflow's hook)."""
        return evaluate_feel(expression, task.data, external_context)

    def execute(self, task: Any, script: str, external_context: Any = None) -> bool:
        """Scripts never run: refused (also at deploy)."""
        raise ExpressionError(SCRIPT_REFUSED, expression=script)

    def call_service(self, task: Any, **kwargs: Any) -> Any:
        raise ExpressionError("service tasks are answered by the host (ServiceCall), not by the engine")
