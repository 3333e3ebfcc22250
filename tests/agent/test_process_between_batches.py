"""A worker that dies between two batches of a case's BPMN process: the next run goes on from there.

The payment process (``payment.bpmn``) persists one batch per call: before the tool runs and
after it ran. A worker killed after the batch of one call and before the next call's batch
leaves a process with nothing started, no person asked and no timer armed — a state the
crash rule (a call started, never finished) does not see. The case must not stay active with
nothing anyone can do: the next run finds the waiting service call and makes it, once.
"""

from __future__ import annotations

from typing import Any

import pytest

from casepilot.agent import _process_tasks
from casepilot.demo.payment_tools import BANK
from tests._claims import claim
from tests.agent._support import CLAIMS, assert_sound, events
from tests.agent.conftest import OrchFactory


class _Killed(BaseException):
    """The worker's death (not an Exception: nothing on the way catches it)."""


@pytest.mark.parametrize("after_tool", ["validate_payment", "pay_claim"])
def test_a_run_after_a_death_between_two_calls_goes_on_and_pays_once(
        make_orch: OrchFactory, monkeypatch: pytest.MonkeyPatch, after_tool: str) -> None:
    orch, store = make_orch()
    orch.deploy(CLAIMS)
    reference = f"CLM-BETWEEN-{after_tool}"
    case = orch.start_case("claim-triage", claim("small", reference))
    write = _process_tasks.CaseStepSink.write

    def write_then_die(self: Any, batch: Any) -> None:
        write(self, batch)  # the batch is stored; the worker dies before the next one
        if any(e.kind == "tool_call_completed" and e.payload.get("tool") == after_tool for e in batch.events):
            raise _Killed

    monkeypatch.setattr(_process_tasks.CaseStepSink, "write", write_then_die)
    with pytest.raises(_Killed):
        orch.run(case.id)
    monkeypatch.undo()
    stopped = orch.runtime.load(case.id)
    [entry] = stopped.facts.processes.values()
    assert not entry["runner"]["calls"] and not entry["runner"]["inbox"] and not entry["next_timer"]
    assert store.tasks(case_id=case.id, status="open") == []  # nobody could move it on

    outcome = orch.run(case.id)

    assert (outcome.reason, outcome.case_state) == ("completed", "completed")
    started = [e["tool"] for e in events(store, case.id, "tool_call_started")]
    assert started.count("pay_claim") == 1 and started.count("send_payment_confirmation") == 1
    assert len([t for t in BANK.transfers if t.reference == reference]) == 1
    assert_sound(store, case.id)
