"""The machinery every built-in shares: overloads, argument binding, failure reporting.

A built-in is a name with one or more *overloads* (the spec's signatures, e.g.
``date(from)`` and ``date(year, month, day)``). Binding is done once per call with
tables computed at definition time:

* positional calls look up the overloads of that arity (a dict lookup) and take the first
  whose optional *guard* accepts the arguments (guards tell apart same-arity overloads such
  as ``before(point, range)`` and ``before(range, point)``); variadic overloads
  (``min(c1, …, cN)``) come last;
* named calls pick the overload whose parameter names cover the given names and whose
  required names are all present; where two signatures have the same names
  (``before(point, range)``, ``before(range, point)``), the argument types and then the
  order in which the call names them decide (``before(range: r, point: p)`` is the second).

An implementation signals bad user input by raising :class:`BuiltinArgumentError`;
``Builtin.invoke`` turns it into FEEL null and hands the message to the active message
sink (see :func:`collect_messages`), so the compiler can show why an expression gave null.
``Builtin.call`` is the same without the conversion, for callers that collect errors
themselves.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from casepilot.errors import ExpressionError

__all__ = [
    "MISSING",
    "REGISTRY",
    "Builtin",
    "BuiltinArgumentError",
    "MessageSink",
    "Overload",
    "builtin",
    "collect_messages",
    "report_message",
]


class BuiltinArgumentError(ExpressionError):
    """A built-in was called with arguments it cannot accept; FEEL makes the result null."""


class _Missing:
    """Marks an optional parameter that was not passed (apart from an explicit null)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""Default of optional parameters in implementations: "not given", unlike ``None`` (null)."""

MessageSink = Callable[[str], object]
_SINK: ContextVar[MessageSink | None] = ContextVar("casepilot_feel_builtin_messages", default=None)


def report_message(message: str) -> None:
    """Hand ``message`` to the active sink, if any (cheap when nobody listens)."""
    sink = _SINK.get()
    if sink is not None:
        sink(message)


@contextlib.contextmanager
def collect_messages(sink: list[str] | MessageSink | None = None) -> Iterator[list[str]]:
    """Collect the reasons why built-ins returned null while the block runs.

    ``sink`` may be a list to append to or a callable (e.g. the compiler's ``note``);
    the block receives the list (a new one when ``sink`` is None or a callable)::

        with collect_messages() as messages:
            get_builtin("abs").invoke(["x"])
        messages  # ['abs: n must be a number or a duration, got string']
    """
    collected: list[str] = sink if isinstance(sink, list) else []
    target: MessageSink = sink if callable(sink) else collected.append
    token = _SINK.set(target)
    try:
        yield collected
    finally:
        _SINK.reset(token)


Guard = Callable[[Sequence[Any]], bool]


@dataclass(frozen=True, slots=True)
class Overload:
    """One signature of a built-in.

    ``params`` are the spec's names; the last ``optional`` of them may be omitted; with
    ``variadic`` the last parameter collects the remaining positional arguments into a list
    (at least ``variadic_min`` of them).
    """

    params: tuple[str, ...]
    impl: Callable[..., Any]
    optional: int = 0
    variadic: bool = False
    variadic_min: int = 1
    guard: Guard | None = None

    @property
    def required(self) -> int:
        """How many leading parameters must be given (for variadics: the fixed ones)."""
        if self.variadic:
            return len(self.params) - 1
        return len(self.params) - self.optional

    def describe(self) -> str:
        """The signature as the spec writes it, for messages."""
        names = list(self.params)
        for i in range(len(names) - self.optional, len(names)):
            names[i] += "?"
        if self.variadic:
            names[-1] += "..."
        return "(" + ", ".join(names) + ")"


class Builtin:
    """A FEEL built-in function; implements :class:`~casepilot.dmn.feel.values.FeelFunction`."""

    __slots__ = ("_by_arity", "_direct", "_named_plans", "_variadic", "name", "overloads")

    def __init__(self, name: str, overloads: Sequence[Overload]) -> None:
        self.name = name
        self.overloads: tuple[Overload, ...] = tuple(overloads)
        by_arity: dict[int, list[Overload]] = {}
        for ov in self.overloads:
            if ov.variadic:
                continue
            for arity in range(ov.required, len(ov.params) + 1):
                by_arity.setdefault(arity, []).append(ov)
        self._by_arity: dict[int, tuple[Overload, ...]] = {k: tuple(v) for k, v in by_arity.items()}
        self._variadic = tuple(ov for ov in self.overloads if ov.variadic)
        # fast path: an arity served by exactly one unguarded signature calls it directly
        self._direct: dict[int, Callable[..., Any]] = {
            arity: ovs[0].impl
            for arity, ovs in self._by_arity.items()
            if len(ovs) == 1 and ovs[0].guard is None
        }
        self._named_plans: dict[tuple[str, ...], tuple[tuple[Overload, tuple[str, ...]], ...]] = {}

    @property
    def parameter_names(self) -> tuple[str, ...]:
        """Parameter names of the first (primary) signature; see ``overloads`` for all."""
        return self.overloads[0].params

    def accepts_arity(self, count: int) -> bool:
        """Whether some signature takes ``count`` positional arguments."""
        if count in self._by_arity:
            return True
        return any(count >= ov.required + ov.variadic_min for ov in self._variadic)

    def __repr__(self) -> str:
        return f"<FEEL built-in {self.name}{' | '.join(ov.describe() for ov in self.overloads)}>"

    def invoke(self, args: list[Any] | None = None, named: dict[str, Any] | None = None) -> Any:
        """Call per FEEL: the result, or None (null) with the reason sent to the message sink."""
        try:
            if named is None and args is not None:
                impl = self._direct.get(len(args))
                if impl is not None:
                    return impl(*args)
            return self._dispatch(args, named)
        except BuiltinArgumentError as exc:
            unwrapped = _unwrap_singletons(args, named)
            if unwrapped is not None:  # DMN 1.5 §10.3.2.9.4 "from singleton list"
                try:
                    return self._dispatch(*unwrapped)
                except (BuiltinArgumentError, ArithmeticError, ValueError, TypeError):
                    pass
            report_message(self._prefixed(exc))
        except (ArithmeticError, ValueError, TypeError) as exc:
            report_message(f"{self.name}: {exc}")
        return None

    def call(self, args: Sequence[Any] | None = None, named: Mapping[str, Any] | None = None) -> Any:
        """Like :meth:`invoke` but raises :class:`BuiltinArgumentError` instead of returning null."""
        try:
            return self._dispatch(args, named)
        except BuiltinArgumentError as exc:
            message = self._prefixed(exc)
            if message != str(exc):
                raise BuiltinArgumentError(message) from None
            raise

    def _prefixed(self, exc: BuiltinArgumentError) -> str:
        message = str(exc)
        return message if message.startswith(self.name + ":") else f"{self.name}: {message}"

    def _dispatch(self, args: Sequence[Any] | None, named: Mapping[str, Any] | None) -> Any:
        if named:
            ov, bound = self._bind_named(named)
            return ov.impl(*bound)
        if args is None:
            args = ()
        candidates = self._by_arity.get(len(args))
        if candidates is not None:
            for ov in candidates:
                if ov.guard is None or ov.guard(args):
                    return ov.impl(*args)
        for ov in self._variadic:
            fixed = ov.required
            if len(args) >= fixed + ov.variadic_min and (ov.guard is None or ov.guard(args)):
                return ov.impl(*args[:fixed], list(args[fixed:]))
        raise BuiltinArgumentError(self._no_match(args))

    def _bind_named(self, named: Mapping[str, Any]) -> tuple[Overload, list[Any]]:
        key = tuple(named)
        plans = self._named_plans.get(key)
        if plans is None:
            # signatures with the same names (before(point, range) / before(range, point)):
            # the one whose parameter order is the order the call names them comes first
            plans = tuple(sorted(self._plan_named(frozenset(key)), key=lambda plan: plan[1] != key))
            if len(self._named_plans) < 64:  # bounded: call sites use few name sets
                self._named_plans[key] = plans
        if len(plans) == 1:
            # the names chose the signature; types are checked by the implementation (so
            # `min(list: 5)` still gets the singleton-list rule)
            ov, names = plans[0]
            return ov, _bound(ov, names, named)
        # same names in several signatures (before(point, range) / before(range, point)):
        # the argument types decide, then the order in which the call names the parameters
        for ov, names in plans:
            bound = _bound(ov, names, named)
            if ov.guard is None or ov.guard(bound):
                return ov, bound
        if plans:
            ov, names = plans[0]
            return ov, _bound(ov, names, named)
        expected = " or ".join(ov.describe() for ov in self.overloads)
        raise BuiltinArgumentError(
            f"{self.name}: parameters {', '.join(sorted(named))} do not fit the signature {expected}"
        )

    def _plan_named(self, given: frozenset[str]) -> tuple[tuple[Overload, tuple[str, ...]], ...]:
        """The signatures the given names fit, each with the names in parameter order."""
        plans: list[tuple[Overload, tuple[str, ...]]] = []
        for ov in self.overloads:
            if ov.variadic:
                # `append(list: [1], item: 2)`: the collected parameter named once is one item
                if given == set(ov.params):
                    plans.append((ov, ov.params))
                continue
            if not given <= set(ov.params):
                continue
            count = len(given)
            if count < ov.required or set(ov.params[:count]) != given:
                continue  # a required parameter is missing, or a gap before a given optional one
            plans.append((ov, ov.params[:count]))
        return tuple(plans)

    def _no_match(self, args: Sequence[Any]) -> str:
        expected = " or ".join(ov.describe() for ov in self.overloads)
        if self.accepts_arity(len(args)):
            kinds = ", ".join(type_label(a) for a in args)
            return f"{self.name}: arguments ({kinds}) do not fit the signature {expected}"
        return f"{self.name}: {len(args)} argument(s) do not fit the signature {expected}"


def _unwrap_singletons(
    args: Sequence[Any] | None, named: Mapping[str, Any] | None
) -> tuple[Sequence[Any] | None, Mapping[str, Any] | None] | None:
    """The arguments with every singleton list replaced by its element, or None when there is
    none: a call refused as given is tried once more that way (``upper case(["a"])`` is "A")."""

    def one(v: Any) -> Any:
        return v[0] if isinstance(v, list) and len(v) == 1 else v

    if named:
        if not any(isinstance(v, list) and len(v) == 1 for v in named.values()):
            return None
        return None, {k: one(v) for k, v in named.items()}
    if not args or not any(isinstance(v, list) and len(v) == 1 for v in args):
        return None
    return [one(v) for v in args], None


def _bound(ov: Overload, names: tuple[str, ...], named: Mapping[str, Any]) -> list[Any]:
    """The arguments in parameter order; a named variadic parameter collects its one value."""
    bound = [named[n] for n in names]
    if ov.variadic:
        bound[-1] = [bound[-1]]
    return bound


def type_label(value: Any) -> str:
    """A short FEEL type name for messages."""
    from ._support import type_name  # local: _support imports this module

    return type_name(value)


REGISTRY: dict[str, Builtin] = {}
"""Every built-in by FEEL name (filled at import of the category modules)."""

_PENDING: dict[str, list[Overload]] = {}


def builtin(
    name: str,
    *params: str,
    guard: Guard | None = None,
    variadic_min: int = 1,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated implementation as an overload of built-in ``name``.

    Parameter spec: ``"length?"`` is optional, ``"c..."`` collects the remaining
    positional arguments into a list. Overloads of one name are tried in declaration order.
    """
    optional = sum(1 for p in params if p.endswith("?"))
    variadic = bool(params) and params[-1].endswith("...")
    clean = tuple(p.rstrip("?").removesuffix("...") for p in params)

    def register(impl: Callable[..., Any]) -> Callable[..., Any]:
        ov = Overload(clean, impl, optional, variadic, variadic_min, guard)
        overloads = _PENDING.setdefault(name, [])
        overloads.append(ov)
        REGISTRY[name] = Builtin(name, overloads)
        return impl

    return register
