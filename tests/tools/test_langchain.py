"""LangChain tools register as they are; their argument schema becomes the tool's."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain_core.tools import BaseTool
from langchain_core.tools import tool as lc_tool
from pydantic import BaseModel, Field

from casepilot.tools import LangChainResult, ToolCallError, ToolRegistry, from_langchain


@lc_tool
def convert_currency(amount: float, currency: str = "EUR") -> str:
    """Convert an amount to euros at a fixed rate."""
    rate = {"EUR": 1.0, "USD": 0.5}[currency]
    return f"{amount * rate:.2f} EUR"


class LookupArgs(BaseModel):
    policy_number: str = Field(pattern=r"^P-\d{4}$", description="Policy number like P-1234")


class PolicyLookup(BaseTool):
    name: str = "policy_lookup"
    description: str = "Look up a policy holder by policy number."
    args_schema: type[BaseModel] = LookupArgs

    def _run(self, policy_number: str) -> dict[str, Any]:
        return {"policy": policy_number, "holder": "A. Example", "active": True}


class DictSchemaTool(BaseTool):
    name: str = "echo"
    description: str = "Echo a word n times."
    args_schema: dict[str, Any] = {  # noqa: RUF012 - LangChain declares it as a pydantic field
        "type": "object",
        "properties": {"word": {"type": "string"}, "n": {"type": "integer", "default": 2}},
        "required": ["word"],
    }

    def _run(self, word: str, n: int = 2) -> str:
        return " ".join([word] * n)


def test_decorated_langchain_tool_registers_as_is() -> None:
    reg = ToolRegistry([convert_currency])
    wrapped = reg.get("convert_currency")
    assert wrapped.side_effect == "non_idempotent" and wrapped.max_attempts == 1
    assert wrapped.description == "Convert an amount to euros at a fixed rate."
    params = wrapped.openai_schema()["function"]["parameters"]
    assert params["required"] == ["amount"] and set(params["properties"]) == {"amount", "currency"}
    outcome = reg.invoke("convert_currency", {"amount": 10, "currency": "USD"})
    assert outcome.result == LangChainResult(output="5.00 EUR")
    assert asyncio.run(reg.ainvoke("convert_currency", {"amount": 3})).result.model_dump() == {
        "output": "3.00 EUR"
    }


def test_args_schema_model_is_used_for_validation() -> None:
    reg = ToolRegistry()
    reg.register(from_langchain(PolicyLookup(), side_effect="read_only"))
    assert reg.get("policy_lookup").args_model is LookupArgs
    assert (
        reg.invoke("policy_lookup", {"policy_number": "P-0042"}).output()["output"]["holder"] == "A. Example"
    )
    with pytest.raises(ToolCallError, match="policy_number: String should match pattern") as info:
        reg.invoke("policy_lookup", {"policy_number": "0042"})
    assert info.value.kind == "invalid_arguments"


def test_json_schema_dict_becomes_a_model() -> None:
    wrapped = from_langchain(DictSchemaTool(), name="echo_words", side_effect="idempotent")
    assert wrapped.name == "echo_words" and wrapped.max_attempts == 3
    reg = ToolRegistry([wrapped])
    assert reg.invoke("echo_words", {"word": "hi"}).result.output == "hi hi"
    assert reg.invoke("echo_words", {"word": "hi", "n": 3}).result.output == "hi hi hi"
    with pytest.raises(ToolCallError, match="word: Field required"):
        reg.invoke("echo_words", {"n": 3})
