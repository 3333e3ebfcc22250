"""The case list a handler works from: find a case by its business key or a case-file value,
filter by state and definition, sort, page — every choice in the URL, so a search can be
bookmarked, shared and reloaded (``GET /ui/cases?q=…&state=…``).

Values match as the store holds them: personal data only as its pseudonym (``<PERSON_1>``),
never its clear text (see ``casepilot.store._search``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, get_args
from urllib.parse import urlencode

from casepilot.agent._process_cases import process_of
from casepilot.agent.orchestrator import Orchestrator
from casepilot.api.web_forms import fields_of
from casepilot.errors import CasepilotError
from casepilot.store._search import CaseQuery, SortKey, case_state

__all__ = ["CASE_STATES", "ListParams", "cases_context", "start_fields", "title_of"]

CASE_STATES = ("active", "suspended", "completed", "terminated", "failed", "closed")
"""The states a person filters by (the case plan model's CMMN states)."""
PER_PAGE = 25
SORTS: dict[str, str] = {"activity": "last activity", "started": "started", "business_key": "business key",
                         "definition": "definition", "state": "state"}


@dataclass(frozen=True, slots=True)
class ListParams:
    """The list's query string, checked: unknown values fall back to the defaults (a stale link still shows a list)."""

    q: str = ""
    state: str = ""
    definition: str = ""
    sort: str = "activity"
    order: str = "desc"
    page: int = 1

    @classmethod
    def of(cls, q: str | None, state: str | None, definition: str | None, sort: str | None, order: str | None,
           page: str | None) -> ListParams:
        return cls(
            q=(q or "").strip()[:200],
            state=state if state is not None and state in CASE_STATES else "",
            definition=(definition or "").strip()[:200],
            sort=sort if sort is not None and sort in get_args(SortKey) else "activity",
            order="asc" if order == "asc" else "desc",
            page=max(1, int(page)) if page and page.isdigit() and len(page) < 7 else 1,
        )

    def url(self, **changes: Any) -> str:
        """This list's URL with ``changes`` (defaults left out, so links stay short)."""
        params = replace(self, **changes)
        defaults = ListParams()
        query = {k: getattr(params, k) for k in ("q", "state", "definition", "sort", "order", "page")
                 if getattr(params, k) != getattr(defaults, k)}
        return "/ui/cases" + (f"?{urlencode(query)}" if query else "")

    def sort_url(self, key: str) -> str:
        """Sort by ``key``; the same key again flips the order."""
        order = ("asc" if self.order == "desc" else "desc") if key == self.sort else "desc"
        return self.url(sort=key, order=order, page=1)


def title_of(definition_key: str, business_key: str | None, case_id: str) -> str:
    """A case's name for people: its definition and business key (the id's start when it has none)."""
    return f"{definition_key} · {business_key}" if business_key else f"{definition_key} · {case_id[:8]}"


def cases_context(orch: Orchestrator, params: ListParams | None = None) -> dict[str, Any]:
    """The list page's rows, paging and filters."""
    params = params or ListParams()
    query = CaseQuery(text=params.q or None, state=params.state or None, definition_key=params.definition or None,
                      sort=params.sort, descending=params.order == "desc",  # type: ignore[arg-type]  # checked in of()
                      limit=PER_PAGE, offset=(params.page - 1) * PER_PAGE)
    found = orch.store.search_cases(query)
    rows = [{
        "id": record.id,
        "title": title_of(record.definition_key, record.business_key, record.id),
        "state": case_state(record.state),
        "definition": f"{record.definition_key} v{record.definition_version}"
                      + (f" · process {process_of(record.state)}" if process_of(record.state) else ""),
        "business_key": record.business_key or "",
        "started": record.created_at,
        "activity": record.updated_at,
        "waiting_for": found.waiting_for.get(record.id, ()),
    } for record in found.cases]
    pages = max(1, -(-found.total // PER_PAGE))
    return {
        "rows": rows, "total": found.total, "params": params, "pages": pages, "states": CASE_STATES,
        "sorts": SORTS, "definitions": orch.store.definitions(),
        "start_fields": fields_of(start_fields(orch)),
        "start_processes": start_processes(orch),
    }


def start_processes(orch: Orchestrator) -> dict[str, list[str]]:
    """Definition key -> the BPMN processes of its bundle, which the start form can start on their own."""
    found: dict[str, list[str]] = {}
    for summary in orch.store.definitions():
        try:
            processes = orch.runtime.bundle(summary.key, summary.version).processes
        except CasepilotError:  # a bundle that does not load: nothing to offer (starting it says why)
            continue
        if processes is not None:
            found[summary.key] = sorted(processes.processes)
    return found


def start_fields(orch: Orchestrator) -> dict[str, dict[str, str]]:
    """Definition key -> its declared start variables and their JSON types (``start.required`` in the
    manifest), for the start form's typed fields; undeclared input goes in the JSON box."""
    fields: dict[str, dict[str, str]] = {}
    for summary in orch.store.definitions():
        try:
            manifest = orch.runtime.bundle(summary.key, summary.version).manifest
        except CasepilotError:  # a bundle that does not load: the JSON box only (starting it says why)
            continue
        fields[summary.key] = dict(manifest.start.required)
    return fields
