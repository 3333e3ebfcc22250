"""A case edited behind the store's back is refused when a worker loads it (``load_case``)
and reported by ``verify``: its state row, an event since the last snapshot, the row's
snapshot pointer, and every column of its inbox rows."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import text

from casepilot.errors import HistoryTampered
from casepilot.store import Store
from casepilot.store._canonical import dumps_text
from casepilot.store.history import StateTampered
from tests.store._store_helpers import new_case


def _sql(store: Store, statement: str, **params: object) -> None:
    with store.engine.begin() as conn:
        conn.execute(text(statement), params)


def _allow_event_edits(store: Store) -> None:
    if store.backend == "postgresql":
        _sql(store, "ALTER TABLE history_events DISABLE TRIGGER history_events_append_only")
    else:
        _sql(store, "DROP TRIGGER history_events_no_update")


@pytest.fixture
def case_with_inbox(store_url: str) -> Any:
    """A case with a snapshot, two deltas after it, an open item and a decided one."""
    store = Store.from_url(store_url, snapshot_every=50)
    # big enough that its two small deltas do not outweigh it (no new snapshot here)
    case = new_case(store, state={"engine": {"items": [{"id": "a", "state": "x"}]}, "pad": "." * 4000})
    with store.step(case.id, case.version) as step:
        step.create_task("Approve?", kind="checkpoint", role="senior", options=("approve", "reject"),
                         task_id="open-1")
        step.create_task("Check", role="clerk", options=("ok",), task_id="done-1")
        step.save_changes([["put", ["engine", "items"], {"id": "a", "state": "y"}]], snapshot=dict)
    with store.step(case.id, store.case(case.id).version) as step:
        step.decide_task("done-1", decided_by="person:ann", decision="ok", comment="fine")
        step.save_changes([["put", ["engine", "items"], {"id": "b", "state": "new"}]], snapshot=dict)
    yield store, case.id
    store.close()


def test_an_untouched_case_loads(case_with_inbox: tuple[Store, str]) -> None:
    store, case_id = case_with_inbox
    loaded = store.load_case(case_id)
    assert loaded.state == {"engine": {"items": [{"id": "a", "state": "y"}, {"id": "b", "state": "new"}]},
                            "pad": "." * 4000}
    assert [e.kind for e in store.history(case_id)].count("state_delta") == 2
    assert store.verify(case_id).ok


def _refused(store: Store, case_id: str, *words: str) -> StateTampered:
    with pytest.raises(StateTampered) as caught:
        store.load_case(case_id)
    message = str(caught.value)
    for word in words:
        assert word in message
    assert "is not worked" in message and "restore" in message
    assert isinstance(caught.value, HistoryTampered) and caught.value.case_id == case_id
    report = store.verify(case_id)
    assert not report.ok
    return caught.value


def test_an_edited_state_row_is_refused(case_with_inbox: tuple[Store, str], tampering: None) -> None:
    store, case_id = case_with_inbox
    _sql(store, "UPDATE cases SET state_json = :s WHERE id = :c",
         s=dumps_text({"engine": {"items": [{"id": "a", "state": "paid"}]}}), c=case_id)
    error = _refused(store, case_id, "cases.state_json", "event 1")
    assert error.sequence == 1
    assert store.case(case_id).state["engine"]["items"][0]["state"] == "y"  # reading still shows what is there


def test_whitespace_in_the_state_row_is_an_edit_too(case_with_inbox: tuple[Store, str], tampering: None) -> None:
    store, case_id = case_with_inbox
    with store.engine.connect() as conn:
        stored = conn.execute(text("SELECT state_json FROM cases WHERE id = :c"), {"c": case_id}).scalar_one()
    _sql(store, "UPDATE cases SET state_json = :s WHERE id = :c", s=json.dumps(json.loads(stored), indent=1),
         c=case_id)
    _refused(store, case_id, "cases.state_json")


def test_an_edited_delta_is_refused(case_with_inbox: tuple[Store, str], tampering: None) -> None:
    store, case_id = case_with_inbox
    _allow_event_edits(store)
    (seq,) = [e.seq for e in store.history(case_id) if e.kind == "state_delta"][-1:]
    _sql(store, "UPDATE history_events SET payload_json = :p WHERE case_id = :c AND seq = :s",
         p=dumps_text({"ops": [["put", ["engine", "items"], {"id": "b", "state": "paid"}]]}), c=case_id, s=seq)
    error = _refused(store, case_id, f"event {seq} was changed")
    assert error.sequence == seq


def test_a_moved_snapshot_pointer_is_refused(case_with_inbox: tuple[Store, str], tampering: None) -> None:
    store, case_id = case_with_inbox
    _sql(store, "UPDATE cases SET snapshot_seq = 2 WHERE id = :c", c=case_id)
    _refused(store, case_id, "snapshot", "event 2")


@pytest.mark.parametrize(("column", "value", "task_id"), [
    ("role", "intern", "open-1"),
    ("options_json", '["approve"]', "open-1"),
    ("decision", "approve", "open-1"),
    ("status", "decided", "open-1"),
    ("decision", "not ok", "done-1"),
    ("decided_by", "person:mallory", "done-1"),
    ("status", "open", "done-1"),
    ("prompt", "Pay me", "done-1"),
])
def test_an_edited_inbox_row_is_refused(case_with_inbox: tuple[Store, str], tampering: None,
                                        column: str, value: str, task_id: str) -> None:
    store, case_id = case_with_inbox
    _sql(store, f"UPDATE human_tasks SET {column} = :v WHERE id = :t", v=value, t=task_id)
    name = "options" if column == "options_json" else column
    _refused(store, case_id, f"inbox item {task_id}", name, "human_tasks row was edited")


def test_an_edited_inbox_time_is_refused(case_with_inbox: tuple[Store, str], tampering: None) -> None:
    store, case_id = case_with_inbox
    _sql(store, "UPDATE human_tasks SET created_at = '2001-01-01 00:00:00' WHERE id = 'open-1'")
    _refused(store, case_id, "created_at")


def test_an_inserted_inbox_row_is_refused(case_with_inbox: tuple[Store, str], tampering: None) -> None:
    store, case_id = case_with_inbox
    _sql(store, "INSERT INTO human_tasks (id, case_id, kind, prompt, options_json, status, created_at) "
                "VALUES ('forged', :c, 'checkpoint', 'Approve?', '[]', 'open', '2026-01-01 00:00:00')", c=case_id)
    _refused(store, case_id, "inbox item forged", "written outside casepilot")


def test_a_deleted_inbox_row_is_refused(case_with_inbox: tuple[Store, str], tampering: None) -> None:
    store, case_id = case_with_inbox
    _sql(store, "DELETE FROM human_tasks WHERE id = 'open-1'")
    _refused(store, case_id, "inbox item open-1", "was deleted")


def test_loading_while_another_worker_opens_items_is_not_tampering(store: Store) -> None:
    """The check reads one snapshot: an item committed between its reads of rows and events
    (a reader's load racing a worker's step) is not taken for an edit."""
    import threading

    case = new_case(store, state={"pad": "." * 20_000})
    stop = threading.Event()
    errors: list[BaseException] = []

    def open_items() -> None:
        try:
            for i in range(60):
                with store.step(case.id, store.case(case.id).version) as step:
                    step.create_task(f"Item {i}", role="clerk", options=("ok",))
                    step.save_changes([["set", ["n"], i]], snapshot=dict)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            stop.set()

    writer = threading.Thread(target=open_items)
    writer.start()
    loads = 0
    while not stop.is_set():
        store.load_case(case.id)
        loads += 1
    writer.join()
    assert errors == [] and loads > 0
    assert len(store.tasks(case_id=case.id)) == 60
