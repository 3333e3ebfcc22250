"""Frozen definitions of a CMMN 1.1 model — what the parser produces and the runtime reads.

These objects are immutable and keyed by the model's element ids; runtime state lives
in ``casepilot.cmmn.runtime`` and only refers to definitions by id (DESIGN.md, example 1).
Everything the OMG CMMN 1.1 metamodel defines for case execution is represented;
CMMNDI and vendor extensions are kept verbatim in ``Extensions`` so nothing a modeler
wrote is lost, but they never change behaviour unless documented in ``EXTENSIONS``.

Names follow the specification (ch. 5); ``location`` points back at the source file and line
so that every later error can name them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeAlias

__all__ = [
    "CMMN_NS",
    "EXTENSIONS",
    "NO_EXTENSIONS",
    "Case",
    "CaseFileItem",
    "CaseFileItemDefinition",
    "CaseFileItemOnPart",
    "CaseFileItemStartTrigger",
    "CaseFileTransition",
    "CaseTask",
    "Criterion",
    "DecisionTask",
    "Definitions",
    "DiscretionaryItem",
    "EventListener",
    "Expression",
    "ExtensionElement",
    "Extensions",
    "HumanTask",
    "IfPart",
    "ItemControl",
    "ItemKind",
    "Milestone",
    "OnPart",
    "Parameter",
    "ParameterMapping",
    "PlanItem",
    "PlanItemDefinition",
    "PlanItemOnPart",
    "PlanItemStartTrigger",
    "PlanItemTransition",
    "PlanningTable",
    "ProcessTask",
    "Role",
    "Rule",
    "Sentry",
    "SourceLocation",
    "Stage",
    "StartTrigger",
    "Task",
    "TimerEventListener",
    "UserEventListener",
]

from casepilot.cmmn._elements import (
    CMMN_NS,
    EXTENSIONS,
    NO_EXTENSIONS,
    CaseFileItemOnPart,
    CaseFileTransition,
    Criterion,
    Expression,
    ExtensionElement,
    Extensions,
    IfPart,
    ItemControl,
    ItemKind,
    OnPart,
    Parameter,
    ParameterMapping,
    PlanItemOnPart,
    PlanItemTransition,
    Role,
    Rule,
    Sentry,
    SourceLocation,
)

# ---------------------------------------------------------------------------------------------
# Plan item definitions
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanItemDefinition:
    """Common part of every plan item definition (ch. 5 PlanItemDefinition)."""

    id: str
    name: str | None
    kind: ItemKind
    default_control: ItemControl | None = None
    location: SourceLocation | None = None
    extensions: Extensions = NO_EXTENSIONS
    documentation: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Task(PlanItemDefinition):
    """A task; ``is_blocking`` false means it completes as soon as it is active (ch. 5 Task, isBlocking)."""

    is_blocking: bool = True
    inputs: tuple[Parameter, ...] = ()
    outputs: tuple[Parameter, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class HumanTask(Task):
    """A task performed by a person; may own a planning table (ch. 5 HumanTask)."""

    performer_ref: str | None = None
    planning_table: PlanningTable | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ProcessTask(Task):
    """Invokes a process (``processRef`` or a ``processRefExpression``)."""

    process_ref: str | None = None
    process_ref_expression: Expression | None = None
    mappings: tuple[ParameterMapping, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseTask(Task):
    """Invokes another case (``caseRef`` or a ``caseRefExpression``)."""

    case_ref: str | None = None
    case_ref_expression: Expression | None = None
    mappings: tuple[ParameterMapping, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionTask(Task):
    """Invokes a DMN decision (``decisionRef`` or a ``decisionRefExpression``)."""

    decision_ref: str | None = None
    decision_ref_expression: Expression | None = None
    mappings: tuple[ParameterMapping, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Milestone(PlanItemDefinition):
    """An achievable target; occurs when its entry criteria are satisfied (ch. 5 Milestone)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EventListener(PlanItemDefinition):
    """A generic event listener (``eventListener``); occurs only when told to."""


@dataclass(frozen=True, slots=True, kw_only=True)
class UserEventListener(EventListener):
    """Occurs when a person (with one of ``authorized_role_refs``, if any) says so."""

    authorized_role_refs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PlanItemStartTrigger:
    """Starts a timer when a plan item makes ``standard_event``."""

    id: str | None
    source_ref: str
    standard_event: PlanItemTransition
    location: SourceLocation | None = None


@dataclass(frozen=True, slots=True)
class CaseFileItemStartTrigger:
    """Starts a timer when a case file item makes ``standard_event``."""

    id: str | None
    source_ref: str
    standard_event: CaseFileTransition
    location: SourceLocation | None = None


StartTrigger: TypeAlias = PlanItemStartTrigger | CaseFileItemStartTrigger


@dataclass(frozen=True, slots=True, kw_only=True)
class TimerEventListener(EventListener):
    """Occurs when its timer expression (ISO-8601 duration / date-time / repeat) is due (ch. 5 EventListener)."""

    timer_expression: Expression | None = None
    start_trigger: StartTrigger | None = None
    """``None``: the timer starts when the listener's instance is created."""


@dataclass(frozen=True, slots=True)
class PlanItem:
    """A use of a plan item definition inside a stage (ch. 5 PlanItem)."""

    id: str
    name: str | None
    definition_ref: str
    entry_criteria: tuple[Criterion, ...] = ()
    exit_criteria: tuple[Criterion, ...] = ()
    item_control: ItemControl | None = None
    location: SourceLocation | None = None
    extensions: Extensions = NO_EXTENSIONS


@dataclass(frozen=True, slots=True)
class DiscretionaryItem:
    """A plan item that a person (or the agent) may add from a planning table (ch. 5 DiscretionaryItem)."""

    id: str
    name: str | None
    definition_ref: str
    applicability_rule_refs: tuple[str, ...] = ()
    authorized_role_refs: tuple[str, ...] = ()
    entry_criteria: tuple[Criterion, ...] = ()
    exit_criteria: tuple[Criterion, ...] = ()
    item_control: ItemControl | None = None
    location: SourceLocation | None = None
    extensions: Extensions = NO_EXTENSIONS


@dataclass(frozen=True, slots=True)
class PlanningTable:
    """Discretionary items and nested tables, with the applicability rules they reference."""

    id: str
    name: str | None
    items: tuple[DiscretionaryItem | PlanningTable, ...]
    applicability_rules: tuple[Rule, ...] = ()
    authorized_role_refs: tuple[str, ...] = ()
    location: SourceLocation | None = None
    applicability_rule_refs: tuple[str, ...] = ()
    """Applicability rules guarding the whole table (``planningTable/@applicabilityRuleRefs``)."""

    def discretionary_items(self) -> tuple[DiscretionaryItem, ...]:
        """Every discretionary item of this table and its nested tables, depth first."""
        out: list[DiscretionaryItem] = []
        for item in self.items:
            if isinstance(item, PlanningTable):
                out.extend(item.discretionary_items())
            else:
                out.append(item)
        return tuple(out)


@dataclass(frozen=True, slots=True, kw_only=True)
class Stage(PlanItemDefinition):
    """A stage, or the case plan model itself (ch. 5 Stage); owns plan items and sentries.

    ``plan_item_definitions`` are the definitions declared inside this stage (they are
    referenced by id from anywhere in the case). ``exit_criteria`` is only used for the
    case plan model, whose criteria are not on a plan item.
    """

    plan_items: tuple[PlanItem, ...] = ()
    sentries: tuple[Sentry, ...] = ()
    planning_table: PlanningTable | None = None
    plan_item_definitions: tuple[PlanItemDefinition, ...] = ()
    auto_complete: bool = False
    exit_criteria: tuple[Criterion, ...] = ()
    entry_criteria: tuple[Criterion, ...] = ()


# ---------------------------------------------------------------------------------------------
# Case file and case
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CaseFileItemDefinition:
    """Type of case file items (``definitionType``, ``structureRef``, properties)."""

    id: str
    name: str | None
    definition_type: str | None = None
    structure_ref: str | None = None
    import_ref: str | None = None
    property_names: tuple[str, ...] = ()
    location: SourceLocation | None = None


@dataclass(frozen=True, slots=True)
class CaseFileItem:
    """A piece of case data; its ``name`` is how conditions read it (ch. 5 CaseFileItem)."""

    id: str
    name: str | None
    definition_ref: str | None
    multiplicity: str = "Unspecified"
    children: tuple[CaseFileItem, ...] = ()
    source_refs: tuple[str, ...] = ()
    target_refs: tuple[str, ...] = ()
    location: SourceLocation | None = None


@dataclass(frozen=True, slots=True)
class Case:
    """A case: its plan model (a ``Stage``), case file, roles and parameters.

    Lookup tables (``definitions``, ``plan_items``, ``sentries``, ``case_file_items``,
    ``discretionary_items``, ``parent_stage``) are built once at construction so that the
    runtime never searches the tree.
    """

    id: str
    name: str | None
    plan_model: Stage
    case_file_items: tuple[CaseFileItem, ...] = ()
    roles: tuple[Role, ...] = ()
    inputs: tuple[Parameter, ...] = ()
    outputs: tuple[Parameter, ...] = ()
    location: SourceLocation | None = None
    extensions: Extensions = NO_EXTENSIONS

    definitions: Mapping[str, PlanItemDefinition] = field(init=False, compare=False, repr=False)
    """Every plan item definition of the case (incl. the plan model and nested stages) by id."""
    plan_items: Mapping[str, PlanItem] = field(init=False, compare=False, repr=False)
    """Every plan item of every stage by id."""
    discretionary_items: Mapping[str, DiscretionaryItem] = field(init=False, compare=False, repr=False)
    """Every discretionary item of every planning table by id."""
    sentries: Mapping[str, Sentry] = field(init=False, compare=False, repr=False)
    """Every sentry of every stage by id."""
    case_file_items_by_id: Mapping[str, CaseFileItem] = field(init=False, compare=False, repr=False)
    """Every case file item (nested children included) by id."""
    parent_stage: Mapping[str, str] = field(init=False, compare=False, repr=False)
    """Plan item id / discretionary item id -> id of the stage definition that contains it.

    For a human task's planning table this is the stage declaring the task definition; at run time the
    item is added to the stage that contains the planning task's instance."""

    def __post_init__(self) -> None:
        defs: dict[str, PlanItemDefinition] = {}
        items: dict[str, PlanItem] = {}
        disc: dict[str, DiscretionaryItem] = {}
        sentries: dict[str, Sentry] = {}
        parent: dict[str, str] = {}

        def walk_stage(stage: Stage) -> None:
            defs[stage.id] = stage
            for s in stage.sentries:
                sentries[s.id] = s
            for pi in stage.plan_items:
                items[pi.id] = pi
                parent[pi.id] = stage.id
            if stage.planning_table is not None:
                for ditem in stage.planning_table.discretionary_items():
                    disc[ditem.id] = ditem
                    parent[ditem.id] = stage.id
            for pdef in stage.plan_item_definitions:
                if isinstance(pdef, Stage):
                    walk_stage(pdef)
                else:
                    defs[pdef.id] = pdef
                    if isinstance(pdef, HumanTask) and pdef.planning_table is not None:
                        for di in pdef.planning_table.discretionary_items():
                            disc[di.id] = di
                            parent[di.id] = stage.id

        walk_stage(self.plan_model)
        cfis: dict[str, CaseFileItem] = {}

        def walk_cfi(item: CaseFileItem) -> None:
            cfis[item.id] = item
            for child in item.children:
                walk_cfi(child)

        for cfi in self.case_file_items:
            walk_cfi(cfi)
        object.__setattr__(self, "definitions", MappingProxyType(defs))
        object.__setattr__(self, "plan_items", MappingProxyType(items))
        object.__setattr__(self, "discretionary_items", MappingProxyType(disc))
        object.__setattr__(self, "sentries", MappingProxyType(sentries))
        object.__setattr__(self, "case_file_items_by_id", MappingProxyType(cfis))
        object.__setattr__(self, "parent_stage", MappingProxyType(parent))

    def definition_of(self, item: PlanItem | DiscretionaryItem) -> PlanItemDefinition:
        """The definition a plan item or discretionary item refers to."""
        return self.definitions[item.definition_ref]

    @staticmethod
    def display_name(item: PlanItem | DiscretionaryItem, definition: PlanItemDefinition) -> str:
        """The item's name, else its definition's name, else its id (SCENARIOS.md rule)."""
        return item.name or definition.name or item.id


@dataclass(frozen=True, slots=True)
class Definitions:
    """A parsed CMMN file: its cases and shared definitions, plus its content hash."""

    id: str | None
    name: str | None
    target_namespace: str | None
    cases: tuple[Case, ...]
    case_file_item_definitions: tuple[CaseFileItemDefinition, ...] = ()
    process_ids: tuple[str, ...] = ()
    decision_ids: tuple[str, ...] = ()
    expression_language: str | None = None
    file: str | None = None
    content_hash: str = ""
    """sha256 of the source bytes: the definition's version identity."""
    extensions: Extensions = NO_EXTENSIONS

    def case(self, case_id: str | None = None) -> Case:
        """The case with ``case_id``, or the only/first case when ``case_id`` is None."""
        if case_id is None:
            return self.cases[0]
        for c in self.cases:
            if c.id == case_id or c.name == case_id:
                return c
        known = ", ".join(c.id for c in self.cases)
        raise KeyError(f"no case {case_id!r} in {self.file or 'the definitions'}; cases: {known}")
