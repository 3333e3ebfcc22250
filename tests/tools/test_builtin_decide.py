"""The decide tool over the flagship guardrail DMN."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from casepilot.dmn import DecisionModel
from casepilot.tools import ToolCallError, ToolRegistry
from casepilot.tools.builtin import builtin_tools, decide_tool, feel_to_json

GUARDRAILS = Path(__file__).resolve().parents[2] / "examples" / "claims" / "guardrails.dmn"


@pytest.fixture(scope="module")
def registry() -> ToolRegistry:
    return ToolRegistry([decide_tool({"guardrails": GUARDRAILS})])


def test_decision_outputs_and_matched_rules(registry: ToolRegistry) -> None:
    result = registry.invoke(
        "decide", {"decision": "Review routing", "inputs": {"confidence": 0.9, "sentiment": -0.4}}
    ).result
    assert result.outputs == {
        "verdict": "require_human",
        "role": "senior analyst",
        "reason": "extracted sentiment score is negative",
    }
    assert result.rule_ids == ["negative_sentiment"]
    assert result.decision_rule_ids == {"Review routing": ["negative_sentiment"]}
    assert result.model == "guardrails" and len(result.model_hash) == 64

    allow = registry.invoke(
        "decide", {"decision": "review_routing", "inputs": {"confidence": 0.8, "sentiment": 0.1}}
    )
    assert allow.result.outputs["verdict"] == "allow" and allow.result.rule_ids == ["otherwise_allow"]


def test_unknown_decision_or_model_is_a_permanent_error(registry: ToolRegistry) -> None:
    with pytest.raises(ToolCallError, match="no decision named 'Routing'") as info:
        registry.invoke("decide", {"decision": "Routing", "inputs": {}})
    assert info.value.attempts == 1
    with pytest.raises(ToolCallError, match="no decision model 'pricing'"):
        registry.invoke("decide", {"decision": "Review routing", "model": "pricing"})


def test_loaded_model_and_builtin_set() -> None:
    model = DecisionModel.from_xml(GUARDRAILS)
    reg = ToolRegistry(builtin_tools(decision_models=model))
    assert reg.names() == ["decide", "ocr", "sentiment", "summarise"]
    out = reg.invoke(
        "decide", {"decision": "Review routing", "inputs": {"confidence": 0.5, "sentiment": 0.5}}
    )
    assert out.result.model == model.name and out.result.rule_ids == ["low_confidence"]


def test_feel_values_become_json() -> None:
    assert feel_to_json(Decimal("12")) == 12 and feel_to_json(Decimal("0.25")) == 0.25
    assert feel_to_json({"d": dt.date(2026, 3, 1), "xs": [Decimal(1), None, True]}) == {
        "d": "2026-03-01",
        "xs": [1, None, True],
    }
