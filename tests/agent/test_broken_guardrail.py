"""A guardrail that fails to evaluate never lets the action through: end to end, the tool is
not called, the case records why, and nothing was started."""

from __future__ import annotations

from pathlib import Path

from tests.agent._support import TaskSpec, assert_sound, calls_of, events, write_bundle
from tests.agent.conftest import OrchFactory

BROKEN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="broken" name="Broken guardrail"
             namespace="https://casepilot.dev/tests/broken">
  <decision id="route" name="Route">
    <informationRequirement id="ir_tool"><requiredInput href="#tool"/></informationRequirement>
    <decisionTable id="dt_route" hitPolicy="FIRST">
      <input id="in_tool" label="tool"><inputExpression id="ie_tool" typeRef="string"><text>tool</text></inputExpression></input>
      <output id="o_verdict" name="verdict" typeRef="string"/>
      <rule id="r_broken">
        <inputEntry><text>"wire_transfer"</text></inputEntry>
        <outputEntry><text>substring("allow", "first")</text></outputEntry>
      </rule>
      <rule id="r_rest"><inputEntry><text>-</text></inputEntry><outputEntry><text>"allow"</text></outputEntry></rule>
    </decisionTable>
  </decision>
  <inputData id="tool" name="tool"><variable name="tool" typeRef="string"/></inputData>
</definitions>
"""

TASKS = (
    TaskSpec("pay", "Pay out", "wire_transfer", {"iban": "ref"}, {"paid": "done"}),
    TaskSpec("archive", "Archive", "archive", {"ref": "ref"}, {"archived": "done"}),
)


def test_a_guardrail_that_cannot_be_evaluated_blocks_the_action(make_orch: OrchFactory, tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "broken", "broken-guardrail", TASKS, guardrails=[])
    (folder / "guardrails.dmn").write_text(BROKEN, encoding="utf-8")
    orch, store = make_orch()
    orch.deploy(folder)
    case = orch.start_case("broken-guardrail", {"ref": "R-1"})

    outcome = orch.run(case.id)

    assert calls_of("wire_transfer") == []
    assert calls_of("archive") == [{"ref": "R-1"}]  # the guardrail evaluates fine for other tools
    [blocked] = [v for v in events(store, case.id, "verdict") if v["kind"] != "allow"]
    assert blocked["kind"] == "block"
    assert "could not be evaluated" in blocked["reason"] and "substring" in blocked["reason"]
    assert [e["tool"] for e in events(store, case.id, "tool_call_started")] == ["archive"]
    assert outcome.case_state == "active" and outcome.pending == ()
    assert_sound(store, case.id)
