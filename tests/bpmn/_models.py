"""Small BPMN documents built in the tests (one process, the elements a test needs)."""

from __future__ import annotations

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CP_NS = "https://casepilot.dev/bpmn/extensions"


def process(body: str, *, pid: str = "p", extra: str = "") -> str:
    """A definitions document with one executable process holding ``body``."""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<bpmn:definitions xmlns:bpmn="{BPMN_NS}" xmlns:cp="{CP_NS}" id="d" targetNamespace="t">\n'
        f'<bpmn:process id="{pid}" isExecutable="true">\n{body}\n</bpmn:process>\n{extra}\n'
        f"</bpmn:definitions>\n"
    )


def gateway_with_condition(condition: str) -> str:
    """start -> exclusive gateway -(condition)-> a | (default) -> b; both end."""
    return process(f"""
<bpmn:startEvent id="s"/>
<bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="g"/>
<bpmn:exclusiveGateway id="g" default="fb"/>
<bpmn:sequenceFlow id="fa" sourceRef="g" targetRef="a">
  <bpmn:conditionExpression>{condition}</bpmn:conditionExpression>
</bpmn:sequenceFlow>
<bpmn:sequenceFlow id="fb" sourceRef="g" targetRef="b"/>
<bpmn:userTask id="a"/>
<bpmn:userTask id="b"/>
<bpmn:sequenceFlow id="fa2" sourceRef="a" targetRef="e"/>
<bpmn:sequenceFlow id="fb2" sourceRef="b" targetRef="e"/>
<bpmn:endEvent id="e"/>""")
