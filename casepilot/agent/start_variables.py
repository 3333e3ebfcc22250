"""The starting variables a case needs, checked before the case exists.

A case started without a variable its model reads was accepted and failed later, far from
the request that caused it (issue 16). The manifest declares what a start needs
(``start: {required: {name: type}}``); a start that misses one or gives one of the wrong
JSON type is refused with every problem at once, so the caller fixes the request in one
round. ``InvalidStartVariables`` is a ``DefinitionError``-kind refusal: the HTTP API answers
422 with the problems listed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from casepilot.agent.manifest import Manifest, VariableType
from casepilot.errors import DefinitionError

__all__ = ["InvalidStartVariables", "check_start_variables", "start_problems"]


class InvalidStartVariables(DefinitionError):
    """A start's variables do not match what the definition requires; ``problems`` lists each."""


def _is(value: Any, kind: VariableType) -> bool:
    if kind == "any":
        return True
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "object":
        return isinstance(value, Mapping)
    return isinstance(value, (list, tuple))


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, (list, tuple)):
        return "array"
    return type(value).__name__


def start_problems(manifest: Manifest, variables: Mapping[str, Any]) -> list[str]:
    """Every way ``variables`` fall short of the manifest's ``start.required`` (empty: fine)."""
    problems: list[str] = []
    for name, kind in manifest.start.required.items():
        if name not in variables or variables[name] is None:
            problems.append(f"{name}: required ({kind}) but missing")
        elif not _is(variables[name], kind):
            problems.append(f"{name}: must be {'an' if kind[0] in 'aeio' else 'a'} {kind}, "
                            f"got {_type_name(variables[name])}")
    return problems


def check_start_variables(manifest: Manifest, variables: Mapping[str, Any]) -> None:
    """Raise ``InvalidStartVariables`` listing every problem, if there is one."""
    problems = start_problems(manifest, variables)
    if problems:
        raise InvalidStartVariables(
            f"a case of {manifest.key} cannot start: {len(problems)} problem(s) with its variables "
            f"(required: {', '.join(f'{k} ({v})' for k, v in manifest.start.required.items())})",
            problems=[DefinitionError(p) for p in problems])
