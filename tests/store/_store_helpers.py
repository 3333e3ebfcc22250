"""Small builders shared by the store tests."""

from __future__ import annotations

from typing import Any

from casepilot.store import CaseRecord, DefinitionBundle, Store

CMMN = '<definitions xmlns="http://www.omg.org/spec/CMMN/20151109/MODEL"><case id="c"/></definitions>'


def bundle(text: str = CMMN, **metadata: Any) -> DefinitionBundle:
    return DefinitionBundle(files={"case.cmmn": text, "rules.dmn": b"<dmn/>"}, metadata=dict(metadata))


def new_case(
    store: Store,
    key: str = "claims",
    state: dict[str, Any] | None = None,
    *,
    business_key: str | None = None,
    tenant: str | None = None,
) -> CaseRecord:
    store.deploy(key, bundle())
    return store.create_case(
        key, state if state is not None else {"items": {}, "n": 0}, business_key=business_key, tenant=tenant
    )


def advance(store: Store, case_id: str, n: int = 1) -> None:
    """Apply ``n`` ordinary steps: a plan event, a transition and a new state each."""
    for _ in range(n):
        case = store.case(case_id)
        with store.step(case_id, case.version) as step:
            step.append("plan", actor="agent", payload={"next": case.state["n"] + 1})
            step.append("transition", payload={"item": "t", "to": "active"})
            step.save_state({**case.state, "n": case.state["n"] + 1})
