"""Frozen definitions read from DMN XML — the "definition" half of definition/instance.

The parser (``_parse``) produces these objects and nothing else does; the compiler
(``_compile``) turns them into closures once. Keeping the parsed form as plain frozen
data makes a model hashable, comparable in tests and safe to share between threads.
Every element keeps its source ``line`` so that later problems can still point at
the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, TypeAlias

__all__ = [
    "BKMDef",
    "Binding",
    "BoxedDef",
    "ConditionalDef",
    "ContextDef",
    "ContextEntryDef",
    "DecisionDef",
    "DecisionServiceDef",
    "DecisionTableDef",
    "DefinitionsDef",
    "FilterDef",
    "FunctionDef",
    "HitPolicy",
    "ImportDef",
    "InputClauseDef",
    "InputDataDef",
    "InvocationDef",
    "ItemDefinitionDef",
    "IteratorDef",
    "ListDef",
    "LiteralDef",
    "OutputClauseDef",
    "ParameterDef",
    "RelationDef",
    "RuleDef",
    "UnsupportedDef",
]

HitPolicy = Literal["U", "A", "P", "F", "R", "O", "C", "C+", "C<", "C>", "C#"]
"""Hit policies, abbreviated as in the spec's table headers (``C+`` is COLLECT SUM…)."""


@dataclass(frozen=True, slots=True)
class LiteralDef:
    """A literal expression: FEEL text (``text``) with an optional result typeRef."""

    text: str
    type_ref: str | None
    line: int | None
    id: str | None = None


@dataclass(frozen=True, slots=True)
class ContextEntryDef:
    """One context entry; ``name`` is None for the final result entry."""

    name: str | None
    type_ref: str | None
    value: BoxedDef | None


@dataclass(frozen=True, slots=True)
class ContextDef:
    entries: tuple[ContextEntryDef, ...]
    type_ref: str | None
    line: int | None
    id: str | None = None


@dataclass(frozen=True, slots=True)
class ListDef:
    items: tuple[BoxedDef, ...]
    type_ref: str | None
    line: int | None
    id: str | None = None


@dataclass(frozen=True, slots=True)
class RelationDef:
    """A table of rows; each row becomes a context keyed by the column names."""

    columns: tuple[str, ...]
    rows: tuple[tuple[BoxedDef, ...], ...]
    type_ref: str | None
    line: int | None
    id: str | None = None


@dataclass(frozen=True, slots=True)
class Binding:
    """A named argument of a boxed invocation (``expression`` None binds null)."""

    parameter: str
    type_ref: str | None
    expression: BoxedDef | None


@dataclass(frozen=True, slots=True)
class InvocationDef:
    callee: BoxedDef
    bindings: tuple[Binding, ...]
    type_ref: str | None
    line: int | None
    id: str | None = None


@dataclass(frozen=True, slots=True)
class ConditionalDef:
    condition: BoxedDef
    then: BoxedDef
    otherwise: BoxedDef
    type_ref: str | None
    line: int | None
    id: str | None = None


@dataclass(frozen=True, slots=True)
class IteratorDef:
    """The boxed ``for``/``some``/``every``: iterate ``variable`` over ``source``."""

    kind: Literal["for", "some", "every"]
    variable: str
    source: BoxedDef
    body: BoxedDef
    type_ref: str | None
    line: int | None
    id: str | None = None


@dataclass(frozen=True, slots=True)
class FilterDef:
    """The boxed filter: keep the items of ``source`` for which ``match`` (with ``item``) is true."""

    source: BoxedDef
    match: BoxedDef
    type_ref: str | None
    line: int | None
    id: str | None = None


@dataclass(frozen=True, slots=True)
class ParameterDef:
    name: str
    type_ref: str | None


@dataclass(frozen=True, slots=True)
class FunctionDef:
    """A boxed function definition: FEEL bodies run, ``Java`` ones map to a standard static method
    (``feel._java``), ``PMML`` ones are refused at evaluation with a message."""

    parameters: tuple[ParameterDef, ...]
    body: BoxedDef | None
    kind: str
    type_ref: str | None
    line: int | None
    id: str | None = None


@dataclass(frozen=True, slots=True)
class InputClauseDef:
    id: str | None
    label: str | None
    expression: str
    type_ref: str | None
    input_values: str | None
    line: int | None


@dataclass(frozen=True, slots=True)
class OutputClauseDef:
    id: str | None
    name: str | None
    type_ref: str | None
    output_values: str | None
    default: str | None
    line: int | None


@dataclass(frozen=True, slots=True)
class RuleDef:
    id: str
    input_entries: tuple[str, ...]
    output_entries: tuple[str, ...]
    line: int | None


@dataclass(frozen=True, slots=True)
class DecisionTableDef:
    hit_policy: HitPolicy
    inputs: tuple[InputClauseDef, ...]
    outputs: tuple[OutputClauseDef, ...]
    rules: tuple[RuleDef, ...]
    output_label: str | None
    type_ref: str | None
    line: int | None
    id: str | None = None


@dataclass(frozen=True, slots=True)
class UnsupportedDef:
    """An expression kind we cannot evaluate; evaluating it yields null with a message."""

    tag: str
    type_ref: str | None
    line: int | None
    id: str | None = None


BoxedDef: TypeAlias = (
    LiteralDef
    | ContextDef
    | ListDef
    | RelationDef
    | InvocationDef
    | ConditionalDef
    | IteratorDef
    | FilterDef
    | FunctionDef
    | DecisionTableDef
    | UnsupportedDef
)


@dataclass(frozen=True, slots=True)
class ItemDefinitionDef:
    """An itemDefinition: a named (possibly structured, possibly collection) type."""

    name: str
    type_ref: str | None
    is_collection: bool
    allowed_values: str | None
    components: tuple[ItemDefinitionDef, ...]
    function_output: str | None
    is_function: bool
    line: int | None
    type_constraint: str | None = None
    """DMN 1.5 ``typeConstraint``: restricts the base type, i.e. each item of a collection,
    while ``allowed_values`` then restricts the collection as a whole."""
    function_parameters: tuple[str | None, ...] = ()
    """typeRefs of a ``functionItem``'s parameters (None: untyped)."""


@dataclass(frozen=True, slots=True)
class InputDataDef:
    id: str
    name: str
    type_ref: str | None
    line: int | None


@dataclass(frozen=True, slots=True)
class DecisionDef:
    """A decision; requirement hrefs are kept as written (``#id`` or ``namespace#id``)."""

    id: str
    name: str
    type_ref: str | None
    required_decisions: tuple[str, ...]
    required_inputs: tuple[str, ...]
    required_knowledge: tuple[str, ...]
    expression: BoxedDef | None
    line: int | None


@dataclass(frozen=True, slots=True)
class BKMDef:
    id: str
    name: str
    type_ref: str | None
    required_knowledge: tuple[str, ...]
    logic: FunctionDef | None
    line: int | None


@dataclass(frozen=True, slots=True)
class DecisionServiceDef:
    id: str
    name: str
    type_ref: str | None
    output_decisions: tuple[str, ...]
    encapsulated_decisions: tuple[str, ...]
    input_decisions: tuple[str, ...]
    input_data: tuple[str, ...]
    line: int | None


@dataclass(frozen=True, slots=True)
class ImportDef:
    name: str
    namespace: str
    location: str | None
    import_type: str


@dataclass(frozen=True, slots=True)
class DefinitionsDef:
    """One DMN file: the ``definitions`` element and everything in it."""

    namespace: str
    name: str
    file: str | None
    dmn_version: str
    imports: tuple[ImportDef, ...] = ()
    item_definitions: tuple[ItemDefinitionDef, ...] = ()
    input_data: tuple[InputDataDef, ...] = ()
    decisions: tuple[DecisionDef, ...] = ()
    bkms: tuple[BKMDef, ...] = ()
    services: tuple[DecisionServiceDef, ...] = ()
    extra: tuple[str, ...] = field(default=())
