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
