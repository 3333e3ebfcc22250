"""The FEEL abstract syntax tree: frozen dataclasses shared by the FEEL and ``${…}`` parsers.

Both dialects parse into these nodes so that one compiler (``_compiler``) turns either
into Python closures. Nodes carry no evaluation logic; they are plain, hashable data that
tools (linters, the DMN engine's dependency analysis) may inspect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "AnyTest",
    "Between",
    "BinaryOp",
    "BinaryOperator",
    "Call",
    "ContextLiteral",
    "ContextType",
    "Filter",
    "For",
    "FunctionDefinition",
    "FunctionType",
    "GenericType",
    "If",
    "In",
    "InstanceOf",
    "Invalid",
    "Iterator",
    "ListLiteral",
    "Literal_",
    "Logical",
    "Name",
    "NamedType",
    "Negation",
    "Node",
    "Not",
    "Parameter",
    "Path",
    "Quantified",
    "RangeLiteral",
    "TypeRef",
    "UnaryComparison",
    "UnaryTests",
]

BinaryOperator = Literal["+", "-", "*", "/", "**", "=", "!=", "<", "<=", ">", ">="]


class Node:
    """Base class of every expression node."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Literal_(Node):
    """A constant: number (Decimal), string, boolean, null, or temporal ``@"…"`` value."""

    value: Any


@dataclass(frozen=True, slots=True)
class Invalid(Node):
    """A literal that parses but has no value (``@"foo"``): null at run time, with ``message``."""

    message: str


@dataclass(frozen=True, slots=True)
class Name(Node):
    """A variable reference; ``?`` is the input value of a unary test."""

    name: str


@dataclass(frozen=True, slots=True)
class Path(Node):
    """``target.name``: a context entry, a temporal property, or mapped over a list."""

    target: Node
    name: str


@dataclass(frozen=True, slots=True)
class Filter(Node):
    """``target[condition]``: boolean filter with ``item`` in scope, or a 1-based index."""

    target: Node
    condition: Node


@dataclass(frozen=True, slots=True)
class Call(Node):
    """Invocation with positional ``args`` or ``named`` arguments (never both)."""

    function: Node
    args: tuple[Node, ...] = ()
    named: tuple[tuple[str, Node], ...] | None = None


@dataclass(frozen=True, slots=True)
class Negation(Node):
    """Arithmetic negation ``-x``."""

    operand: Node


@dataclass(frozen=True, slots=True)
class Not(Node):
    """Boolean negation (``not(x)`` in FEEL, ``!x`` / ``not x`` in ``${…}``), three-valued."""

    operand: Node


@dataclass(frozen=True, slots=True)
class BinaryOp(Node):
    """Arithmetic or comparison."""

    op: BinaryOperator
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Logical(Node):
    """Three-valued ``and`` / ``or``."""

    op: Literal["and", "or"]
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Between(Node):
    """``value between low and high`` (both ends included)."""

    value: Node
    low: Node
    high: Node


@dataclass(frozen=True, slots=True)
class In(Node):
    """``value in test`` / ``value in (test, test…)``: true when any test matches."""

    value: Node
    tests: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class If(Node):
    """``if c then a else b``; a non-true condition (false or null) selects ``else``."""

    condition: Node
    then: Node
    otherwise: Node


@dataclass(frozen=True, slots=True)
class Iterator(Node):
    """``name in domain`` or ``name in start..end`` of a ``for`` / ``some`` / ``every``."""

    name: str
    domain: Node
    end: Node | None = None


@dataclass(frozen=True, slots=True)
class For(Node):
    """``for i in …, j in … return body``; ``partial`` names the results so far."""

    iterators: tuple[Iterator, ...]
    body: Node


@dataclass(frozen=True, slots=True)
class Quantified(Node):
    """``some``/``every`` ``name in list, … satisfies condition``."""

    kind: Literal["some", "every"]
    iterators: tuple[Iterator, ...]
    condition: Node


@dataclass(frozen=True, slots=True)
class Parameter(Node):
    """A formal parameter of a function definition, optionally typed."""

    name: str
    type: TypeRef | None = None


@dataclass(frozen=True, slots=True)
class FunctionDefinition(Node):
    """``function(a, b) body``; an ``external`` body is a context naming a Java method (``_java``)."""

    parameters: tuple[Parameter, ...]
    body: Node
    external: bool = False


@dataclass(frozen=True, slots=True)
class ListLiteral(Node):
    """``[a, b, c]``."""

    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class ContextLiteral(Node):
    """``{a: 1, "b c": a + 1}``; later entries see earlier ones."""

    entries: tuple[tuple[str, Node], ...]


@dataclass(frozen=True, slots=True)
class RangeLiteral(Node):
    """``[a..b)``, ``]a..b[`` and friends."""

    start: Node
    end: Node
    start_included: bool
    end_included: bool


@dataclass(frozen=True, slots=True)
class InstanceOf(Node):
    """``value instance of type``."""

    value: Node
    type: TypeRef


# --- unary tests ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UnaryComparison(Node):
    """``< e``, ``<= e``, ``> e``, ``>= e`` (and the lenient ``= e`` / ``!= e``) against ``?``."""

    op: Literal["=", "!=", "<", "<=", ">", ">="]
    value: Node


@dataclass(frozen=True, slots=True)
class AnyTest(Node):
    """The ``-`` unary test: matches anything."""


@dataclass(frozen=True, slots=True)
class UnaryTests(Node):
    """A list of positive unary tests, possibly negated with ``not(…)``."""

    tests: tuple[Node, ...]
    negated: bool = False


# --- types ---------------------------------------------------------------------------------------


class TypeRef:
    """Base of FEEL type expressions used by ``instance of`` and typed parameters."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class NamedType(TypeRef):
    """``number``, ``date and time``, ``Any``, ``Null``, or an item-definition name."""

    name: str


@dataclass(frozen=True, slots=True)
class GenericType(TypeRef):
    """``list<T>`` or ``range<T>``."""

    name: Literal["list", "range"]
    element: TypeRef


@dataclass(frozen=True, slots=True)
class ContextType(TypeRef):
    """``context<a: T, b: U>``."""

    fields: tuple[tuple[str, TypeRef], ...]


@dataclass(frozen=True, slots=True)
class FunctionType(TypeRef):
    """``function<T, U> -> R``."""

    parameters: tuple[TypeRef, ...]
    result: TypeRef
