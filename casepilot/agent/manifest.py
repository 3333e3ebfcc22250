"""The case bundle manifest (``casepilot.yaml``): what a deployable case consists of.

A bundle is a folder (or the same files deployed in the store) with a CMMN model, tool
bindings, DMN guardrails and this manifest, e.g. ``examples/claims/casepilot.yaml``::

    key: claim-triage
    model: claim-triage.cmmn
    tools: [loan_tools:registry]  # the Python tools the bindings call (see casepilot.tools.bundle_tools)
    case: claimTriage                      # optional when the model has one case
    bindings: bindings.yaml                # optional; default: bindings.yaml beside the model
    decisions: [pricing.dmn]               # optional; DMN models for decision tasks (by decisionRef)
    processes: [payment.bpmn]              # optional; BPMN processes for process tasks (by processRef)
    case_tasks: {Fraud check: fraud-check} # optional; case task -> deployed definition key
    signals: {confidence: claim.confidence, sentiment: sentiment}
    human_tasks:
      Senior analyst review:
        role: senior analyst
        options: [approve, reject]
        result: review                     # the case-file variable the decision is written to
        priority: high                     # low, normal (default), high, urgent
        due: P2D                           # ISO 8601 duration from the item's creation
        fields:                            # optional typed fields the person fills in with the decision
          reason_code: {type: choice, enum: [documents ok, fraud suspected, other], required: false}
          approved_amount: {type: number, required: false, label: Approved amount}
    governance:
      guardrails:
        - {file: guardrails.dmn, decision: Review routing, applies_to: [tool_call]}
      allowlist: {tools: [extract_claim, sentiment], stages: {Assessment: [approve_payment]}, roles: {}}
      budget: {max_tokens: 20000, max_cost: "0.50", max_llm_calls: 40, on_exceed: require_human, role: team lead}
      total_budget: {max_cost: "500", on_exceed: block}   # all cases of the definition together
      external_tools: [send_letter]
      provenance_role: case supervisor
      operator_role: claims operations     # recovery checkpoints, roleless checkpoints; runs cases
      starter_role: claims intake          # who may start a case (default: the operator role)
      roles: [team lead]                   # roles that exist besides those named above
      missing_input: require_human         # a guardrail's decisive input is missing
      max_repeats: 3                       # loop guard: same item planned / same call repeated
      prices: {gpt-4o-mini: {input_per_1k: "0.00015", output_per_1k: "0.0006"}}
    llm: {model: gpt-4o-mini, temperature: 0.2, max_tokens: 800, system_prompt: "..."}  # optional
    model_routing: {decision: Model routing, risk: claim.risk}   # optional; a decision in `decisions:`
    start: {required: {letter: string, policy: string}}          # optional; refused at start when missing or ill-typed

Operations on running cases (``casepilot.agent.operations``: terminate, suspend, resume,
retry, correct, reassign) are for the operator role and the roles ``governance.operations``
names per operation, e.g. ``operations: {correct: [claims handler], reassign: [team lead]}``.

The schema is strict (unknown keys are errors) so that a typo never silently switches a
policy off.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator

from casepilot.tools.bundle_tools import parse_tool_spec

__all__ = [
    "BudgetSpec",
    "GovernanceSpec",
    "GuardrailSpec",
    "HumanTaskSpec",
    "LLMSpec",
    "Manifest",
    "ModelRoutingSpec",
    "OperationName",
    "Priority",
    "SignalsSpec",
    "StartSpec",
    "TaskFieldSpec",
    "TaskFieldType",
    "VariableType",
]

OperationName = Literal["terminate", "suspend", "resume", "retry", "correct", "reassign"]
"""The operations people run on cases (``casepilot.agent.operations``)."""

VariableType = Literal["string", "number", "integer", "boolean", "object", "array", "any"]
"""JSON types a required starting variable may be declared with (``any``: present, any value)."""


TaskFieldType = Literal["string", "number", "integer", "boolean", "date", "choice"]
"""Types a human task's form field may be declared with (``date``: ISO ``YYYY-MM-DD``;
``choice``: one of the field's ``enum``)."""

Priority = Literal["low", "normal", "high", "urgent"]
"""How urgent a human task's inbox item is; the inbox sorts by it on request."""

_DURATION: TypeAdapter[timedelta] = TypeAdapter(timedelta)

_RESERVED_FIELDS = frozenset({"decision", "comment", "by"})
"""Keys of a human task's result that the decision itself fills."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SignalsSpec(_Strict):
    """Case-file paths of the signals guardrails read (``confidence``, ``sentiment``)."""

    confidence: str | None = None
    """Path of the agent's confidence (0–1) in the case file, e.g. ``claim.confidence``: the
    guardrails' ``confidence`` input."""
    sentiment: str | None = None
    """Path of a sentiment score (−1–1) in the case file: the guardrails' ``sentiment`` input."""


class TaskFieldSpec(_Strict):
    """One typed value a person enters with a human task's decision (a JSON-schema-like
    declaration: the page renders a field of the type, and the decision is refused, with
    every problem listed, when a value is missing or of the wrong type)."""

    type: TaskFieldType = "string"
    """``string``, ``number``, ``integer``, ``boolean``, ``date`` (ISO ``YYYY-MM-DD``, kept as
    that text in the case file) or ``choice`` (one of ``enum``)."""
    required: bool = True
    """Whether every decision must bring a value (``false``: the person may leave it empty)."""
    enum: tuple[str, ...] | None = None
    """The values a ``choice`` field offers, in order (required for ``choice``, refused otherwise)."""
    label: str | None = None
    """What the form calls the field; default: its name."""

    @field_validator("enum")
    @classmethod
    def _distinct(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None and (not value or len(set(value)) != len(value)):
            raise ValueError("enum must list at least one value, each once")
        return value

    def model_post_init(self, _context: object) -> None:
        if (self.type == "choice") != (self.enum is not None):
            raise ValueError("a choice field needs enum: [..]; only a choice field may have one")


class HumanTaskSpec(_Strict):
    """How a CMMN human task appears in the inbox and where its decision goes."""

    role: str | None = None
    """The role whose inbox the task goes to, and who may decide it; none: anyone may decide it."""
    options: tuple[str, ...] = ("done",)
    """The choices a person has; the decision is one of them."""
    result: str | None = None
    """Case-file variable that receives ``{decision, comment, by}`` and the values of ``fields``
    before the task completes."""
    question: str | None = None
    """What the inbox item asks; default: the task's name."""
    priority: Priority = "normal"
    """How urgent the task's inbox item is: ``low``, ``normal``, ``high`` or ``urgent``."""
    due: str | None = None
    """When the item is due, as an ISO 8601 duration from its creation (``P2D``, ``PT4H``,
    ``P1DT12H``; weeks, days and smaller units): the inbox shows the due time, marks it overdue
    and sorts by it on request. A reminder for people, not a timer: nothing happens at
    that time (a CMMN timer event does that)."""
    fields: dict[str, TaskFieldSpec] = Field(default_factory=dict)
    """Field name -> its declaration (``{type: number}``, or just the type: ``amount: number``):
    typed values the person enters with the decision, checked on the server and written into
    ``result`` beside ``decision``, ``comment`` and ``by`` (so those three names are taken)."""

    @field_validator("due")
    @classmethod
    def _iso_duration(cls, value: str | None) -> str | None:
        if value is not None:
            calendar = value[1:].split("T")[0]
            if "Y" in calendar or "M" in calendar:
                raise ValueError(f"due: {value!r} uses months or years, whose length varies; write days (P30D)")
            try:
                parsed = _DURATION.validate_python(value) if value.startswith("P") else None
            except ValueError:
                parsed = None
            if parsed is None or parsed <= timedelta(0):
                raise ValueError(f"due: {value!r} is not a positive ISO 8601 duration such as P2D or PT4H")
        return value

    @property
    def due_after(self) -> timedelta | None:
        """``due`` as a time span (None: no due time)."""
        return _DURATION.validate_python(self.due) if self.due is not None else None

    @field_validator("fields", mode="before")
    @classmethod
    def _type_shorthand(cls, value: object) -> object:
        if isinstance(value, dict):
            return {k: {"type": v} if isinstance(v, str) else v for k, v in value.items()}
        return value

    @field_validator("fields")
    @classmethod
    def _free_names(cls, value: dict[str, TaskFieldSpec]) -> dict[str, TaskFieldSpec]:
        taken = sorted(_RESERVED_FIELDS & set(value))
        if taken:
            raise ValueError(f"field names {taken} are taken by the decision itself (decision, comment, by)")
        blank = [name for name in value if not name.strip()]
        if blank:
            raise ValueError("a field needs a name")
        return value

    def model_post_init(self, _context: object) -> None:
        if self.fields and self.result is None:
            raise ValueError("fields need result: the case-file variable their values are written to")


class GuardrailSpec(_Strict):
    """A DMN decision that reviews actions: its ``verdict`` output (``allow``, ``block``,
    ``require_human``) and ``reason``, ``role`` decide (``casepilot.governance.guardrails`` lists its inputs)."""

    file: str
    """The DMN file, relative to the manifest (deployed with the bundle)."""
    decision: str
    """The decision's name or id in that file."""
    applies_to: tuple[Literal["transition", "tool_call", "llm_call", "retrieval", "message"], ...] = (
        "transition",
        "tool_call",
        "llm_call",
        "retrieval",
        "message",
    )
    """The kinds of action the guardrail reviews (default: all)."""
    amount: str = "amount"
    """Path of the amount field (in the action's arguments, else the case file)."""


class AllowlistSpec(_Strict):
    """Which tools may run; each layer can only narrow what the one above allows."""

    tools: tuple[str, ...] | None = None
    """The tools cases of this definition may call; none: no definition-wide restriction."""
    stages: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """Stage name -> the tools allowed while working inside that stage."""
    roles: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """Role -> the tools an actor with that role may run (people's actions, ``casepilot act``)."""


class BudgetSpec(_Strict):
    """Limits on what language models may spend; reaching one blocks or asks a person."""

    max_tokens: int | None = None
    """Tokens, prompt and completion together."""
    max_cost: Decimal | None = None
    """Money, in the currency of ``prices`` (write it as a string: ``"0.50"``)."""
    max_wall_seconds: float | None = None
    """Wall-clock seconds since the case started."""
    max_llm_calls: int | None = None
    """Language-model calls."""
    on_exceed: Literal["block", "require_human"] = "block"
    """What going over a limit yields."""
    role: str | None = None
    """Who may allow going over (with ``require_human``); none: the operator role."""


class PriceSpec(_Strict):
    """A model's price; a model without one is never costed at zero (refused under a cost budget)."""

    input_per_1k: Decimal
    """Price of 1,000 prompt tokens."""
    output_per_1k: Decimal
    """Price of 1,000 completion tokens."""


class GovernanceSpec(_Strict):
    """The policies between every decision and its effect."""

    guardrails: tuple[GuardrailSpec, ...] = ()
    """DMN decisions that review actions, in order; the strictest verdict wins."""
    allowlist: AllowlistSpec | None = None
    """Which tools may run; none: every bound tool."""
    budget: BudgetSpec | None = None
    """Limits for each case of the definition."""
    total_budget: BudgetSpec | None = None
    """Limits on what all cases of the definition spend on language models together
    (tokens, cost, LLM calls)."""
    external_tools: tuple[str, ...] = ()
    """Tools that call services outside the process: they get pseudonyms, never clear personal data."""
    provenance_role: str | None = "case supervisor"
    """Who must allow a non-idempotent tool call whose arguments came from an untrusted source
    (a document, a tool, a model); ``null`` switches the rule off."""
    roles: tuple[str, ...] = ()
    """Roles that exist for this bundle besides those named elsewhere in it (human tasks,
    budgets, the CMMN model's case roles, reveal roles …). A checkpoint may only go to a role
    that exists in the bundle."""
    operator_role: str | None = None
    """Who operates cases of this definition: runs and repairs them, answers recovery
    checkpoints ("this payment may have run — run it again?") and every checkpoint a policy
    raised without naming a role. Required when the bundle binds a non-idempotent tool."""
    starter_role: str | None = None
    """The role a person needs to start a case of this definition when the service knows who
    is asking (an identity source is configured); ``None``: the operator role."""
    missing_input: Literal["require_human", "block"] = "require_human"
    """What a guardrail whose decisive input is missing yields (``require_human`` goes to the
    operator role)."""
    max_repeats: int = Field(default=3, ge=1)
    """Loop guard: how often the same plan item may be planned, or the same tool called with
    the same arguments, in one case before a person (the operator role) must allow more."""
    prices: dict[str, PriceSpec] = Field(default_factory=dict)
    """Model name -> its price, for budgets and the usage records."""
    reveal_roles: tuple[str, ...] = ()
    """Roles allowed to see the clear text behind pseudonyms."""
    operations: dict[OperationName, tuple[str, ...]] = Field(default_factory=dict)
    """Roles that may run an operation on cases besides the operator role (who may run them all),
    e.g. ``{correct: [claims handler]}``."""


class LLMSpec(_Strict):
    """How this definition's model calls are made (a routing decision's outputs win over these)."""

    model: str | None = None
    """The model's name at the endpoint; none: the endpoint's default (``CASEPILOT_MODEL``)."""
    temperature: float | None = Field(default=None, ge=0, le=2)
    """Sampling temperature, 0–2."""
    max_tokens: int | None = Field(default=None, ge=1)
    """The longest completion asked for."""
    system_prompt: str | None = None
    """Replaces the planner's system prompt (``casepilot.agent.llm_planner.SYSTEM_PROMPT``)."""


class ModelRoutingSpec(_Strict):
    """A DMN decision (in one of the ``decisions:`` files) that chooses endpoint and model per call."""

    decision: str
    """The decision's name or id."""
    risk: str | None = None
    """Case-file path of the ``risk`` input (e.g. ``claim.risk``)."""


class StartSpec(_Strict):
    """What a case needs to start: a start without a required variable, or with one of the
    wrong JSON type, is refused with every problem listed (``InvalidStartVariables``)."""

    required: dict[str, VariableType] = Field(default_factory=dict)
    """Variable -> its JSON type (``any``: present, whatever the value)."""


class Manifest(_Strict):
    """``casepilot.yaml``: what a deployable case bundle consists of."""

    key: str
    """The definition's key: deploying again under the same key makes a new version."""
    model: str
    """The CMMN file, relative to the manifest."""
    case: str | None = None
    """Which case of the model (id or name); optional when the model has one case."""
    bindings: str | None = None
    """The tool bindings file; default: ``bindings.yaml`` beside the model, if there is one."""
    tools: tuple[str, ...] = ()
    """The Python tools the bundle's bindings call, besides the built-in ones: ``module:attribute``
    (a ``.py`` file beside the manifest, deployed with the bundle, or an installed module) or the
    name of an entry point of the group ``casepilot.tools``. The attribute is a ``ToolRegistry``,
    a tool, a list of tools or a function returning one of these."""
    decisions: tuple[str, ...] = ()
    """DMN files whose decisions the case's decision tasks evaluate (matched by ``decisionRef``)."""
    processes: tuple[str, ...] = ()
    """BPMN files (``.bpmn``) whose processes the case's process tasks run: a process task without a
    tool binding runs the process its ``processRef`` names (the process id), with the task's inputs,
    and completes with its outputs (``casepilot.agent._process_tasks``). Business-rule tasks of the
    processes evaluate the decisions of ``decisions:``."""
    case_tasks: dict[str, str] = Field(default_factory=dict)
    """Case task (name, id or caseRef) -> key of the deployed definition its child case runs
    (default: the caseRef itself)."""
    description: str = ""
    """What the case is for, shown in lists."""
    signals: SignalsSpec = SignalsSpec()
    """Where the guardrails' signals are in the case file."""
    human_tasks: dict[str, HumanTaskSpec] = Field(default_factory=dict)
    """Human task (name or id) -> its inbox item."""
    governance: GovernanceSpec = GovernanceSpec()
    """Guardrails, allowlist, budgets and roles."""
    llm: LLMSpec = LLMSpec()
    """How the planner's language-model calls are made."""
    model_routing: ModelRoutingSpec | None = None
    """See ``casepilot.agent.model_routing``; a plain string names the decision."""
    start: StartSpec = StartSpec()
    """What a start must bring."""

    @field_validator("model_routing", mode="before")
    @classmethod
    def _routing_by_name(cls, value: object) -> object:
        return {"decision": value} if isinstance(value, str) else value

    @field_validator("tools", "processes", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("tools")
    @classmethod
    def _tool_entries(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            parse_tool_spec(entry)  # ValueError -> a validation error naming the entry
        return value

    def files(self) -> tuple[str, ...]:
        """The files the manifest names (model, bindings, decisions, processes, guardrails), in order, once each."""
        named = [self.model, *([self.bindings] if self.bindings else []), *self.decisions, *self.processes,
                 *(g.file for g in self.governance.guardrails)]
        return tuple(dict.fromkeys(named))
