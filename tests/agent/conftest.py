"""Fixtures of the agent end-to-end tests: one tool registry per session (the PII models
load once per process anyway), and orchestrators over real SQLite files in ``tmp_path``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from casepilot.agent.orchestrator import Orchestrator
from casepilot.agent.planning import Planner
from casepilot.agent.rule_planner import RulePlanner
from casepilot.store import Store
from casepilot.tools import ToolRegistry
from tests.agent._support import make_registry

OrchFactory = Callable[..., tuple[Orchestrator, Store]]


@pytest.fixture(scope="session")
def registry() -> ToolRegistry:
    return make_registry()


@pytest.fixture(autouse=True)
def _fresh_calls(fresh_calls: None) -> None:
    """Every agent test counts only its own tool calls (``fresh_calls``)."""


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cases.db'}"


@pytest.fixture
def orch(url: str) -> Iterator[Orchestrator]:
    """An orchestrator with no tools and the rule planner, once on SQLite and once on PostgreSQL
    (the shared ``url``); a module whose cases need tools or processes defines its own ``orch``."""
    store = Store.from_url(url)
    orchestrator = Orchestrator(store, ToolRegistry([]), RulePlanner())
    yield orchestrator
    orchestrator.close()
    store.close()


@pytest.fixture
def make_orch(registry: ToolRegistry, db_url: str) -> Iterator[OrchFactory]:
    """``make_orch(planner=None, url=db_url, **kw)``: a new Store + Orchestrator (closed at teardown)."""
    opened: list[tuple[Orchestrator, Store]] = []

    def make(planner: Planner | None = None, url: str | None = None, **kwargs: Any) -> tuple[Orchestrator, Store]:
        store = Store.from_url(url or db_url)
        orch = Orchestrator(store, registry, planner or RulePlanner(), **kwargs)
        opened.append((orch, store))
        return orch, store

    yield make
    for orch, store in reversed(opened):
        orch.close()
        store.close()
