"""Rewrite the few engine idioms whose meaning is unambiguous into their CMMN 1.1 form.

Milestones and event listeners reach the Completed state only through ``occur`` (CMMN 1.1
§8.4.3), yet models made with Flowable and Camunda listen for ``complete`` on them. The intent
— "once this has happened" — is the same, so such on-parts are rewritten to ``occur`` and the
runtime only ever sees standard events that the source can make.
"""

from __future__ import annotations

from dataclasses import replace

from casepilot.cmmn.definitions import HumanTask, PlanItemDefinition, PlanItemOnPart, Sentry, Stage

__all__ = ["OCCURRENCE_KINDS", "complete_to_occur"]

OCCURRENCE_KINDS = frozenset({"milestone", "eventListener", "userEventListener", "timerEventListener"})
"""Kinds whose lifecycle ends with ``occur`` rather than ``complete``."""


def _walk(stage: Stage, defs: dict[str, PlanItemDefinition], refs: dict[str, str]) -> None:
    defs[stage.id] = stage
    for item in stage.plan_items:
        refs[item.id] = item.definition_ref
    tables = [stage.planning_table] if stage.planning_table else []
    for d in stage.plan_item_definitions:
        if isinstance(d, Stage):
            _walk(d, defs, refs)
        else:
            defs[d.id] = d
            if isinstance(d, HumanTask) and d.planning_table is not None:
                tables.append(d.planning_table)
    for table in tables:
        for di in table.discretionary_items():
            refs[di.id] = di.definition_ref


def complete_to_occur(plan_model: Stage) -> Stage:
    """``plan_model`` with ``complete`` on-parts of milestones/event listeners rewritten to ``occur``."""
    defs: dict[str, PlanItemDefinition] = {}
    refs: dict[str, str] = {}
    _walk(plan_model, defs, refs)
    occurring = {item for item, ref in refs.items() if (d := defs.get(ref)) is not None and d.kind in OCCURRENCE_KINDS}
    if not occurring:
        return plan_model

    def fix_sentry(sentry: Sentry) -> Sentry:
        parts = tuple(
            replace(p, standard_event="occur")
            if isinstance(p, PlanItemOnPart) and p.standard_event == "complete" and p.source_ref in occurring
            else p
            for p in sentry.on_parts
        )
        return sentry if parts == sentry.on_parts else replace(sentry, on_parts=parts)

    def fix_stage(stage: Stage) -> Stage:
        return replace(
            stage,
            sentries=tuple(fix_sentry(s) for s in stage.sentries),
            plan_item_definitions=tuple(fix_stage(d) if isinstance(d, Stage) else d for d in stage.plan_item_definitions),
        )

    return fix_stage(plan_model)
