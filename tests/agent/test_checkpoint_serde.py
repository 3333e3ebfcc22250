"""The checkpointer keeps what msgpack refuses (issue 15): the loop's state carries the case
file, so an integer beyond 64 bits or a value nested 255+ levels deep — kept by the store —
must round-trip through LangGraph's SQLite and PostgreSQL savers too, exactly."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.base import BaseCheckpointSaver, empty_checkpoint
from langgraph.checkpoint.postgres import PostgresSaver
from langgraph.checkpoint.sqlite import SqliteSaver
from psycopg import Connection
from psycopg.rows import dict_row

from casepilot.agent._checkpoint_serde import JSON_TAG, CheckpointTooDeep, KeepingSerializer
from casepilot.agent.checkpointing import checkpointer_for
from casepilot.store import Store


def _nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(levels):
        value = {"x": value}
    return value


STATES: dict[str, Any] = {
    "huge": {"case_id": "c1", "observation": {"variables": {"amount": 2**70, "debt": -(2**64)}}},
    "deep": {"case_id": "c2", "observation": {"variables": {"tree": _nested(300)}}},
    "odd leaves": {"n": 2**70, "cost": Decimal("0.10"), "raw": b"\x00\xff", "pair": (1, "a"),
                   3: "int key", "__casepilot_pairs__": "looks like a wrapper",
                   "nested": [{"__casepilot_msgpack__": ["msgpack", "AAAA"]}]},
}


@pytest.mark.parametrize("name", list(STATES))
def test_values_msgpack_refuses_round_trip_as_json(name: str) -> None:
    serde = KeepingSerializer()
    typed = serde.dumps_typed(STATES[name])
    assert typed[0] == JSON_TAG
    back = serde.loads_typed(typed)
    expected = dict(STATES[name])
    if name == "odd leaves":
        expected["pair"] = [1, "a"]  # a tuple comes back as a list, as it does from msgpack
    assert back == expected


def test_ordinary_state_stays_msgpack() -> None:
    serde = KeepingSerializer()
    state = {"case_id": "c", "steps": 3, "observation": {"variables": {"amount": 2**63 - 1}}}
    typed = serde.dumps_typed(state)
    assert typed[0] == "msgpack"
    assert serde.loads_typed(typed) == state


def test_a_state_too_deep_even_for_json_says_so() -> None:
    with pytest.raises(CheckpointTooDeep, match="nested too deeply to checkpoint"):
        KeepingSerializer().dumps_typed(_nested(5000))


def _put_and_get(saver: BaseCheckpointSaver[Any], thread: str, values: dict[str, Any]) -> Any:
    checkpoint = empty_checkpoint()
    checkpoint["channel_values"] = dict(values)
    checkpoint["channel_versions"] = {key: 1 for key in values}
    config = {"configurable": {"thread_id": thread, "checkpoint_ns": ""}}
    saved = saver.put(config, checkpoint, {"source": "loop", "step": 1}, {key: 1 for key in values})
    saver.put_writes(saved, [("observation", values["observation"])], "task-1")
    got = saver.get_tuple(saved)
    assert got is not None
    return got


def _check_saver(saver: BaseCheckpointSaver[Any]) -> None:
    for name in ("huge", "deep"):
        got = _put_and_get(saver, f"thread-{name}", STATES[name])
        assert got.checkpoint["channel_values"] == STATES[name]
        assert got.pending_writes == [("task-1", "observation", STATES[name]["observation"])]


def test_the_sqlite_saver_keeps_them(tmp_path: Path) -> None:
    store = Store.from_url(f"sqlite:///{tmp_path / 'cases.db'}")
    saver, conn = checkpointer_for(store)
    assert isinstance(saver, SqliteSaver) and isinstance(conn, sqlite3.Connection)
    try:
        _check_saver(saver)
    finally:
        conn.close()
        store.close()


@pytest.mark.postgres
def test_the_postgres_saver_keeps_them(pg_url: str) -> None:
    store = Store.from_url(pg_url)
    saver, conn = checkpointer_for(store)
    assert isinstance(saver, PostgresSaver) and isinstance(conn, Connection)
    try:
        _check_saver(saver)
        # and a fresh connection (another worker) reads the same
        with Connection.connect(conn.info.dsn, autocommit=True, row_factory=dict_row) as other:
            again = PostgresSaver(other, serde=KeepingSerializer())
            got = again.get_tuple({"configurable": {"thread_id": "thread-huge", "checkpoint_ns": ""}})
            assert got is not None and got.checkpoint["channel_values"] == STATES["huge"]
    finally:
        conn.close()
        store.close()
