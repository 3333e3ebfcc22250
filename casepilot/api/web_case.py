"""What the case page shows: where the case stands and why, in words (a banner), what a person
may do about it (only what the case's state allows), the plan diagram — and the diagram of each
BPMN process it runs, with the tokens marked (a process started on its own shows only that) —,
and the history as a timeline a person can filter.

The banner reads the same ``stop_reason`` as ``casepilot run``: waiting for a role since when,
blocked by which guardrail rule and why, which tool failed with what — and names the operations
that help (retry, correct, terminate), which the page then offers.
"""

from __future__ import annotations

import json
from typing import Any

from casepilot.agent._inbox import task_spec
from casepilot.agent._process_cases import process_views
from casepilot.agent.operations import failed_items
from casepilot.agent.orchestrator import Orchestrator
from casepilot.agent.people import listed_actions
from casepilot.agent.privacy import jsonable
from casepilot.agent.stop_reason import StopReason, guardrail_decisions, stop_reason
from casepilot.agent.timeline import KIND_GROUPS, timeline
from casepilot.api.web_cases import title_of
from casepilot.api.web_forms import FormField, task_fields
from casepilot.viz import plan_diagram

__all__ = ["HISTORY_SHOWN", "case_context", "shown"]

HISTORY_SHOWN = 500
"""The newest events a case page shows (the JSON API pages through all of them)."""

_HELP = {
    "blocked": "A guardrail stops what the case needs next. Correct the case-file value it read, "
               "or terminate the case; running it again asks the guardrail again.",
    "failed": "Retry the failed task once its cause is fixed, correct the case-file value it used, "
              "or terminate the case.",
    "waiting": "A person in the named role decides in the inbox; an operator may reassign the item.",
    "completed": "Nothing is left to do.",
    "terminated": "The case was ended; nothing more can happen to it.",
    "suspended": "Resume the case to let it go on.",
}
"""What a person can do, by the kind of stop (``StopReason.kind``)."""


def shown(variables: dict[str, Any]) -> list[tuple[str, str]]:
    """Case-file values as text for the page (JSON for structures), sorted by name."""
    return [(name, value if isinstance(value, str) else json.dumps(jsonable(value), ensure_ascii=False))
            for name, value in sorted(variables.items())]


def _banner(orch: Orchestrator, case_id: str, loaded: Any) -> StopReason:
    outcome = orch.outcome(case_id)
    return stop_reason(outcome, orch.store.iter_history(case_id), guardrail_decisions(loaded.bundle.manifest))


def case_context(orch: Orchestrator, case_id: str, group: str | None = None) -> dict[str, Any]:
    """Everything the case page shows; ``group`` filters the timeline (``KIND_GROUPS``)."""
    record = orch.store.case(case_id)
    loaded = orch.runtime.load(case_id)
    engine = loaded.engine
    state = engine.state if engine is not None else "active"
    report = orch.store.verify(case_id)
    events = orch.store.history(case_id, after_seq=max(0, record.last_seq - HISTORY_SHOWN))
    reason = _banner(orch, case_id, loaded)
    diagram = plan_diagram(loaded.bundle.case, engine.items() if engine is not None else (), state,
                           definitions=loaded.bundle.definitions)
    workable = state == "active"
    processes = process_views(loaded)
    tasks = orch.pending(case_id)
    # A read-only look: an item whose applicability rule reads erased personal data is shown as not
    # available, with the reason, never offered (``_case_reveal``).
    actions, unavailable = listed_actions(engine) if workable else ([], [])
    forms: dict[str, list[FormField]] = {}
    for task in tasks:
        spec = task_spec(loaded, task.id) if task.kind == "human_task" else None
        forms[task.id] = task_fields(task.id, spec.fields) if spec is not None else []
    return {
        "case": record,
        "title": title_of(record.definition_key, record.business_key, record.id),
        "state": state,
        "banner": {"kind": reason.kind, "lines": reason.lines, "help": _HELP.get(reason.kind, "")},
        "diagram": diagram.svg,
        "process": loaded.facts.process,
        "processes": processes,
        "process_variables": {p.instance_id: shown(dict(p.variables)) for p in processes},
        "items": engine.items() if engine is not None else [],
        "variables": shown(engine.variables() if engine is not None else {}),
        "tasks": tasks,
        "task_forms": forms,
        "actions": actions,
        "unavailable": unavailable,
        "failed": [{"id": i, "name": name} for i, (name, _) in failed_items(orch, loaded).items()] if workable else [],
        "can_run": workable,
        "can_chat": state in ("active", "completed"),
        "timeline": timeline(events, group),
        "groups": list(KIND_GROUPS),
        "group": group if group in KIND_GROUPS else "",
        "group_kinds": sorted(KIND_GROUPS.get(group or "", ())),
        "follow": state in ("active", "suspended"),
        "verified": report.ok,
        "events_checked": report.events_checked,
    }
