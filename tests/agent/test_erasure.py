"""Erasing a case shreds its vault key: its pseudonyms can never be resolved again, by this
process or another, and the history still verifies."""

from __future__ import annotations

import json

import pytest

from casepilot.agent.orchestrator import Person
from casepilot.errors import NotFound
from tests.agent._support import CLAIMS
from tests.agent.conftest import OrchFactory

LETTER = "I am Peter Miller, peter.miller@example.org. The garage quotes EUR 640 for the bumper."


def test_erased_case_cannot_be_revealed_and_history_verifies(make_orch: OrchFactory) -> None:
    orch, store = make_orch()
    orch.deploy(CLAIMS)
    case = orch.start_case("claim-triage", {"letter": LETTER, "policy": "P-9"})
    orch.run(case.id)
    stored = orch.runtime.load(case.id).engine.variables()["letter"]  # type: ignore[union-attr]
    assert "Peter Miller" not in stored and "<PERSON_1>" in stored
    analyst = Person("ann", {"senior analyst"})
    assert orch.reveal(case.id, stored, analyst) == LETTER

    orch.erase(case.id, analyst, reason="customer asked for erasure (GDPR art. 17)")

    with pytest.raises(NotFound, match="cannot be revealed"):
        orch.reveal(case.id, stored, analyst)
    # another process (a fresh orchestrator on the same database) cannot either
    other, _ = make_orch()
    with pytest.raises(NotFound):
        other.reveal(case.id, stored, analyst)
    assert store.verify(case.id).ok
    erasure = [e for e in store.history(case.id) if e.kind == "erasure"]
    assert len(erasure) == 1 and erasure[0].actor == "person:ann"
    everything = json.dumps([e.payload for e in store.history(case.id)]) + json.dumps(store.case(case.id).state)
    assert "Peter Miller" not in everything and "peter.miller@example.org" not in everything
