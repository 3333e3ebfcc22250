"""Register existing LangChain tools as they are.

The argument model is the tool's own ``args_schema`` when it is a pydantic model; a JSON
schema given as a dict is turned into a flat pydantic model (top-level properties typed
by their JSON type); a tool without ``args_schema`` gets the model LangChain infers from
its ``_run`` signature. The result is wrapped as ``LangChainResult(output=…)`` because
LangChain tools do not declare a result type.

Nothing is known about a foreign tool's side effects, so the default is the safe one:
``non_idempotent`` (never retried automatically). Say otherwise when you know better.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langchain_core.tools import BaseTool
from pydantic import BaseModel, Field, JsonValue, create_model

from casepilot.errors import DefinitionError

from ._model import DEFAULT_RETRY, RetryPolicy, SideEffect, Tool

__all__ = ["LangChainResult", "from_langchain"]

_JSON_TYPES: Mapping[str, Any] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "array": list[JsonValue],
    "object": dict[str, JsonValue],
    "null": type(None),
}


class LangChainResult(BaseModel):
    """What a wrapped LangChain tool returned (any JSON value; usually text)."""

    output: JsonValue


def from_langchain(
    lc_tool: BaseTool,
    *,
    name: str | None = None,
    side_effect: SideEffect = "non_idempotent",
    timeout: float | None = 30.0,
    retry: RetryPolicy = DEFAULT_RETRY,
) -> Tool[BaseModel, LangChainResult]:
    """Wrap ``lc_tool`` as a casepilot ``Tool`` (sync via ``invoke``, async via ``ainvoke``)."""
    args_model = _args_model(lc_tool)

    def call(args: BaseModel) -> dict[str, Any]:
        return {"output": lc_tool.invoke(_payload(args))}

    async def acall(args: BaseModel) -> dict[str, Any]:
        return {"output": await lc_tool.ainvoke(_payload(args))}

    return Tool(
        name=name or lc_tool.name,
        description=lc_tool.description,
        args_model=args_model,
        result_model=LangChainResult,
        side_effect=side_effect,
        timeout=timeout,
        retry=retry,
        func=call,
        afunc=acall,
        tags=("langchain",),
    )


def _payload(args: BaseModel) -> dict[str, Any]:
    # Only fields that were given or have defaults: LangChain validates again with its own schema.
    return args.model_dump(exclude_unset=True)


def _args_model(lc_tool: BaseTool) -> type[BaseModel]:
    schema = lc_tool.args_schema
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return schema
    if isinstance(schema, Mapping):
        return _model_from_json_schema(lc_tool.name, schema)
    if schema is None:
        inferred = lc_tool.get_input_schema()
        if isinstance(inferred, type) and issubclass(inferred, BaseModel) and inferred.model_fields:
            return inferred
        return create_model(f"{lc_tool.name}_args")
    raise DefinitionError(
        f"LangChain tool {lc_tool.name!r} has an args_schema of type {type(schema).__name__}; "
        "expected a pydantic v2 model or a JSON schema dict"
    )


def _model_from_json_schema(tool_name: str, schema: Mapping[str, Any]) -> type[BaseModel]:
    if schema.get("type", "object") != "object":
        raise DefinitionError(f"LangChain tool {tool_name!r}: args_schema must describe an object")
    required = set(schema.get("required", ()))
    fields: dict[str, Any] = {}
    for prop, spec in dict(schema.get("properties", {})).items():
        kind = spec.get("type") if isinstance(spec, Mapping) else None
        py_type: Any = _JSON_TYPES.get(kind, JsonValue) if isinstance(kind, str) else JsonValue
        description = spec.get("description") if isinstance(spec, Mapping) else None
        if prop in required:
            fields[prop] = (py_type, Field(description=description))
        else:
            default = spec.get("default") if isinstance(spec, Mapping) else None
            fields[prop] = (py_type | None, Field(default=default, description=description))
    model: type[BaseModel] = create_model(f"{tool_name}_args", **fields)
    return model
