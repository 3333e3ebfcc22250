"""Conditions of sentries and rules, compiled once per case definition.

All evaluation goes through ``casepilot.dmn.feel.compile_condition`` (FEEL, or the ``${…}``
dialect): the project has exactly one expression evaluator. A condition holds only when it
evaluates to ``true`` (FEEL null, errors and non-booleans count as false — ch. 5 Sentry: an if-part
that cannot be evaluated does not let a sentry fire). An absent or empty condition is true
(SCENARIOS.md; Camunda 7 and Flowable agree).

The host may show a condition other values than the stored ones: an :data:`ExpressionView`
given to the case instance (``CaseInstance.start`` / ``from_json``) gets the variables and the
names the condition reads and returns what the condition is evaluated on — casepilot's agent
reveals the clear values behind a case file's pseudonyms this way
(``casepilot.governance.pii.reveal``), while the engine stays pure and stores what it stored.
A view that cannot show a value raises; the engine does not evaluate the condition then (the
operation fails, and the host decides what that means), never on what it was not shown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeAlias

from casepilot.cmmn.definitions import Expression, Rule

__all__ = ["Condition", "ConditionCache", "ExpressionView", "evaluate", "truthy"]

ExpressionView: TypeAlias = Callable[[Mapping[str, Any], frozenset[str]], Mapping[str, Any]]
"""``view(variables, read)``: the variables an expression reading the names ``read`` is evaluated
on (the host's hook; see the module docstring). Without one, the stored variables."""


class Condition(Protocol):
    """What the runtime needs of a compiled expression (``casepilot.dmn.feel.CompiledExpression``)."""

    @property
    def free_names(self) -> frozenset[str]: ...

    def evaluate(self, variables: Mapping[str, Any]) -> Any: ...


def truthy(value: Any) -> bool:
    """A condition result counts as true only if it is boolean true (or the string ``"true"``)."""
    if value is True:
        return True
    return isinstance(value, str) and value.strip().lower() == "true"


def evaluate(cond: Condition, variables: Mapping[str, Any], view: ExpressionView | None) -> Any:
    """``cond`` evaluated on ``variables``, or on what ``view`` shows of them (when the condition
    reads any variable: a constant condition never asks the host)."""
    if view is not None and cond.free_names:
        variables = view(variables, cond.free_names)
    return cond.evaluate(variables)


class ConditionCache:
    """Compiles each distinct expression text once (``compile_condition`` is the only compiler)."""

    __slots__ = ("_compiled",)

    def __init__(self) -> None:
        self._compiled: dict[str, Condition] = {}

    def compile(self, expression: Expression | None) -> Condition | None:
        """The compiled condition, or ``None`` when the expression is absent/empty (= true)."""
        if expression is None or not expression.body.strip():
            return None
        text = expression.body.strip()
        found = self._compiled.get(text)
        if found is None:
            from casepilot.dmn.feel import compile_condition

            found = compile_condition(text)
            self._compiled[text] = found
        return found

    def rule_holds(self, rule: Rule | None, variables: Mapping[str, Any], *, absent: bool = False,
                   view: ExpressionView | None = None) -> bool:
        """Whether ``rule`` holds; ``absent`` is the answer when there is no rule at all."""
        if rule is None:
            return absent
        return self.holds(rule.condition, variables, view)

    def holds(self, expression: Expression | None, variables: Mapping[str, Any],
              view: ExpressionView | None = None) -> bool:
        """Whether a (possibly absent) condition holds (evaluated on ``view``'s variables, if given)."""
        cond = self.compile(expression)
        return True if cond is None else truthy(evaluate(cond, variables, view))

    @staticmethod
    def names_of(cond: Condition | None) -> frozenset[str]:
        """Variables a condition reads (empty for an absent one)."""
        return frozenset() if cond is None else cond.free_names
