"""How an endpoint gets the orchestrator: from the app it belongs to, never from a module global."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from casepilot.agent.orchestrator import Orchestrator

__all__ = ["OrchestratorDep", "get_orchestrator"]


def get_orchestrator(request: Request) -> Orchestrator:
    """The orchestrator ``create_app`` put on ``app.state`` (so two apps in one process stay apart)."""
    orch = request.app.state.orchestrator
    assert isinstance(orch, Orchestrator)
    return orch


OrchestratorDep = Annotated[Orchestrator, Depends(get_orchestrator)]
