"""Shared helpers for the built-in tests: call a built-in with plain Python values."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from casepilot.dmn.feel.builtins import collect_messages, get_builtin
from casepilot.dmn.feel.values import Range, to_feel

__all__ = ["D", "PyFunction", "R", "call", "call_named", "messages_of", "num"]


def D(text: str | int) -> Decimal:
    """A FEEL number from text (exact) or an int."""
    return Decimal(text)


def num(value: Any) -> Any:
    """Python ints/floats (also nested) as FEEL values."""
    return to_feel(value)


def R(start: Any, end: Any, start_included: bool = True, end_included: bool = True) -> Range:
    """A range with numeric ends given as ints (None = unbounded)."""
    return Range(num(start), num(end), start_included, end_included)


def call(name: str, *args: Any) -> Any:
    """Invoke built-in ``name`` positionally; ints and floats become FEEL numbers."""
    fn = get_builtin(name)
    assert fn is not None, f"no built-in {name!r}"
    return fn.invoke([num(a) for a in args])


def call_named(name: str, **named: Any) -> Any:
    """Invoke by name; use ``_`` for spaces in parameter names (``start_position=``)."""
    fn = get_builtin(name)
    assert fn is not None, f"no built-in {name!r}"
    return fn.invoke(named={k.replace("_", " "): num(v) for k, v in named.items()})


def messages_of(name: str, *args: Any) -> tuple[Any, list[str]]:
    """The result of a positional call and the messages it reported."""
    with collect_messages() as messages:
        result = call(name, *args)
    return result, messages


class PyFunction:
    """A FEEL function backed by a Python callable (stands in for a user function)."""

    def __init__(self, names: tuple[str, ...], body: Any) -> None:
        self._names = names
        self._body = body
        self.calls = 0

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return self._names

    def invoke(self, args: list[Any] | None = None, named: dict[str, Any] | None = None) -> Any:
        self.calls += 1
        values = list(args or [])
        values += [None] * (len(self._names) - len(values))
        return self._body(*values)
