"""A run-time index over one frozen ``Case`` definition, built once and shared by instances.

It answers, without searching the model tree: what an item is (kind, lifecycle, rules,
criteria), which sentries listen to an event of a given source (the sentry index by
``(sourceRef, standardEvent)``), which sentries read a given variable (by the if-part's
``free_names``), which timers a given event starts, and what each planning table offers.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from casepilot.cmmn.definitions import (
    Case,
    CaseFileItemOnPart,
    CaseFileItemStartTrigger,
    Criterion,
    DiscretionaryItem,
    HumanTask,
    PlanItem,
    PlanItemDefinition,
    PlanningTable,
    Rule,
    Stage,
    Task,
    TimerEventListener,
)
from casepilot.cmmn.runtime.conditions import Condition, ConditionCache
from casepilot.cmmn.runtime.lifecycle import LifecycleKind, lifecycle_kind

__all__ = ["CaseIndex", "ItemInfo", "SentryTarget", "index_for"]


@dataclass(frozen=True, slots=True)
class ItemInfo:
    """Everything the runtime needs to know about one plan item, discretionary item or the plan model."""

    id: str
    name: str
    kind: str
    definition: PlanItemDefinition
    lifecycle: LifecycleKind
    entry: tuple[Criterion, ...]
    exit: tuple[Criterion, ...]
    required_rule: Rule | None
    repetition_rule: Rule | None
    manual_rule: Rule | None
    blocking: bool
    discretionary: bool
    table: PlanningTable | None
    """The planning table the item's definition owns (stage or human task), if any."""
    children: tuple[str, ...]
    """Plan item ids of a stage definition, in model order."""
    counter: str | None = None
    """Name of the repetition counter a repeatable item's rules may read (Flowable's
    ``repetitionCounter``, renamed by ``flowable:counterVariable``); ``None`` if not repeatable."""
    repeat_on: frozenset[str] = frozenset({"complete", "terminate", "occur"})
    """Transitions that trigger the repetition rule of an item without entry criteria
    (SCENARIOS.md; Camunda's ``repeatOnStandardEvent`` names one instead)."""


@dataclass(frozen=True, slots=True)
class SentryTarget:
    """A criterion that uses a sentry: ``item`` enters/exits when it is satisfied."""

    item: str
    kind: str
    criterion: str
    scope: str
    sentry: str
    """Id of the stage definition whose instances hold the target's instances."""


CAMUNDA_NS = "http://camunda.org/schema/1.0/cmmn"
_DEFAULT_REPEAT_ON = frozenset({"complete", "terminate", "occur"})


def _repeat_on(rule: Rule | None) -> frozenset[str]:
    """When an item without entry criteria repeats: on complete/terminate (occur for listeners),
    or on the one standard event Camunda 7's ``repeatOnStandardEvent`` names (e.g. ``disable``)."""
    event = rule.extensions.attribute(CAMUNDA_NS, "repeatOnStandardEvent") if rule is not None else None
    return frozenset({event.strip()}) if event and event.strip() else _DEFAULT_REPEAT_ON


FLOWABLE_NS = "http://flowable.org/cmmn"


def _counter_name(rule: Rule | None) -> str | None:
    """Flowable numbers the instances of a repeatable item in a local variable (1, 2, …)
    that its rules may read; CMMN 1.1 has no such variable, so other models never see it
    unless a rule names it."""
    if rule is None:
        return None
    name = rule.extensions.attribute(FLOWABLE_NS, "counterVariable")
    return name.strip() if name and name.strip() else "repetitionCounter"


def _merge_rule(item_rule: Rule | None, default_rule: Rule | None) -> Rule | None:
    return item_rule if item_rule is not None else default_rule


class CaseIndex:
    """Lookup tables of one case definition (immutable after construction)."""

    def __init__(self, case: Case) -> None:
        self.case = case
        self.conditions = ConditionCache()
        self.items: dict[str, ItemInfo] = {}
        self.sentry_parts: dict[str, int] = {}
        self.if_conditions: dict[str, Condition | None] = {}
        self.if_context: dict[str, str | None] = {}
        self.on_parts: dict[tuple[str, str], list[tuple[str, int]]] = {}
        self.targets: dict[str, list[SentryTarget]] = {}
        self.item_targets: dict[str, list[SentryTarget]] = {}
        self.by_variable: dict[str, list[str]] = {}
        self.timer_triggers: dict[tuple[str, str], list[str]] = {}
        self.rules: dict[str, Rule] = {}
        self.table_chain: dict[str, tuple[PlanningTable, ...]] = {}
        self.cfi_by_name: dict[str, str] = {}
        self.cfi_parent: dict[str, str] = {}
        self.cfi_children: dict[str, tuple[str, ...]] = {}
        for cfi in case.case_file_items_by_id.values():
            self.cfi_by_name.setdefault(cfi.name or cfi.id, cfi.id)
            self.cfi_children[cfi.id] = tuple(c.id for c in cfi.children)
            for child in cfi.children:
                self.cfi_parent[child.id] = cfi.id
        self.root_id = case.plan_model.id
        self._add_item(
            case.plan_model.id, case.plan_model, case.plan_model, (), case.plan_model.exit_criteria, None
        )
        for pi in case.plan_items.values():
            self._add_item(
                pi.id, pi, case.definition_of(pi), pi.entry_criteria, pi.exit_criteria, pi.item_control
            )
        for di in case.discretionary_items.values():
            self._add_item(
                di.id, di, case.definition_of(di), di.entry_criteria, di.exit_criteria, di.item_control
            )
        for definition in case.definitions.values():
            table = self._table_of(definition)
            if table is not None:
                self._index_table(table, ())
        for sentry in case.sentries.values():
            self._index_sentry(sentry.id)
        for info in self.items.values():
            self._index_criteria(info)
            self._index_timer(info)

    # -- construction helpers ------------------------------------------------------------------

    @staticmethod
    def _table_of(definition: PlanItemDefinition) -> PlanningTable | None:
        if isinstance(definition, Stage | HumanTask):
            return definition.planning_table
        return None

    def _add_item(
        self,
        item_id: str,
        item: PlanItem | DiscretionaryItem | Stage,
        definition: PlanItemDefinition,
        entry: tuple[Criterion, ...],
        exit_: tuple[Criterion, ...],
        control: Any,
    ) -> None:
        default = definition.default_control
        name = (item.name or item.id) if isinstance(item, Stage) else Case.display_name(item, definition)
        children = tuple(p.id for p in definition.plan_items) if isinstance(definition, Stage) else ()
        repetition = _merge_rule(
            control.repetition_rule if control else None, default.repetition_rule if default else None
        )
        self.items[item_id] = ItemInfo(
            id=item_id,
            name=name,
            kind=definition.kind,
            definition=definition,
            lifecycle=lifecycle_kind(definition.kind),
            entry=entry,
            exit=exit_,
            required_rule=_merge_rule(
                control.required_rule if control else None, default.required_rule if default else None
            ),
            repetition_rule=_merge_rule(
                control.repetition_rule if control else None, default.repetition_rule if default else None
            ),
            manual_rule=_merge_rule(
                control.manual_activation_rule if control else None,
                default.manual_activation_rule if default else None,
            ),
            blocking=definition.is_blocking if isinstance(definition, Task) else True,
            discretionary=isinstance(item, DiscretionaryItem),
            table=self._table_of(definition),
            children=children,
            counter=_counter_name(repetition),
            repeat_on=_repeat_on(repetition),
        )

    def _index_table(self, table: PlanningTable, outer: tuple[PlanningTable, ...]) -> None:
        chain = (*outer, table)
        for rule in table.applicability_rules:
            if rule.id is not None:
                self.rules[rule.id] = rule
        for entry in table.items:
            if isinstance(entry, PlanningTable):
                self._index_table(entry, chain)
            else:
                self.table_chain[entry.id] = chain

    def _index_sentry(self, sentry_id: str) -> None:
        sentry = self.case.sentries[sentry_id]
        self.sentry_parts[sentry_id] = len(sentry.on_parts)
        for idx, part in enumerate(sentry.on_parts):
            self.on_parts.setdefault((part.source_ref, part.standard_event), []).append((sentry_id, idx))
        cond = self.conditions.compile(sentry.if_part.condition) if sentry.if_part is not None else None
        self.if_conditions[sentry_id] = cond
        context = sentry.if_part.context_ref if sentry.if_part is not None else None
        self.if_context[sentry_id] = context
        names = set(ConditionCache.names_of(cond))
        if context is not None and context in self.case.case_file_items_by_id:
            cfi = self.case.case_file_items_by_id[context]
            names.add(cfi.name or cfi.id)
        for name in sorted(names):
            self.by_variable.setdefault(name, []).append(sentry_id)

    def _index_criteria(self, info: ItemInfo) -> None:
        scope = self.root_id if info.id == self.root_id else self.case.parent_stage.get(info.id, self.root_id)
        for kind, criteria in (("entry", info.entry), ("exit", info.exit)):
            for n, crit in enumerate(criteria):
                if crit.sentry_ref not in self.case.sentries:
                    continue
                target = SentryTarget(
                    info.id, kind, crit.id or f"{info.id}#{kind}{n}", scope, crit.sentry_ref
                )
                self.targets.setdefault(crit.sentry_ref, []).append(target)
                self.item_targets.setdefault(info.id, []).append(target)

    def _index_timer(self, info: ItemInfo) -> None:
        definition = info.definition
        if isinstance(definition, TimerEventListener) and definition.start_trigger is not None:
            trig = definition.start_trigger
            self.timer_triggers.setdefault((trig.source_ref, trig.standard_event), []).append(info.id)

    # -- queries -------------------------------------------------------------------------------

    def scope_of(self, item_id: str) -> str:
        """The stage definition whose instances hold instances of ``item_id``."""
        return self.case.parent_stage.get(item_id, self.root_id)

    def is_case_file_part(self, sentry_id: str, index: int) -> bool:
        """Whether on-part ``index`` of the sentry listens to a case file item."""
        return isinstance(self.case.sentries[sentry_id].on_parts[index], CaseFileItemOnPart)

    def timer_trigger_is_case_file(self, item_id: str) -> bool:
        """Whether the timer's start trigger is a case file item event."""
        definition = self.items[item_id].definition
        return isinstance(definition, TimerEventListener) and isinstance(
            definition.start_trigger, CaseFileItemStartTrigger
        )

    def context_variables(self, context_ref: str | None, variables: Mapping[str, Any]) -> Mapping[str, Any]:
        """Variables for a condition with a ``contextRef``: the case file item's properties on top."""
        if context_ref is None or context_ref not in self.case.case_file_items_by_id:
            return variables
        cfi = self.case.case_file_items_by_id[context_ref]
        value = variables.get(cfi.name or cfi.id)
        if isinstance(value, dict):
            return {**variables, **value}
        return variables


_CACHE: OrderedDict[int, tuple[Case, CaseIndex]] = OrderedDict()
_CACHE_SIZE = 64


def index_for(case: Case) -> CaseIndex:
    """The (cached) index of ``case``; definitions are immutable, so one index serves every instance."""
    key = id(case)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is case:
        _CACHE.move_to_end(key)
        return hit[1]
    index = CaseIndex(case)
    _CACHE[key] = (case, index)
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return index
