"""Finding cases (``Store.search_cases``): by business key and case-file value — pseudonyms
match, clear text never does, since the store never holds it — by state and definition, sorted
and paged; the state read is the current one (snapshot + deltas), on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from casepilot.store import Store
from casepilot.store._search import CaseQuery
from tests.store._store_helpers import bundle


def _state(root_state: str, **variables: Any) -> dict[str, Any]:
    return {"engine": {"id": "case", "items": [{"id": "case", "state": root_state}], "variables": variables}}


def _seed(store: Store) -> dict[str, str]:
    store.deploy("claims", bundle())
    store.deploy("travel", bundle(text=bundle().files["case.cmmn"].replace('"c"', '"t"')))  # type: ignore[union-attr]
    ids = {}
    ids["clm-1"] = store.create_case("claims", _state("Active", letter="From <PERSON_1>" + " …" * 500, amount={"$decimal": "800"}),
                                     business_key="CLM-1").id
    ids["clm-2"] = store.create_case("claims", _state("Completed", letter="All fine"), business_key="CLM-2").id
    ids["trv-1"] = store.create_case("travel", _state("Active", claim={"amount": {"$decimal": "90000"}}),
                                     business_key="TRV-1").id
    return ids


def test_search_by_business_key_value_and_pseudonym(store: Store) -> None:
    ids = _seed(store)

    def found(**kw: Any) -> set[str]:
        return {c.business_key or "" for c in store.search_cases(CaseQuery(**kw)).cases}

    assert found(text="clm") == {"CLM-1", "CLM-2"}
    assert found(text="PERSON_1") == {"CLM-1"}  # the pseudonym, as stored
    assert found(text="Ann Smith") == set()  # a clear name is never in the store
    assert found(text="90000") == {"TRV-1"}  # an encoded number matches its digits
    assert found(text=ids["clm-2"][:8]) == {"CLM-2"}  # the start of the case id
    assert found(state="completed") == {"CLM-2"}
    assert found(state="active", definition_key="claims") == {"CLM-1"}


def test_sort_page_and_waiting_for(store: Store) -> None:
    ids = _seed(store)
    case = store.case(ids["clm-1"])
    with store.step(case.id, case.version) as step:
        step.create_task("Approve?", kind="checkpoint", plan_item="pi", role="senior analyst", options=["approve"])
    first = store.search_cases(CaseQuery(sort="business_key", descending=False, limit=2))
    second = store.search_cases(CaseQuery(sort="business_key", descending=False, limit=2, offset=2))
    assert [c.business_key for c in first.cases] == ["CLM-1", "CLM-2"] and first.total == 3
    assert [c.business_key for c in second.cases] == ["TRV-1"] and second.total == 3
    assert first.waiting_for == {ids["clm-1"]: ("senior analyst",)}
    latest = store.search_cases(CaseQuery(sort="activity", descending=True, limit=1)).cases[0]
    assert latest.id == ids["clm-1"]  # the step made it the last active


def test_the_current_state_counts_not_the_snapshot(store: Store) -> None:
    ids = _seed(store)
    case = store.case(ids["clm-1"])
    terminated = {**case.state, "engine": {**case.state["engine"], "items": [{"id": "case", "state": "Terminated"}]}}
    with store.step(case.id, case.version) as step:
        step.save_changes([["put", ["engine", "items"], {"id": "case", "state": "Terminated"}]],
                          snapshot=lambda: terminated)
    assert store.history(case.id)[-1].kind == "state_delta"  # the stored snapshot still says Active
    assert [c.id for c in store.search_cases(CaseQuery(state="terminated")).cases] == [ids["clm-1"]]
