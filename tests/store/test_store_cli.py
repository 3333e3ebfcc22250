"""`casepilot db upgrade`, `history`, `history verify`, `erase` (the sub-apps the main CLI mounts)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from sqlalchemy import text
from typer.testing import CliRunner

from casepilot.store import Store
from casepilot.store._canonical import dumps_text
from casepilot.store._migrate import head_revision
from casepilot.store.cli import ENV_DB, register
from tests.store._store_helpers import advance, new_case


@pytest.fixture
def app() -> typer.Typer:
    main = typer.Typer()
    register(main)
    return main


def _invoke(app: typer.Typer, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200", **(env or {})})
    return result.exit_code, result.output


def test_db_upgrade_creates_then_reports_current(app: typer.Typer, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    code, out = _invoke(app, "db", "upgrade", "--db", url)
    assert code == 0 and f"upgraded from empty to {head_revision()}" in out
    code, out = _invoke(app, "db", "upgrade", "--db", url)
    assert code == 0 and f"already at revision {head_revision()}" in out


def test_history_table_and_json(app: typer.Typer, store: Store, store_url: str) -> None:
    case = new_case(store)
    advance(store, case.id)
    with store.step(case.id, store.case(case.id).version) as step:
        step.append("verdict", payload={"allow": False}, rule_ids=["GR-12"], tokens=42, cost=0.01, latency_ms=33)
    code, out = _invoke(app, "history", case.id, "--db", store_url)
    assert code == 0, out
    # read as the demo's timeline: bookkeeping (creation, state snapshots) left out unless --all
    assert "verdict" in out and "GR-12" in out and "0.0100" in out and "case_created" not in out
    assert "bookkeeping events (state snapshots, creation) not shown" in out
    code, out = _invoke(app, "history", case.id, "--all", "--db", store_url)
    assert code == 0, out
    assert "case_created" in out and "state digest" in out and "verdict" in out
    code, out = _invoke(app, "history", case.id, "--json", "--db", store_url)
    assert code == 0
    events = json.loads(out)
    assert [e["seq"] for e in events] == [1, 2, 3, 4, 5]
    assert events[-1]["rule_ids"] == ["GR-12"] and events[-1]["tokens"] == 42
    code, out = _invoke(app, "history", case.id, "--json", "--after", "2", "--limit", "2", "--db", store_url)
    assert code == 0 and [e["seq"] for e in json.loads(out)] == [3, 4]


def test_database_url_from_the_environment(app: typer.Typer, store: Store, store_url: str) -> None:
    case = new_case(store)
    code, out = _invoke(app, "history", "verify", case.id, env={ENV_DB: store_url})
    assert code == 0 and "ok" in out and "1 events" in out


def test_history_verify_names_the_tampered_event(app: typer.Typer, store: Store, store_url: str,
                                                 tampering: None) -> None:
    case = new_case(store)
    advance(store, case.id, 2)
    code, out = _invoke(app, "history", "verify", case.id, "--db", store_url)
    assert code == 0 and "the 7 events" in out
    with store.engine.begin() as conn:
        if store.backend == "postgresql":
            conn.execute(text("ALTER TABLE history_events DISABLE TRIGGER history_events_append_only"))
        else:
            conn.execute(text("DROP TRIGGER history_events_no_update"))
        conn.execute(text("UPDATE history_events SET actor = 'x' WHERE case_id = :c AND seq = 3"), {"c": case.id})
    code, out = _invoke(app, "history", "verify", case.id, "--db", store_url)
    assert code == 1
    assert "TAMPERED" in out and "event 3 was changed" in out
    code, out = _invoke(app, "history", "verify", case.id, "--json", "--db", store_url)
    assert code == 1 and json.loads(out)["first_bad_seq"] == 3


def test_erase_shreds_and_records(app: typer.Typer, store: Store, store_url: str) -> None:
    case = new_case(store)
    store.vault.put(case.id, "<PERSON_1>", "Ann Smith")
    code, out = _invoke(app, "erase", case.id, "--yes", "--reason", "request 7", "--actor", "person:dpo",
                        "--db", store_url)
    assert code == 0, out
    assert "vault key shredded, 1 values removed" in out
    assert store.vault.tokens(case.id) == []
    last = store.history(case.id)[-1]
    assert (last.kind, last.actor, last.payload["reason"]) == ("erasure", "person:dpo", "request 7")


def test_erase_asks_first(app: typer.Typer, store: Store, store_url: str) -> None:
    case = new_case(store)
    store.vault.put(case.id, "<PERSON_1>", "Ann Smith")
    result = CliRunner().invoke(app, ["erase", case.id, "--db", store_url], input="n\n")
    assert result.exit_code == 1
    assert store.vault.tokens(case.id) == ["<PERSON_1>"]


def test_unknown_case_and_bad_usage(app: typer.Typer, store_url: str) -> None:
    code, out = _invoke(app, "history", "nope", "--db", store_url)
    assert code == 2 and "case nope does not exist" in out
    code, out = _invoke(app, "history", "--db", store_url)
    assert code == 2 and "usage" in out
    code, out = _invoke(app, "history", "verify", "--db", store_url)
    assert code == 2 and "usage" in out


def test_anchors_written_out_catch_a_history_cut_back(app: typer.Typer, store: Store, store_url: str,
                                                      tampering: None, tmp_path: Path) -> None:
    kept, cut = new_case(store), new_case(store)
    advance(store, kept.id, 1)
    advance(store, cut.id, 3)
    anchors = tmp_path / "anchors.jsonl"
    code, out = _invoke(app, "history", "anchor", "--out", str(anchors), "--db", store_url)
    assert code == 0 and "chain heads written" in out
    lines = [json.loads(line) for line in anchors.read_text().splitlines()]
    assert {line["case_id"]: line["seq"] for line in lines if line["case_id"] in (kept.id, cut.id)} == {
        kept.id: 4, cut.id: 10}
    code, out = _invoke(app, "history", "verify", "--anchors", str(anchors), "--db", store_url)
    assert code == 0 and f"{len(lines)} of {len(lines)} anchored cases verify" in out

    with store.engine.begin() as conn:  # cut the tail and rewrite the case row to match
        if store.backend == "postgresql":
            conn.execute(text("ALTER TABLE history_events DISABLE TRIGGER history_events_append_only"))
        else:
            conn.execute(text("DROP TRIGGER history_events_no_delete"))
        head = conn.execute(text("SELECT hash FROM history_events WHERE case_id = :c AND seq = 7"),
                            {"c": cut.id}).scalar()
        conn.execute(text("DELETE FROM history_events WHERE case_id = :c AND seq > 7"), {"c": cut.id})
        snap_seq, snap = conn.execute(text(
            "SELECT seq, payload_json FROM history_events WHERE case_id = :c AND kind IN ('state', 'case_created') "
            "ORDER BY seq DESC LIMIT 1"), {"c": cut.id}).one()
        conn.execute(text("UPDATE cases SET last_seq = 7, head_hash = :h, state_json = :s, snapshot_seq = :q "
                          "WHERE id = :c"),
                     {"h": head, "c": cut.id, "s": dumps_text(json.loads(snap)["state"]), "q": snap_seq})
    code, out = _invoke(app, "history", "verify", cut.id, "--db", store_url)
    assert code == 0  # the chain alone cannot tell (the row was rewritten to match, state included)
    code, out = _invoke(app, "history", "verify", cut.id, "--anchors", str(anchors), "--db", store_url)
    assert code == 1 and "TAMPERED" in out and "cut back" in out
    code, out = _invoke(app, "history", "verify", "--anchors", str(anchors), "--db", store_url)
    assert code == 1 and f"{len(lines) - 1} of {len(lines)} anchored cases verify" in out
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not an anchor\n")
    code, out = _invoke(app, "history", "verify", "--anchors", str(bad), "--db", store_url)
    assert code != 0 and "is not an anchor line" in " ".join(out.replace("│", " ").split())
