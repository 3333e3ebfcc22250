"""FEEL values as Python objects — the contract between the FEEL compiler, the built-in
function library, the DMN engine and every caller.

| FEEL type                   | Python representation                                         |
|-----------------------------|---------------------------------------------------------------|
| null                        | ``None``                                                       |
| number                      | ``decimal.Decimal`` (34 significant digits, ``FEEL_DECIMAL``)  |
| string / boolean            | ``str`` / ``bool``                                             |
| date                        | ``datetime.date`` (never a ``datetime``); ``FeelDate`` (*)     |
| time                        | ``datetime.time`` (``tzinfo`` = offset or ``ZoneInfo``)        |
| date and time               | ``datetime.datetime`` (naive = no zone); ``FeelDateTime`` (*)  |
| days and time duration      | ``datetime.timedelta``                                         |
| years and months duration   | ``YearMonthDuration``                                          |
| range                       | ``Range``                                                      |
| list                        | ``list`` (treated as immutable)                                |
| context                     | ``dict[str, Any]`` (insertion ordered)                         |
| function                    | any object implementing ``FeelFunction``                       |

(*) only for years Python cannot hold (outside 1..9999, within ±999 999 999); every date that
``datetime`` can represent is a ``datetime`` object, so ordinary dates keep their speed.

Python ints and floats handed in by callers are converted with ``to_feel``.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import Any, Literal, Protocol, runtime_checkable

__all__ = [
    "FEEL_DECIMAL",
    "FeelDate",
    "FeelDateTime",
    "FeelFunction",
    "Range",
    "YearMonthDuration",
    "to_feel",
]

FEEL_DECIMAL = Context(prec=34, rounding=ROUND_HALF_EVEN, Emax=6144, Emin=-6143)
"""IEEE 754 decimal128 arithmetic, as FEEL numbers require."""


@dataclass(frozen=True, slots=True)
class YearMonthDuration:
    """A FEEL years-and-months duration, normalised to a signed number of months."""

    months: int


@dataclass(frozen=True, slots=True)
class FeelDate:
    """A FEEL date whose year ``datetime.date`` cannot hold (outside 1..9999, within ±999 999 999).

    Years are astronomical (``0`` is 1 BCE, as in XML Schema 1.1 and ``java.time``). Built by
    ``casepilot.dmn.feel.temporal`` and the FEEL operators only when needed; compare and
    compute with FEEL's ``ops``, not with Python operators.
    """

    year: int
    month: int
    day: int


@dataclass(frozen=True, slots=True)
class FeelDateTime:
    """A FEEL date and time whose year ``datetime.datetime`` cannot hold (see :class:`FeelDate`)."""

    date: FeelDate
    time: _dt.time
    """Clock and zone (``tzinfo``)."""

    @property
    def year(self) -> int:
        return self.date.year

    @property
    def month(self) -> int:
        return self.date.month

    @property
    def day(self) -> int:
        return self.date.day

    @property
    def tzinfo(self) -> _dt.tzinfo | None:
        return self.time.tzinfo


@dataclass(frozen=True, slots=True)
class Range:
    """A FEEL range; ``start``/``end`` of ``None`` mean unbounded (e.g. ``< 10``)."""

    start: Any
    end: Any
    start_included: bool
    end_included: bool
    operator: Literal["=", "!="] | None = None
    """Set for the unary-test values ``(= x)`` (ends ``[x..x]``) and ``(!= x)`` (ends ``(x..x)``,
    holding everything but ``x``): the DMN TCK treats them as ranges distinct from ``[x..x]``."""


@runtime_checkable
class FeelFunction(Protocol):
    """Anything FEEL can invoke: built-ins, user-defined functions, BKMs, decision services."""

    @property
    def parameter_names(self) -> tuple[str, ...]:
        """Formal parameter names, used for named invocation (``f(a: 1, b: 2)``)."""
        ...

    def invoke(self, args: list[Any] | None = None, named: dict[str, Any] | None = None) -> Any:
        """Call with positional ``args`` or ``named`` arguments (exactly one of them is given)."""
        ...


def to_feel(value: Any) -> Any:
    """Convert a plain Python value (ints, floats, tuples, nested dicts) to its FEEL form."""
    if value is None or isinstance(value, (bool, str, Decimal)):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return FEEL_DECIMAL.create_decimal(repr(value))
    if isinstance(value, (list, tuple)):
        return [to_feel(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_feel(v) for k, v in value.items()}
    if isinstance(value, Range):
        return Range(
            to_feel(value.start), to_feel(value.end), value.start_included, value.end_included, value.operator
        )
    return value
