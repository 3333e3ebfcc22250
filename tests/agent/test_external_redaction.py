"""What a planner writes is pseudonymised before it is governed or stored, and only an in-process
tool ever sees the clear values; a tool in ``external_tools`` (it calls a service outside the
process) gets exactly what the Governor redacted.

A scripted planner writes a note with a name and an e-mail address in clear, the way a model
or a benchmark's planner may. The history, the case state and the inbox hold only pseudonyms
either way.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from casepilot.agent.nodes import LoopState, Nodes
from casepilot.store import Store
from tests.agent._support import ScriptedPlanner, TaskSpec, assert_sound, calls_of, events, write_bundle
from tests.agent.conftest import OrchFactory

NOTE = "Please call Peter Miller back at peter.miller@example.org about the claim."
RAW = ("Peter Miller", "peter.miller@example.org")
SEND = (TaskSpec("send", "Send note", "echo_text", {"text": "ref"}, {"sent": "text"}),)


def _everything_stored(store: Store, case_id: str) -> str:
    history = [e.model_dump() for e in store.history(case_id)]
    tasks = [t.model_dump() for t in store.tasks(case_id=case_id)]
    return json.dumps([history, store.case(case_id).state, tasks], ensure_ascii=False, default=str)


def _send(make_orch: OrchFactory, tmp_path: Path, external: bool) -> tuple[Store, str]:
    governance: dict[str, Any] = {"external_tools": ["echo_text"]} if external else {}
    folder = write_bundle(tmp_path / "send", "send-note", SEND, extra_governance=governance)
    orch, store = make_orch(ScriptedPlanner({"Send note": {"text": NOTE}}))
    orch.deploy(folder)
    case = orch.start_case("send-note", {"ref": "R-1"})
    assert orch.run(case.id).reason == "completed"
    return store, case.id


def test_an_external_tool_gets_what_the_governor_redacted(make_orch: OrchFactory, tmp_path: Path) -> None:
    store, case_id = _send(make_orch, tmp_path, external=True)

    [sent] = calls_of("echo_text")
    assert "<PERSON_" in sent["text"] and "<EMAIL_ADDRESS_" in sent["text"]
    assert not any(raw in sent["text"] for raw in RAW)
    [verdict] = [v for v in events(store, case_id, "verdict") if v["action"] == "run:case.1"]
    assert verdict["transformed"] == {"text": sent["text"]}  # the Governor's redaction is what left
    [started] = events(store, case_id, "tool_call_started")
    assert started["arguments"] == {"text": sent["text"]}
    stored = _everything_stored(store, case_id)
    assert not any(raw in stored for raw in RAW)
    assert_sound(store, case_id)


def test_an_in_process_tool_sees_the_clear_values_and_nothing_stores_them(make_orch: OrchFactory,
                                                                         tmp_path: Path) -> None:
    store, case_id = _send(make_orch, tmp_path, external=False)

    assert calls_of("echo_text") == [{"text": NOTE}]
    [verdict] = [v for v in events(store, case_id, "verdict") if v["action"] == "run:case.1"]
    assert verdict["transformed"] is None  # nothing left the process
    [plan] = [p for p in events(store, case_id, "plan") if p["chose"] == "run:case.1"]
    assert "<PERSON_" in plan["arguments"]["text"]
    stored = _everything_stored(store, case_id)
    for raw in RAW:
        assert raw not in stored, f"{raw!r} is stored in clear"
    assert_sound(store, case_id)


@pytest.mark.parametrize("external", [True, False])
def test_the_stored_call_holds_pseudonyms_while_it_runs(make_orch: OrchFactory, tmp_path: Path,
                                                        external: bool) -> None:
    """The call recorded as started (in the case state, until it completes) holds no clear value."""
    governance: dict[str, Any] = {"external_tools": ["echo_text"]} if external else {}
    folder = write_bundle(tmp_path / "send", "send-note", SEND, extra_governance=governance)
    orch, store = make_orch(ScriptedPlanner({"Send note": {"text": NOTE}}))
    orch.deploy(folder)
    case = orch.start_case("send-note", {"ref": "R-2"})
    nodes = Nodes(orch.runtime)
    state: LoopState = {"case_id": case.id, "max_steps": 5, "steps": 0, "blocked": [], "stop": None}
    state.update(nodes.observe(state))
    state.update(nodes.plan(state))
    state.update(nodes.govern(state))

    # A non-idempotent call is stored as started before it runs; any other is carried in the loop's
    # state (its checkpoint) to be written with its outcome. Neither holds a clear value.
    stored = list(orch.runtime.load(case.id).facts.started.values())
    deferred = (state.get("deferred") or {}).get("started")
    calls = [c.arguments for c in stored] + ([deferred["call"]["arguments"]] if deferred else [])
    [arguments] = calls
    assert "<PERSON_" in arguments["text"]
    assert not any(raw in _everything_stored(store, case.id) for raw in RAW)
    assert not any(raw in json.dumps(state.get("deferred"), default=str) for raw in RAW)


# A value the modeler wrote into the binding is not pseudonymised on its way in (it is part of the
# definition); what leaves the process and what the started call records still are.
LITERAL = (TaskSpec("send", "Send note", "echo_text", {"text": f"'{NOTE}'"}, {"sent": "text"}),)


@pytest.mark.parametrize("external", [True, False])
def test_a_binding_literal_with_personal_data_is_redacted_where_it_leaves_or_is_recorded(
    make_orch: OrchFactory, tmp_path: Path, external: bool
) -> None:
    governance: dict[str, Any] = {"external_tools": ["echo_text"]} if external else {}
    folder = write_bundle(tmp_path / "literal", "literal-note", LITERAL, extra_governance=governance)
    orch, store = make_orch()
    orch.deploy(folder)
    case = orch.start_case("literal-note", {"ref": "R-3"})

    assert orch.run(case.id).reason == "completed"

    [sent] = calls_of("echo_text")
    [started] = events(store, case.id, "tool_call_started")
    if external:
        assert "<PERSON_" in sent["text"] and not any(raw in sent["text"] for raw in RAW)
    else:
        assert sent == {"text": NOTE}
    assert "<PERSON_" in started["arguments"]["text"]
    assert not any(raw in json.dumps(started) for raw in RAW)
