"""The running total of what a definition's cases spent on models (``definition_spend``).

Why a running total: a total budget is checked before every model call; summing every
``llm_call`` event of every case of the definition grew with the store. A step that records
model calls adds them in its own transaction (``add_spend``), so the total is exactly what
the committed history says. Money is kept as integer billionths (``cost_nano``): no float
rounding creeps into a budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_CEILING, Decimal
from typing import Any

from sqlalchemy import Connection, func
from sqlalchemy.dialects import postgresql, sqlite

from ._tables import DefinitionSpendRow, spend_shard

__all__ = ["NANO", "add_spend", "cost_nano"]

NANO = Decimal("1e-9")
"""The unit of ``history_events.cost_nano``: a billionth of the currency unit."""
_NANO_LIMIT = Decimal(2**63 - 1) * NANO / 1000
"""Costs up to this (about 9 million) fit a BIGINT with room for a thousand of them summed."""


def cost_nano(cost: Decimal | float | None) -> int | None:
    """``cost`` in exact billionths, rounded up (a budget may count a fraction too much, never too little).

    Money is summed as integers so that no float rounding creeps into a budget: a float
    given here is read as the decimal it prints as. A cost beyond what a 64-bit column
    holds (or not a finite number) is left to the float ``cost`` column, which sums it
    too — approximately, as it is no amount of money a model call costs.
    """
    if cost is None:
        return None
    exact = cost if isinstance(cost, Decimal) else Decimal(str(cost))
    if not exact.is_finite() or abs(exact) >= _NANO_LIMIT:
        return None
    return int((exact / NANO).to_integral_value(rounding=ROUND_CEILING))


_SPEND = DefinitionSpendRow.__table__  # type: ignore[attr-defined]


def add_spend(conn: Connection, definition_key: str, case_id: str, events: Sequence[dict[str, Any]]) -> None:
    """Add the step's ``llm_call`` events to the definition's running total (an upsert into the
    case's shard of it, ``_tables.spend_shard``)."""
    calls = [e for e in events if e["kind"] == "llm_call"]
    if not calls:
        return
    legacy = [e["cost"] for e in calls if e["cost_nano"] is None and e["cost"] is not None]
    row = {"definition_key": definition_key, "shard": spend_shard(case_id), "tokens": sum(e["tokens"] or 0 for e in calls),
           "cost_nano": sum(e["cost_nano"] or 0 for e in calls), "legacy_cost": sum(legacy) if legacy else None,
           "calls": len(calls)}
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(_SPEND).values(**row)
    added = statement.excluded
    legacy_sum = _SPEND.c.legacy_cost if row["legacy_cost"] is None else (
        func.coalesce(_SPEND.c.legacy_cost, 0.0) + added.legacy_cost)
    conn.execute(statement.on_conflict_do_update(index_elements=[_SPEND.c.definition_key, _SPEND.c.shard], set_={
        "tokens": _SPEND.c.tokens + added.tokens, "cost_nano": _SPEND.c.cost_nano + added.cost_nano,
        "legacy_cost": legacy_sum, "calls": _SPEND.c.calls + added.calls}))
