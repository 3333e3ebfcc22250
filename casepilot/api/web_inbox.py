"""The inbox a person works from: my items (assigned to me by name, or claimed), my roles' items,
or all I may see — each with its case's business key, age, priority, due time, expiry, assignee and
claim, filters and sort order kept in the URL (``GET /ui/inbox?view=roles&role=…&sort=due``).

Priority and due time come from the human task's declaration in its case's manifest
(``human_tasks.<task>.priority`` and ``due``, an ISO 8601 duration from the item's creation),
so they need nothing stored per item; checkpoints have neither (normal priority, no due time).

Who "I" am: the sign-on proxy's person, or — without one — the name and roles typed into the
filter form, carried in the URL so the decision forms below come filled in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from casepilot.agent._inbox import task_spec
from casepilot.agent._loaded_case import LoadedCase
from casepilot.agent.orchestrator import Orchestrator, Person
from casepilot.api.web_case import shown
from casepilot.api.web_cases import title_of
from casepilot.api.web_forms import FormField, task_fields
from casepilot.store import HumanTask

__all__ = ["SORTS", "VIEWS", "InboxParams", "age_text", "inbox_context"]

VIEWS = {"all": "all I may see", "roles": "my roles' items", "mine": "mine (assigned or claimed)"}
SORTS = {"age": "oldest first", "due": "due first", "priority": "most urgent first"}
_RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}


@dataclass(frozen=True, slots=True)
class InboxParams:
    view: str = "all"
    role: str = ""
    name: str = ""
    roles: str = ""
    sort: str = "age"

    @classmethod
    def of(cls, view: str | None, role: str | None, name: str | None, roles: str | None,
           sort: str | None = None) -> InboxParams:
        return cls(view if view in VIEWS else "all", (role or "").strip()[:200], (name or "").strip()[:200],
                   (roles or "").strip()[:1000], sort if sort in SORTS else "age")


def age_text(since: datetime, now: datetime) -> str:
    """How long an item has waited, in the largest unit that fits (``3 min``, ``5 h``, ``2 d``)."""
    seconds = max(0, int((now - since).total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


def _assignees(orch: Orchestrator, tasks: list[HumanTask]) -> dict[str, str]:
    """Open item id -> the person it was reassigned to by name (from the cases' reassign verdicts)."""
    found: dict[str, str] = {}
    wanted = {t.id for t in tasks}
    for case_id in {t.case_id for t in tasks}:
        for event in orch.store.iter_history(case_id):
            p = event.payload
            if (event.kind == "verdict" and p.get("operation") == "reassign" and p.get("kind") == "allow"
                    and p.get("new_task_id") in wanted and p.get("person")):
                found[str(p["new_task_id"])] = str(p["person"])
    return found


def _overdue(due: datetime | None, now: datetime) -> bool:
    return due is not None and due <= now


def inbox_context(orch: Orchestrator, params: InboxParams, me: Person | None, now: datetime) -> dict[str, Any]:
    """The open items of the chosen view, with what a person needs beside each to decide."""
    tasks = orch.pending(role=params.role or None)
    assignees = _assignees(orch, tasks)
    claims = orch.store.task_claims([t.id for t in tasks])
    name = me.name if me is not None else params.name
    roles = set(me.roles) if me is not None else {r.strip() for r in params.roles.split(",") if r.strip()}
    if params.view == "roles":
        tasks = [t for t in tasks if t.role in roles and assignees.get(t.id) in (None, name)]
    elif params.view == "mine":  # assigned to me, or claimed by me
        tasks = [t for t in tasks if name and name in (assignees.get(t.id), claims.get(t.id, ("",))[0])]
    cases: dict[str, dict[str, Any]] = {}
    fields: dict[str, list[FormField]] = {}
    urgency: dict[str, tuple[str, datetime | None]] = {}
    loads: dict[str, LoadedCase] = {}
    for task in tasks:
        loaded = loads.get(task.case_id) or loads.setdefault(task.case_id, orch.runtime.load(task.case_id))
        if task.case_id not in cases:
            record = orch.store.case(task.case_id)
            values = shown(loaded.engine.variables() if loaded.engine is not None else {})
            cases[task.case_id] = {
                "title": title_of(record.definition_key, record.business_key, record.id),
                "file": [(n, v if len(v) <= 160 else v[:159] + "…") for n, v in values],
            }
        spec = task_spec(loaded, task.id) if task.kind == "human_task" else None
        fields[task.id] = task_fields(task.id, spec.fields) if spec is not None else []
        due_after = spec.due_after if spec is not None else None
        urgency[task.id] = (spec.priority if spec is not None else "normal",
                            task.created_at + due_after if due_after is not None else None)
    if params.sort == "due":  # items without a due time last; oldest first among equals
        far = datetime.max.replace(tzinfo=now.tzinfo)
        tasks.sort(key=lambda t: (urgency[t.id][1] or far, t.created_at))
    elif params.sort == "priority":
        tasks.sort(key=lambda t: (_RANK[urgency[t.id][0]], t.created_at))
    rows = [{"task": t, "case": cases[t.case_id], "age": age_text(t.created_at, now), "fields": fields[t.id],
             "priority": urgency[t.id][0], "due": urgency[t.id][1], "overdue": _overdue(urgency[t.id][1], now),
             "expires_soon": t.expires_at is not None and t.expires_at - now < timedelta(hours=24),
             "assignee": assignees.get(t.id), "claim": claims.get(t.id)} for t in tasks]
    return {"rows": rows, "params": params, "views": VIEWS, "sorts": SORTS, "tasks": tasks, "role": params.role,
            "actor": params.name, "roles": params.roles}
