"""Loading tool bindings from CMMN extension attributes and bindings.yaml, validated at load time."""

from __future__ import annotations

from pathlib import Path

import pytest

from casepilot.cmmn.parser import parse_file
from casepilot.errors import DefinitionError
from casepilot.tools import (
    FromCaseFile,
    LiteralValue,
    Provenance,
    ToolRegistry,
    apply_results,
    build_arguments,
    load_bindings,
)
from casepilot.tools.builtin import sentiment_tool, summarise_tool

CMMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/CMMN/20151109/MODEL"
             xmlns:casepilot="https://casepilot.dev/cmmn/extensions"
             id="defs" targetNamespace="https://casepilot.dev/tests">
  <case id="claim" name="Claim">
    <casePlanModel id="cpm" name="Claim">
      <planItem id="pi_sentiment" name="Score sentiment" definitionRef="t_sentiment"/>
      <planItem id="pi_summary" name="Summarise letter" definitionRef="t_summary"/>
      <planItem id="pi_review" name="Review" definitionRef="ht_review"/>
      <task id="t_sentiment" name="Score sentiment"
            casepilot:tool="{tool}" casepilot:inputs="text=letter.body" casepilot:outputs="sentiment=compound; mood=label"/>
      <task id="t_summary" name="Summarise letter"/>
      <humanTask id="ht_review" name="Review"/>
    </casePlanModel>
  </case>
</definitions>
"""

GOOD_YAML = """version: 1
bindings:
  - task: Summarise letter
    tool: summarise
    inputs:
      text: letter.body
      max_sentences: 2
    outputs:
      summary: summary
      picked: indices
"""


def write_model(tmp_path: Path, tool: str = "sentiment", yaml_text: str | None = GOOD_YAML) -> Path:
    model = tmp_path / "claim.cmmn"
    model.write_text(CMMN.replace("{tool}", tool), encoding="utf-8")
    if yaml_text is not None:
        (tmp_path / "bindings.yaml").write_text(yaml_text, encoding="utf-8")
    return model


@pytest.fixture
def registry() -> ToolRegistry:
    return ToolRegistry([sentiment_tool(), summarise_tool()])


def test_extension_attributes_and_yaml_beside_the_model(tmp_path: Path, registry: ToolRegistry) -> None:
    defs = parse_file(write_model(tmp_path))
    bindings = load_bindings(defs, registry)
    assert len(bindings) == 2 and "t_sentiment" in bindings and "t_summary" in bindings
    sent = bindings.get("t_sentiment")
    assert sent is not None and sent.origin == "extension" and sent.tool == "sentiment"
    assert dict(sent.arguments) == {"text": FromCaseFile("letter.body")}
    assert dict(sent.results) == {"sentiment": "compound", "mood": "label"}
    summ = bindings.get("t_summary")
    assert summ is not None and summ.origin == "file" and summ.task == "Summarise letter"
    assert dict(summ.arguments) == {"text": FromCaseFile("letter.body"), "max_sentences": LiteralValue(2)}
    assert summ.location is not None and summ.location.line == 3
    assert bindings.get("ht_review") is None


def test_yaml_is_ignored_when_not_searched(tmp_path: Path, registry: ToolRegistry) -> None:
    defs = parse_file(write_model(tmp_path))
    assert list(load_bindings(defs, registry, search_beside_model=False)) == [
        load_bindings(defs, registry).get("t_sentiment")
    ]


def test_every_problem_is_reported_together(tmp_path: Path, registry: ToolRegistry) -> None:
    bad_yaml = """bindings:
  - task: Summarise letter
    tool: summarise
    inputs: {txt: letter.body, max_sentences: "'many'"}
    outputs: {summary: abstract}
  - task: Review
    tool: sentiment
    inputs: {text: letter.body}
  - task: Sumarise letter
    tool: summarise
  - task: t_sentiment
    tool: sentiment
    inputs: {text: letter}
    colour: blue
"""
    defs = parse_file(write_model(tmp_path, tool="sentimnt", yaml_text=bad_yaml))
    with pytest.raises(DefinitionError) as info:
        load_bindings(defs, registry)
    messages = [p.message for p in info.value.problems]
    expected = [
        "unknown tool 'sentimnt' (did you mean 'sentiment'?)",
        "tool 'summarise' has no argument 'txt' (did you mean 'text'?)",
        "literal for argument 'max_sentences' of tool 'summarise' is invalid",
        "required argument 'text' of tool 'summarise' is not mapped",
        "result of tool 'summarise' has no field 'abstract'",
        "humanTask 'ht_review' cannot be bound to a tool: human tasks go to the inbox",
        "no task 'Sumarise letter' in the model (did you mean 'Summarise letter'?)",
        "unknown keys colour",
        "task 't_sentiment' is bound twice",
    ]
    for fragment in expected:
        assert any(fragment in m for m in messages), (fragment, messages)
    assert len(messages) == len(expected)
    by_line = {p.line for p in info.value.problems if p.file and p.file.endswith("bindings.yaml")}
    assert by_line == {2, 6, 9, 11}
    assert str(info.value).startswith(f"{defs.file}: {len(expected)} problems in tool bindings")


def test_malformed_extension_text_and_yaml(tmp_path: Path, registry: ToolRegistry) -> None:
    model = tmp_path / "claim.cmmn"
    model.write_text(
        CMMN.replace('casepilot:inputs="text=letter.body"', 'casepilot:inputs="text letter"').replace(
            "{tool}", "sentiment"
        ),
        encoding="utf-8",
    )
    (tmp_path / "bindings.yaml").write_text("bindings:\n  - task: [unclosed\n", encoding="utf-8")
    with pytest.raises(DefinitionError) as info:
        load_bindings(parse_file(model), registry)
    messages = [p.message for p in info.value.problems]
    assert any("casepilot:inputs: cannot read 'text letter'" in m for m in messages)
    assert any(m.startswith("not valid YAML") for m in messages)
    # the unreadable inputs leave 'text' unmapped, which is a problem of its own
    assert any("required argument 'text'" in m for m in messages)


def test_binding_drives_a_real_call_end_to_end(tmp_path: Path, registry: ToolRegistry) -> None:
    bindings = load_bindings(parse_file(write_model(tmp_path)), registry)
    binding = bindings.get("t_sentiment")
    assert binding is not None
    variables = {"letter": {"body": "Thank you so much, the repair was excellent and quick!"}}
    bound = build_arguments(binding, variables, {"letter": Provenance.trusted("request")})
    assert bound.untrusted == ()
    outcome = registry.invoke(binding.tool, bound.values)
    updates = apply_results(binding, outcome)
    assert set(updates) == {"sentiment", "mood"}
    assert updates["mood"] == "positive" and updates["sentiment"] > 0.5


DECISION_CMMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/CMMN/20151109/MODEL"
             xmlns:casepilot="https://casepilot.dev/cmmn/extensions"
             id="defs" targetNamespace="https://casepilot.dev/tests">
  <case id="claim" name="Claim">
    <casePlanModel id="cpm" name="Claim">
      <planItem id="pi_route" name="Route" definitionRef="dt_route"/>
      <decisionTask id="dt_route" name="Route"
            casepilot:tool="decide"
            casepilot:inputs="decision='Review routing'; inputs=scores"
            casepilot:outputs="verdict=outputs.verdict; fired=rule_ids"/>
    </casePlanModel>
  </case>
</definitions>
"""


def test_decision_task_bound_to_the_decide_tool(tmp_path: Path) -> None:
    from casepilot.tools.builtin import decide_tool

    guardrails = Path(__file__).resolve().parents[2] / "examples" / "claims" / "guardrails.dmn"
    registry = ToolRegistry([decide_tool(guardrails)])
    model = tmp_path / "route.cmmn"
    model.write_text(DECISION_CMMN, encoding="utf-8")
    binding = load_bindings(parse_file(model), registry).get("dt_route")
    assert binding is not None
    bound = build_arguments(binding, {"scores": {"confidence": 0.95, "sentiment": 0.3}})
    assert bound.provenance["decision"].is_trusted and bound.untrusted == ("inputs",)
    updates = apply_results(binding, registry.invoke(binding.tool, bound.values))
    assert updates == {"verdict": "allow", "fired": ["otherwise_allow"]}
