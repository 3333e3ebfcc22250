"""How big and how old the open inbox is, in one aggregate query (for ``/metrics``).

A scrape must cost the same at 10 or 100,000 open items, so this counts in the database
(``count``/``min`` over the ``status`` index) instead of listing tasks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func
from sqlalchemy import select as select_core

from ._canonical import as_utc
from ._tables import HumanTaskRow

__all__ = ["InboxStats", "open_inbox_stats"]


@dataclass(frozen=True)
class InboxStats:
    open_items: int
    oldest_created_at: datetime | None
    """When the oldest open item was opened (UTC); None when the inbox is empty."""


def open_inbox_stats(engine: Engine) -> InboxStats:
    """Count the open inbox items and find when the oldest was opened."""
    table = HumanTaskRow.__table__  # type: ignore[attr-defined]  # SQLModel sets it on table classes
    query = select_core(func.count(), func.min(table.c.created_at)).where(table.c.status == "open")
    with engine.connect() as conn:
        count, oldest = conn.execute(query).one()
    return InboxStats(int(count), as_utc(oldest) if oldest is not None else None)
