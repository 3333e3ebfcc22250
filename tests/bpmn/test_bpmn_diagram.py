"""The process diagram from BPMN DI: every drawn element and flow in the SVG, the tokens of a running
instance highlighted (and moving), text escaped, notebooks shown it, a model without DI said so."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from lxml import etree

from casepilot._xml import parse_xml
from casepilot.bpmn import ManualClock, ProcessInstance, load_processes
from casepilot.errors import DefinitionError

from ._models import process
from ._payment import CLAIM, PAYMENT, payment_definitions

SVG = "{http://www.w3.org/2000/svg}"


def _groups(svg: str) -> dict[str, etree._Element]:
    root = parse_xml(svg.encode())
    return {str(g.get("data-element")): g for g in root.iter(f"{SVG}g")}


def _classes(svg: str) -> dict[str, str]:
    return {k: str(g.get("class") or "") for k, g in _groups(svg).items()}


def test_every_shape_and_flow_of_the_model_is_drawn() -> None:
    definition = payment_definitions().process("payment")
    assert definition.diagram is not None
    svg = definition.diagram.svg()
    groups = _groups(svg)
    model = parse_xml(PAYMENT)
    shapes = {s.get("bpmnElement") for s in model.iter("{http://www.omg.org/spec/BPMN/20100524/DI}BPMNShape")}
    assert set(groups) == shapes and len(shapes) == 26
    flows = {p.get("data-element") for p in parse_xml(svg.encode()).iter(f"{SVG}polyline")}
    assert flows == {f.get("id") for f in model.iter("{http://www.omg.org/spec/BPMN/20100524/MODEL}sequenceFlow")}
    assert groups["pay"].get("data-kind") == "serviceTask"
    assert groups["gw_valid"].find(f"{SVG}polygon") is not None
    assert groups["paid"].get("class") == "end"
    assert "Pay the claim" in etree.tostring(groups["pay"], encoding="unicode")
    assert set(_classes(svg).values()) == {"", "end"}  # nothing highlighted without an instance


def test_the_tokens_move_through_the_picture() -> None:
    clock = ManualClock(dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    instance = ProcessInstance.start(payment_definitions(), "payment", data=CLAIM, clock=clock)
    view = instance.diagram()
    assert _classes(view.svg)["validate"] == "active"
    assert view._repr_svg_() == view.svg
    [call] = instance.service_calls()
    instance.complete_service(call.call_id, {"ok": True})
    [pay] = instance.service_calls()
    instance.fail_service(pay.call_id, "bank_unavailable")
    classes = _classes(instance.diagram().svg)
    assert classes["backoff"] == "active" and classes["validate"] == "completed"
    assert classes["level"] == "completed" and classes["pay"] == ""  # cancelled by its error event, not completed
    assert classes["confirm"] == ""
    token = _groups(instance.diagram().svg)["backoff"].find(f"{SVG}circle[@class='token']")
    assert token is not None


def test_names_are_escaped() -> None:
    xml = process('<bpmn:startEvent id="s" name="&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"/>'
                  '<bpmn:sequenceFlow id="f" sourceRef="s" targetRef="e"/><bpmn:endEvent id="e"/>',
                  extra='<bpmndi:BPMNDiagram xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
                        'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"><bpmndi:BPMNPlane bpmnElement="p">'
                        '<bpmndi:BPMNShape bpmnElement="s"><dc:Bounds x="0" y="0" width="36" height="36"/>'
                        '</bpmndi:BPMNShape></bpmndi:BPMNPlane></bpmndi:BPMNDiagram>')
    diagram = load_processes(xml).process("p").diagram
    assert diagram is not None
    svg = diagram.svg(active=["s"])
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert _classes(svg) == {"s": "active"}


def test_a_model_without_di_says_so() -> None:
    xml = process('<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="u"/>'
                  '<bpmn:userTask id="u"/><bpmn:sequenceFlow id="g" sourceRef="u" targetRef="e"/>'
                  '<bpmn:endEvent id="e"/>')
    instance = ProcessInstance.start(load_processes(xml), "p")
    with pytest.raises(DefinitionError, match="no diagram"):
        instance.diagram()


def test_the_cli_draws_a_process(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from casepilot.cli import app

    out = tmp_path / "payment.svg"
    result = CliRunner().invoke(app, ["bpmn", "diagram", str(PAYMENT), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert set(_groups(out.read_text())) >= {"pay", "backoff", "person"}
    bare = tmp_path / "bare.bpmn"
    bare.write_text(process('<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="e"/>'
                            '<bpmn:endEvent id="e"/>'))
    result = CliRunner().invoke(app, ["bpmn", "diagram", str(bare)])
    assert result.exit_code == 1 and "no diagram" in result.output
