"""FEEL types: ``instance of`` and type conformance (DMN 1.5 §10.3.2.9.4 / §10.3.2.13).

``instance_of`` is the FEEL operator: ``null instance of T`` is false except for ``Null``
and ``Any`` is satisfied by every non-null value. ``conforms`` is what the DMN engine uses
to check a value against a declared type: null conforms to every type, and unknown type
names (item definitions resolved elsewhere) are not judged here.
"""

from __future__ import annotations

from typing import Any

from . import ast
from .ops import kind_of
from .values import Range

__all__ = ["BUILTIN_TYPE_NAMES", "conforms", "instance_of", "type_from_name"]

BUILTIN_TYPE_NAMES = frozenset(
    {
        "Any",
        "Null",
        "number",
        "string",
        "boolean",
        "date",
        "time",
        "date and time",
        "days and time duration",
        "years and months duration",
        "list",
        "context",
        "function",
        "range",
    }
)

_ALIASES = {
    "dayTimeDuration": "days and time duration",
    "yearMonthDuration": "years and months duration",
    "dateTime": "date and time",
    "feel:number": "number",
    "feel:string": "string",
    "feel:boolean": "boolean",
    "feel:date": "date",
    "feel:time": "time",
    "feel:date and time": "date and time",
    "feel:days and time duration": "days and time duration",
    "feel:years and months duration": "years and months duration",
    "feel:context": "context",
    "feel:Any": "Any",
}


def type_from_name(name: str) -> ast.NamedType:
    """A named type, with common aliases (``feel:number``, ``dayTimeDuration``) normalised."""
    return ast.NamedType(_ALIASES.get(name, name))


def instance_of(value: Any, type_ref: ast.TypeRef) -> bool:
    """FEEL ``value instance of type``."""
    if isinstance(type_ref, ast.NamedType):
        name = _ALIASES.get(type_ref.name, type_ref.name)
        if name == "Null":
            return value is None
        if value is None:
            return False
        if name == "Any":
            return True
        return kind_of(value) == name
    if value is None:
        return False
    if isinstance(type_ref, ast.GenericType):
        if type_ref.name == "list":
            return isinstance(value, list) and all(
                v is None or instance_of(v, type_ref.element) for v in value
            )
        return isinstance(value, Range) and all(
            v is None or instance_of(v, type_ref.element) for v in (value.start, value.end)
        )
    if isinstance(type_ref, ast.ContextType):
        return isinstance(value, dict) and all(
            key in value and (value[key] is None or instance_of(value[key], t)) for key, t in type_ref.fields
        )
    if isinstance(type_ref, ast.FunctionType):
        if kind_of(value) != "function":
            return False
        names = getattr(value, "parameter_names", None)
        return not isinstance(names, tuple) or len(names) == len(type_ref.parameters)
    return False


def conforms(value: Any, type_name: str | ast.TypeRef) -> bool:
    """Does ``value`` conform to a declared type? Null conforms to all; unknown names pass."""
    if value is None:
        return True
    type_ref = type_from_name(type_name) if isinstance(type_name, str) else type_name
    if isinstance(type_ref, ast.NamedType) and type_ref.name not in BUILTIN_TYPE_NAMES:
        return True
    return instance_of(value, type_ref)
