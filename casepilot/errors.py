"""The exception tree of casepilot.

Every error a user can meet is one of these, with a message that says what to do.
Developer misuse (calling an API wrongly) is kept apart from runtime failures
(a model, an expression, the database misbehaving), so that a service can map the
first to HTTP 4xx and the second to a retry or an incident::

    CasepilotError
    ├── DefinitionError            malformed / unsupported / hostile CMMN or DMN XML, bad bindings
    ├── ExpressionError            FEEL or ${…} expression: syntax error or evaluation failure
    │   └── ExpressionSyntaxError  the text does not parse (carries position)
    ├── IllegalTransition          a lifecycle transition not allowed in the item's current state
    ├── UnknownPlanItem            an action names a plan item / instance that does not exist
    ├── GovernanceBlocked          a verdict forbade the action
    ├── DecisionRejected           a human decision was refused (wrong role, changed action, expired, bad option)
    ├── NotAuthorized              a person lacks a role the case model requires for an action
    ├── ConcurrencyConflict        another writer changed the case first (optimistic locking)
    │   └── CaseBusy               another worker holds the case's lease (one worker per case)
    ├── StoreError                 persistence failures other than conflicts
    │   ├── NotFound               a case, definition, task or event that does not exist
    │   └── CaseDataErased         new personal data for a case whose personal data was erased
    ├── HistoryTampered            the hash chain of a case history does not verify
    ├── PersonalDataErased         an expression or decision reads personal data that can no longer be revealed
    ├── RetrievalError             a document collection refused input (empty text or query, mismatched embeddings)
    └── ToolError                  a tool failed, timed out or returned an invalid result
"""

from __future__ import annotations

__all__ = [
    "CaseBusy",
    "CaseDataErased",
    "CasepilotError",
    "ConcurrencyConflict",
    "DecisionRejected",
    "DefinitionError",
    "ExpressionError",
    "ExpressionSyntaxError",
    "GovernanceBlocked",
    "HistoryTampered",
    "IllegalTransition",
    "NotAuthorized",
    "NotFound",
    "PersonalDataErased",
    "RetrievalError",
    "StoreError",
    "ToolError",
    "UnknownPlanItem",
]


class CasepilotError(Exception):
    """Base of every error raised by casepilot."""


class DefinitionError(CasepilotError):
    """A CMMN/DMN definition (or a binding file) is malformed, unsupported or hostile.

    ``problems`` holds every problem found, so a user fixes a model in one round
    instead of one error per attempt; ``str()`` lists them all.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        element: str | None = None,
        problems: list[DefinitionError] | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.element = element
        self.problems: list[DefinitionError] = problems if problems is not None else []
        super().__init__(self._render())

    def _render(self) -> str:
        where = ""
        if self.file is not None:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        elif self.line is not None:
            where = f"line {self.line}: "
        elem = f"<{self.element}> " if self.element else ""
        text = f"{where}{elem}{self.message}"
        if self.problems:
            text += "".join(f"\n  - {p._render()}" for p in self.problems)
        return text


class ExpressionError(CasepilotError):
    """A FEEL or ``${…}`` expression could not be compiled or evaluated."""

    def __init__(self, message: str, *, expression: str | None = None) -> None:
        self.message = message
        self.expression = expression
        super().__init__(message if expression is None else f"{message} in expression {expression!r}")


class ExpressionSyntaxError(ExpressionError):
    """The expression text does not parse; ``line``/``column`` point at the offending token."""

    def __init__(
        self, message: str, *, expression: str | None = None, line: int | None = None, column: int | None = None
    ) -> None:
        self.line = line
        self.column = column
        pos = f" at line {line}, column {column}" if line is not None and column is not None else ""
        super().__init__(f"{message}{pos}", expression=expression)


class IllegalTransition(CasepilotError):
    """A lifecycle transition was asked for in a state that does not allow it."""

    def __init__(self, item: str, state: str, transition: str, *, allowed: list[str] | None = None) -> None:
        self.item = item
        self.state = state
        self.transition = transition
        self.allowed = allowed or []
        hint = f"; in state {state} it allows: {', '.join(self.allowed)}" if self.allowed else ""
        super().__init__(f"cannot {transition} {item!r}: it is {state}{hint}")


class UnknownPlanItem(CasepilotError):
    """An action names a plan item, instance or discretionary item that does not exist."""


class GovernanceBlocked(CasepilotError):
    """The governance layer forbade an action; ``rule_ids`` names what decided it."""

    def __init__(self, message: str, *, policy: str | None = None, rule_ids: list[str] | None = None) -> None:
        self.policy = policy
        self.rule_ids = rule_ids or []
        super().__init__(message)


class DecisionRejected(CasepilotError):
    """A person's decision on an inbox item was refused; the message says why and what to do."""


class NotAuthorized(CasepilotError):
    """A person may not take an action: the CMMN model authorises other roles (``authorizedRoleRefs``)."""


class ConcurrencyConflict(CasepilotError):
    """Another writer updated the case since it was loaded; reload and apply the step again."""


class CaseBusy(ConcurrencyConflict):
    """Another worker holds the case's lease and did not give it back in time; try again later."""


class StoreError(CasepilotError):
    """The store could not read or write."""


class NotFound(StoreError):
    """The requested case, definition, task or event does not exist."""


class CaseDataErased(StoreError):
    """New personal data for a case whose personal data was erased (``casepilot erase`` shredded its
    vault key): nothing personal can be stored for it any more. Not a failure of the store — the
    request must leave the personal data out — so the API answers 409, not 503."""


class HistoryTampered(CasepilotError):
    """A case history's hash chain does not verify; ``sequence`` is the first bad event."""

    def __init__(self, message: str, *, case_id: str | None = None, sequence: int | None = None) -> None:
        self.case_id = case_id
        self.sequence = sequence
        super().__init__(message)


class PersonalDataErased(CasepilotError):
    """An expression or a decision reads personal data whose clear value cannot be revealed (the
    case's personal data was erased): it is not evaluated — neither on the pseudonym nor on null."""


class RetrievalError(CasepilotError):
    """Retrieval over a document collection refused its input: empty text or query, bad chunking
    settings, or a collection queried with another embedding function than it was built with."""


class ToolError(CasepilotError):
    """A tool failed, timed out, or returned a result that does not match its schema."""
