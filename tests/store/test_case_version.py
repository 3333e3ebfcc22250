"""``Store.case_version``: the cheap check the agent uses to know a cached case is current."""

from __future__ import annotations

import pytest

from casepilot.errors import NotFound
from casepilot.store import DefinitionBundle, Store


def test_case_version_follows_every_step(store: Store) -> None:
    store.deploy("k", DefinitionBundle(files={"m.cmmn": "<x/>"}))
    case = store.create_case("k", {"n": 0})
    assert store.case_version(case.id) == case.version
    with store.step(case.id, case.version) as step:
        step.save_state({"n": 1})
    assert store.case_version(case.id) == store.case(case.id).version == case.version + 1
    with pytest.raises(NotFound):
        store.case_version("no-such-case")


def test_llm_spend_sums_llm_calls_over_every_case_of_a_definition(store: Store) -> None:
    store.deploy("k", DefinitionBundle(files={"m.cmmn": "<x/>"}))
    store.deploy("other", DefinitionBundle(files={"m.cmmn": "<y/>"}))
    assert store.llm_spend("k") == (0, 0.0, 0)
    for key, tokens, cost in (("k", 100, 0.5), ("k", 50, 0.25), ("other", 999, 9.0)):
        case = store.create_case(key, {})
        with store.step(case.id, case.version) as step:
            step.append("llm_call", payload={"model": "m"}, tokens=tokens, cost=cost)
            step.append("plan", payload={}, tokens=7)  # not an LLM call: not counted
    assert store.llm_spend("k") == (150, 0.75, 2)
