"""Evaluate a DMN decision as a tool: outputs plus the ids of the rules that matched.

Models are loaded when the tool is made (paths or already loaded ``DecisionModel``s) and
chosen by key in the call — a planner names a model, it never hands over a file path.
FEEL values are converted to JSON (numbers to int/float, temporal values and ranges to
their FEEL string form) so the result can go to the case file and the history.
An evaluation with error messages (unknown decision, FEEL error) is a ``ToolError``:
permanent, not retried, with the engine's messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, JsonValue

from casepilot.errors import DefinitionError, ToolError
from casepilot.tools._model import Tool

if TYPE_CHECKING:
    from casepilot.dmn import DecisionModel

__all__ = ["DecideArgs", "DecideResult", "decide_tool", "feel_to_json"]

_MAX_SAFE_INT = 2**53


class DecideArgs(BaseModel):
    decision: str = Field(min_length=1, description="Decision name or id")
    inputs: dict[str, JsonValue] = Field(default_factory=dict, description="Input data by name")
    model: str | None = Field(
        default=None, description="Which decision model; may be omitted when there is one"
    )


class DecideResult(BaseModel):
    model: str
    decision: str
    output: JsonValue
    """The decision's value (a context becomes an object)."""
    outputs: dict[str, JsonValue]
    """The output columns by name (``{decision: value}`` when the value is not a context)."""
    rule_ids: list[str]
    decision_rule_ids: dict[str, list[str]]
    model_hash: str
    messages: list[str]
    """Warnings the engine reported (errors make the call fail instead)."""


def feel_to_json(value: Any) -> JsonValue:
    """A FEEL value as JSON: Decimal → int/float, contexts → objects, temporal/ranges → FEEL strings."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, Decimal):
        if value == value.to_integral_value() and abs(value) < _MAX_SAFE_INT:
            return int(value)
        return float(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, Mapping):
        return {str(k): feel_to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [feel_to_json(v) for v in value]
    from casepilot.dmn.feel.temporal import to_feel_string

    return to_feel_string(value)


def decide_tool(
    models: DecisionModel | str | Path | Mapping[str, DecisionModel | str | Path],
    *,
    name: str = "decide",
    timeout: float = 10.0,
) -> Tool[DecideArgs, DecideResult]:
    """The decision tool over ``models`` (one model, or several by key); loads paths now."""
    from casepilot.dmn import DecisionModel  # imported here: tools must load even while dmn changes

    table: dict[str, DecisionModel] = {}
    given = models if isinstance(models, Mapping) else {None: models}
    for key, source in given.items():
        model = source if isinstance(source, DecisionModel) else DecisionModel.from_xml(source)
        table[key or model.name] = model
    if not table:
        raise DefinitionError("decide_tool needs at least one decision model")

    def run(args: DecideArgs) -> DecideResult:
        key = args.model
        if key is None:
            if len(table) != 1:
                raise ToolError(f"several decision models; name one of: {', '.join(sorted(table))}")
            key = next(iter(table))
        model = table.get(key)
        if model is None:
            raise ToolError(f"no decision model {key!r}; models: {', '.join(sorted(table))}")
        result = model.evaluate(args.decision, args.inputs)
        if not result.ok:
            raise ToolError(f"decision {args.decision!r} failed: " + "; ".join(str(m) for m in result.errors))
        output = feel_to_json(result.value)
        return DecideResult(
            model=key,
            decision=result.name,
            output=output,
            outputs=output if isinstance(output, dict) else {result.name: output},
            rule_ids=list(result.rule_ids),
            decision_rule_ids={k: list(v) for k, v in result.decision_rule_ids.items()},
            model_hash=model.content_hash,
            messages=[str(m) for m in result.messages],
        )

    return Tool(
        name=name,
        description="Evaluate a DMN business decision with the given inputs; returns its outputs and the rules that matched.",
        args_model=DecideArgs,
        result_model=DecideResult,
        side_effect="read_only",
        timeout=timeout,
        func=run,
        tags=("builtin", "dmn"),
    )
