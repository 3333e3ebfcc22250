"""FEEL types: ``instance of`` and type conformance (DMN 1.5 §10.3.2.9.4 / §10.3.2.13).

``instance_of`` is the FEEL operator: ``null instance of T`` is false except for ``Null``
and ``Any`` is satisfied by every non-null value. ``conforms`` is what the DMN engine uses
to check a value against a declared type: null conforms to every type, and unknown type
names (item definitions resolved elsewhere) are not judged here.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

from . import _extended as ext
from . import ast
from .ops import kind_of
from .values import Range

__all__ = [
    "BUILTIN_TYPE_NAMES",
    "TYPE_RESOLVER",
    "TYPE_STRUCTURE",
    "conforms",
    "convert_to",
    "date_to_date_and_time",
    "function_conforms",
    "function_signature",
    "instance_of",
    "is_subtype",
    "type_from_name",
    "use_type_resolver",
]

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


TypeResolver = Callable[[str], Callable[[Any], bool] | None]
"""Maps a type name that is not FEEL's own (an item definition) to a check of non-null values."""

TYPE_RESOLVER: ContextVar[TypeResolver | None] = ContextVar("casepilot_feel_type_resolver", default=None)
"""The resolver ``instance of`` consults; set it with :func:`use_type_resolver` (or, on hot
paths, ``TYPE_RESOLVER.set``/``reset`` directly)."""


StructureResolver = Callable[[str], tuple[ast.TypeRef, bool] | None]
"""Maps an item-definition name to its FEEL structure and whether it is constrained (allowed
values or a type constraint); None for a name that is no item definition."""

TYPE_STRUCTURE: ContextVar[StructureResolver | None] = ContextVar(
    "casepilot_feel_type_structure", default=None
)
"""The resolver :func:`is_subtype` consults to compare an item definition with the FEEL type it
is built on (set by the DMN engine next to :data:`TYPE_RESOLVER`)."""


@contextlib.contextmanager
def use_type_resolver(resolver: TypeResolver) -> Iterator[None]:
    """Let ``instance of`` judge item-definition names while the block runs (the DMN engine
    sets the resolver of the model whose expressions it evaluates)."""
    token = TYPE_RESOLVER.set(resolver)
    try:
        yield
    finally:
        TYPE_RESOLVER.reset(token)


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
        if name not in BUILTIN_TYPE_NAMES:
            resolver = TYPE_RESOLVER.get()
            check = resolver(name) if resolver is not None else None
            if check is not None:
                return check(value)
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
        return _function_conforms(value, type_ref)
    return False


def function_signature(parameters: tuple[str | None, ...], result: str | None) -> ast.FunctionType:
    """The FEEL type ``function<P1..Pn>->R`` of a DMN function item definition (an untyped
    parameter or result is ``Any``); type names are read with FEEL's type grammar."""
    return ast.FunctionType(
        tuple(_type_of(p) for p in parameters), _type_of(result) if result else ast.NamedType("Any")
    )


def _type_of(text: str | None) -> ast.TypeRef:
    if not text:
        return ast.NamedType("Any")
    from casepilot.errors import ExpressionError

    from ._api import compile_expression  # late: the compiler imports this module

    try:
        tree = compile_expression(f"null instance of {text}").ast
    except ExpressionError:
        return type_from_name(text)
    return tree.type if isinstance(tree, ast.InstanceOf) else type_from_name(text)


def function_conforms(value: Any, type_ref: ast.FunctionType) -> bool:
    """Whether a function value conforms to a function type (see :func:`_function_conforms`)."""
    return _function_conforms(value, type_ref)


def _function_conforms(value: Any, type_ref: ast.FunctionType) -> bool:
    """§10.3.2.9.1: ``function<T1..Tn>->U`` conforms to ``function<S1..Sn>->V`` when every
    ``Si`` conforms to ``Ti`` (parameters are contravariant) and ``U`` to ``V``. A FEEL
    function's undeclared parameter types are ``Any``; an undeclared result type is not
    judged (FEEL gives lambdas no result type). Built-ins are judged by arity only."""
    if kind_of(value) != "function":
        return False
    count = len(type_ref.parameters)
    accepts = getattr(value, "accepts_arity", None)
    if callable(accepts):
        return bool(accepts(count))
    names = getattr(value, "parameter_names", None)
    if isinstance(names, tuple) and len(names) != count:
        return False
    declared = getattr(value, "parameter_types", None)
    if isinstance(declared, tuple):
        for wanted, own in zip(type_ref.parameters, declared, strict=False):
            if isinstance(own, ast.TypeRef) and not is_subtype(wanted, own):
                return False
    result = getattr(value, "result_type", None)
    return not isinstance(result, ast.TypeRef) or is_subtype(result, type_ref.result)


def _canon(t: ast.TypeRef) -> ast.TypeRef:
    return ast.NamedType(_ALIASES.get(t.name, t.name)) if isinstance(t, ast.NamedType) else t


def is_subtype(a: ast.TypeRef, b: ast.TypeRef) -> bool:
    """Type conformance ``a <: b`` of §10.3.2.9.1 (``Null`` below all, ``Any`` above all)."""
    return _subtype(a, b, frozenset())


def _subtype(a: ast.TypeRef, b: ast.TypeRef, seen: frozenset[tuple[ast.TypeRef, ast.TypeRef]]) -> bool:
    a, b = _canon(a), _canon(b)
    if isinstance(b, ast.NamedType) and b.name == "Any":
        return True
    if isinstance(a, ast.NamedType) and isinstance(b, ast.NamedType) and a.name == b.name:
        return True
    # An item definition stands for the FEEL type it is built on (§7.3.2): a restricted one
    # conforms to its base type, while a type conforms to an item definition only when the
    # latter adds no restriction (whether a value passes allowed values is not a type matter).
    if (a, b) in seen:  # item definitions that refer to each other: a question already being asked
        return True
    if (built_on := _structure(a)) is not None:
        return _subtype(built_on[0], b, seen | {(a, b)})
    if (wanted := _structure(b)) is not None:
        return not wanted[1] and _subtype(a, wanted[0], seen | {(a, b)})
    if isinstance(a, ast.NamedType):
        if a.name == "Null":
            return True
        return isinstance(b, ast.NamedType) and a.name == b.name
    if isinstance(b, ast.NamedType):  # list<T> <: list, context<…> <: context, …
        kind = (
            a.name
            if isinstance(a, ast.GenericType)
            else "context"
            if isinstance(a, ast.ContextType)
            else "function"
        )
        return b.name == kind
    if isinstance(a, ast.GenericType) and isinstance(b, ast.GenericType):
        return a.name == b.name and _subtype(a.element, b.element, seen)
    if isinstance(a, ast.ContextType) and isinstance(b, ast.ContextType):
        own = dict(a.fields)
        return all(k in own and _subtype(own[k], t, seen) for k, t in b.fields)
    if isinstance(a, ast.FunctionType) and isinstance(b, ast.FunctionType):
        return (
            len(a.parameters) == len(b.parameters)
            and all(_subtype(bp, ap, seen) for ap, bp in zip(a.parameters, b.parameters, strict=True))
            and _subtype(a.result, b.result, seen)
        )
    return False


def _structure(t: ast.TypeRef) -> tuple[ast.TypeRef, bool] | None:
    """The structure of an item-definition name under the active resolver (None: not one)."""
    if not isinstance(t, ast.NamedType) or t.name in BUILTIN_TYPE_NAMES:
        return None
    resolver = TYPE_STRUCTURE.get()
    return resolver(t.name) if resolver is not None else None


def conforms(value: Any, type_name: str | ast.TypeRef) -> bool:
    """Does ``value`` conform to a declared type? Null conforms to all; item-definition names
    are judged by the active resolver (see :func:`use_type_resolver`), other unknown names pass."""
    if value is None:
        return True
    type_ref = type_from_name(type_name) if isinstance(type_name, str) else type_name
    if isinstance(type_ref, ast.NamedType) and type_ref.name not in BUILTIN_TYPE_NAMES:
        resolver = TYPE_RESOLVER.get()
        check = resolver(type_ref.name) if resolver is not None else None
        return True if check is None else check(value)
    return instance_of(value, type_ref)


def date_to_date_and_time(value: Any) -> Any:
    """DMN 1.5 §10.3.2.9.4 "conversion from date to date and time": midnight UTC that day."""
    return ext.make_date_and_time(value, _dt.time(tzinfo=_dt.UTC))


def convert_to(value: Any, type_ref: ast.TypeRef) -> tuple[bool, Any]:
    """Bind ``value`` to a declared FEEL type with the implicit conversions of §10.3.2.9.4.

    ``(True, value)`` when it conforms as is or after one conversion (from or to a
    singleton list, date to date and time), ``(False, None)`` otherwise.
    """
    if conforms(value, type_ref):
        return True, value
    if isinstance(value, list) and len(value) == 1 and conforms(value[0], type_ref):
        return True, value[0]
    to_list = (
        isinstance(type_ref, ast.GenericType) and type_ref.name == "list" and not isinstance(value, list)
    )
    if to_list and conforms([value], type_ref):
        return True, [value]
    named = _ALIASES.get(type_ref.name, type_ref.name) if isinstance(type_ref, ast.NamedType) else None
    if named == "date and time" and kind_of(value) == "date":
        return True, date_to_date_and_time(value)
    return False, None
