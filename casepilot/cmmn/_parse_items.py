"""Parsing of the case plan: stages, plan items, definitions, sentries, rules, planning tables.

Each function reads one CMMN element into its frozen definition and records problems on the
``ParseContext`` instead of raising, so one load reports everything wrong with a model.
Cross-references (``definitionRef``, ``sentryRef``, ``sourceRef`` …) are only collected here;
``casepilot.cmmn.validate`` checks them once the whole case is built.
"""

from __future__ import annotations

from typing import Literal, TypedDict, cast, get_args

from lxml import etree

from casepilot.cmmn import _parse_vendor as vendor
from casepilot.cmmn._parse_base import CMMN10_NS, ParseContext
from casepilot.cmmn.definitions import (
    CaseFileItemOnPart,
    CaseFileItemStartTrigger,
    CaseFileTransition,
    CaseTask,
    Criterion,
    DecisionTask,
    DiscretionaryItem,
    EventListener,
    Extensions,
    HumanTask,
    IfPart,
    ItemControl,
    Milestone,
    OnPart,
    Parameter,
    ParameterMapping,
    PlanItem,
    PlanItemDefinition,
    PlanItemOnPart,
    PlanItemStartTrigger,
    PlanItemTransition,
    PlanningTable,
    ProcessTask,
    Rule,
    Sentry,
    SourceLocation,
    Stage,
    StartTrigger,
    Task,
    TimerEventListener,
    UserEventListener,
)

__all__ = ["DEFINITION_KINDS", "parse_stage"]

DEFINITION_KINDS = frozenset(
    {
        "stage",
        "task",
        "humanTask",
        "processTask",
        "caseTask",
        "decisionTask",
        "milestone",
        "eventListener",
        "userEventListener",
        "timerEventListener",
        "planFragment",
    }
)
"""Local names of the plan item definition elements (CMMN 1.0 names already mapped)."""

_PLAN_ITEM_EVENTS = frozenset(get_args(PlanItemTransition))
_CASE_FILE_EVENTS = frozenset(get_args(CaseFileTransition))

_STAGE_CHILDREN = DEFINITION_KINDS | {"planItem", "sentry", "planningTable", "defaultControl"}
_TASK_CHILDREN = frozenset({"defaultControl", "inputs", "outputs", "input", "output"})
_CONTROL_CHILDREN = frozenset({"requiredRule", "repetitionRule", "manualActivationRule"})
_ITEM_CHILDREN = frozenset({"itemControl", "entryCriterion", "exitCriterion"})


# -- rules, criteria, sentries ---------------------------------------------------------------


def _rule(ctx: ParseContext, el: etree._Element | None) -> Rule | None:
    if el is None:
        return None
    ctx.register_id(el)
    ctx.check_children(el, frozenset({"condition"}))
    vendor.check_element(ctx, el, ctx.local(el))
    return Rule(
        id=el.get("id"),
        name=el.get("name"),
        condition=ctx.expression(ctx.child(el, "condition")),
        context_ref=el.get("contextRef"),
        location=ctx.loc(el),
        extensions=ctx.extensions(el),
    )


def _control(ctx: ParseContext, el: etree._Element | None) -> ItemControl | None:
    if el is None:
        return None
    ctx.register_id(el)
    ctx.check_children(el, _CONTROL_CHILDREN)
    vendor.check_element(ctx, el, ctx.local(el))
    return ItemControl(
        required_rule=_rule(ctx, ctx.child(el, "requiredRule")),
        repetition_rule=_rule(ctx, ctx.child(el, "repetitionRule")),
        manual_activation_rule=_rule(ctx, ctx.child(el, "manualActivationRule")),
    )


def _criteria(ctx: ParseContext, el: etree._Element, kind: Literal["entry", "exit"]) -> tuple[Criterion, ...]:
    """``entryCriterion``/``exitCriterion`` children, plus CMMN 1.0 ``entryCriteriaRefs``/``exitCriteriaRefs``."""
    out: list[Criterion] = []
    for c in ctx.children(el, f"{kind}Criterion"):
        ctx.register_id(c)
        ctx.check_children(c, frozenset())
        vendor.check_element(ctx, c, f"{kind}Criterion")
        ref = c.get("sentryRef") or c.get(f"{{{vendor.FLOWABLE_NS}}}sentryRef")
        if not ref:
            ctx.problem(c, "missing required attribute 'sentryRef'")
            continue
        out.append(Criterion(id=c.get("id"), sentry_ref=ref, kind=kind, name=c.get("name"), location=ctx.loc(c)))
    for ref in ctx.refs(el, f"{kind}CriteriaRefs"):
        # CMMN 1.0: criteria are plain sentry references; give them a stable synthetic id.
        out.append(Criterion(id=_legacy_criterion_id(el.get("id"), kind, ref), sentry_ref=ref,
                             kind=kind, location=ctx.loc(el)))
    return tuple(out)


def _legacy_criterion_id(item_id: str | None, kind: Literal["entry", "exit"], sentry: str) -> str:
    return f"{item_id}#{kind}:{sentry}"


def _standard_event(ctx: ParseContext, el: etree._Element, allowed: frozenset[str], what: str) -> str | None:
    ev_el = ctx.child(el, "standardEvent")
    event = ctx.text(ev_el)
    if event is None:
        ctx.problem(el, "missing <standardEvent>")
        return None
    if event not in allowed:
        ctx.problem(ev_el, f"'{event}' is not a standard event of {what}; allowed: {', '.join(sorted(allowed))}",
                    element=ctx.describe(el))
        return None
    return event


def _on_part(ctx: ParseContext, el: etree._Element, local: str) -> OnPart | None:
    ctx.register_id(el)
    vendor.check_element(ctx, el, local)
    source = el.get("sourceRef")
    if not source:
        ctx.problem(el, "missing required attribute 'sourceRef'")
    if local == "planItemOnPart":
        ctx.check_children(el, frozenset({"standardEvent"}))
        event = _standard_event(ctx, el, _PLAN_ITEM_EVENTS, "a plan item")
        exit_ref = el.get("exitCriterionRef")
        legacy = el.get("sentryRef")
        if legacy and not exit_ref:
            # CMMN 1.0: the on-part names the sentry of the source's exit criterion.
            exit_ref = _legacy_criterion_id(source, "exit", legacy) if ctx.ns == CMMN10_NS else legacy
        if not source or event is None:
            return None
        return PlanItemOnPart(id=el.get("id"), source_ref=source, standard_event=cast(PlanItemTransition, event),
                              exit_criterion_ref=exit_ref, name=el.get("name"), location=ctx.loc(el))
    ctx.check_children(el, frozenset({"standardEvent"}))
    if ctx.child(el, "standardEvent") is None:
        # CMMN 1.1 requires the event, but Camunda 7 deploys such models: it ignores every
        # case-file on-part (SentryEntryCriteriaTest#testCaseFileItemOnPart expects the guarded
        # task active at once). An on-part that names no transition can never be told apart
        # from any other case-file change, so it adds no condition: the sentry keeps its other
        # parts, and a sentry left with none holds as soon as it is evaluated.
        return None
    event = _standard_event(ctx, el, _CASE_FILE_EVENTS, "a case file item")
    if not source or event is None:
        return None
    return CaseFileItemOnPart(id=el.get("id"), source_ref=source, standard_event=cast(CaseFileTransition, event),
                              name=el.get("name"), location=ctx.loc(el))


def _sentry(ctx: ParseContext, el: etree._Element) -> Sentry:
    ident = ctx.required_id(el)
    ctx.check_children(el, frozenset({"planItemOnPart", "caseFileItemOnPart", "ifPart"}))
    vendor.check_element(ctx, el, "sentry")
    on_parts: list[OnPart] = []
    for local, child in ctx.model_children(el):
        if local in ("planItemOnPart", "caseFileItemOnPart"):
            part = _on_part(ctx, child, local)
            if part is not None:
                on_parts.append(part)
    if_el = ctx.child(el, "ifPart")
    if_part = None
    if if_el is not None:
        ctx.register_id(if_el)
        ctx.check_children(if_el, frozenset({"condition"}))
        if_part = IfPart(condition=ctx.expression(ctx.child(if_el, "condition")), context_ref=if_el.get("contextRef"),
                         id=if_el.get("id"), location=ctx.loc(if_el))
    return Sentry(id=ident, name=el.get("name"), on_parts=tuple(on_parts), if_part=if_part, location=ctx.loc(el),
                  extensions=ctx.extensions(el))


# -- plan items and planning tables ----------------------------------------------------------


def _plan_item(ctx: ParseContext, el: etree._Element) -> PlanItem | None:
    ident = ctx.required_id(el)
    ctx.check_children(el, _ITEM_CHILDREN)
    vendor.check_element(ctx, el, "planItem")
    ref = el.get("definitionRef")
    if not ref:
        ctx.problem(el, "missing required attribute 'definitionRef'")
        return None
    return PlanItem(id=ident, name=el.get("name"), definition_ref=ref, entry_criteria=_criteria(ctx, el, "entry"),
                    exit_criteria=_criteria(ctx, el, "exit"), item_control=_control(ctx, ctx.child(el, "itemControl")),
                    location=ctx.loc(el), extensions=ctx.extensions(el))


def _discretionary_item(ctx: ParseContext, el: etree._Element) -> DiscretionaryItem | None:
    ident = ctx.required_id(el)
    ctx.check_children(el, _ITEM_CHILDREN)
    vendor.check_element(ctx, el, "discretionaryItem")
    ref = el.get("definitionRef")
    if not ref:
        ctx.problem(el, "missing required attribute 'definitionRef'")
        return None
    return DiscretionaryItem(
        id=ident, name=el.get("name"), definition_ref=ref,
        applicability_rule_refs=ctx.refs(el, "applicabilityRuleRefs"),
        authorized_role_refs=ctx.refs(el, "authorizedRoleRefs"),
        entry_criteria=_criteria(ctx, el, "entry"), exit_criteria=_criteria(ctx, el, "exit"),
        item_control=_control(ctx, ctx.child(el, "itemControl")), location=ctx.loc(el),
        extensions=ctx.extensions(el),
    )


def _planning_table(ctx: ParseContext, el: etree._Element | None) -> PlanningTable | None:
    if el is None:
        return None
    ident = ctx.required_id(el)
    ctx.check_children(el, frozenset({"discretionaryItem", "planningTable", "applicabilityRule"}))
    vendor.check_element(ctx, el, "planningTable")
    items: list[DiscretionaryItem | PlanningTable] = []
    rules: list[Rule] = []
    for local, child in ctx.model_children(el):
        if local == "discretionaryItem":
            d = _discretionary_item(ctx, child)
            if d is not None:
                items.append(d)
        elif local == "planningTable":
            t = _planning_table(ctx, child)
            if t is not None:
                items.append(t)
        elif local == "applicabilityRule":
            r = _rule(ctx, child)
            if r is not None:
                rules.append(r)
    return PlanningTable(id=ident, name=el.get("name"), items=tuple(items), applicability_rules=tuple(rules),
                         authorized_role_refs=ctx.refs(el, "authorizedRoleRefs"), location=ctx.loc(el),
                         applicability_rule_refs=ctx.refs(el, "applicabilityRuleRefs"))


# -- plan item definitions -------------------------------------------------------------------


def _parameters(ctx: ParseContext, el: etree._Element, *names: str) -> tuple[Parameter, ...]:
    out: list[Parameter] = []
    for name in names:
        for p in ctx.children(el, name):
            ctx.register_id(p)
            ctx.check_children(p, frozenset({"bindingRefinement"}))
            out.append(Parameter(id=p.get("id"), name=p.get("name"), binding_ref=p.get("bindingRef"),
                                 binding_refinement=ctx.expression(ctx.child(p, "bindingRefinement")),
                                 location=ctx.loc(p)))
    return tuple(out)


def parameters(ctx: ParseContext, el: etree._Element, *names: str) -> tuple[Parameter, ...]:
    """Case or task parameters read from the children called ``names``."""
    return _parameters(ctx, el, *names)


def _mappings(ctx: ParseContext, el: etree._Element) -> tuple[ParameterMapping, ...]:
    out: list[ParameterMapping] = []
    for m in ctx.children(el, "parameterMapping"):
        ctx.register_id(m)
        ctx.check_children(m, frozenset({"transformation"}))
        out.append(ParameterMapping(source_ref=m.get("sourceRef"), target_ref=m.get("targetRef"),
                                    transformation=ctx.expression(ctx.child(m, "transformation")),
                                    id=m.get("id"), location=ctx.loc(m)))
    return tuple(out)


def _start_trigger(ctx: ParseContext, el: etree._Element) -> StartTrigger | None:
    pit = ctx.child(el, "planItemStartTrigger")
    cfit = ctx.child(el, "caseFileItemStartTrigger")
    trig = pit if pit is not None else cfit
    if trig is None:
        return None
    ctx.register_id(trig)
    ctx.check_children(trig, frozenset({"standardEvent"}))
    source = trig.get("sourceRef")
    if not source:
        ctx.problem(trig, "missing required attribute 'sourceRef'")
    if pit is not None:
        event = _standard_event(ctx, trig, _PLAN_ITEM_EVENTS, "a plan item")
        if source and event:
            return PlanItemStartTrigger(id=trig.get("id"), source_ref=source,
                                        standard_event=cast(PlanItemTransition, event), location=ctx.loc(trig))
        return None
    event = _standard_event(ctx, trig, _CASE_FILE_EVENTS, "a case file item")
    if source and event:
        return CaseFileItemStartTrigger(id=trig.get("id"), source_ref=source,
                                        standard_event=cast(CaseFileTransition, event), location=ctx.loc(trig))
    return None


class _Common(TypedDict):
    id: str
    name: str | None
    default_control: ItemControl | None
    location: SourceLocation
    extensions: Extensions
    documentation: str | None


class _TaskCommon(_Common):
    is_blocking: bool
    inputs: tuple[Parameter, ...]
    outputs: tuple[Parameter, ...]


def _definition(ctx: ParseContext, el: etree._Element, local: str) -> PlanItemDefinition | None:
    if local == "stage":
        return parse_stage(ctx, el, plan_model=False)
    if local == "planFragment":
        # Flowable runs plan fragments as plain groupings; CMMN 1.1 has no lifecycle for them.
        if ctx.strict_extensions:
            ctx.problem(el, f"{vendor.VENDOR_PREFIX}planFragment used as a plan item (Flowable): CMMN 1.1 "
                            "plan fragments that are not stages have no lifecycle; use a stage")
        return parse_stage(ctx, el, plan_model=False)
    ident = ctx.required_id(el)
    vendor.check_element(ctx, el, local)
    common = _Common(
        id=ident,
        name=el.get("name"),
        default_control=_control(ctx, ctx.child(el, "defaultControl")),
        location=ctx.loc(el),
        extensions=ctx.extensions(el),
        documentation=ctx.documentation(el),
    )
    if local in ("task", "humanTask", "processTask", "caseTask", "decisionTask"):
        return _task(ctx, el, local, common)
    if local == "milestone":
        ctx.check_children(el, frozenset({"defaultControl"}))
        return Milestone(kind="milestone", **common)
    if local == "eventListener":
        ctx.check_children(el, frozenset({"defaultControl"}))
        return EventListener(kind="eventListener", **common)
    if local == "userEventListener":
        ctx.check_children(el, frozenset({"defaultControl"}))
        return UserEventListener(kind="userEventListener", authorized_role_refs=ctx.refs(el, "authorizedRoleRefs"),
                                 **common)
    ctx.check_children(el, frozenset({"defaultControl", "timerExpression", "planItemStartTrigger",
                                      "caseFileItemStartTrigger"}))
    timer = ctx.expression(ctx.child(el, "timerExpression"))
    return TimerEventListener(kind="timerEventListener", timer_expression=timer, start_trigger=_start_trigger(ctx, el),
                              **common)


def _task(ctx: ParseContext, el: etree._Element, local: str, common: _Common) -> Task:
    task_common = _TaskCommon(**common, is_blocking=ctx.bool_attr(el, "isBlocking", True),
                              inputs=_parameters(ctx, el, "inputs", "input"),
                              outputs=_parameters(ctx, el, "outputs", "output"))
    if local == "humanTask":
        ctx.check_children(el, _TASK_CHILDREN | {"planningTable"})
        return HumanTask(kind="humanTask", performer_ref=el.get("performerRef"),
                         planning_table=_planning_table(ctx, ctx.child(el, "planningTable")),
                         **task_common)
    if local == "task":
        ctx.check_children(el, _TASK_CHILDREN)
        return Task(kind="task", **task_common)
    ref_name = {"processTask": "process", "caseTask": "case", "decisionTask": "decision"}[local]
    ctx.check_children(el, _TASK_CHILDREN | {"parameterMapping", f"{ref_name}RefExpression"})
    ref = el.get(f"{ref_name}Ref")
    ref_expr = ctx.expression(ctx.child(el, f"{ref_name}RefExpression"))
    mappings = _mappings(ctx, el)
    if local == "processTask":
        return ProcessTask(kind="processTask", process_ref=ref, process_ref_expression=ref_expr, mappings=mappings,
                           **task_common)
    if local == "caseTask":
        return CaseTask(kind="caseTask", case_ref=ref, case_ref_expression=ref_expr, mappings=mappings,
                        **task_common)
    return DecisionTask(kind="decisionTask", decision_ref=ref, decision_ref_expression=ref_expr, mappings=mappings,
                        **task_common)


def parse_stage(ctx: ParseContext, el: etree._Element, *, plan_model: bool) -> Stage:
    """A ``stage`` or the ``casePlanModel`` (which alone may carry exit criteria)."""
    ident = ctx.required_id(el)
    local = "casePlanModel" if plan_model else "stage"
    allowed = _STAGE_CHILDREN | ({"exitCriterion"} if plan_model else frozenset())
    ctx.check_children(el, allowed)
    vendor.check_element(ctx, el, local)
    plan_items: list[PlanItem] = []
    sentries: list[Sentry] = []
    defs: list[PlanItemDefinition] = []
    for child_local, child in ctx.model_children(el):
        if child_local == "planItem":
            pi = _plan_item(ctx, child)
            if pi is not None:
                plan_items.append(pi)
        elif child_local == "sentry":
            sentries.append(_sentry(ctx, child))
        elif child_local in DEFINITION_KINDS:
            d = _definition(ctx, child, child_local)
            if d is not None:
                defs.append(d)
    return Stage(
        id=ident, name=el.get("name"), kind="stage",
        default_control=_control(ctx, ctx.child(el, "defaultControl")), location=ctx.loc(el),
        extensions=ctx.extensions(el), documentation=ctx.documentation(el),
        plan_items=tuple(plan_items), sentries=tuple(sentries),
        planning_table=_planning_table(ctx, ctx.child(el, "planningTable")),
        plan_item_definitions=tuple(defs), auto_complete=ctx.bool_attr(el, "autoComplete", False),
        exit_criteria=_criteria(ctx, el, "exit") if plan_model else (),
    )
