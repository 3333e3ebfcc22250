"""Binding CMMN tasks to tools: the model and the two pure mapping functions.

A ``ToolBinding`` says which tool runs a task, where each argument comes from (a case-file
path or a literal written in the binding) and which result fields go to which case-file
variables. ``build_arguments`` and ``apply_results`` are pure: the orchestrator passes the
case-file variables in and writes the returned updates back itself.

Provenance travels with data (DESIGN.md): every argument is tagged ``trusted`` or
``untrusted`` with its source, from the orchestrator's per-variable provenance. A variable
whose provenance is unknown counts as untrusted — failing safe is the point, so that an
instruction hidden in a document cannot quietly become a trusted argument.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, TypeAlias

from pydantic import BaseModel

from casepilot.cmmn.definitions import SourceLocation

from ._errors import ToolCallError
from ._model import ToolOutcome

__all__ = [
    "ArgumentSource",
    "BindingSet",
    "BoundArguments",
    "FromCaseFile",
    "LiteralValue",
    "Provenance",
    "ToolBinding",
    "Trust",
    "apply_results",
    "build_arguments",
    "result_provenance",
]

Trust: TypeAlias = Literal["trusted", "untrusted"]


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a value came from. ``source`` is e.g. ``"request"``, ``"person:alice"``, ``"tool:ocr"``."""

    trust: Trust
    source: str
    via: str | None = None
    """The case-file path an argument was read through, when it came from the case file."""

    @classmethod
    def trusted(cls, source: str) -> Provenance:
        return cls("trusted", source)

    @classmethod
    def untrusted(cls, source: str) -> Provenance:
        return cls("untrusted", source)

    @property
    def is_trusted(self) -> bool:
        return self.trust == "trusted"


UNKNOWN_SOURCE = "unknown"
"""Source recorded for a case-file variable the orchestrator has no provenance for (untrusted)."""


@dataclass(frozen=True, slots=True)
class FromCaseFile:
    """The argument is read from the case file at ``path`` (``claim.amount``, ``items.0.sku``)."""

    path: str

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.path.split("."))


@dataclass(frozen=True, slots=True)
class LiteralValue:
    """The argument is a constant written in the binding by the modeler (trusted)."""

    value: Any


ArgumentSource: TypeAlias = FromCaseFile | LiteralValue


@dataclass(frozen=True, slots=True)
class ToolBinding:
    """Which tool runs a task and how case-file variables map to its arguments and results."""

    task: str
    """The task as the binding named it: a plan item definition id or a task name."""
    tool: str
    arguments: Mapping[str, ArgumentSource] = field(default_factory=lambda: MappingProxyType({}))
    """Tool argument name -> where its value comes from."""
    results: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Case-file variable (or dotted path) -> result field path."""
    definition_id: str | None = None
    """The plan item definition the task reference resolved to (set by the loader)."""
    origin: Literal["extension", "file", "code"] = "code"
    location: SourceLocation | None = None


@dataclass(frozen=True, slots=True)
class BoundArguments:
    """Arguments for one call, with the provenance of each and the paths that did not resolve."""

    values: Mapping[str, Any]
    provenance: Mapping[str, Provenance]
    missing: tuple[str, ...] = ()
    """Arguments whose case-file path is absent: left out, so the tool's default (or a
    validation error naming them) applies."""

    @property
    def untrusted(self) -> tuple[str, ...]:
        """Names of arguments whose value came from an untrusted source."""
        return tuple(sorted(n for n, p in self.provenance.items() if not p.is_trusted))


_ABSENT = object()


def _walk(value: Any, segments: tuple[str, ...]) -> Any:
    """Follow ``segments`` through mappings, sequences and models; ``_ABSENT`` when a step is missing."""
    for seg in segments:
        if value is None:
            return _ABSENT
        if isinstance(value, BaseModel):
            value = value.model_dump()
        if isinstance(value, Mapping):
            if seg not in value:
                return _ABSENT
            value = value[seg]
        elif isinstance(value, list | tuple) and seg.isdigit():
            index = int(seg)
            if index >= len(value):
                return _ABSENT
            value = value[index]
        else:
            return _ABSENT
    return value


def _variable_provenance(path: str, provenance: Mapping[str, Provenance]) -> Provenance:
    """The provenance of the longest recorded prefix of ``path``; untrusted when none is recorded."""
    segments = path.split(".")
    for end in range(len(segments), 0, -1):
        found = provenance.get(".".join(segments[:end]))
        if found is not None:
            return found
    return Provenance.untrusted(UNKNOWN_SOURCE)


def build_arguments(
    binding: ToolBinding, variables: Mapping[str, Any], provenance: Mapping[str, Provenance] | None = None
) -> BoundArguments:
    """The tool arguments for ``binding`` read from case-file ``variables``, with provenance per argument.

    ``provenance`` maps a case-file variable (or a dotted path inside one) to where it came from.
    """
    known = provenance or {}
    values: dict[str, Any] = {}
    prov: dict[str, Provenance] = {}
    missing: list[str] = []
    for arg, source in binding.arguments.items():
        if isinstance(source, LiteralValue):
            values[arg] = source.value
            prov[arg] = Provenance("trusted", f"binding:{binding.definition_id or binding.task}")
            continue
        value = _walk(variables, source.segments)
        if value is _ABSENT:
            missing.append(arg)
            continue
        values[arg] = value
        origin = _variable_provenance(source.path, known)
        prov[arg] = Provenance(origin.trust, origin.source, via=source.path)
    return BoundArguments(MappingProxyType(values), MappingProxyType(prov), tuple(missing))


def apply_results(
    binding: ToolBinding, result: BaseModel | Mapping[str, Any] | ToolOutcome[BaseModel]
) -> dict[str, Any]:
    """Case-file updates ``{variable path: value}`` taken from ``result`` as ``binding.results`` says.

    Raises ``ToolCallError(kind="invalid_result")`` when a mapped result field is absent.
    """
    if isinstance(result, ToolOutcome):
        data: Any = result.output()
    elif isinstance(result, BaseModel):
        data = result.model_dump(mode="json")
    else:
        data = result
    updates: dict[str, Any] = {}
    absent: list[str] = []
    for variable, path in binding.results.items():
        value = _walk(data, tuple(path.split(".")))
        if value is _ABSENT:
            absent.append(path)
        else:
            updates[variable] = value
    if absent:
        raise ToolCallError(
            f"result has no field {', '.join(absent)} that the binding of {binding.task!r} maps",
            tool=binding.tool,
            kind="invalid_result",
        )
    return updates


def result_provenance(binding: ToolBinding) -> dict[str, Provenance]:
    """Provenance of the variables ``apply_results`` writes: always untrusted, from the tool."""
    return {variable: Provenance.untrusted(f"tool:{binding.tool}") for variable in binding.results}


@dataclass(frozen=True, slots=True)
class BindingSet:
    """The validated bindings of one CMMN definitions file, by plan item definition id."""

    by_definition: Mapping[str, ToolBinding] = field(default_factory=lambda: MappingProxyType({}))

    def get(self, definition_id: str) -> ToolBinding | None:
        """The binding of a plan item definition, if it has one."""
        return self.by_definition.get(definition_id)

    def __iter__(self) -> Iterator[ToolBinding]:
        return iter(self.by_definition.values())

    def __len__(self) -> int:
        return len(self.by_definition)

    def __contains__(self, definition_id: object) -> bool:
        return definition_id in self.by_definition
