"""Deploy-time checks of BPMN documents: every problem at once, with file:line and element id.

SpiffWorkflow's parser stops at the first problem and accepts Python everywhere; this pass
runs first over the (already safely parsed) XML and refuses what casepilot will not run:

* script tasks and SpiffWorkflow pre/post scripts (no Python from a model: use a service
  task or a FEEL expression);
* any expression that is not FEEL — gateway and sequence-flow conditions, conditional
  events, timer expressions, multi-instance cardinality and completion conditions, loop
  conditions, data mappings (``cp:input`` / ``cp:output``), service-task parameters,
  message payloads and correlation expressions — with the FEEL syntax error;
* elements the engine cannot run (complex gateways, data stores, ad-hoc sub-processes);
* user-task form fields without a name or with an unknown type,
* service tasks without a tool, business-rule tasks without a decision (or naming one the
  bundle's DMN does not define), call activities naming a process not deployed with them;
* compensation drawn wrong (:func:`casepilot.bpmn._compensation.check_compensation`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from typing import Any

from lxml import etree

from casepilot.dmn.feel import ast as feel_ast
from casepilot.dmn.feel import compile_expression
from casepilot.dmn.feel._runtime import builtin_names
from casepilot.errors import DefinitionError, ExpressionError

from ._compensation import check_compensation
from ._names import CAMUNDA, CP, SPIFF, tag

__all__ = ["check_document", "extension_info"]

SCRIPT_HINT = "scripts cannot run in casepilot; use a service task or a FEEL expression"

_UNSUPPORTED = {
    tag("complexGateway"): "complex gateways are not supported; use an inclusive or exclusive gateway",
    tag("dataStoreReference"): "data stores are not supported; keep the data in process variables",
    tag("adHocSubProcess"): "ad-hoc sub-processes are not supported; draw the adaptive part as a CMMN case",
    tag("scriptTask"): SCRIPT_HINT,
}

# (tag, what it is) of elements whose text is a FEEL expression.
_EXPRESSIONS = {
    tag("conditionExpression"): "condition",
    tag("completionCondition"): "completion condition",
    tag("loopCardinality"): "loop cardinality",
    tag("loopCondition"): "loop condition",
    tag("timeDate"): "timer date",
    tag("timeDuration"): "timer duration",
    tag("timeCycle"): "timer cycle",
    tag("input", CP): "input mapping",
    tag("output", CP): "output mapping",
    tag("messagePayload", SPIFF): "message payload",
}
FIELD_TYPES = frozenset({"string", "textarea", "boolean", "number", "long", "date", "enum"})
"""Types of user-task form fields (``cp:field`` or ``camunda:formField``)."""

_PYTHON_WORDS = frozenset({"True", "False", "None", "is", "not", "in", "elif", "lambda"})
_PYTHONISH = re.compile(r"==|!=|\bTrue\b|\bFalse\b|\bNone\b|__|\blen\(|'|\bimport\b|\blambda\b")


def _problem(message: str, el: etree._Element, file: str | None) -> DefinitionError:
    line = el.sourceline if isinstance(el.sourceline, int) else None
    return DefinitionError(message, file=file, line=line, element=el.get("id") or _owner_id(el))


def _owner_id(el: etree._Element) -> str | None:
    node: Any = el.getparent()
    while node is not None:
        if node.get("id"):
            return str(node.get("id"))
        node = node.getparent()
    return None


def check_feel(text: str | None, what: str, el: etree._Element, file: str | None) -> DefinitionError | None:
    """A problem when ``text`` is not a FEEL expression (None when it is, or is empty)."""
    if text is None or not text.strip():
        return None
    try:
        compiled = compile_expression(text.strip())
    except ExpressionError as exc:
        hint = " (this looks like Python; casepilot evaluates FEEL only)" if _PYTHONISH.search(text) else ""
        return _problem(f"{what} {text.strip()!r} is not FEEL: {exc}{hint}", el, file)
    # FEEL names may contain spaces, so `approved is True` parses -- as one unknown name.
    for name in sorted(compiled.free_names):
        if _PYTHON_WORDS.intersection(name.split()):
            return _problem(
                f"{what} {text.strip()!r} is not FEEL: it reads a variable named {name!r} "
                f"(this looks like Python; casepilot evaluates FEEL only, where the literals are true, false "
                f"and null)", el, file)
    for name in _unknown_calls(compiled.ast, compiled.free_names):
        hint = " (this looks like Python; casepilot evaluates FEEL only)" if name in _PYTHON_FUNCTIONS else ""
        return _problem(f"{what} {text.strip()!r} is not FEEL: it calls {name}(), which is not a FEEL "
                        f"built-in function{hint}", el, file)
    return None


_PYTHON_FUNCTIONS = frozenset({"len", "str", "int", "float", "bool", "dict", "list", "getattr", "eval", "exec",
                               "open", "print", "isinstance", "__import__", "type", "range"})


def _unknown_calls(node: Any, free: frozenset[str]) -> list[str]:
    """Functions called by a free name that FEEL does not define (process data holds no functions)."""
    builtins = builtin_names()
    found: list[str] = []
    todo = [node]
    while todo:
        current = todo.pop()
        if isinstance(current, feel_ast.Call) and isinstance(current.function, feel_ast.Name):
            name = current.function.name
            if name in free and name not in builtins:
                found.append(name)
        if isinstance(current, feel_ast.Node) and dataclasses.is_dataclass(current):
            for f in dataclasses.fields(current):
                value = getattr(current, f.name)
                items = value if isinstance(value, tuple) else (value,)
                for item in items:
                    if isinstance(item, tuple):
                        todo.extend(i for i in item if isinstance(i, feel_ast.Node))
                    elif isinstance(item, feel_ast.Node):
                        todo.append(item)
    return found


def extension_info(el: etree._Element) -> dict[str, Any]:
    """What casepilot reads from a task element into ``spec.extensions``."""
    info: dict[str, Any] = {}
    local = etree.QName(el).localname
    ext = el.find(tag("extensionElements"))
    children = list(ext.iter()) if ext is not None else []
    if local == "serviceTask":
        operator = next((c for c in children if c.tag == tag("serviceTaskOperator", SPIFF)), None)
        tool = el.get(tag("tool", CP)) or (operator.get("id") if operator is not None else None)
        inputs = [[c.get("name", ""), (c.text or "").strip()] for c in children if c.tag == tag("input", CP)]
        if operator is not None:
            inputs += [[p.get("id") or p.get("name") or "", p.get("value") or ""]
                       for p in operator.iter(tag("parameter", SPIFF))]
        result = el.get(tag("resultVariable", CP)) or (operator.get("resultVariable") if operator is not None else None)
        info.update(tool=tool, inputs=inputs, result_variable=result)
    elif local == "businessRuleTask":
        called = next((c for c in children if c.tag == tag("calledDecisionId", SPIFF)), None)
        decision = (el.get(tag("decision", CP)) or el.get(tag("decisionRef", CAMUNDA))
                    or (called.text.strip() if called is not None and called.text else None))
        inputs = [[c.get("name", ""), (c.text or "").strip()] for c in children if c.tag == tag("input", CP)]
        info.update(decision=decision, inputs=inputs,
                    result_variable=el.get(tag("resultVariable", CP)) or el.get(tag("resultVariable", CAMUNDA)))
    elif local == "userTask":
        info["role"] = el.get(tag("role", CP))
        info["form"] = [
            {"name": c.get("name") or c.get("id") or "", "type": c.get("type") or "string",
             "label": c.get("label") or c.get("name") or c.get("id") or "",
             "required": c.get("required") == "true"}
            for c in children if c.tag in (tag("field", CP), tag("formField", CAMUNDA))]
    if local in ("serviceTask", "businessRuleTask"):
        info["outputs"] = [[c.get("name", ""), (c.text or "").strip()] for c in children if c.tag == tag("output", CP)]
    return info


def check_document(
    root: etree._Element,
    file: str | None,
    *,
    process_ids: Iterable[str],
    decisions: frozenset[str] | None,
) -> list[DefinitionError]:
    """Every problem of one BPMN document (see the module docstring)."""
    problems: list[DefinitionError] = []
    known_processes = set(process_ids)
    if root.tag != tag("definitions"):
        return [_problem(f"not a BPMN 2.0 document: the root is {root.tag!r}, expected bpmn:definitions", root, file)]
    problems.extend(check_compensation(root, file))
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        if el.tag in _UNSUPPORTED:
            kind = etree.QName(el).localname
            named = el.get("id") or _owner_id(el)
            problems.append(_problem(f"{kind} {named!r}: {_UNSUPPORTED[el.tag]}", el, file))
            continue
        if el.tag in (tag("preScript", SPIFF), tag("postScript", SPIFF)) and (el.text or "").strip():
            problems.append(_problem(f"{etree.QName(el).localname} of {_owner_id(el)!r}: {SCRIPT_HINT}", el, file))
            continue
        what = _EXPRESSIONS.get(el.tag)
        if what is not None:
            found = check_feel(el.text, what, el, file)
            if found is not None:
                problems.append(found)
            continue
        parent = el.getparent()
        parent_tag = parent.tag if parent is not None else None
        if el.tag == tag("condition") and parent_tag == tag("conditionalEventDefinition"):
            found = check_feel(el.text, "event condition", el, file)
            if found is not None:
                problems.append(found)
        elif el.tag == tag("formalExpression") and parent_tag == tag("correlationPropertyRetrievalExpression"):
            found = check_feel(el.text, "correlation expression", el, file)
            if found is not None:
                problems.append(found)
        elif el.tag == tag("serviceTask"):
            info = extension_info(el)
            if not info.get("tool"):
                problems.append(_problem(
                    f"service task {el.get('id')!r} names no tool: add cp:tool=\"TOOL\" "
                    f"(xmlns:cp=\"{CP}\") and its arguments as <cp:input name=\"…\">FEEL</cp:input>", el, file))
            for name, expression in info["inputs"]:
                found = check_feel(expression, f"argument {name!r}", el, file)
                if found is not None:
                    problems.append(found)
        elif el.tag == tag("userTask"):
            for field in extension_info(el).get("form", []):
                if field["type"] not in FIELD_TYPES or not field["name"]:
                    problems.append(_problem(
                        f"user task {el.get('id')!r}: form field {field['name']!r} needs a name and a type among "
                        f"{', '.join(sorted(FIELD_TYPES))} (it has {field['type']!r})", el, file))
        elif el.tag == tag("businessRuleTask"):
            decision = extension_info(el).get("decision")
            if not decision:
                problems.append(_problem(
                    f"business-rule task {el.get('id')!r} names no decision: add cp:decision=\"DECISION\"", el, file))
            elif decisions is not None and decision not in decisions:
                problems.append(_problem(
                    f"business-rule task {el.get('id')!r} names decision {decision!r}, which none of the DMN "
                    f"models given defines", el, file))
        elif el.tag == tag("callActivity"):
            called = el.get("calledElement")
            if not called:
                problems.append(_problem(f"call activity {el.get('id')!r} has no calledElement", el, file))
            elif called not in known_processes:
                problems.append(_problem(
                    f"call activity {el.get('id')!r} calls process {called!r}, which is not among the deployed "
                    f"BPMN files (deploy it with them)", el, file))
        elif el.tag == tag("sequenceFlow") and el.find(tag("conditionExpression")) is None and \
                el.get(tag("conditionExpression")) is not None:
            problems.append(_problem("conditionExpression must be an element", el, file))
    return problems
