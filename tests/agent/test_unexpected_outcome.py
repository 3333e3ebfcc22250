"""A tool outcome that arrives after the case stopped expecting the call (another worker took it
for interrupted while it ran) is recorded — not applied, and not dropped without a trace."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from casepilot.agent._recovery import expire_and_recover
from tests.agent._support import CLAIMS, events
from tests.agent.conftest import OrchFactory


def test_an_outcome_that_lost_the_race_is_recorded_not_applied(make_orch: OrchFactory,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    orch, store = make_orch()
    other, _ = make_orch()
    orch.deploy(CLAIMS)
    case = orch.start_case("claim-triage", {"letter": "The repair costs EUR 300. Thanks a lot!", "policy": "P"})
    registry = orch.runtime.registry
    real_invoke = registry.invoke
    meddled: list[str] = []

    def invoke(name: str, arguments: Mapping[str, Any] | Any, **kw: Any) -> Any:
        if name == "extract_claim" and not meddled:
            # While the tool runs, another worker takes the call for interrupted (a false crash).
            loaded = other.runtime.load(case.id)
            meddled.extend(loaded.facts.started)
            assert expire_and_recover(other.runtime, loaded)
        return real_invoke(name, arguments, **kw)

    monkeypatch.setattr(registry, "invoke", invoke)
    outcome = orch.run(case.id)

    assert len(meddled) == 1
    late = [e for e in events(store, case.id, "tool_call_completed") if e["call_id"] == meddled[0]]
    assert len(late) == 1 and late[0]["applied"] is False
    assert "recorded, not applied" in late[0]["problem"]
    assert late[0]["result"]  # what the tool returned is in the history
    # the idempotent call was offered again and the case went on
    assert outcome.reason == "completed"
    assert store.verify(case.id).ok
    assert store.rebuild_state(case.id) == store.case(case.id).state
