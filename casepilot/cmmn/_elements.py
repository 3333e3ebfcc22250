"""The building blocks of CMMN definitions: locations, extensions, expressions, rules,
sentries and their parts, criteria, parameters, roles — and the CMMN vocabularies (standard
events, item kinds). Kept apart from the plan item definitions and the case in
``definitions`` (which re-exports everything here) so each module holds one idea.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, TypeAlias

__all__ = [
    "CMMN_NS",
    "EXTENSIONS",
    "NO_EXTENSIONS",
    "CaseFileItemOnPart",
    "CaseFileTransition",
    "Criterion",
    "Expression",
    "ExtensionElement",
    "Extensions",
    "IfPart",
    "ItemControl",
    "ItemKind",
    "OnPart",
    "Parameter",
    "ParameterMapping",
    "PlanItemOnPart",
    "PlanItemTransition",
    "Role",
    "Rule",
    "Sentry",
    "SourceLocation",
]

CMMN_NS = "http://www.omg.org/spec/CMMN/20151109/MODEL"
"""The CMMN 1.1 model namespace."""

EXTENSIONS: Mapping[str, str] = MappingProxyType(
    {
        # Filled by the parser/runtime owners: qualified extension attribute -> what the runtime does with it.
        "{http://flowable.org/cmmn}sentryRef": "parser: on entryCriterion/exitCriterion without a standard "
        "sentryRef, read as sentryRef (Flowable's converter does the same)",
        "{http://flowable.org/cmmn}maxInstanceCount": "parser: the value 'unlimited' restates CMMN 1.1 and is "
        "accepted; any limit is refused",
        "{http://flowable.org/cmmn}triggerMode": "parser: 'default' restates CMMN 1.1 sentries and is accepted; "
        "'onEvent' is refused",
        "{http://flowable.org/cmmn}exitType": "parser: 'default' restates CMMN 1.1 and is accepted; other "
        "exit types are refused",
        "{http://flowable.org/cmmn}exitEventType": "parser: 'exit' restates CMMN 1.1 and is accepted; "
        "'complete'/'forceComplete' are refused",
        "{https://casepilot.dev/cmmn/extensions}tool": "agent: the registered tool that runs this task "
        "(task, processTask, decisionTask)",
        "{https://casepilot.dev/cmmn/extensions}inputs": "agent: 'arg=case.file.path; other='literal'' — where "
        "the tool's arguments come from",
        "{https://casepilot.dev/cmmn/extensions}outputs": "agent: 'variable=result.field' — which result fields "
        "go into the case file",
    }
)
"""Vendor extension attributes the runtime understands (all others are kept and ignored)."""

PlanItemTransition: TypeAlias = Literal[
    "close",
    "complete",
    "create",
    "disable",
    "enable",
    "exit",
    "fault",
    "manualStart",
    "occur",
    "parentResume",
    "parentSuspend",
    "reactivate",
    "reenable",
    "resume",
    "start",
    "suspend",
    "terminate",
]
"""Standard events an on-part or start trigger may name: exactly the ``PlanItemTransition``
enumeration of the CMMN 1.1 schema (CMMN11CaseModel.xsd). The event listener and milestone
lifecycle (ch. 8) also has ``parentTerminate``, which the runtime records, but the schema gives a
model no way to name it."""

CaseFileTransition: TypeAlias = Literal[
    "addChild", "addReference", "create", "delete", "removeChild", "removeReference", "replace", "update"
]
"""Standard events of case file items (CMMN 1.1 ch. 8 case file item lifecycle)."""

ItemKind: TypeAlias = Literal[
    "caseTask",
    "decisionTask",
    "humanTask",
    "milestone",
    "processTask",
    "stage",
    "task",
    "timerEventListener",
    "userEventListener",
    "eventListener",
]
"""The kinds of plan item definitions, named like their XML elements."""


@dataclass(frozen=True, slots=True)
class SourceLocation:
    """Where an element was defined: for error messages and tooling."""

    file: str | None
    line: int | None

    def __str__(self) -> str:
        return f"{self.file or '<bytes>'}:{self.line if self.line is not None else '?'}"


@dataclass(frozen=True, slots=True)
class ExtensionElement:
    """A vendor or DI element kept verbatim (qualified tag, attributes, raw XML)."""

    tag: str
    attributes: Mapping[str, str]
    xml: str


@dataclass(frozen=True, slots=True)
class Extensions:
    """Attributes in foreign namespaces and ``extensionElements`` children of one element."""

    attributes: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    elements: tuple[ExtensionElement, ...] = ()

    def attribute(self, namespace: str, name: str) -> str | None:
        """The value of extension attribute ``{namespace}name``, if present."""
        return self.attributes.get(f"{{{namespace}}}{name}")


NO_EXTENSIONS = Extensions()


@dataclass(frozen=True, slots=True)
class Expression:
    """An expression body and its language.

    ``language`` is the element's ``language`` attribute or the definitions'
    ``expressionLanguage``; ``None`` means the default (FEEL, or the ``${…}`` dialect
    when the body is written that way — ``casepilot.dmn.feel.compile_condition`` decides).
    """

    body: str
    language: str | None = None
    location: SourceLocation | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    """A required, repetition, manual-activation or applicability rule (ch. 5 PlanItemControl, ch. 5 DiscretionaryItem)."""

    id: str | None
    name: str | None
    condition: Expression | None
    """``None`` (or an empty body) counts as true."""
    context_ref: str | None = None
    """Id of the case file item the condition is evaluated in the context of."""
    location: SourceLocation | None = None
    extensions: Extensions = NO_EXTENSIONS
    """Vendor attributes, e.g. Camunda's ``repeatOnStandardEvent`` on a repetition rule."""


@dataclass(frozen=True, slots=True)
class ItemControl:
    """``itemControl`` of a plan item / discretionary item or ``defaultControl`` of a definition."""

    required_rule: Rule | None = None
    repetition_rule: Rule | None = None
    manual_activation_rule: Rule | None = None


@dataclass(frozen=True, slots=True)
class PlanItemOnPart:
    """Listens to a lifecycle transition of a plan item (``sourceRef`` = plan item id)."""

    id: str | None
    source_ref: str
    standard_event: PlanItemTransition
    exit_criterion_ref: str | None = None
    """When set, only an ``exit`` caused by this exit criterion of the source counts."""
    name: str | None = None
    location: SourceLocation | None = None


@dataclass(frozen=True, slots=True)
class CaseFileItemOnPart:
    """Listens to a transition of a case file item (``sourceRef`` = case file item id)."""

    id: str | None
    source_ref: str
    standard_event: CaseFileTransition
    name: str | None = None
    location: SourceLocation | None = None


OnPart: TypeAlias = PlanItemOnPart | CaseFileItemOnPart


@dataclass(frozen=True, slots=True)
class IfPart:
    """The condition of a sentry; ``context_ref`` names a case file item."""

    condition: Expression | None
    context_ref: str | None = None
    id: str | None = None
    location: SourceLocation | None = None


@dataclass(frozen=True, slots=True)
class Sentry:
    """A sentry: satisfied when all on-parts have occurred and the if-part holds (ch. 5 Sentry)."""

    id: str
    name: str | None
    on_parts: tuple[OnPart, ...]
    if_part: IfPart | None
    location: SourceLocation | None = None
    extensions: Extensions = NO_EXTENSIONS


@dataclass(frozen=True, slots=True)
class Criterion:
    """An entry or exit criterion of a plan item, discretionary item or the case plan model."""

    id: str | None
    sentry_ref: str
    kind: Literal["entry", "exit"]
    name: str | None = None
    location: SourceLocation | None = None


@dataclass(frozen=True, slots=True)
class Parameter:
    """A case/task input or output parameter (ch. 5 Parameter)."""

    id: str | None
    name: str | None
    binding_ref: str | None = None
    """Id of the case file item the parameter is bound to."""
    binding_refinement: Expression | None = None
    location: SourceLocation | None = None


@dataclass(frozen=True, slots=True)
class ParameterMapping:
    """Maps a task parameter to a parameter of the process/case/decision it invokes."""

    source_ref: str | None
    target_ref: str | None
    transformation: Expression | None = None
    id: str | None = None
    location: SourceLocation | None = None


@dataclass(frozen=True, slots=True)
class Role:
    """A case role (``caseRoles/role``), referenced by human tasks and discretionary items."""

    id: str
    name: str | None
    location: SourceLocation | None = None
