"""``DecisionModel`` — the public face of the DMN engine.

Load once (``from_xml``: parse, link imports, compile every expression), evaluate
many times (``evaluate`` / ``evaluate_service``: pure functions of the inputs). The
model object is immutable after construction and safe to share between threads.
Evaluation never raises for problems in the model logic or the data; it returns a
``DecisionResult`` with the spec's null and typed messages instead.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from casepilot.dmn._compile import compile_models
from casepilot.dmn._drg import CDecision, CompiledModel, Run, View, run_service
from casepilot.dmn._model import DefinitionsDef
from casepilot.dmn._parse import parse_definitions
from casepilot.dmn._results import DecisionResult, EvalContext, Message
from casepilot.dmn._types import FeelType, is_unnamed
from casepilot.dmn.feel.values import to_feel
from casepilot.errors import DefinitionError

__all__ = ["DecisionModel", "ElementInfo", "Source"]

Source = str | bytes | Path
"""A model source: a path (``Path``, or ``str`` naming an existing file) or the XML itself."""

ElementKind = Literal["decision", "inputData", "businessKnowledgeModel", "decisionService"]


@dataclass(frozen=True, slots=True)
class ElementInfo:
    """Introspection record of one DRG element."""

    kind: ElementKind
    id: str
    name: str
    type_ref: str | None
    namespace: str
    requires: tuple[str, ...] = ()
    """Names of the required decisions, inputs and knowledge (imported ones as ``prefix.name``)."""


_PLAIN = frozenset({str, bool, Decimal, type(None)})
_UNKNOWN_INPUTS_KEPT = 1024
"""At most this many unknown input names' warnings are remembered per model."""


def _convert(inputs: Mapping[str, Any] | None) -> dict[str, Any]:
    """Input values to FEEL values (a fresh dict; plain values are kept as they are)."""
    if not inputs:
        return {}
    plain = _PLAIN
    return {str(k): v if v.__class__ in plain else to_feel(v) for k, v in inputs.items()}


def _read(source: Source) -> tuple[bytes, str | None]:
    if isinstance(source, Path):
        return b"", str(source)
    if isinstance(source, str) and not source.lstrip("\ufeff \t\r\n").startswith("<") and len(source) < 4096:
        return b"", source
    data = source.encode("utf-8") if isinstance(source, str) else source
    return data, None


def _load(source: Source) -> tuple[DefinitionsDef, bytes]:
    data, path = _read(source)
    if path is not None:
        p = Path(path)
        defs = parse_definitions(p, file=path)
        try:
            raw = p.read_bytes()
        except OSError:
            raw = b""
        return defs, raw
    return parse_definitions(data), data


def _load_locations(loaded: list[tuple[DefinitionsDef, bytes]]) -> list[DefinitionError]:
    """Load imports that were not given but name a ``locationURI`` next to the importing file.

    Only plain relative locations in the importer's folder or below are followed (no
    absolute paths, no ``..``, no URLs): a model must not make the loader read elsewhere.
    """
    problems: list[DefinitionError] = []
    have = {d.namespace for d, _ in loaded}
    k = 0
    while k < len(loaded):
        defs = loaded[k][0]
        k += 1
        for im in defs.imports:
            loc = (im.location or "").strip()
            if im.namespace in have or not loc or defs.file is None:
                continue
            rel = Path(loc)
            if rel.is_absolute() or ".." in rel.parts or ":" in loc:
                continue
            target = Path(defs.file).parent / rel
            if not target.is_file():
                continue
            try:
                found = _load(target)
            except DefinitionError as exc:
                problems.extend(exc.problems or [exc])
                continue
            if found[0].namespace == im.namespace:
                loaded.append(found)
                have.add(im.namespace)
    return problems


def _input_names(cm: CompiledModel) -> frozenset[str]:
    """The names callers may pass inputs under: the model's input data, its import names, and
    (flat, DMN 1.5 §6.3.3) the same of imports with an empty name."""
    names = {i.name for i in cm.inputs.values()}
    for prefix, imported in cm.imports.items():
        names |= _input_names(imported) if is_unnamed(prefix) else {prefix}
    return frozenset(names)


class DecisionModel:
    """A compiled DMN model (with its imports): introspect and evaluate it."""

    __slots__ = ("_by_name", "_decisions", "_hash", "_input_names", "_root", "_unknown_inputs")

    def __init__(self, root: CompiledModel, content_hash: str) -> None:
        self._root = root
        self._hash = content_hash
        self._by_name = root.by_name
        self._input_names = _input_names(root)
        self._unknown_inputs: dict[str, str] = {}
        """Warning text per unknown input name (``_unknown_input_message``): a cache, not state."""
        self._decisions: dict[str, CDecision] = {d.id: d for d in root.decisions.values()}
        self._decisions.update({d.name: d for d in root.decisions.values()})

    def __setattr__(self, name: str, value: Any) -> None:
        if hasattr(self, "_decisions"):
            raise AttributeError(f"DecisionModel is immutable; cannot set {name!r}")
        object.__setattr__(self, name, value)

    @property
    def name(self) -> str:
        """The ``name`` of the model's ``definitions``."""
        return self._root.defs.name

    @property
    def namespace(self) -> str:
        """The model's namespace (what importers refer to)."""
        return self._root.namespace

    @property
    def content_hash(self) -> str:
        """SHA-256 over the model files' bytes: the version key for records and caches."""
        return self._hash

    # -- loading ---------------------------------------------------------------------------------
    @classmethod
    def from_xml(
        cls, source: Source | Sequence[Source], *, imports: Iterable[Source] = (), strict: bool = True
    ) -> DecisionModel:
        """Load a model from a path or XML bytes/text.

        ``source`` may also be a sequence: its first item is the model to evaluate and
        the rest (plus ``imports``) are models it may import by namespace; an import not
        given is read from its ``locationURI`` when that is a file next to the importer. With
        ``strict`` (the default) an expression that does not compile or an unknown
        typeRef is a ``DefinitionError``; with ``strict=False`` such an expression
        evaluates to null with a message (what conformance runners expect).
        Every problem found is reported together in ``DefinitionError.problems``.
        """
        sources: list[Source]
        sources = [source] if isinstance(source, (str, bytes, Path)) else list(source)
        sources.extend(imports)
        if not sources:
            raise DefinitionError("no DMN model given")
        loaded: list[tuple[DefinitionsDef, bytes]] = []
        problems: list[DefinitionError] = []
        for s in sources:
            try:
                loaded.append(_load(s))
            except DefinitionError as exc:
                problems.extend(exc.problems or [exc])
        if not problems:
            problems = _load_locations(loaded)
        if problems:
            raise DefinitionError(
                f"{len(problems)} problem(s) loading DMN",
                file=problems[0].file,
                line=problems[0].line,
                problems=problems,
            )
        digest = hashlib.sha256()
        for _, raw in loaded:
            digest.update(hashlib.sha256(raw).digest())
        main, *others = (d for d, _ in loaded)
        root = compile_models(main, others, strict=strict)
        return cls(root, digest.hexdigest())

    # -- introspection ---------------------------------------------------------------------------
    def _info(self, kind: ElementKind, el: Any, type_ref: str | None) -> ElementInfo:
        reqs = getattr(el, "reqs", ())
        names = tuple((f"{r.prefix}." if r.prefix else "") + r.target.name for r in reqs)
        return ElementInfo(kind, el.id, el.name, type_ref, self.namespace, names)

    @property
    def decisions(self) -> tuple[ElementInfo, ...]:
        """The model's decisions (not those of imported models)."""
        return tuple(self._info("decision", d, d.type_ref) for d in self._root.decisions.values())

    @property
    def inputs(self) -> tuple[ElementInfo, ...]:
        """The model's input data."""
        return tuple(self._info("inputData", i, i.type_ref) for i in self._root.inputs.values())

    @property
    def services(self) -> tuple[ElementInfo, ...]:
        """The model's decision services."""
        return tuple(
            ElementInfo("decisionService", s.id, s.name, None, self.namespace, s.parameter_names)
            for s in self._root.services.values()
        )

    @property
    def knowledge_models(self) -> tuple[ElementInfo, ...]:
        """The model's business knowledge models."""
        return tuple(self._info("businessKnowledgeModel", b, None) for b in self._root.bkms.values())

    def input_type(self, name: str) -> FeelType | None:
        """The resolved type of input data ``name`` (used to read untyped test data)."""
        el = self._by_name.get(name)
        return getattr(el, "type", None) if el is not None and el.id in self._root.inputs else None

    def import_prefix(self, namespace: str) -> str | None:
        """The import name under which this model sees the model of ``namespace`` (None: not imported)."""
        prefix = next((p for p, m in self._root.imports.items() if m.namespace == namespace), None)
        return "" if is_unnamed(prefix) else prefix

    # -- evaluation ------------------------------------------------------------------------------
    def evaluate(self, decision: str, inputs: Mapping[str, Any] | None = None) -> DecisionResult:
        """Evaluate ``decision`` (name or id; ``prefix.name`` for an imported one) and what it requires.

        ``inputs`` maps input data names to plain Python or FEEL values; inputs of an
        imported model go in a nested mapping under the import name.
        """
        ctx = EvalContext()
        view = View(self._root, _convert(inputs), ())
        if inputs and not self._input_names.issuperset(view.inputs):
            self._warn_unknown_inputs(view.inputs, ctx)
        target_view, target = self._locate(view, decision)
        if target is None or target_view is None:
            known = ", ".join(sorted(d.name for d in self._root.decisions.values()))
            msg = Message(
                "unknown-element", decision, f"no decision named {decision!r}; decisions are: {known}"
            )
            return DecisionResult(decision, None, messages=(msg,))
        run = Run(ctx)
        try:
            value = run.decision(target_view, target)
        except RecursionError:
            ctx.error("feel-error", target.name, "evaluation recursed too deeply")
            value = None
        except Exception as exc:  # never crash the caller: report as an evaluation message
            ctx.error("feel-error", target.name, f"internal error during evaluation: {exc!r}")
            value = None
        return self._result(decision, value, target.name, run.results, ctx)

    def evaluate_all(self, inputs: Mapping[str, Any] | None = None) -> DecisionResult:
        """Evaluate every decision of the model; ``results`` holds them all, ``value`` is None."""
        ctx = EvalContext()
        view = View(self._root, _convert(inputs), ())
        if inputs and not self._input_names.issuperset(view.inputs):
            self._warn_unknown_inputs(view.inputs, ctx)
        run = Run(ctx)
        for d in self._root.decisions.values():
            try:
                run.decision(view, d)
            except RecursionError:
                ctx.error("feel-error", d.name, "evaluation recursed too deeply")
            except Exception as exc:
                ctx.error("feel-error", d.name, f"internal error during evaluation: {exc!r}")
        return self._result(self.name, None, None, run.results, ctx)

    def evaluate_service(self, service: str, inputs: Mapping[str, Any] | None = None) -> DecisionResult:
        """Invoke decision service ``service`` with its input decisions and input data given by name.

        ``value`` is the single output decision's value, or a context of all output decisions.
        """
        ctx = EvalContext()
        svc = next((s for s in self._root.services.values() if service in (s.name, s.id)), None)
        if svc is None:
            known = ", ".join(sorted(s.name for s in self._root.services.values()))
            msg = Message(
                "unknown-element", service, f"no decision service named {service!r}; services are: {known}"
            )
            return DecisionResult(service, None, messages=(msg,))
        params = _convert(inputs)
        view = View(self._root, params, ())
        try:
            value, results = run_service(svc, view, params, ctx)
        except RecursionError:
            ctx.error("feel-error", svc.name, "evaluation recursed too deeply")
            value, results = None, {}
        except Exception as exc:
            ctx.error("feel-error", svc.name, f"internal error during evaluation: {exc!r}")
            value, results = None, {}
        return self._result(service, value, None, results, ctx)

    def _warn_unknown_inputs(self, given: Mapping[str, Any], ctx: EvalContext) -> None:
        """A warning per input name that matches no input data (typos silently give null)."""
        for name in given:
            if name not in self._input_names:
                ctx.warn("unknown-element", name, self._unknown_input_message(name))

    def _unknown_input_message(self, name: str) -> str:
        """The warning for input ``name``, with a "did you mean" hint — worked out once per name: a
        caller that passes the same extra inputs at every evaluation (a guardrail's whole
        context) would otherwise pay a fuzzy match per name per evaluation."""
        cached = self._unknown_inputs.get(name)
        if cached is None:
            close = difflib.get_close_matches(name, sorted(self._input_names), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            cached = f"input {name!r} matches no input data of the model{hint}"
            if len(self._unknown_inputs) < _UNKNOWN_INPUTS_KEPT:
                self._unknown_inputs[name] = cached
        return cached

    def _locate(self, view: View, name: str) -> tuple[View | None, CDecision | None]:
        root = self._root
        hit = self._decisions.get(name)
        if hit is not None:
            return view, hit
        if "." in name:
            prefix, rest = name.split(".", 1)
            if prefix in root.imports and not is_unnamed(prefix):
                child = view.child(prefix)
                for d in child.model.decisions.values():
                    if rest in (d.name, d.id):
                        return child, d
        for key in root.imports:  # imports with an empty name: no prefix needed (DMN 1.5 §6.3.3)
            if is_unnamed(key):
                child = view.child(key)
                for d in child.model.decisions.values():
                    if name in (d.name, d.id):
                        return child, d
        return None, None

    @staticmethod
    def _result(
        name: str, value: Any, own: str | None, results: dict[str, Any], ctx: EvalContext
    ) -> DecisionResult:
        rules = {k: tuple(v) for k, v in ctx.rules.items()}
        return DecisionResult(
            name=name,
            value=value,
            rule_ids=rules.get(own, ()) if own is not None else (),
            decision_rule_ids=rules,
            results=results,
            messages=tuple(ctx.messages),
        )

    def __repr__(self) -> str:
        return f"<DecisionModel {self.name!r} {len(self._root.decisions)} decisions>"
