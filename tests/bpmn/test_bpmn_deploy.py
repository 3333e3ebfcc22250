"""Deploying BPMN: hostile XML refused, every problem listed with file:line and element id,
no Python anywhere (script tasks, Python conditions), definitions frozen."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import ClassVar

import pytest

from casepilot.bpmn import ProcessInstance, load_processes
from casepilot.bpmn.engine import FeelScriptEngine
from casepilot.errors import DefinitionError, ExpressionError

from ._models import gateway_with_condition, process

HERE = Path(__file__).parent


def _laughs() -> str:
    entities = "".join(f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    return (f'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY l0 "lol">{entities}]>\n'
            + process('<bpmn:startEvent id="s" name="&l9;"/>').split("\n", 1)[1])


def test_billion_laughs_is_refused() -> None:
    with pytest.raises(DefinitionError, match="DOCTYPE") as err:
        load_processes(_laughs())
    assert err.value.line == 2


def test_external_entity_is_refused_and_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    doc = (f'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "file://{secret}">]>\n'
           + process('<bpmn:startEvent id="s" name="&x;"/>').split("\n", 1)[1])
    path = tmp_path / "xxe.bpmn"
    path.write_text(doc)
    with pytest.raises(DefinitionError, match="entities") as err:
        load_processes([path])
    assert "TOP-SECRET" not in str(err.value)
    assert err.value.file == str(path)


def test_huge_document_is_refused_before_parsing() -> None:
    big = process("<bpmn:startEvent id='s'/>" + "<!-- x -->" * 2000)
    with pytest.raises(DefinitionError, match="over the limit"):
        load_processes(big, max_bytes=10_000)


def test_spiffworkflow_parser_cannot_read_files_itself(tmp_path: Path) -> None:
    from casepilot.bpmn.definitions import _SafeParser

    with pytest.raises(DefinitionError, match="hardened"):
        _SafeParser().add_bpmn_str(b"<x/>")
    with pytest.raises(DefinitionError, match="hardened"):
        _SafeParser().add_bpmn_files([str(tmp_path / "x.bpmn")])


def test_script_task_is_refused_saying_what_to_use(tmp_path: Path) -> None:
    doc = process("""<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="t"/>
<bpmn:scriptTask id="t" scriptFormat="python"><bpmn:script>import os; os.system("id")</bpmn:script></bpmn:scriptTask>
<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"/><bpmn:endEvent id="e"/>""")
    path = tmp_path / "script.bpmn"
    path.write_text(doc)
    with pytest.raises(DefinitionError) as err:
        load_processes([path])
    assert err.value.element == "t"
    assert err.value.file == str(path) and err.value.line == 5
    assert "use a service task or a FEEL expression" in str(err.value)


@pytest.mark.parametrize("condition", [
    "__import__('os').system('touch /tmp/casepilot-pwned')",
    "amount == 1000",
    "approved is True",
    "len(items) &gt; 2",
])
def test_python_condition_is_a_deploy_error_with_the_feel_error(condition: str) -> None:
    with pytest.raises(DefinitionError) as err:
        load_processes(gateway_with_condition(condition))
    assert err.value.element == "fa"
    assert "is not FEEL" in str(err.value)
    assert "looks like Python" in str(err.value)
    assert not Path("/tmp/casepilot-pwned").exists()


def test_every_problem_is_listed_with_line_and_element() -> None:
    doc = process("""<bpmn:startEvent id="s"/>
<bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="g"/>
<bpmn:exclusiveGateway id="g"/>
<bpmn:sequenceFlow id="fa" sourceRef="g" targetRef="svc"><bpmn:conditionExpression>x == 1</bpmn:conditionExpression></bpmn:sequenceFlow>
<bpmn:sequenceFlow id="fb" sourceRef="g" targetRef="call"><bpmn:conditionExpression>x &lt;&gt; 1</bpmn:conditionExpression></bpmn:sequenceFlow>
<bpmn:serviceTask id="svc"/>
<bpmn:callActivity id="call" calledElement="missing"/>
<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition><bpmn:timeDuration>timedelta(hours=1)</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
<bpmn:complexGateway id="cg"/>""")
    with pytest.raises(DefinitionError) as err:
        load_processes(doc, decisions=())
    problems = err.value.problems
    assert [(p.element, p.line) for p in problems] == [
        ("fa", 7), ("fb", 8), ("svc", 9), ("call", 10), ("wait", 11), ("cg", 12)]
    assert "names no tool" in problems[2].message
    assert "not among the deployed BPMN files" in problems[3].message
    assert "timer duration" in problems[4].message
    assert "complex gateways are not supported" in problems[5].message


def test_feel_condition_deploys_and_routes() -> None:
    defs = load_processes(gateway_with_condition("amount &gt; 1000 and payee != null"))
    big = ProcessInstance.start(defs, data={"amount": 5000, "payee": "x"})
    small = ProcessInstance.start(defs, data={"amount": 5, "payee": "x"})
    assert big.active_elements() == ["a"]
    assert small.active_elements() == ["b"]


def test_definitions_are_frozen() -> None:
    defs = load_processes(gateway_with_condition("true"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        defs.processes = {}  # type: ignore[misc]
    with pytest.raises(TypeError):
        defs.processes["other"] = defs.process()  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        defs.process().spec = None  # type: ignore[misc]


def test_the_engine_has_no_python_evaluation_left() -> None:
    engine = FeelScriptEngine()

    class Task:
        data: ClassVar[dict[str, int]] = {"x": 1}

    with pytest.raises(ExpressionError, match="use a service task or a FEEL expression"):
        engine.execute(Task(), "x = 2")
    with pytest.raises(ExpressionError, match="use a service task or a FEEL expression"):
        engine.environment.execute("x = 2", {})
    with pytest.raises(ExpressionError):  # FEEL syntax error, never eval()
        engine.evaluate(Task(), "__import__('os').getcwd()")
    assert engine.evaluate(Task(), "x + 1") == 2
    # nothing Python-evaluating is inherited or attached
    from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine

    assert not isinstance(engine, PythonScriptEngine)
    assert not hasattr(engine.environment, "globals")


def test_no_module_of_casepilot_bpmn_calls_eval_exec_or_compile() -> None:
    import ast

    import casepilot.bpmn

    package = Path(casepilot.bpmn.__file__).parent
    calls = []
    for source in sorted(package.glob("*.py")):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                    node.func.id in {"eval", "exec", "compile", "__import__"}:
                calls.append(f"{source.name}:{node.lineno}")
    assert len(list(package.glob("*.py"))) >= 6
    assert calls == []


def test_a_running_process_uses_the_feel_engine_only() -> None:
    defs = load_processes(gateway_with_condition("true"))
    instance = ProcessInstance.start(defs)
    assert type(instance.workflow.script_engine) is FeelScriptEngine
    loaded = ProcessInstance.load(defs, instance.dump())
    assert type(loaded.workflow.script_engine) is FeelScriptEngine
    for sub in loaded.workflow.subprocesses.values():
        assert type(sub.script_engine) is FeelScriptEngine


def test_eval_and_exec_are_not_reachable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run a process with gateways, timers, data mappings and a service task while the
    builtins ``eval``/``exec`` raise: nothing in the path calls them."""
    import builtins

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("eval/exec reached")

    defs = load_processes([HERE / "models" / "payment.bpmn"])
    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    instance = ProcessInstance.start(defs, data={"amount": 5000, "payee": "bob"})
    instance.complete_user_task(instance.user_tasks()[0].task_id)
    call = instance.service_calls()[0]
    assert call.arguments == {"amount": 5000, "payee": "BOB"}
    instance.complete_service(call.call_id, {"ok": True})
    assert instance.completed
    assert instance.data["paid"] is True


def test_a_hostile_condition_fails_the_process_at_once_instead_of_running_away() -> None:
    from casepilot.bpmn import ProcessFailed

    defs = load_processes(gateway_with_condition("count(for i in 1..100000000 return i) &gt; 0"))
    with pytest.raises(ProcessFailed, match="exceeds the limit"):
        ProcessInstance.start(defs)
