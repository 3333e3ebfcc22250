"""Governance over many cases, read from the store: verdicts by rule, people's decisions by role,
model spend and tool use per case — tables for an analyst's notebook (``to_pandas()`` for more).

Everything comes from the hash-chained histories and the inbox, so what the tables count is what
the audit trail holds; personal data stays pseudonymised.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from decimal import Decimal

from casepilot.store import CaseRecord, Store
from casepilot.store._search import case_state

from .tables import Table

__all__ = ["approvals_by_role", "spend_by_case", "verdicts_by_rule"]

_PAGE = 500


def _cases(store: Store, definition_key: str | None) -> Iterator[CaseRecord]:
    offset = 0
    while True:
        page = store.cases(definition_key=definition_key, limit=_PAGE, offset=offset)
        yield from page
        if len(page) < _PAGE:
            return
        offset += _PAGE


def verdicts_by_rule(store: Store, definition_key: str | None = None) -> Table:
    """How often each rule decided each verdict kind (allow, require_human, block…), most frequent first."""
    counts: Counter[tuple[str, str]] = Counter()
    for case in _cases(store, definition_key):
        for event in store.iter_history(case.id):
            if event.kind == "verdict":
                # A BPMN service task's verdict is nested under "verdict" (casepilot.bpmn events).
                verdict = event.payload.get("verdict") if event.payload.get("engine") == "bpmn" else event.payload
                for rule in event.rule_ids or ("(no rule)",):
                    counts[(rule, str((verdict or {}).get("kind")))] += 1
    rows = tuple((rule, kind, n) for (rule, kind), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return Table(("rule", "verdict", "count"), rows, "verdicts by rule")


def approvals_by_role(store: Store) -> Table:
    """People's decisions on inbox items, by the item's role and the choice made (and items closed otherwise)."""
    counts: Counter[tuple[str, str, str]] = Counter()
    for status in ("decided", "expired", "cancelled"):
        for task in store.tasks(status=status, limit=1_000_000):
            counts[(task.role or "operator", status, task.decision or "")] += 1
    rows = tuple((role, status, decision, n) for (role, status, decision), n in sorted(counts.items()))
    return Table(("role", "status", "decision", "count"), rows, "inbox items by role")


def spend_by_case(store: Store, definition_key: str | None = None) -> Table:
    """Per case: its state, model calls, tokens and cost, tool calls (failed ones apart), verdicts, people's decisions."""
    rows = []
    for case in _cases(store, definition_key):
        calls = tokens = tools = failed = verdicts = decisions = 0
        cost = Decimal(0)
        for event in store.iter_history(case.id):
            if event.kind == "llm_call":
                calls += 1
                tokens += event.tokens or 0
                cost += Decimal(str(event.cost or 0))
            elif event.kind == "tool_call_completed":
                tools += 1
            elif event.kind == "tool_call_failed":
                failed += 1
            elif event.kind == "verdict":
                verdicts += 1
            elif event.kind == "human_task_decided" and event.payload.get("status") == "decided":
                decisions += 1
        rows.append((case.business_key or case.id[:8], case.definition_key, case_state(store.case(case.id).state),
                     calls, tokens, float(cost), tools, failed, verdicts, decisions))
    return Table(("case", "definition", "state", "llm calls", "tokens", "cost", "tool calls", "failed tools",
                  "verdicts", "decisions"), tuple(rows), "spend and activity per case")
