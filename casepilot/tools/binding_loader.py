"""Loading tool bindings from a CMMN model: extension attributes and ``bindings.yaml``.

On a task element::

    <task id="t_sentiment" name="Score sentiment"
          casepilot:tool="sentiment"
          casepilot:inputs="text=letter"
          casepilot:outputs="sentiment=compound"/>

or in ``bindings.yaml`` beside the model::

    bindings:
      - task: Score sentiment          # plan item definition id or name (plan item id/name also work)
        case: claimTriage              # only needed when several cases have such a task
        tool: sentiment
        inputs: {text: letter, language: "'en'", limit: 3, options: {literal: {a: 1}}}
        outputs: {sentiment: compound}

Everything is checked against the registry and the tools' schemas; all problems are
reported together in one ``DefinitionError`` (DESIGN.md example 2). Human tasks go to the
inbox and case tasks start child cases, so binding either to a tool is an error.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from casepilot.cmmn.definitions import Case, Definitions, PlanItemDefinition, SourceLocation
from casepilot.errors import DefinitionError

from ._binding_check import check_binding
from ._binding_syntax import parse_pairs, parse_source, valid_path
from .binding import ArgumentSource, BindingSet, FromCaseFile, LiteralValue, ToolBinding
from .registry import ToolRegistry

__all__ = ["BINDABLE_KINDS", "BINDING_FILE", "EXTENSION_NS", "load_bindings"]

EXTENSION_NS = "https://casepilot.dev/cmmn/extensions"
BINDING_FILE = "bindings.yaml"
BINDABLE_KINDS = frozenset({"task", "processTask", "decisionTask"})
"""Task kinds a tool may run; ``humanTask`` and ``caseTask`` have their own executors."""

_ENTRY_KEYS = frozenset({"task", "case", "tool", "inputs", "outputs"})


class _Problems:
    """Collects problems so that one load reports all of them."""

    def __init__(self) -> None:
        self.items: list[DefinitionError] = []

    def add(self, message: str, *, file: str | None, line: int | None, element: str | None) -> None:
        self.items.append(DefinitionError(message, file=file, line=line, element=element))


def load_bindings(
    definitions: Definitions,
    registry: ToolRegistry,
    *,
    binding_file: str | Path | None = None,
    search_beside_model: bool = True,
) -> BindingSet:
    """All tool bindings of ``definitions``, validated; ``DefinitionError`` listing every problem otherwise.

    Without ``binding_file``, ``bindings.yaml`` next to ``definitions.file`` is used when it exists
    (unless ``search_beside_model`` is false).
    """
    problems = _Problems()
    found: list[ToolBinding] = _from_extensions(definitions, problems)
    path = _binding_path(definitions, binding_file, search_beside_model)
    if path is not None:
        found.extend(_from_yaml(path, definitions, problems))
    by_def: dict[str, ToolBinding] = {}
    for binding in found:
        loc = binding.location or SourceLocation(None, None)
        assert binding.definition_id is not None
        previous = by_def.get(binding.definition_id)
        if previous is not None:
            problems.add(
                f"task {binding.definition_id!r} is bound twice (also at {previous.location})",
                file=loc.file,
                line=loc.line,
                element=binding.task,
            )
            continue
        by_def[binding.definition_id] = binding
        for message in check_binding(binding, registry):
            problems.add(message, file=loc.file, line=loc.line, element=binding.task)
    if problems.items:
        count = len(problems.items)
        raise DefinitionError(
            f"{count} problem{'s' if count != 1 else ''} in tool bindings",
            file=definitions.file,
            problems=problems.items,
        )
    return BindingSet(MappingProxyType(by_def))


def _binding_path(definitions: Definitions, explicit: str | Path | None, search: bool) -> Path | None:
    if explicit is not None:
        return Path(explicit)
    if search and definitions.file:
        beside = Path(definitions.file).parent / BINDING_FILE
        if beside.is_file():
            return beside
    return None


def _all_definitions(definitions: Definitions) -> list[tuple[Case, PlanItemDefinition]]:
    return [(case, d) for case in definitions.cases for d in case.definitions.values()]


def _check_kind(defn: PlanItemDefinition, ref: str, loc: SourceLocation, problems: _Problems) -> bool:
    if defn.kind in BINDABLE_KINDS:
        return True
    why = {
        "humanTask": "human tasks go to the inbox",
        "caseTask": "case tasks start a child case",
    }.get(defn.kind, "only tasks run tools")
    problems.add(
        f"{defn.kind} {defn.id!r} cannot be bound to a tool: {why}", file=loc.file, line=loc.line, element=ref
    )
    return False


# --------------------------------------------------------------------------- extension attributes


def _from_extensions(definitions: Definitions, problems: _Problems) -> list[ToolBinding]:
    out: list[ToolBinding] = []
    seen: set[str] = set()
    for _case, defn in _all_definitions(definitions):
        if defn.id in seen:
            continue
        seen.add(defn.id)
        tool = defn.extensions.attribute(EXTENSION_NS, "tool")
        inputs = defn.extensions.attribute(EXTENSION_NS, "inputs")
        outputs = defn.extensions.attribute(EXTENSION_NS, "outputs")
        loc = defn.location or SourceLocation(definitions.file, None)
        if tool is None:
            if inputs is not None or outputs is not None:
                problems.add(
                    "casepilot:inputs/outputs without casepilot:tool",
                    file=loc.file,
                    line=loc.line,
                    element=defn.id,
                )
            continue
        if not _check_kind(defn, defn.id, loc, problems):
            continue
        arguments = _arguments_from_text(inputs or "", defn.id, loc, problems)
        results = _results_from_text(outputs or "", defn.id, loc, problems)
        out.append(
            ToolBinding(
                task=defn.id,
                tool=tool.strip(),
                arguments=MappingProxyType(arguments),
                results=MappingProxyType(results),
                definition_id=defn.id,
                origin="extension",
                location=loc,
            )
        )
    return out


def _arguments_from_text(
    text: str, ref: str, loc: SourceLocation, problems: _Problems
) -> dict[str, ArgumentSource]:
    pairs, errors = parse_pairs(text)
    for e in errors:
        problems.add(f"casepilot:inputs: {e}", file=loc.file, line=loc.line, element=ref)
    out: dict[str, ArgumentSource] = {}
    for key, value in pairs:
        source = parse_source(value)
        if isinstance(source, str):
            problems.add(f"casepilot:inputs {key}: {source}", file=loc.file, line=loc.line, element=ref)
        elif key in out:
            problems.add(
                f"casepilot:inputs maps argument {key!r} twice", file=loc.file, line=loc.line, element=ref
            )
        else:
            out[key] = source
    return out


def _results_from_text(text: str, ref: str, loc: SourceLocation, problems: _Problems) -> dict[str, str]:
    pairs, errors = parse_pairs(text)
    for e in errors:
        problems.add(f"casepilot:outputs: {e}", file=loc.file, line=loc.line, element=ref)
    out: dict[str, str] = {}
    for variable, path in pairs:
        if not valid_path(path):
            problems.add(
                f"casepilot:outputs {variable}: {path!r} is not a result field path",
                file=loc.file,
                line=loc.line,
                element=ref,
            )
        elif variable in out:
            problems.add(
                f"casepilot:outputs writes {variable!r} twice", file=loc.file, line=loc.line, element=ref
            )
        else:
            out[variable] = path
    return out


# --------------------------------------------------------------------------- bindings.yaml


def _entry_lines(text: str) -> list[int | None]:
    """Line numbers (1-based) of the entries of the ``bindings`` list, from the YAML node tree."""
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    if not isinstance(node, yaml.MappingNode):
        return []
    for key, value in node.value:
        if (
            isinstance(key, yaml.ScalarNode)
            and key.value == "bindings"
            and isinstance(value, yaml.SequenceNode)
        ):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def _from_yaml(path: Path, definitions: Definitions, problems: _Problems) -> list[ToolBinding]:
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
        lines = _entry_lines(text)
    except (OSError, UnicodeDecodeError) as exc:
        problems.add(f"cannot read binding file: {exc}", file=file, line=None, element=None)
        return []
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problems.add(f"not valid YAML: {exc}", file=file, line=mark.line + 1 if mark else None, element=None)
        return []
    if data is None:
        return []
    if not isinstance(data, Mapping) or not isinstance(data.get("bindings", []), list):
        problems.add("expected a mapping with a 'bindings' list", file=file, line=1, element=None)
        return []
    extra = set(data) - {"bindings", "version"}
    if extra:
        problems.add(
            f"unknown top-level keys: {', '.join(sorted(map(str, extra)))}", file=file, line=1, element=None
        )
    out: list[ToolBinding] = []
    for index, entry in enumerate(data.get("bindings", [])):
        loc = SourceLocation(file, lines[index] if index < len(lines) else None)
        binding = _entry(entry, definitions, loc, problems)
        if binding is not None:
            out.append(binding)
    return out


def _entry(
    entry: Any, definitions: Definitions, loc: SourceLocation, problems: _Problems
) -> ToolBinding | None:
    def bad(message: str, element: str | None = None) -> None:
        problems.add(message, file=loc.file, line=loc.line, element=element)

    if not isinstance(entry, Mapping):
        bad("a binding must be a mapping with task, tool, inputs, outputs")
        return None
    task, tool = entry.get("task"), entry.get("tool")
    ref = str(task) if task is not None else None
    unknown = set(entry) - _ENTRY_KEYS
    if unknown:
        bad(
            f"unknown keys {', '.join(sorted(map(str, unknown)))}; allowed: {', '.join(sorted(_ENTRY_KEYS))}",
            ref,
        )
    if not isinstance(task, str) or not isinstance(tool, str):
        bad("a binding needs 'task' and 'tool' as strings", ref)
        return None
    case = entry.get("case")
    defn = _resolve(definitions, task, case if isinstance(case, str) else None, loc, problems)
    arguments = _yaml_inputs(entry.get("inputs") or {}, task, loc, problems)
    results = _yaml_outputs(entry.get("outputs") or {}, task, loc, problems)
    if defn is None or not _check_kind(defn, task, loc, problems):
        return None
    return ToolBinding(
        task=task,
        tool=tool,
        arguments=MappingProxyType(arguments),
        results=MappingProxyType(results),
        definition_id=defn.id,
        origin="file",
        location=loc,
    )


def _resolve(
    definitions: Definitions, ref: str, case_ref: str | None, loc: SourceLocation, problems: _Problems
) -> PlanItemDefinition | None:
    """The definition named by ``ref``: definition id, then definition name, plan item id, plan item name."""
    cases = [c for c in definitions.cases if case_ref is None or case_ref in (c.id, c.name)]
    if not cases:
        problems.add(f"no case {case_ref!r}", file=loc.file, line=loc.line, element=ref)
        return None
    for mode in ("definition id", "definition name", "plan item id", "plan item name"):
        hits = {d.id: d for c in cases for d in _lookup(c, ref, mode)}
        if len(hits) == 1:
            return next(iter(hits.values()))
        if len(hits) > 1:
            problems.add(
                f"{ref!r} names several tasks ({', '.join(sorted(hits))}); use a definition id or 'case:'",
                file=loc.file,
                line=loc.line,
                element=ref,
            )
            return None
    names = [n for c in cases for d in c.definitions.values() for n in (d.id, d.name) if n]
    close = difflib.get_close_matches(ref, names, n=2)
    hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
    problems.add(f"no task {ref!r} in the model{hint}", file=loc.file, line=loc.line, element=ref)
    return None


def _lookup(case: Case, ref: str, mode: str) -> list[PlanItemDefinition]:
    if mode == "definition id":
        return [d for d in case.definitions.values() if d.id == ref]
    if mode == "definition name":
        return [d for d in case.definitions.values() if d.name == ref]
    key = "id" if mode == "plan item id" else "name"
    return [
        case.definitions[p.definition_ref]
        for p in case.plan_items.values()
        if getattr(p, key) == ref and p.definition_ref in case.definitions
    ]


def _yaml_inputs(raw: Any, ref: str, loc: SourceLocation, problems: _Problems) -> dict[str, ArgumentSource]:
    if not isinstance(raw, Mapping):
        problems.add("'inputs' must map argument names to sources", file=loc.file, line=loc.line, element=ref)
        return {}
    out: dict[str, ArgumentSource] = {}
    for key, value in raw.items():
        source: ArgumentSource | str
        if isinstance(value, str):
            source = parse_source(value)
        elif value is None or isinstance(value, bool | int | float):
            source = LiteralValue(value)
        elif isinstance(value, Mapping) and set(value) == {"literal"}:
            source = LiteralValue(value["literal"])
        elif isinstance(value, Mapping) and set(value) == {"path"} and isinstance(value["path"], str):
            source = (
                FromCaseFile(value["path"])
                if valid_path(value["path"])
                else f"malformed path {value['path']!r}"
            )
        else:
            source = "write a case-file path, a scalar literal, {literal: …} or {path: …}"
        if isinstance(source, str):
            problems.add(f"inputs.{key}: {source}", file=loc.file, line=loc.line, element=ref)
        else:
            out[str(key)] = source
    return out


def _yaml_outputs(raw: Any, ref: str, loc: SourceLocation, problems: _Problems) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        problems.add(
            "'outputs' must map case-file variables to result fields",
            file=loc.file,
            line=loc.line,
            element=ref,
        )
        return {}
    out: dict[str, str] = {}
    for variable, path in raw.items():
        if not isinstance(path, str) or not valid_path(path):
            problems.add(
                f"outputs.{variable}: {path!r} is not a result field path",
                file=loc.file,
                line=loc.line,
                element=ref,
            )
        else:
            out[str(variable)] = path
    return out
