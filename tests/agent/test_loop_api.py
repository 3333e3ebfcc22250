"""The orchestrator's other entry points and time: checkpoints that expire (resolved by
their policy's default on an injected clock; silence never approves), ``stream`` (each
node's update as it happens) and the async variants."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from casepilot.agent.orchestrator import Person
from casepilot.errors import DecisionRejected
from tests.agent._support import TaskSpec, assert_sound, calls_of, events, write_bundle
from tests.agent.conftest import OrchFactory

ONE = (TaskSpec("a", "Task A", "tool_a", {"ref": "ref"}, {"a_done": "done"}),)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.mark.parametrize(("default", "runs"), [("approve", 1), (None, 0)])
def test_expired_checkpoint_resolves_by_its_default(make_orch: OrchFactory, tmp_path: Path,
                                                    default: str | None, runs: int) -> None:
    folder = write_bundle(tmp_path / "expiring", "expiring", ONE,
                          guardrails=[("tool_a", "require_human", "approver a", 3600, default)])
    clock = Clock()
    orch, store = make_orch(clock=clock)
    orch.deploy(folder)
    case = orch.start_case("expiring", {"ref": "R-6"})

    [task] = orch.run(case.id).pending
    assert task.expires_at is not None
    assert task.expires_at - clock.now == dt.timedelta(hours=1)
    clock.now += dt.timedelta(hours=2)
    with pytest.raises(DecisionRejected, match="expired"):
        orch.decide(task.id, Person("al", {"approver a"}), "approve")
    outcome = orch.run(case.id)

    assert len(calls_of("tool_a")) == runs
    assert store.task(task.id).status == "expired"
    # one event records the expiry and what it resolved to
    [resolved] = [e for e in events(store, case.id, "human_task_decided") if e["task_id"] == task.id]
    assert (resolved["status"], resolved["decision"]) == ("expired", default or "reject")
    assert outcome.case_state == ("completed" if runs else "active")
    assert orch.pending(case.id) == []
    assert_sound(store, case.id)


def test_stream_yields_every_node_in_loop_order(make_orch: OrchFactory, tmp_path: Path) -> None:
    two = (*ONE, TaskSpec("b", "Task B", "tool_b", {"ref": "ref"}, {"b_done": "done"}, after="a"))
    folder = write_bundle(tmp_path / "streamed", "streamed", two)
    orch, store = make_orch()
    orch.deploy(folder)
    case = orch.start_case("streamed", {"ref": "R-7"})

    nodes = [chunk["node"] for chunk in orch.stream(case.id)]

    assert nodes == ["observe", "plan", "govern", "act", "record"] * 2 + ["observe"]
    assert (orch.run(case.id).reason, orch.run(case.id).steps) == ("completed", 0)
    assert [len(calls_of("tool_a")), len(calls_of("tool_b"))] == [1, 1]
    assert_sound(store, case.id)


def test_async_variants_work_a_checkpointed_case(make_orch: OrchFactory, tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "async", "async-case", ONE,
                          guardrails=[("tool_a", "require_human", "approver a")])
    orch, store = make_orch()
    orch.deploy(folder)

    async def scenario() -> tuple[str, str]:
        case = await orch.astart_case("async-case", {"ref": "R-8"})
        first = await orch.arun(case.id)
        [task] = first.pending
        await orch.adecide(task.id, Person("al", {"approver a"}), "approve", "fine")
        second = await orch.arun(case.id)
        status = await orch.achat(case.id, "person:al", "status?")
        assert "completed" in status
        return first.reason, second.reason

    assert asyncio.run(scenario()) == ("waiting_for_people", "completed")
    assert len(calls_of("tool_a")) == 1
    for case in store.cases():
        assert_sound(store, case.id)
