"""The orchestrator loop's own state: what LangGraph checkpoints between nodes (plain data:
ids, the current plan, the tool outcome); the case itself lives in the store."""

from __future__ import annotations

from typing import Any, TypedDict

__all__ = ["LoopState"]


class LoopState(TypedDict, total=False):
    """The loop's own state (the LangGraph checkpoint); the case lives in the store."""

    case_id: str
    max_steps: int
    steps: int
    stop: str | None
    observation: dict[str, Any] | None
    plan: dict[str, Any] | None
    approved: dict[str, Any] | None
    """An action a person approved (parked action), executed without asking the planner."""
    verdict: dict[str, Any] | None
    call_id: str | None
    deferred: dict[str, Any] | None
    """What ``govern`` decided, for ``record`` to write with the outcome (``nodes._recorded_with_outcome``)."""
    outcome: dict[str, Any] | None
    blocked: list[str]
    """Options blocked by governance during this run: not offered again in it."""
    resume: dict[str, Any] | None
    pending: list[dict[str, Any]] | None
    """Open inbox items the loop waits for (set by ``plan`` before ``wait`` interrupts)."""
