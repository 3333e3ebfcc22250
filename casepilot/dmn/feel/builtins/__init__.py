"""The FEEL built-in function library of DMN 1.5 §10.3.4.

The compiler resolves a function name first in scope (user functions, BKMs, decision
services), then here::

    fn = get_builtin("substring")
    fn.invoke(["foobar", Decimal(3)])                              # "obar"
    fn.invoke(named={"string": "foobar", "start position": Decimal(3)})

Every :class:`Builtin` implements the ``FeelFunction`` protocol. Bad arguments never
raise from ``invoke``: the result is null (None) and the reason goes to the message sink
opened by :func:`collect_messages` (the compiler opens one per evaluation). ``Builtin.call``
raises :class:`BuiltinArgumentError` instead, for callers that prefer exceptions.

``matches``, ``replace`` and ``split`` give each match a time budget (1 s by default,
:func:`set_regex_timeout`): a pattern that backtracks catastrophically yields null with a
message rather than hanging.

``now()`` and ``today()`` read an injectable clock: :func:`set_clock` (process-wide) or
:func:`use_clock` (this context only).

Categories: conversion (``date``, ``time``, ``date and time``, ``number``, ``string``,
``duration``, ``years and months duration``, ``range``), boolean (``not``), string, list,
numeric, temporal (``day of week`` …, ``now``, ``today``, ``is``), range relations
(``before`` … ``coincides``), context (``get value``, ``get entries``, ``context``,
``context put``, ``context merge``) and ``sort``.
"""

from __future__ import annotations

from . import (  # noqa: F401  (imported for their registrations)
    _aggregate,
    _context,
    _conversion,
    _list,
    _numeric,
    _range,
    _string,
    _temporal,
)
from ._core import REGISTRY, Builtin, BuiltinArgumentError, Overload, collect_messages
from ._temporal import Clock, current_time, set_clock, use_clock
from ._xsd_regex import regex_timeout, set_regex_timeout

__all__ = [
    "BUILTIN_NAMES",
    "Builtin",
    "BuiltinArgumentError",
    "Clock",
    "Overload",
    "collect_messages",
    "current_time",
    "get_builtin",
    "regex_timeout",
    "set_clock",
    "set_regex_timeout",
    "use_clock",
]

BUILTIN_NAMES: frozenset[str] = frozenset(REGISTRY)
"""Every built-in function name (names with spaces, such as ``string length``, are single names)."""


def get_builtin(name: str) -> Builtin | None:
    """The built-in called ``name``, or None when FEEL has no such function."""
    return REGISTRY.get(name)
