"""BPMN 2.0 processes for the fixed sequences, executed by SpiffWorkflow under casepilot's rules.

CMMN draws the adaptive case; BPMN draws what always runs in the same order (validate,
pay, confirm, retry then escalate). casepilot does not implement its own BPMN engine: it
runs SpiffWorkflow with three locks on it —

* models are read by casepilot's hardened XML loader and checked at deploy, every problem
  listed with file:line and element id (:func:`load_processes`);
* no Python from a model: expressions are FEEL (:class:`FeelScriptEngine`), script tasks
  and Python conditions are refused at deploy;
* the outside world is the host's: a service task yields a :class:`ServiceCall` the host
  executes (governed) and answers; user tasks wait for a person with a role.

Typical use::

    defs = load_processes([Path("payment.bpmn")], decisions=[Path("approval.dmn")])
    p = ProcessInstance.start(defs, "payment", data={"amount": 120})
    for call in p.service_calls():
        p.complete_service(call.call_id, run_tool(call.tool, call.arguments))
    state = p.dump()                      # persist at every wait state
    p = ProcessInstance.load(defs, state)  # …and go on later, elsewhere
    p.diagram()                           # the drawn model with its tokens (SVG; notebooks show it)

Governed, persisted runs (what a case or a worker uses) are :mod:`casepilot.bpmn.runner`
(``ProcessRunner``) with a sink such as :class:`casepilot.bpmn.store_sink.StoreSink`;
failure recovery can undo completed work by compensation (:mod:`casepilot.bpmn._compensation`).
"""

from __future__ import annotations

from .definitions import ProcessDefinition, ProcessDefinitions, load_processes
from .diagram import DiagramView, ProcessDiagram
from .engine import FeelScriptEngine, ManualClock
from .instance import FormField, ProcessFailed, ProcessInstance, ServiceCall, UserTaskItem

__all__ = [
    "DiagramView",
    "FeelScriptEngine",
    "FormField",
    "ManualClock",
    "ProcessDefinition",
    "ProcessDefinitions",
    "ProcessDiagram",
    "ProcessFailed",
    "ProcessInstance",
    "ServiceCall",
    "UserTaskItem",
    "load_processes",
]
