"""Argument checks and value helpers shared by the built-in categories.

The ``need_*`` helpers return the argument in the type the implementation wants or raise
:class:`BuiltinArgumentError` with a message naming the parameter; that keeps each
built-in a few lines long and every rejection explained.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from casepilot.dmn.feel.ops import compare, feel_equal, kind_of
from casepilot.dmn.feel.values import FeelFunction

from ._core import BuiltinArgumentError

__all__ = [
    "feel_eq",
    "feel_lt",
    "is_list",
    "need_bool",
    "need_context",
    "need_function",
    "need_int",
    "need_list",
    "need_number",
    "need_string",
    "type_name",
]


def type_name(value: Any) -> str:
    """The FEEL type name of ``value`` for messages (``ops.kind_of``, with ``null`` for None)."""
    if value is None:
        return "null"
    name = kind_of(value)
    return type(value).__name__ if name == "Any" else name


def need_number(value: Any, param: str) -> Decimal:
    """``value`` as a FEEL number, or an error naming ``param``."""
    if isinstance(value, Decimal):
        return value
    raise BuiltinArgumentError(f"{param} must be a number, got {type_name(value)}")


def need_int(value: Any, param: str) -> int:
    """A number truncated to an integer (as the TCK expects for positions and scales)."""
    num = need_number(value, param)
    if not num.is_finite():
        raise BuiltinArgumentError(f"{param} must be a finite number, got {num}")
    return int(num)


def need_string(value: Any, param: str) -> str:
    """``value`` as a string, or an error naming ``param``."""
    if isinstance(value, str):
        return value
    raise BuiltinArgumentError(f"{param} must be a string, got {type_name(value)}")


def need_bool(value: Any, param: str) -> bool:
    """``value`` as a boolean, or an error naming ``param``."""
    if isinstance(value, bool):
        return value
    raise BuiltinArgumentError(f"{param} must be a boolean, got {type_name(value)}")


def need_list(value: Any, param: str) -> list[Any]:
    """A list; any other non-null value becomes a singleton list (DMN 1.5 §10.3.2.9.4)."""
    if isinstance(value, list):
        return value
    if value is None:
        raise BuiltinArgumentError(f"{param} must be a list, got null")
    return [value]


def need_context(value: Any, param: str) -> dict[str, Any]:
    """``value`` as a context, or an error naming ``param``."""
    if isinstance(value, dict):
        return value
    raise BuiltinArgumentError(f"{param} must be a context, got {type_name(value)}")


def need_function(value: Any, param: str, arity: int) -> FeelFunction:
    """A function that can be called with ``arity`` positional arguments."""
    if not isinstance(value, FeelFunction):
        raise BuiltinArgumentError(f"{param} must be a function, got {type_name(value)}")
    accepts = getattr(value, "accepts_arity", None)
    ok = bool(accepts(arity)) if callable(accepts) else len(value.parameter_names) == arity
    if not ok:
        raise BuiltinArgumentError(f"{param} must be a function of {arity} parameters")
    return value


def is_list(args: Sequence[Any]) -> bool:
    """Guard: the first argument is a list (``min(list)`` rather than ``min(c1, …)``)."""
    return isinstance(args[0], list)


# --------------------------------------------------------------------- equality / order


def feel_eq(a: Any, b: Any) -> bool | None:
    """FEEL ``a = b`` (the language's own semantics): True/False, None across kinds."""
    return feel_equal(a, b)


def feel_lt(a: Any, b: Any) -> bool | None:
    """FEEL ``a < b``: True/False, or None when the values are not comparable."""
    order = compare(a, b)
    return None if order is None else order < 0
