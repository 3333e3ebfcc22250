"""A tool whose result holds what msgpack, the store or the API cannot take does not break
the case (issue 15): an integer beyond 64 bits is kept exactly (the checkpointer writes that
state as JSON), text that is not Unicode is repaired and the repair recorded, and a result
nested deeper than casepilot keeps is recorded as a failed call with the reason — on SQLite
and on PostgreSQL, and the case goes on working after a restart. A letter holding a lone
surrogate, handed in through the Python API, is pseudonymised and worked like any other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from casepilot.agent.orchestrator import Orchestrator, Person
from casepilot.agent.rule_planner import RulePlanner
from casepilot.demo.run import LETTERS
from casepilot.store import Store
from casepilot.tools import NO_RETRY, ToolRegistry, tool
from tests._claims import claim, manager_approves
from tests.agent._support import (
    CLAIMS,
    RefArgs,
    TaskSpec,
    assert_sound,
    calls_of,
    events,
    make_registry,
    write_bundle,
)

HUGE = 2**70
CLERK = Person("cleo", {"clerk"})


class Anything(BaseModel):
    value: Any


def _nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(levels):
        value = {"x": value}
    return value


@tool(name="huge_number", side_effect="idempotent", retry=NO_RETRY)
def huge_number(args: RefArgs) -> Anything:
    """Return a number beyond 64 bits."""
    return Anything(value=HUGE)


@tool(name="deep_nest", side_effect="idempotent", retry=NO_RETRY)
def deep_nest(args: RefArgs) -> Anything:
    """Return a dictionary nested 200 levels deep."""
    return Anything(value=_nested(200))


@tool(name="odd_text", side_effect="idempotent", retry=NO_RETRY)
def odd_text(args: RefArgs) -> Anything:
    """Return text with a lone surrogate and a NUL, also in a key."""
    return Anything(value={"note": "a\ud800b\x00c", "k\udfffey": [1.5, float("nan")]})


@pytest.fixture(scope="module")
def registry() -> ToolRegistry:
    return make_registry(huge_number, deep_nest, odd_text)


def _deploy(orch: Orchestrator, folder: Path, tool_name: str) -> str:
    """A case: the odd tool, then ``tool_a`` behind a clerk's checkpoint (so the loop pauses and
    checkpoints with the odd value in the case file)."""
    key = f"odd-{tool_name.replace('_', '-')}"
    orch.deploy(write_bundle(folder, key, [
        TaskSpec("odd", "Odd", tool_name, {"ref": "ref"}, {"odd": "value"}),
        TaskSpec("after", "After", "tool_a", {"ref": "ref"}, {}, after="odd"),
    ], guardrails=[("tool_a", "require_human", "clerk")]))
    return key


Opener = Callable[[], tuple[Orchestrator, Store]]


@pytest.fixture
def opened(url: str, registry: ToolRegistry) -> Iterator[Opener]:
    """Opens a new store and orchestrator on ``url`` (another worker, or one restarted); all
    are closed at the end."""
    made: list[tuple[Orchestrator, Store]] = []

    def open_one() -> tuple[Orchestrator, Store]:
        store = Store.from_url(url)
        made.append((Orchestrator(store, registry, RulePlanner()), store))
        return made[-1]

    yield open_one
    for orch, store in reversed(made):
        orch.close()
        store.close()


def test_a_number_beyond_64_bits_is_kept_exactly_and_the_case_goes_on(opened: Opener, tmp_path: Path) -> None:
    orch, store = opened()
    case = orch.start_case(_deploy(orch, tmp_path / "bundle", "huge_number"), {"ref": "R-1"})

    outcome = orch.run(case.id)

    assert outcome.reason == "waiting_for_people"
    assert orch.runtime.load(case.id).engine.variables()["odd"] == HUGE  # type: ignore[union-attr]
    assert events(store, case.id, "tool_call_completed")[0]["result"] == {"value": HUGE}
    orch.close()

    # a restarted worker reads the paused loop's checkpoint back and the case finishes
    orch, store = opened()
    assert orch.run(case.id).reason == "waiting_for_people"
    (task,) = orch.pending(case.id)
    orch.decide(task.id, CLERK, "approve")
    assert orch.run(case.id).reason == "completed"
    assert calls_of("tool_a") == [{"ref": "R-1"}]
    assert_sound(store, case.id)


def test_a_result_nested_200_deep_is_a_failed_call_with_the_reason(opened: Opener, tmp_path: Path) -> None:
    orch, store = opened()
    case = orch.start_case(_deploy(orch, tmp_path / "bundle", "deep_nest"), {"ref": "R-2"})

    outcome = orch.run(case.id)

    (failed,) = events(store, case.id, "tool_call_failed")
    assert failed["tool"] == "deep_nest"
    assert "nested deeper than 64 levels" in failed["error"] and "flatter" in failed["error"]
    assert events(store, case.id, "tool_call_completed") == []
    assert "odd" not in orch.runtime.load(case.id).engine.variables()  # type: ignore[union-attr]
    assert outcome.reason != "completed"
    # the case stays workable: it runs again (not planning the failed call again), and verifies
    again = orch.run(case.id)
    assert again.reason == outcome.reason and again.steps == 0
    assert len(events(store, case.id, "tool_call_failed")) == 1
    assert_sound(store, case.id)


def test_text_that_is_not_unicode_is_repaired_and_the_repair_recorded(opened: Opener, tmp_path: Path) -> None:
    orch, store = opened()
    case = orch.start_case(_deploy(orch, tmp_path / "bundle", "odd_text"), {"ref": "R-3"})

    assert orch.run(case.id).reason == "waiting_for_people"

    kept = orch.runtime.load(case.id).engine.variables()["odd"]  # type: ignore[union-attr]
    assert kept == {"note": "a\ufffdb\ufffdc", "k\ufffdey": [1.5, None]}
    (completed,) = events(store, case.id, "tool_call_completed")
    assert completed["changed"] == [
        "/value/note: a NUL character and a lone UTF-16 surrogate replaced with U+FFFD",
        "/value/k\ufffdey (the name): a lone UTF-16 surrogate replaced with U+FFFD",
        "/value/k\ufffdey/1: a number that is not finite (nan), kept as null",
    ]
    (task,) = orch.pending(case.id)
    orch.decide(task.id, CLERK, "approve")
    assert orch.run(case.id).reason == "completed"
    assert_sound(store, case.id)


def test_a_letter_holding_a_lone_surrogate_is_worked(opened: Opener) -> None:
    orch, store = opened()
    version = orch.deploy(CLAIMS)
    letter = LETTERS["straight-through"].replace("parked car", "parked\ud800 car")
    case = orch.start_case(version.key, claim(letter, "CLM-SURROGATE-9"))

    outcome = orch.run(case.id)

    assert outcome.reason == "waiting_for_people"
    manager_approves(orch, case.id)  # 1,250.50: the payment waits for a claims manager
    assert orch.run(case.id).reason == "completed"
    stored = orch.runtime.load(case.id).engine.variables()["letter"]  # type: ignore[union-attr]
    assert "parked\ufffd car" in stored and "John Smith" not in stored  # repaired and pseudonymised
    assert [e["tool"] for e in events(store, case.id, "tool_call_completed")] == [
        "extract_claim", "sentiment", "validate_payment", "pay_claim", "send_payment_confirmation", "bpmn:payment"]
    assert_sound(store, case.id)
