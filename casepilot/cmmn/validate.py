"""Whole-model checks run once a CMMN document is parsed (DESIGN.md, example 2).

Everything that would otherwise fail while a case runs is found at load time and reported
together: dangling ``definitionRef``/``sentryRef``/``sourceRef``/``contextRef``/role and rule
references, criteria whose sentry lies outside the item's stage, standard events that the
source cannot make (``occur`` on a task), ``exitCriterionRef`` that is not an exit criterion
of the source, stages that contain themselves, conditions that do not compile and timer
expressions casepilot cannot schedule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from casepilot.cmmn import _parse_vendor as vendor
from casepilot.cmmn._parse_base import ParseContext
from casepilot.cmmn._timer import classify_timer
from casepilot.cmmn.definitions import (
    Case,
    CaseFileItemOnPart,
    Criterion,
    DecisionTask,
    Definitions,
    DiscretionaryItem,
    EventListener,
    Expression,
    HumanTask,
    ItemControl,
    PlanItem,
    PlanItemDefinition,
    PlanItemOnPart,
    PlanItemStartTrigger,
    PlanningTable,
    ProcessTask,
    Rule,
    SourceLocation,
    Stage,
    Task,
    TimerEventListener,
    UserEventListener,
)
from casepilot.dmn.feel import compile_condition
from casepilot.errors import ExpressionError

__all__ = ["CONDITION_LANGUAGES", "validate"]

CONDITION_LANGUAGES = frozenset({"feel", "juel", "${}", "el"})
"""Accepted ``language`` values (compared lower-case; any URI containing ``feel`` counts as FEEL)."""

_TASK_EVENTS = frozenset(
    {"create", "enable", "disable", "reenable", "manualStart", "start", "fault", "complete", "terminate", "exit",
     "suspend", "resume", "parentSuspend", "parentResume", "reactivate"}
)
_OCCURRENCE_EVENTS = frozenset({"create", "occur", "suspend", "resume", "terminate", "exit", "parentSuspend",
                                "parentResume"})
"""What an on-part may hear from a milestone or event listener: the transitions of its lifecycle
(ch. 8) that the schema's PlanItemTransition can name (not ``parentTerminate``), and ``exit`` for
the exit criteria some engines allow on them."""


def _events_for(definition: PlanItemDefinition) -> frozenset[str]:
    return _OCCURRENCE_EVENTS if definition.kind in ("milestone", "eventListener", "userEventListener",
                                                     "timerEventListener") else _TASK_EVENTS


def _compiler() -> Callable[[str], object]:
    """``casepilot.dmn.feel.compile_condition``: FEEL, or the ``${…}`` dialect when written so."""
    return compile_condition


def validate(definitions: Definitions, ctx: ParseContext) -> None:
    """Append every problem of ``definitions`` to ``ctx.problems``."""
    cfid_ids = {d.id for d in definitions.case_file_item_definitions}
    compile_condition = _compiler()
    for case in definitions.cases:
        checker = _CaseChecker(case, ctx, compile_condition)
        checker.run()
        checker.external_refs(definitions)
        for item in case.case_file_items_by_id.values():
            if item.definition_ref and item.definition_ref not in cfid_ids:
                ctx.problem_at(item.location, f"caseFileItem id='{item.id}'",
                               f"definitionRef '{item.definition_ref}' names no caseFileItemDefinition")


class _CaseChecker:
    """The checks of one case; keeps the case's lookup tables at hand."""

    def __init__(self, case: Case, ctx: ParseContext, compile_condition: Callable[[str], object]) -> None:
        self.case = case
        self.ctx = ctx
        self.compile_condition = compile_condition
        self.sentry_stage: dict[str, str] = {}
        self.role_ids = {r.id for r in case.roles}
        self.rule_ids: set[str] = set()
        for stage in self._stages():
            for s in stage.sentries:
                self.sentry_stage[s.id] = stage.id
            for table in self._tables(stage):
                self.rule_ids.update(r.id for r in table.applicability_rules if r.id)

    def _stages(self) -> Iterator[Stage]:
        return (d for d in self.case.definitions.values() if isinstance(d, Stage))

    def _tables(self, stage: Stage) -> Iterator[PlanningTable]:
        tables = [stage.planning_table] if stage.planning_table else []
        tables += [d.planning_table for d in stage.plan_item_definitions
                   if isinstance(d, HumanTask) and d.planning_table is not None]
        while tables:
            table = tables.pop()
            yield table
            tables.extend(t for t in table.items if isinstance(t, PlanningTable))

    def run(self) -> None:
        plan = self.case.plan_model
        self._criteria(plan.exit_criteria, plan.id, f"casePlanModel id='{plan.id}'", plan.location)
        for stage in self._stages():
            for item in stage.plan_items:
                self._item(item, stage.id)
            for table in self._tables(stage):
                self._table(table)
            for sentry in stage.sentries:
                self._sentry_parts(sentry.id, sentry.location, sentry.on_parts)
                if sentry.if_part is not None:
                    self._cfi_ref(sentry.if_part.context_ref, sentry.if_part.location, f"ifPart of sentry '{sentry.id}'")
                    self._condition(sentry.if_part.condition, f"ifPart of sentry id='{sentry.id}'")
        for definition in self.case.definitions.values():
            self._definition(definition)
        for param in (*self.case.inputs, *self.case.outputs):
            self._cfi_ref(param.binding_ref, param.location, f"parameter '{param.name or param.id}'")
        self._stage_cycles()

    # -- references ----------------------------------------------------------------------

    def _cfi_ref(self, ref: str | None, where: SourceLocation | None, what: str) -> None:
        if ref and ref not in self.case.case_file_items_by_id:
            self.ctx.problem_at(where, what, f"'{ref}' names no case file item of case '{self.case.id}'")

    def _item(self, item: PlanItem | DiscretionaryItem, stage_id: str) -> None:
        what = f"{'planItem' if isinstance(item, PlanItem) else 'discretionaryItem'} id='{item.id}'"
        definition = self.case.definitions.get(item.definition_ref)
        if definition is None:
            self.ctx.problem_at(item.location, what,
                                f"definitionRef '{item.definition_ref}' names no plan item definition of case "
                                f"'{self.case.id}'")
        elif definition.id == self.case.plan_model.id:
            self.ctx.problem_at(item.location, what, "a plan item cannot refer to the case plan model")
        self._criteria((*item.entry_criteria, *item.exit_criteria), stage_id, what, item.location)
        if isinstance(definition, EventListener) and item.entry_criteria:
            self.ctx.problem_at(item.entry_criteria[0].location or item.location, what,
                                "an event listener has no entry criteria: it is Available from its creation "
                                "and only occurs (CMMN 1.1 ch. 8, event listener and milestone lifecycle); guard what "
                                "it starts with a sentry instead")
        self._control(item.item_control, what)
        if isinstance(item, DiscretionaryItem):
            self._roles(item.authorized_role_refs, item.location, what)
            self._rules(item.applicability_rule_refs, item.location, what)

    def _criteria(self, criteria: tuple[Criterion, ...], stage_id: str, what: str,
                  fallback: SourceLocation | None) -> None:
        for c in criteria:
            where = c.location or fallback
            label = f"{c.kind}Criterion id='{c.id}'" if c.id else what
            owner = self.sentry_stage.get(c.sentry_ref)
            if owner is None:
                self.ctx.problem_at(where, label, f"sentryRef '{c.sentry_ref}' names no sentry of case '{self.case.id}'")
            elif owner != stage_id:
                self.ctx.problem_at(where, label, f"sentry '{c.sentry_ref}' is in stage '{owner}', not in the stage "
                                    f"'{stage_id}' of the item it guards (CMMN 1.1 ch. 5 Sentry)")

    def _sentry_parts(self, sentry_id: str, where: SourceLocation | None,
                      parts: tuple[PlanItemOnPart | CaseFileItemOnPart, ...]) -> None:
        for part in parts:
            loc = part.location or where
            label = f"{'planItemOnPart' if isinstance(part, PlanItemOnPart) else 'caseFileItemOnPart'}" + (
                f" id='{part.id}'" if part.id else f" of sentry '{sentry_id}'")
            if isinstance(part, CaseFileItemOnPart):
                self._cfi_ref(part.source_ref, loc, label)
                continue
            self._plan_item_event(part.source_ref, part.standard_event, loc, label)
            if part.exit_criterion_ref is not None:
                source = self.case.plan_items.get(part.source_ref) or self.case.discretionary_items.get(part.source_ref)
                if source is not None and part.exit_criterion_ref not in {c.id for c in source.exit_criteria}:
                    self.ctx.problem_at(loc, label, f"exitCriterionRef '{part.exit_criterion_ref}' is not an exit "
                                        f"criterion of '{part.source_ref}'")
                if part.standard_event != "exit":
                    self.ctx.problem_at(loc, label, f"exitCriterionRef needs standardEvent 'exit', not "
                                        f"'{part.standard_event}'")

    def _plan_item_event(self, source_ref: str, event: str, loc: SourceLocation | None, label: str) -> None:
        source = self.case.plan_items.get(source_ref) or self.case.discretionary_items.get(source_ref)
        if source is None:
            self.ctx.problem_at(loc, label, f"sourceRef '{source_ref}' names no plan item of case '{self.case.id}'")
            return
        definition = self.case.definitions.get(source.definition_ref)
        if definition is not None and event not in _events_for(definition):
            self.ctx.problem_at(loc, label, f"standardEvent '{event}' cannot happen to '{source_ref}', a "
                                f"{definition.kind}; it makes: {', '.join(sorted(_events_for(definition)))}")

    def _roles(self, refs: tuple[str, ...], where: SourceLocation | None, what: str) -> None:
        for ref in refs:
            if ref not in self.role_ids:
                self.ctx.problem_at(where, what, f"role '{ref}' is not a case role of case '{self.case.id}'")

    def _rules(self, refs: tuple[str, ...], where: SourceLocation | None, what: str) -> None:
        for ref in refs:
            if ref not in self.rule_ids:
                self.ctx.problem_at(where, what, f"applicabilityRuleRef '{ref}' names no applicability rule")

    def _table(self, table: PlanningTable) -> None:
        what = f"planningTable id='{table.id}'"
        self._roles(table.authorized_role_refs, table.location, what)
        self._rules(table.applicability_rule_refs, table.location, what)
        for rule in table.applicability_rules:
            self._rule(rule, f"applicabilityRule id='{rule.id}'")
        stage_id = next((self.case.parent_stage[d.id] for d in table.discretionary_items()), None)
        for item in table.items:
            if isinstance(item, DiscretionaryItem):
                self._item(item, self.case.parent_stage.get(item.id, stage_id or ""))

    def external_refs(self, definitions: Definitions) -> None:
        """``processRef``/``decisionRef`` must name a declared process/decision when the file declares any.

        Engines resolve refs to deployed keys when the file declares none, so only then are they
        left to deployment.
        """
        for d in self.case.definitions.values():
            if isinstance(d, ProcessTask) and d.process_ref and definitions.process_ids \
                    and d.process_ref not in definitions.process_ids:
                self.ctx.problem_at(d.location, f"processTask id='{d.id}'",
                                    f"processRef '{d.process_ref}' names none of the declared processes "
                                    f"({', '.join(definitions.process_ids)})")
            if isinstance(d, DecisionTask) and d.decision_ref and definitions.decision_ids \
                    and d.decision_ref not in definitions.decision_ids:
                self.ctx.problem_at(d.location, f"decisionTask id='{d.id}'",
                                    f"decisionRef '{d.decision_ref}' names none of the declared decisions "
                                    f"({', '.join(definitions.decision_ids)})")

    def _definition(self, definition: PlanItemDefinition) -> None:
        what = f"{definition.kind} id='{definition.id}'"
        self._control(definition.default_control, what)
        if isinstance(definition, Task):
            for param in (*definition.inputs, *definition.outputs):
                self._cfi_ref(param.binding_ref, param.location or definition.location, what)
        if isinstance(definition, HumanTask) and definition.performer_ref:
            self._roles((definition.performer_ref,), definition.location, what)
        if isinstance(definition, UserEventListener):
            self._roles(definition.authorized_role_refs, definition.location, what)
        if isinstance(definition, TimerEventListener):
            self._timer(definition, what)

    def _timer(self, timer: TimerEventListener, what: str) -> None:
        trigger = timer.start_trigger
        if trigger is not None:
            label = f"start trigger of {what}"
            if isinstance(trigger, PlanItemStartTrigger):
                self._plan_item_event(trigger.source_ref, trigger.standard_event, trigger.location, label)
            else:
                self._cfi_ref(trigger.source_ref, trigger.location, label)
        expr = timer.timer_expression
        if expr is None or not expr.body:
            return
        form = classify_timer(expr.body)
        loc = expr.location or timer.location
        if form == "expression":
            if self._vendor_expression(expr, what):
                return
            problem = self._compile_problem(expr.body)
            if problem is None:
                return
            construct = vendor.juel_refusal_construct(expr.body, problem)
            if construct is not None:
                if self.ctx.strict_extensions:
                    self.ctx.problem_at(loc, what, f"{vendor.VENDOR_PREFIX}{construct} in timer expression "
                                        f"{expr.body!r}: {problem}")
                return
            self.ctx.problem_at(loc, what, f"timer expression {expr.body!r} is neither ISO-8601 (e.g. PT1H, "
                                "2025-01-31T09:00:00Z, R3/PT1H) nor a ${…} or FEEL expression that compiles: "
                                f"{problem}")
        elif form == "cron":
            if self.ctx.strict_extensions:
                self.ctx.problem_at(loc, what, f"{vendor.VENDOR_PREFIX}Quartz cron timer expression {expr.body!r}: "
                                    "write an ISO-8601 repeating interval such as R/PT5M")
        elif form == "invalid":
            self.ctx.problem_at(loc, what, f"timer expression {expr.body!r} is not an ISO-8601 duration, date-time "
                                "or repeating interval (e.g. PT1H, 2025-01-31T09:00:00Z, R3/PT1H), nor a ${…} or "
                                "FEEL expression")

    def _control(self, control: ItemControl | None, what: str) -> None:
        if control is None:
            return
        for rule in (control.required_rule, control.repetition_rule, control.manual_activation_rule):
            if rule is not None:
                self._rule(rule, what)

    def _rule(self, rule: Rule, what: str) -> None:
        self._cfi_ref(rule.context_ref, rule.location, what)
        self._condition(rule.condition, what)
        event = rule.extensions.attribute(vendor.CAMUNDA_NS, "repeatOnStandardEvent")
        if event is not None and event.strip() not in _TASK_EVENTS | _OCCURRENCE_EVENTS:
            self.ctx.problem_at(rule.location, what, f"camunda:repeatOnStandardEvent '{event}' is not a "
                                f"standard event; allowed: {', '.join(sorted(_TASK_EVENTS | _OCCURRENCE_EVENTS))}")

    # -- expressions ---------------------------------------------------------------------

    def _vendor_expression(self, expr: Expression, what: str) -> bool:
        found = vendor.vendor_expression_construct(expr.body)
        if found is None or not self.ctx.strict_extensions:
            return found is not None
        construct, hint = found
        self.ctx.problem_at(expr.location, what, f"{vendor.VENDOR_PREFIX}{construct} in {expr.body!r}: {hint}")
        return True

    def _compile_problem(self, body: str) -> str | None:
        """Why ``body`` does not compile, or ``None`` when it does."""
        try:
            self.compile_condition(body)
        except RecursionError:
            return "nested too deeply"
        except ExpressionError as exc:
            return exc.message
        return None

    def _condition(self, expr: Expression | None, what: str) -> None:
        if expr is None or not expr.body:
            return
        lang = (expr.language or "").strip().lower()
        if lang and "feel" not in lang and lang not in CONDITION_LANGUAGES:
            if self.ctx.strict_extensions:
                self.ctx.problem_at(expr.location, what, f"{vendor.VENDOR_PREFIX}script condition language '{lang}': "
                                    "casepilot evaluates FEEL and the ${…} style only, never scripts")
            return
        if self._vendor_expression(expr, what):
            return
        try:
            self.compile_condition(expr.body)
        except RecursionError:
            self.ctx.problem_at(expr.location, what, f"condition {expr.body[:80]!r}… is nested too deeply to compile")
        except ExpressionError as exc:
            construct = vendor.juel_refusal_construct(expr.body, exc.message)
            if construct is None:
                self.ctx.problem_at(expr.location, what, f"condition {expr.body!r} does not compile: {exc.message}")
            elif self.ctx.strict_extensions:
                self.ctx.problem_at(expr.location, what, f"{vendor.VENDOR_PREFIX}{construct} in {expr.body!r}: "
                                    f"{exc.message}; casepilot reads case variables only")

    def _stage_cycles(self) -> None:
        """A stage used (directly or through nested stages) inside itself would never end."""
        uses: dict[str, list[str]] = {}
        for stage in self._stages():
            uses[stage.id] = [pi.definition_ref for pi in stage.plan_items
                              if isinstance(self.case.definitions.get(pi.definition_ref), Stage)]
        state: dict[str, int] = {}

        def visit(sid: str, path: list[str]) -> None:
            state[sid] = 1
            for nxt in uses.get(sid, []):
                if state.get(nxt) == 1:
                    cycle = " -> ".join([*path[path.index(nxt):], nxt]) if nxt in path else nxt
                    st = self.case.definitions[nxt]
                    self.ctx.problem_at(st.location, f"stage id='{nxt}'", f"stage contains itself: {cycle}")
                elif nxt not in state:
                    visit(nxt, [*path, nxt])
            state[sid] = 2

        visit(self.case.plan_model.id, [self.case.plan_model.id])
