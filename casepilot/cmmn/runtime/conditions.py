"""Conditions of sentries and rules, compiled once per case definition.

All evaluation goes through ``casepilot.dmn.feel.compile_condition`` (FEEL, or the ``${…}``
dialect): the project has exactly one expression evaluator. A condition holds only when it
evaluates to ``true`` (FEEL null, errors and non-booleans count as false — ch. 5 Sentry: an if-part
that cannot be evaluated does not let a sentry fire). An absent or empty condition is true
(SCENARIOS.md; Camunda 7 and Flowable agree).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from casepilot.cmmn.definitions import Expression, Rule

__all__ = ["Condition", "ConditionCache", "truthy"]


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

    def rule_holds(self, rule: Rule | None, variables: Mapping[str, Any], *, absent: bool = False) -> bool:
        """Whether ``rule`` holds; ``absent`` is the answer when there is no rule at all."""
        if rule is None:
            return absent
        cond = self.compile(rule.condition)
        return True if cond is None else truthy(cond.evaluate(variables))

    def holds(self, expression: Expression | None, variables: Mapping[str, Any]) -> bool:
        """Whether a (possibly absent) condition holds."""
        cond = self.compile(expression)
        return True if cond is None else truthy(cond.evaluate(variables))

    @staticmethod
    def names_of(cond: Condition | None) -> frozenset[str]:
        """Variables a condition reads (empty for an absent one)."""
        return frozenset() if cond is None else cond.free_names
