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
from casepilot.governance.pii.reveal import Revealer, conceal, needs_detector, reveal_names

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


def evaluate_feel(expression: str, data: Mapping[str, Any], extra: Mapping[str, Any] | None = None, *,
                  revealer: Revealer | None = None, kept: bool = False) -> Any:
    """Evaluate FEEL ``expression`` over process ``data`` (and ``extra`` names); a plain result.

    With a ``revealer`` (a process in a case) the expression sees the clear values behind the
    pseudonyms of the variables it reads, and its result gets the pseudonyms back; ``kept``
    (the result becomes process data) also passes it through the revealer's ``conceal``
    (see ``casepilot.governance.pii.reveal``). A syntax error raises ``ExpressionSyntaxError``; runtime
    problems give FEEL null (None); personal data that cannot be revealed raises
    ``PersonalDataErased``.
    """
    names: dict[str, Any] = dict(extra or {})
    names.update(data)
    compiled = compile_expression(expression.strip())
    if revealer is None:
        return to_plain(compiled.evaluate(names))
    view, clear = reveal_names(names, compiled.free_names, revealer)
    if not clear:
        return to_plain(compiled.evaluate(names))
    result = conceal(to_plain(compiled.evaluate(view)), clear)
    return revealer.conceal(result) if kept and needs_detector(result, names, compiled.free_names) else result


class FeelEnvironment:
    """What SpiffWorkflow calls ``script_engine.environment``: FEEL evaluation over a context (ad-hoc
    completion conditions, message correlation expressions) — with the engine's revealer, like
    every other expression of the process."""

    def __init__(self, engine: FeelScriptEngine | None = None) -> None:
        self.engine = engine

    def evaluate(self, expression: str, context: Mapping[str, Any],
                 external_context: Mapping[str, Any] | None = None) -> Any:
        revealer = self.engine.revealer if self.engine is not None else None
        return evaluate_feel(expression, context, external_context, revealer=revealer)

    def execute(self, script: str, context: Any, external_context: Any = None) -> bool:
        raise ExpressionError(SCRIPT_REFUSED, expression=script)

    def call_service(self, context: Any, **kwargs: Any) -> Any:
        raise ExpressionError("service tasks are answered by the host (ServiceCall), not by the engine")


DecisionEvaluator = Callable[[str, Mapping[str, Any]], Any]
"""(decision id or name, process data) -> the decision's value (a business-rule task's result)."""


class FeelScriptEngine:
    """Drop-in for SpiffWorkflow's script engine that evaluates FEEL only.

    ``clock`` is read by timer events; ``decide`` evaluates business-rule tasks' decisions
    (casepilot.dmn models, wired by :class:`casepilot.bpmn.ProcessDefinitions`); ``revealer``
    lets expressions see the clear values behind a case's pseudonyms.
    """

    def __init__(self, clock: Clock | None = None, decide: DecisionEvaluator | None = None,
                 revealer: Revealer | None = None) -> None:
        self.environment = FeelEnvironment(self)
        self.clock: Clock = clock or _utc_now
        self.decide = decide
        self.revealer = revealer
        """The host's privacy layer: expressions see clear values (``casepilot.governance.pii.reveal``); None: as stored."""

    def now(self) -> dt.datetime:
        """The engine's current time (what timers compare against)."""
        return self.clock()

    def validate(self, expression: str) -> None:
        compile_expression(expression.strip())

    def evaluate(self, task: Any, expression: str, external_context: Mapping[str, Any] | None = None) -> Any:
        """Evaluate a FEEL expression in the task's data (SpiffWorkflow's hook: conditions, timers,
        multi-instance expressions — results that are not process data)."""
        return evaluate_feel(expression, task.data, external_context, revealer=self.revealer)

    def execute(self, task: Any, script: str, external_context: Any = None) -> bool:
        """Scripts never run: refused (also at deploy)."""
        raise ExpressionError(SCRIPT_REFUSED, expression=script)

    def call_service(self, task: Any, **kwargs: Any) -> Any:
        raise ExpressionError("service tasks are answered by the host (ServiceCall), not by the engine")
