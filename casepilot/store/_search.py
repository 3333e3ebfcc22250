"""Finding cases for people: by business key or case-file value, by state and definition,
sorted and paged (the web page's case list, ``Store.search_cases``).

A case's CMMN state and its case file live in the state JSON (the last snapshot plus the
deltas since, see ``_state``), not in columns, so a search reads each candidate's current
state and matches in Python: the definition filter narrows the rows in SQL first. It reads
what the store holds, so personal data matches only as its pseudonym (``<PERSON_1>``): the
clear value is never in the database to be matched.

The cost is one pass over the matching definition's cases — fine for the thousands of cases
a handler's list shows; a store of millions wants indexed columns (a migration) instead.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Engine, select

from ._convert import case_record
from ._state import current_state
from ._tables import CaseRow, HumanTaskRow
from .models import CaseRecord

__all__ = ["CasePage", "CaseQuery", "SortKey", "case_state", "case_values", "search_cases"]

_CASES = CaseRow.__table__  # type: ignore[attr-defined]
_TASKS = HumanTaskRow.__table__  # type: ignore[attr-defined]

SortKey = Literal["started", "activity", "business_key", "definition", "state"]


@dataclass(frozen=True, slots=True)
class CaseQuery:
    """What a person looks for; every field narrows (None: no filter)."""

    text: str | None = None
    """Matches the business key, the case id's start, or any case-file value (case-insensitive)."""
    state: str | None = None
    """The case's CMMN state, lower case (``active``, ``completed``, ``terminated``…)."""
    definition_key: str | None = None
    tenant: str | None = None
    sort: SortKey = "activity"
    descending: bool = True
    limit: int = 25
    offset: int = 0


@dataclass(frozen=True, slots=True)
class CasePage:
    """One page of matching cases and how many match in all (for paging)."""

    cases: tuple[CaseRecord, ...]
    total: int
    waiting_for: Mapping[str, tuple[str, ...]]
    """Case id -> the roles (or ``"anyone"``) its open inbox items wait for, for the cases shown."""


def case_state(state: Mapping[str, Any]) -> str:
    """The case's CMMN state in lower case, from its stored state JSON (``unknown`` if unreadable)."""
    engine = state.get("engine")
    if not isinstance(engine, Mapping):
        return "unknown"
    root = engine.get("id")
    for item in engine.get("items") or ():
        if isinstance(item, Mapping) and item.get("id") == root:
            return str(item.get("state", "unknown")).lower()
    return "unknown"


def case_values(state: Mapping[str, Any]) -> Iterator[str]:
    """Every scalar in the case file as text (encoded numbers such as ``{"$decimal": "800"}`` as their digits)."""
    engine = state.get("engine")
    variables = engine.get("variables") if isinstance(engine, Mapping) else None
    stack: list[Any] = [variables or {}]
    while stack:
        value = stack.pop()
        if isinstance(value, Mapping):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif value is not None:
            yield str(value)


def _matches(record: CaseRecord, state_name: str, query: CaseQuery) -> bool:
    if query.state is not None and state_name != query.state.lower():
        return False
    if not query.text:
        return True
    needle = query.text.strip().lower()
    if record.id.startswith(needle) or needle in (record.business_key or "").lower():
        return True
    return any(needle in value.lower() for value in case_values(record.state))


def _sort_key(query: CaseQuery, record: CaseRecord, state_name: str) -> tuple[Any, ...]:
    if query.sort == "started":
        return (record.created_at, record.id)
    if query.sort == "business_key":
        return (record.business_key or "", record.created_at)
    if query.sort == "definition":
        return (record.definition_key, record.definition_version, record.created_at)
    if query.sort == "state":
        return (state_name, record.updated_at)
    return (record.updated_at, record.id)


def search_cases(engine: Engine, query: CaseQuery) -> CasePage:
    """The page of cases matching ``query``, with the total and what the shown ones wait for."""
    statement = select(_CASES)
    if query.definition_key:
        statement = statement.where(_CASES.c.definition_key == query.definition_key)
    if query.tenant:
        statement = statement.where(_CASES.c.tenant == query.tenant)
    found: list[tuple[CaseRecord, str]] = []
    with engine.connect() as conn, conn.begin():
        for row in conn.execute(statement):
            record = case_record(row).model_copy(update={"state": current_state(conn, row)})
            state_name = case_state(record.state)
            if _matches(record, state_name, query):
                found.append((record, state_name))
        found.sort(key=lambda pair: _sort_key(query, *pair), reverse=query.descending)
        shown = [record for record, _ in found[query.offset: query.offset + query.limit]]
        waiting: dict[str, list[str]] = {}
        if shown:
            rows = conn.execute(select(_TASKS.c.case_id, _TASKS.c.role).where(
                _TASKS.c.status == "open", _TASKS.c.case_id.in_([r.id for r in shown])))
            for case_id, role in rows:
                roles = waiting.setdefault(case_id, [])
                if (role or "anyone") not in roles:
                    roles.append(role or "anyone")
    return CasePage(tuple(shown), len(found), {k: tuple(v) for k, v in waiting.items()})
