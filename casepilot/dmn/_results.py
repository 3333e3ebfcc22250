"""What an evaluation returns: ``DecisionResult`` and its typed ``Message`` list.

Evaluation never raises for problems in the model's logic or the data: FEEL and DMN
define a null result for those, and the caller (governance) must still get an
answer plus the reasons. ``EvalContext`` is the per-evaluation scratchpad that
collects messages and the matched rule ids while closures run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["DecisionResult", "EvalContext", "Message", "MessageKind"]

MessageKind = Literal[
    "feel-error",
    "type-mismatch",
    "no-rule-matched",
    "hit-policy-violation",
    "invalid-input",
    "invalid-output",
    "invocation-error",
    "missing-logic",
    "unsupported",
    "unknown-element",
]
"""Machine-readable kinds of evaluation messages."""


@dataclass(frozen=True, slots=True)
class Message:
    """One thing that went wrong (or is worth knowing) while evaluating."""

    kind: MessageKind
    element: str
    """Name of the decision / BKM / service whose logic produced the message."""
    text: str
    severity: Literal["error", "warning", "info"] = "error"

    def __str__(self) -> str:
        return f"{self.severity}: {self.element}: {self.text}"


@dataclass(frozen=True, slots=True)
class DecisionResult:
    """The outcome of evaluating a decision (or decision service) and everything it required.

    ``value`` is the FEEL value (None is FEEL null). ``rule_ids`` are the rules that
    matched in this decision's own table; ``decision_rule_ids`` has them for every
    decision and BKM evaluated in the DRD, in evaluation order, for audit records.
    """

    name: str
    value: Any
    rule_ids: tuple[str, ...] = ()
    decision_rule_ids: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    results: Mapping[str, Any] = field(default_factory=dict)
    """The value of every decision evaluated on the way (imported ones as ``prefix.name``)."""
    messages: tuple[Message, ...] = ()

    @property
    def ok(self) -> bool:
        """True when no error message was produced."""
        return not any(m.severity == "error" for m in self.messages)

    @property
    def errors(self) -> tuple[Message, ...]:
        return tuple(m for m in self.messages if m.severity == "error")


class EvalContext:
    """Mutable per-evaluation collector; never shared between evaluations."""

    __slots__ = ("messages", "rules")

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.rules: dict[str, list[str]] = {}

    def error(self, kind: MessageKind, element: str, text: str) -> None:
        self.messages.append(Message(kind, element, text))

    def warn(self, kind: MessageKind, element: str, text: str) -> None:
        self.messages.append(Message(kind, element, text, "warning"))

    def matched(self, element: str, rule_ids: list[str]) -> None:
        self.rules.setdefault(element, []).extend(rule_ids)
