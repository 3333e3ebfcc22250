"""Rewrite the few engine idioms whose meaning is unambiguous into their CMMN 1.1 form.

Milestones and event listeners reach the Completed state only through ``occur`` (CMMN 1.1
ch. 8 event listener and milestone lifecycle), yet models made with Flowable and Camunda listen for ``complete`` on them. The intent
— "once this has happened" — is the same, so such on-parts are rewritten to ``occur`` and the
runtime only ever sees standard events that the source can make.
"""

from __future__ import annotations

from dataclasses import replace

from lxml import etree

from casepilot.cmmn.definitions import HumanTask, PlanItemDefinition, PlanItemOnPart, Sentry, Stage

__all__ = ["OCCURRENCE_KINDS", "complete_to_occur", "inline_criterion_sentries"]

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


_ON_PARTS = ("planItemOnPart", "caseFileItemOnPart", "ifPart")
_CRITERIA = ("entryCriterion", "exitCriterion")


def inline_criterion_sentries(root: etree._Element, ns: str) -> None:
    """Move on-parts written inside a criterion into the sentry the criterion refers to.

    Flowable's modeler can write a criterion's on-parts (and if-part) inside the
    ``entryCriterion``/``exitCriterion`` element, with a ``sentryRef`` that names no sentry.
    The meaning is unambiguous — one sentry with those parts — so the sentry is created in
    the stage that holds the criterion (in place, on the XML tree, before parsing).
    """
    ids = {el.get("id") for el in root.iter() if el.get("id")}
    for crit in list(root.iter(*(f"{{{ns}}}{name}" for name in _CRITERIA))):
        parts = [c for c in crit if isinstance(c.tag, str) and etree.QName(c).localname in _ON_PARTS]
        ref = crit.get("sentryRef")
        if not parts or (ref is not None and ref in ids):
            continue
        parent = crit.getparent()
        if parent is None:
            continue
        holder = parent if etree.QName(parent).localname in ("casePlanModel", "stage") else parent.getparent()
        if holder is None:
            continue
        sentry_id = ref or f"{crit.get('id') or 'criterion'}#sentry"
        sentry = etree.SubElement(holder, f"{{{ns}}}sentry", id=sentry_id)
        sentry.sourceline = crit.sourceline
        for part in parts:
            sentry.append(part)  # moves the element
        crit.set("sentryRef", sentry_id)
        ids.add(sentry_id)
