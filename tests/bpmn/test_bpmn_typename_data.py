"""Process data that looks like the serializer's own tags round-trips exactly through stored state.

SpiffWorkflow's serializer reads any dict with a ``typename`` key as one of its tagged values.
Before ``_values.ESCAPED_TAG``, a tool answering ``{"typename": "car", ...}`` left a process that
dumped but never loaded again (``TypeError`` on load: the case stuck for good), and one answering
``{"typename": "Decimal", "value": "1"}`` came back as a decimal. These tests run the real path —
a service task's result kept as process data (``to_plain``), dumped by the serializer, loaded
again — for arbitrary JSON values (hypothesis), through a real store (``StoreSink``: stored,
resumed by another runner), and load states written before the escape (``states/``).

``states/legacy-states.json`` was written by ``ProcessInstance.dump`` of commit 076af43 (before
the escape) for ``states/cars.bpmn``: "decimals" (amounts tagged as they still are) and "car"
(a tool's dict with ``typename: car`` stored as it is, which that code could not load).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from casepilot.bpmn import load_processes
from casepilot.bpmn._values import ESCAPED_TAG, decode_state, encode_state, escape_data, to_plain
from casepilot.bpmn.instance import ProcessInstance
from casepilot.bpmn.runner import ServiceRequest
from casepilot.bpmn.store_sink import resume_process_case, start_process_case
from casepilot.governance import Verdict
from casepilot.store import DefinitionBundle, Store
from casepilot.tools import NO_RETRY, Tool, ToolRegistry
from tests.bpmn._models import process

STATES = Path(__file__).resolve().parent / "states"
CARS = (STATES / "cars.bpmn").read_text(encoding="utf-8")
"""fetch (tool fetch_car -> ``car``) -> review (user task) -> show (tool show_car, argument ``car``) -> end."""
DEFS = load_processes(CARS)
LEGACY: dict[str, str] = json.loads((STATES / "legacy-states.json").read_text(encoding="utf-8"))


def same(a: Any, b: Any) -> bool:
    """Equal and of the same types all the way down (``Decimal("1") == 1`` and ``True == 1`` are not enough);
    a decimal keeps its digits and scale (``1.50`` is not ``1.5``)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, Decimal):
        return str(a) == str(b)
    return bool(a == b)


TAGS = st.sampled_from(["Decimal", "UUID", "datetime", "timedelta", ESCAPED_TAG, "BpmnEvent", "car", ""])
KEYS = st.sampled_from(["typename", "value", "items", "days", "seconds", "model"]) | st.text(max_size=6)
LOOKALIKES = st.sampled_from([
    {"typename": "Decimal", "value": "1250.50"},
    {"typename": "Decimal", "value": "not a number"},
    {"typename": "UUID", "value": "12345678-1234-5678-1234-567812345678"},
    {"typename": "datetime", "value": "2026-03-01T12:00:00+00:00"},
    {"typename": "timedelta", "days": 1, "seconds": 30},
    {"typename": ESCAPED_TAG, "items": {"typename": "car"}},
    {"typename": ESCAPED_TAG, "items": {}},
    {"typename": None},
    {"typename": ["Decimal"], "value": "1"},
    {"typename": "car", "model": "X"},
])
"""Dicts shaped exactly like the serializer's tags (and like casepilot's own escape)."""

SCALARS = (
    st.none() | st.booleans() | st.integers(min_value=-(10**30), max_value=10**30) | st.text(max_size=8)
    | st.decimals(allow_nan=False, allow_infinity=False) | st.floats(allow_nan=False, allow_infinity=False)
)


def _tagged(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.builds(lambda tag, value, extra: {**extra, "typename": tag, "value": value},
                     TAGS, children, st.dictionaries(KEYS, children, max_size=2))


JSONISH = st.recursive(
    SCALARS | LOOKALIKES,
    lambda children: (st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=4)
                      | _tagged(children)),
    max_leaves=24,
)
"""JSON-shaped values (with decimals and floats, as a tool's typed result or FEEL gives them), rich in
``typename`` / ``value`` / ``items`` keys at every depth."""


def _fetched(result: Any, data: dict[str, Any] | None = None) -> ProcessInstance:
    instance = ProcessInstance.start(DEFS, "cars", data=data)
    [call] = instance.service_calls()
    instance.complete_service(call.call_id, result)
    return instance


@settings(max_examples=150, deadline=None)
@given(result=JSONISH, start=st.dictionaries(KEYS, JSONISH, max_size=3))
def test_any_json_value_round_trips_through_the_stored_process(result: Any, start: dict[str, Any]) -> None:
    """A tool's result (and the start data, whose own keys may be ``typename``) comes back from a
    dump and load exactly as the process held it — and reaches the next tool's arguments so."""
    instance = _fetched(result, start)
    held = instance.data
    assert same(held["car"], to_plain(result))
    state = instance.dump()
    again = ProcessInstance.load(DEFS, state)
    assert same(again.data, held)
    assert again.dump() == state  # nothing drifts: the state's digest does not change with a load
    [review] = again.user_tasks()
    again.complete_user_task(review.task_id, {})
    [call] = again.service_calls()  # the pending call (its arguments in the task's internal data)
    argument = to_plain(held["car"])  # as FEEL gives it (a float's ``1E+16`` is the whole number)
    assert same(dict(call.arguments), {"car": argument})
    third = ProcessInstance.load(DEFS, again.dump())
    assert same(dict(third.service_calls()[0].arguments), {"car": argument})
    third.complete_service(call.call_id, result)
    assert third.completed
    # The engine's data at the end, as the agent reads it from the dump (``decode_state``).
    assert same(decode_state(json.loads(third.dump())["data"]), third.data)


@settings(max_examples=300, deadline=None)
@given(value=JSONISH)
def test_the_runner_state_encoding_round_trips_any_json_value(value: Any) -> None:
    """``encode_state`` / ``decode_state`` (the runner's pending calls) through JSON text: the same value back."""
    plain = to_plain(value)
    assert same(decode_state(json.loads(json.dumps(encode_state(plain)))), plain)


@settings(max_examples=200, deadline=None)
@given(value=JSONISH)
def test_escaping_leaves_data_without_typename_keys_as_the_same_object(value: Any) -> None:
    """The common case costs no copy: a value with no ``typename`` key anywhere is returned itself."""
    plain = to_plain(value)
    escaped = escape_data(plain)
    if "typename" not in json.dumps(plain, default=str):
        assert escaped is plain
    else:
        assert "typename" in json.dumps(escaped, default=str)


def test_a_tools_dict_with_a_typename_no_longer_makes_the_process_unloadable() -> None:
    """The reported case: ``{"typename": "car", ...}`` as a tool's result, and the lookalikes of
    casepilot's and SpiffWorkflow's own tags, each load back as the dict it was."""
    for result in ({"typename": "car", "model": "X"}, {"typename": "Decimal", "value": "1.5"},
                   {"typename": "UUID", "value": "12345678-1234-5678-1234-567812345678"},
                   {"typename": ESCAPED_TAG, "items": {"model": "X"}}):
        instance = _fetched(result)
        again = ProcessInstance.load(DEFS, instance.dump())
        assert same(again.data["car"], result), result


def test_a_process_variable_named_typename_round_trips() -> None:
    """The data mapping itself may hold a key ``typename`` (a start variable of that name)."""
    instance = _fetched({"model": "X"}, {"typename": "fleet", "amount": Decimal("10.00")})
    again = ProcessInstance.load(DEFS, instance.dump())
    assert same(again.data, {"typename": "fleet", "amount": Decimal("10.00"), "car": {"model": "X"}})


def test_amounts_are_still_stored_as_the_serializers_decimal_tag() -> None:
    """The stored form of a decimal is unchanged (what states already in stores hold)."""
    instance = _fetched({"price": Decimal("19999.90")}, {"amount": Decimal("1250.50")})
    text = instance.dump()
    assert '{"value": "1250.50", "typename": "Decimal"}' in text
    assert '{"value": "19999.90", "typename": "Decimal"}' in text
    assert ESCAPED_TAG not in text


def test_a_state_written_before_the_escape_loads_with_its_amounts() -> None:
    again = ProcessInstance.load(DEFS, LEGACY["decimals"])
    assert same(again.data, {"amount": Decimal("1250.50"), "limits": [Decimal("0.10"), 7],
                             "car": {"model": "X", "price": Decimal("19999.90")}})
    [review] = again.user_tasks()
    again.complete_user_task(review.task_id, {})
    assert same(dict(again.service_calls()[0].arguments), {"car": {"model": "X", "price": Decimal("19999.90")}})


def test_a_stuck_state_written_before_the_escape_loads_again() -> None:
    """A process the old code stored with ``typename: car`` in its data (and could never load) now loads,
    the dict as it was, and goes on."""
    assert '"typename": "car"' in LEGACY["car"] and ESCAPED_TAG not in LEGACY["car"]
    again = ProcessInstance.load(DEFS, LEGACY["car"])
    car = {"typename": "car", "model": "X", "price": Decimal("19999.90")}
    assert same(again.data, {"amount": Decimal("1250.50"), "car": car})
    [review] = again.user_tasks()
    again.complete_user_task(review.task_id, {})
    [call] = again.service_calls()
    assert same(dict(call.arguments), {"car": car})
    reloaded = ProcessInstance.load(DEFS, again.dump())  # and is stored escaped from now on
    assert same(dict(reloaded.service_calls()[0].arguments), {"car": car})


# ---------------------------------------------------------------------------------- through a store


class NoArgs(BaseModel):
    pass


class Car(BaseModel):
    typename: str
    model: str
    specs: dict[str, str]
    price: Decimal


class ShowArgs(BaseModel):
    car: dict[str, Any]


class Shown(BaseModel):
    ok: bool


CAR = {"typename": "car", "model": "X", "specs": {"typename": "Decimal", "value": "12"}}
"""What the fleet system answers: a ``typename`` of its own, and a nested dict shaped like a decimal's tag."""


def _fleet(seen: list[dict[str, Any]]) -> ToolRegistry:
    def fetch(args: NoArgs) -> Car:
        return Car.model_validate({**CAR, "price": Decimal("19999.90")})

    def show(args: ShowArgs) -> Shown:
        seen.append(args.car)
        return Shown(ok=True)

    return ToolRegistry([
        Tool(name="fetch_car", description="fetch a car", args_model=NoArgs, result_model=Car,
             side_effect="read_only", retry=NO_RETRY, func=fetch, timeout=None),
        Tool(name="show_car", description="show a car", args_model=ShowArgs, result_model=Shown,
             side_effect="idempotent", retry=NO_RETRY, func=show, timeout=None),
    ])


def allow(request: ServiceRequest) -> Verdict:
    return Verdict("allow", "ok", "digest", ("test",), ())


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = Store.from_url(f"sqlite:///{tmp_path / 'cases.db'}")
    opened.deploy("cars", DefinitionBundle(files={"cars.bpmn": CARS}))
    return opened


def test_a_stored_process_whose_tool_answered_a_typename_dict_resumes_and_finishes(store: Store) -> None:
    """End to end: the tool's answer is stored with the case (StoreSink), another runner resumes the
    case from the store, the person's decision lets it go on, and the next tool gets the dict exactly."""
    seen: list[dict[str, Any]] = []
    runner = start_process_case(store, "cars", DEFS, tools=_fleet(seen), govern=allow)
    case_id = runner.instance_id
    [task] = store.tasks(case_id=case_id)
    assert (task.plan_item, task.role) == ("review", "fleet manager")
    stored = store.case(case_id).state
    assert stored["status"] == "waiting"
    again = resume_process_case(store, case_id, DEFS, tools=_fleet(seen), govern=allow)
    assert same(again.instance.data["car"], {**CAR, "price": Decimal("19999.90")})
    assert again.complete_user_task(task.id, {}, actor="person:fleet") == "completed"
    [argument] = seen  # the dict exactly: its decimal-shaped ``specs`` still a dict, the amount to the cent
    assert same(argument, {**CAR, "price": Decimal("19999.90")})
    assert store.case(case_id).state["status"] == "completed"
    assert store.verify(case_id).ok
    assert store.rebuild_state(case_id) == store.case(case_id).state


ARRIVAL = process("""
<bpmn:startEvent id="s"/>
<bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="arrived"/>
<bpmn:intermediateCatchEvent id="arrived"><bpmn:messageEventDefinition messageRef="m_car"/></bpmn:intermediateCatchEvent>
<bpmn:sequenceFlow id="f1" sourceRef="arrived" targetRef="review"/>
<bpmn:userTask id="review"/>
<bpmn:boundaryEvent id="note" attachedToRef="review" cancelActivity="false">
  <bpmn:messageEventDefinition messageRef="m_note"/>
</bpmn:boundaryEvent>
<bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="e"/>
<bpmn:sequenceFlow id="f3" sourceRef="note" targetRef="noted"/>
<bpmn:endEvent id="e"/>
<bpmn:endEvent id="noted"/>""", pid="arrival", extra='<bpmn:message id="m_car" name="car arrived"/>'
                                            '<bpmn:message id="m_note" name="note"/>')


def test_a_message_payload_with_typename_dicts_round_trips() -> None:
    """A message's payload (merged into the data) is process data too: stored escaped, loaded exactly."""
    defs = load_processes(ARRIVAL)
    instance = ProcessInstance.start(defs, "arrival")
    payload = {"car": {"typename": "car", "value": {"typename": "Decimal", "value": "7"}}, "typename": "msg"}
    instance.send_message("car arrived", payload)
    again = ProcessInstance.load(defs, instance.dump())
    assert same(again.data, payload)
    again.send_message("note", {"typename": "UUID", "value": "not a uuid"})
    third = ProcessInstance.load(defs, again.dump())
    assert same(third.data, again.data)
    assert same(third.data["car"], payload["car"])
