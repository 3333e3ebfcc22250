"""Evaluation-time machinery: scopes, the per-evaluation budget, user functions, properties.

A compiled expression is a tree of closures ``f(scope) -> value``. The :class:`Scope`
chain holds variables (the caller's at the root, then contexts, iterators, parameters);
the :class:`State` shared by one evaluation collects messages (unknown names, type errors)
and enforces :class:`Limits`, so that hostile expressions stop with ``ExpressionError``
after bounded work instead of hanging a worker.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import importlib
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from casepilot.errors import ExpressionError

from . import _extended as ext
from ._nanos import nanos_of
from .types import convert_to
from .values import FEEL_DECIMAL, FeelDate, FeelDateTime, Range, YearMonthDuration

__all__ = [
    "CURRENT_STATE",
    "MISSING",
    "Limits",
    "Scope",
    "State",
    "UserFunction",
    "builtin_names",
    "get_builtin",
    "get_property",
    "is_function",
    "list_item",
    "message_sink",
]

MISSING: Any = object()
"""Sentinel for 'no such variable' (distinct from FEEL null)."""

_MAX_MESSAGES = 50


@dataclass(frozen=True, slots=True)
class Limits:
    """Budgets of one evaluation; exceeding one raises ``ExpressionError``."""

    max_steps: int = 300_000
    """Loop iterations, filter items and function calls, all counted together (≈ a few seconds)."""
    max_list_length: int = 1_000_000
    """Longest list an expression may build (ranges in ``for``, built-in results)."""
    max_string_length: int = 1_000_000
    """Longest string an expression may build."""
    max_allocated_chars: int = 20_000_000
    """Total characters of strings built during one evaluation."""


DEFAULT_LIMITS = Limits()


CURRENT_STATE: ContextVar[State | None] = ContextVar("feel_evaluation_state", default=None)
"""The state of the evaluation running in this context (for functions that outlive theirs)."""


class State:
    """What one evaluation shares: messages and budget counters."""

    __slots__ = ("active", "allocated", "expression", "hint_names", "limits", "messages", "steps")

    def __init__(self, limits: Limits, expression: str, hint_names: Mapping[str, Any] | None = None) -> None:
        self.active = True
        """False once the evaluation returned; functions it created then budget on their own."""
        self.limits = limits
        self.expression = expression
        self.messages: list[str] = []
        self.steps = 0
        self.allocated = 0
        self.hint_names = hint_names

    def note(self, message: str) -> None:
        """Record a runtime problem (the value becomes null, per FEEL)."""
        if len(self.messages) < _MAX_MESSAGES and message not in self.messages:
            self.messages.append(message)

    def tick(self, count: int = 1) -> None:
        """Spend ``count`` steps of the budget."""
        self.steps += count
        if self.steps > self.limits.max_steps:
            raise ExpressionError(
                f"evaluation exceeded {self.limits.max_steps} steps (loops, filters, calls)",
                expression=self.expression,
            )

    def check_list(self, length: int) -> None:
        """Refuse lists longer than the limit."""
        if length > self.limits.max_list_length:
            raise ExpressionError(
                f"list of {length} items exceeds the limit of {self.limits.max_list_length}",
                expression=self.expression,
            )

    def check_string(self, text: str) -> str:
        """Refuse over-long strings and account for string memory built by the expression."""
        n = len(text)
        self.check_string_length(n)
        self.allocated += n
        if self.allocated > self.limits.max_allocated_chars:
            raise ExpressionError("evaluation built too much string data", expression=self.expression)
        return text

    def check_string_length(self, n: int) -> None:
        """Refuse a string of ``n`` characters if it is over the limit."""
        if n > self.limits.max_string_length:
            raise ExpressionError(
                f"string of {n} characters exceeds the limit of {self.limits.max_string_length}",
                expression=self.expression,
            )

    def check_result(self, value: Any) -> Any:
        """Apply the size limits to a value produced by a built-in or an operator."""
        if isinstance(value, str):
            self.check_string(value)
        elif isinstance(value, list):
            self.check_list(len(value))
            self.tick(len(value) // 16)
        return value


class Scope:
    """One level of variables; lookups walk up to the root (the caller's variables)."""

    __slots__ = ("parent", "state", "vars")

    def __init__(self, vars: dict[str, Any], parent: Scope | None, state: State) -> None:
        self.vars = vars
        self.parent = parent
        self.state = state

    def child(self, vars: dict[str, Any]) -> Scope:
        """A nested scope (context literal, iterator, function parameters, filter item)."""
        return Scope(vars, self, self.state)

    def lookup(self, name: str) -> Any:
        """The value bound to ``name``, or ``MISSING``."""
        scope: Scope | None = self
        while scope is not None:
            value = scope.vars.get(name, MISSING)
            if value is not MISSING:
                return value
            scope = scope.parent
        return MISSING

    def visible_names(self) -> set[str]:
        """Every name visible here (for "did you mean" hints)."""
        names: set[str] = set()
        scope: Scope | None = self
        while scope is not None:
            names.update(scope.vars)
            scope = scope.parent
        if self.state.hint_names is not None:
            names.update(self.state.hint_names)
        return names

    def unknown(self, name: str) -> None:
        """Note an unknown name with the closest known names as a hint."""
        candidates = self.visible_names() | builtin_names()
        close = difflib.get_close_matches(name, sorted(candidates), n=3, cutoff=0.6)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        self.state.note(f"unknown name {name!r}{hint}")


# --------------------------------------------------------------------------- built-ins bridge


@cache
def _builtins_module() -> Any:
    try:
        return importlib.import_module("casepilot.dmn.feel.builtins")
    except ImportError:
        return None


def get_builtin(name: str) -> Any:
    """The built-in function called ``name`` (a ``FeelFunction``) or None."""
    module = _builtins_module()
    getter = getattr(module, "get_builtin", None)
    return getter(name) if getter is not None else None


def message_sink(note: Callable[[str], None]) -> AbstractContextManager[Any]:
    """Route the built-ins' explanations of null results to ``note`` while evaluating."""
    collect = getattr(_builtins_module(), "collect_messages", None)
    return collect(note) if collect is not None else nullcontext()


_FALLBACK_MULTIWORD = frozenset(
    {
        "date and time", "years and months duration", "string length", "upper case", "lower case",
        "substring before", "substring after", "starts with", "ends with", "list contains", "insert before",
        "index of", "distinct values", "get value", "get entries", "day of year", "day of week",
        "month of year", "week of year", "round up", "round down", "round half up", "round half down",
        "string join", "context put", "context merge", "list replace", "met by", "overlaps before",
        "overlaps after", "finished by", "started by", "is defined", "time offset", "start included",
        "end included",
    }
)  # fmt: skip


@cache
def builtin_names() -> frozenset[str]:
    """Names of the built-in functions (plus a fallback list of the multi-word ones)."""
    module = _builtins_module()
    names = getattr(module, "BUILTIN_NAMES", None)
    return (frozenset(names) if names else frozenset()) | _FALLBACK_MULTIWORD


def is_function(value: Any) -> bool:
    """Whether ``value`` can be invoked as a FEEL function."""
    return callable(getattr(value, "invoke", None)) and isinstance(
        getattr(value, "parameter_names", None), tuple
    )


# --------------------------------------------------------------------------- user functions


class UserFunction:
    """A FEEL ``function(a, b) body`` closed over the scope where it was defined."""

    __slots__ = ("_body", "_parameter_names", "_scope", "_types")

    def __init__(
        self,
        parameter_names: tuple[str, ...],
        types: tuple[Any, ...],
        body: Callable[[Scope], Any],
        scope: Scope,
    ) -> None:
        self._parameter_names = parameter_names
        self._types = types
        self._body = body
        self._scope = scope

    @property
    def parameter_names(self) -> tuple[str, ...]:
        """Formal parameter names."""
        return self._parameter_names

    @property
    def parameter_types(self) -> tuple[Any, ...]:
        """Declared parameter types (``TypeRef``; None where undeclared, i.e. ``Any``)."""
        return self._types

    def invoke(self, args: list[Any] | None = None, named: dict[str, Any] | None = None) -> Any:
        """Bind arguments (missing ones are null) and evaluate the body; type mismatch → null.

        A function that outlives the evaluation that created it (returned in a decision
        result and called later) spends the budget of the evaluation calling it, or a fresh
        one when called from plain Python.
        """
        scope = self._scope
        if not scope.state.active:
            old = scope.state
            caller = CURRENT_STATE.get()
            scope = Scope(scope.vars, scope.parent, caller or State(old.limits, old.expression))
        state = scope.state
        state.tick()
        names = self._parameter_names
        if named is not None:
            unknown = set(named) - set(names)
            if unknown:
                state.note(
                    f"function has no parameter {sorted(unknown)[0]!r}; parameters: {', '.join(names)}"
                )
                return None
            bound = {n: named.get(n) for n in names}
        else:
            values = list(args or [])
            if len(values) > len(names):
                state.note(f"function takes {len(names)} arguments, {len(values)} given")
                return None
            values += [None] * (len(names) - len(values))
            bound = dict(zip(names, values, strict=True))
        for name, type_ref in zip(names, self._types, strict=True):
            if type_ref is not None:
                ok, converted = convert_to(bound[name], type_ref)
                if not ok:
                    state.note(f"argument {name!r} does not conform to its declared type")
                    return None
                bound[name] = converted
        return self._body(scope.child(bound))

    def __repr__(self) -> str:
        return f"function({', '.join(self._parameter_names)})"


# --------------------------------------------------------------------------- properties


def _offset_of(value: _dt.datetime | _dt.time) -> _dt.timedelta | None:
    if value.tzinfo is None:
        return None
    if isinstance(value, _dt.time) and isinstance(value.tzinfo, ZoneInfo):
        return _dt.datetime.combine(_dt.date(1970, 1, 1), value).utcoffset()
    return value.utcoffset()


def _duration_property(value: _dt.timedelta, name: str) -> Any:
    total = value // _dt.timedelta(microseconds=1)
    sign = -1 if total < 0 else 1
    seconds, _micro = divmod(abs(total), 1_000_000)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = {"days": days, "hours": hours, "minutes": minutes, "seconds": secs}
    return Decimal(sign * parts[name]) if name in parts else MISSING


def _extended_property(value: FeelDate | FeelDateTime, name: str) -> Any:
    if name in ("year", "month", "day"):
        return Decimal(getattr(value, name))
    if name == "weekday":
        return Decimal(ext.weekday_proxy(value).isoweekday())
    if isinstance(value, FeelDate):
        return MISSING
    if name == "time offset":
        return None if value.tzinfo is None else ext.to_proxy(value)[1].utcoffset()
    return _temporal_property(value.time, name)


def _temporal_property(value: Any, name: str) -> Any:
    if isinstance(value, (FeelDate, FeelDateTime)):
        return _extended_property(value, name)
    if isinstance(value, _dt.date):
        if name == "year":
            return Decimal(value.year)
        if name == "month":
            return Decimal(value.month)
        if name == "day":
            return Decimal(value.day)
        if name == "weekday":
            return Decimal(value.isoweekday())
        if not isinstance(value, _dt.datetime):
            return MISSING
    if isinstance(value, (_dt.datetime, _dt.time)):
        if name == "hour":
            return Decimal(value.hour)
        if name == "minute":
            return Decimal(value.minute)
        if name == "second":
            billionths = value.microsecond * 1000 + nanos_of(value)
            fraction = FEEL_DECIMAL.divide(Decimal(billionths), Decimal(1_000_000_000))
            return FEEL_DECIMAL.add(Decimal(value.second), fraction) if billionths else Decimal(value.second)
        if name == "time offset":
            return _offset_of(value)
        if name == "timezone":
            return value.tzinfo.key if isinstance(value.tzinfo, ZoneInfo) else None
    return MISSING


def get_property(value: Any, name: str, scope: Scope) -> Any:
    """``value.name``: context entry, list mapping, temporal/duration/range property."""
    if isinstance(value, dict):
        result = value.get(name, MISSING)
        if result is MISSING:
            close = difflib.get_close_matches(name, [str(k) for k in value], n=2, cutoff=0.6)
            hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            scope.state.note(f"the context has no entry {name!r}{hint}")
            return None
        return result
    if isinstance(value, list):
        return [get_property(v, name, scope) for v in value]
    if value is None:
        return None
    if isinstance(value, _dt.timedelta):
        result = _duration_property(value, name)
    elif isinstance(value, YearMonthDuration):
        sign = -1 if value.months < 0 else 1
        years, months = divmod(abs(value.months), 12)
        result = {"years": Decimal(sign * years), "months": Decimal(sign * months)}.get(name, MISSING)
    elif isinstance(value, Range):
        result = {
            "start": value.start,
            "end": value.end,
            "start included": value.start_included,
            "end included": value.end_included,
        }.get(name, MISSING)
    else:
        result = _temporal_property(value, name)
    if result is MISSING:
        scope.state.note(f"a value of this type has no property {name!r}")
        return None
    return result


def list_item(value: Any, index: Decimal) -> Any:
    """``value[index]`` for a number filter: 1-based, negative from the end, null outside."""
    if value is None:
        return None
    items = value if isinstance(value, list) else [value]
    if index != index.to_integral_value() or index == 0:
        return None
    i = int(index)
    if i > len(items) or -i > len(items):
        return None
    return items[i - 1] if i > 0 else items[i]
