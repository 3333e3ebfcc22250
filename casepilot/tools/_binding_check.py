"""Checking one ``ToolBinding`` against the registry and the tool's pydantic schemas.

Run at load time so that a model with a typo in a tool or argument name fails when it is
deployed, not half-way through a customer's case. Returns problem messages; the loader
turns them into ``DefinitionError``s with file and line.
"""

from __future__ import annotations

import difflib
import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from ._binding_syntax import valid_path
from ._execute import describe_validation_error
from ._model import Tool
from .binding import LiteralValue, ToolBinding
from .registry import ToolRegistry

__all__ = ["check_binding"]


def _did_you_mean(name: str, options: list[str]) -> str:
    close = difflib.get_close_matches(name, options, n=2)
    return f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""


def check_binding(binding: ToolBinding, registry: ToolRegistry) -> list[str]:
    """Every problem of ``binding``: unknown tool, unknown/missing/ill-typed arguments, bad result paths."""
    if binding.tool not in registry:
        known = ", ".join(registry.names()) or "none"
        return [
            f"unknown tool {binding.tool!r}{_did_you_mean(binding.tool, registry.names())}; registered: {known}"
        ]
    tool = registry.get(binding.tool)
    return _argument_problems(binding, tool) + _result_problems(binding, tool)


def _argument_problems(binding: ToolBinding, tool: Tool[Any, Any]) -> list[str]:
    problems: list[str] = []
    fields = tool.args_model.model_fields
    by_key: dict[str, str] = {name: name for name in fields}
    by_key.update({f.alias: name for name, f in fields.items() if f.alias})
    for arg, source in binding.arguments.items():
        name = by_key.get(arg)
        if name is None:
            problems.append(
                f"tool {tool.name!r} has no argument {arg!r}{_did_you_mean(arg, list(by_key))}; "
                f"it takes: {', '.join(fields) or 'no arguments'}"
            )
        elif isinstance(source, LiteralValue):
            message = _literal_problem(fields[name], source.value)
            if message:
                problems.append(f"literal for argument {arg!r} of tool {tool.name!r} is invalid: {message}")
    mapped = {by_key.get(a) for a in binding.arguments}
    for name, info in fields.items():
        if info.is_required() and name not in mapped:
            problems.append(f"required argument {name!r} of tool {tool.name!r} is not mapped")
    return problems


def _literal_problem(info: FieldInfo, value: Any) -> str | None:
    annotation: Any = info.annotation
    if info.metadata:
        annotation = Annotated[(annotation, *info.metadata)]
    try:
        TypeAdapter(annotation).validate_python(value)
    except ValidationError as exc:
        return describe_validation_error(exc)
    return None


def _result_problems(binding: ToolBinding, tool: Tool[Any, Any]) -> list[str]:
    problems: list[str] = []
    for variable, path in binding.results.items():
        if not valid_path(variable):
            problems.append(f"{variable!r} is not a case-file variable name or dotted path")
        if not valid_path(path):
            problems.append(f"result path {path!r} for {variable!r} is malformed")
            continue
        message = _result_path_problem(tool.result_model, path)
        if message:
            problems.append(f"result of tool {tool.name!r} {message}")
    return problems


def _result_path_problem(model: type[BaseModel], path: str) -> str | None:
    current: type[BaseModel] | None = model
    walked: list[str] = []
    for seg in path.split("."):
        if current is None:
            return None  # a dict, list or Any: the shape is only known at run time
        fields = current.model_fields
        if seg not in fields:
            where = ".".join(walked) or "it"
            return (
                f"has no field {'.'.join([*walked, seg])!r}{_did_you_mean(seg, list(fields))}; "
                f"{where} has: {', '.join(fields) or 'no fields'}"
            )
        walked.append(seg)
        current = _model_in(fields[seg].annotation)
    return None


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside ``annotation`` (``M`` or ``M | None``), else None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (Union, types.UnionType):
        models = [a for a in get_args(annotation) if a is not type(None)]
        if len(models) == 1:
            return _model_in(models[0])
    return None
