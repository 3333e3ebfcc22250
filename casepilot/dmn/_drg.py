"""The decision requirements graph: compiled elements, href resolution, and evaluation.

A ``CompiledModel`` is one DMN file after compilation: its decisions, input data,
BKMs and decision services, each holding resolved requirements (``Req``) that point
at elements of the same model or of an imported one (with the import name as prefix).

Evaluation (``Run``) walks requirements depth-first with memoisation, so every
decision runs at most once per evaluation and always after what it requires. The
scope of a decision holds exactly its requirements: required decisions and inputs by
name, required BKMs and decision services as FEEL functions, and everything from an
import under the import's name (``prefix.Decision``). Imported models see the input
values nested under the import name, so a model imported twice can get different
inputs on each path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from casepilot.dmn._boxed import bind_arguments
from casepilot.dmn._feelbridge import Eval
from casepilot.dmn._model import DefinitionsDef
from casepilot.dmn._results import EvalContext
from casepilot.dmn._types import FeelType, TypeRegistry, coerce, is_unnamed
from casepilot.dmn.feel.types import TYPE_RESOLVER, TYPE_STRUCTURE

__all__ = ["CBKM", "CDecision", "CInput", "CService", "CompiledModel", "Req", "Run", "View"]

ReqKind = Literal["decision", "input", "bkm", "service"]
_UNSET = object()


@dataclass(frozen=True, slots=True, eq=False)
class Req:
    """A resolved requirement: element ``target`` in ``model``, seen under ``prefix``."""

    kind: ReqKind
    target: Any
    model: CompiledModel
    prefix: str | None


@dataclass(frozen=True, slots=True, eq=False)
class CInput:
    id: str
    name: str
    type_ref: str | None
    type: FeelType


@dataclass(frozen=True, slots=True, eq=False)
class CDecision:
    id: str
    name: str
    type_ref: str | None
    type: FeelType
    reqs: tuple[Req, ...]
    evaluate: Eval
    requires_decisions: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "requires_decisions", any(r.kind == "decision" for r in self.reqs))


@dataclass(frozen=True, slots=True, eq=False)
class CBKM:
    id: str
    name: str
    reqs: tuple[Req, ...]
    make: Eval
    """Evaluated in the BKM's scope, returns its ``UserFunction``."""


@dataclass(frozen=True, slots=True, eq=False)
class CService:
    id: str
    name: str
    outputs: tuple[Req, ...]
    input_decisions: tuple[Req, ...]
    input_data: tuple[Req, ...]
    type: FeelType

    @property
    def parameter_names(self) -> tuple[str, ...]:
        # DMN 1.5 §6.3.5: the service's function takes the input data first, then the input decisions.
        return tuple(r.target.name for r in (*self.input_data, *self.input_decisions))


class CompiledModel:
    """One compiled DMN file; filled in by ``_compile`` and never mutated afterwards."""

    def __init__(self, defs: DefinitionsDef, types: TypeRegistry) -> None:
        self.defs = defs
        self.namespace = defs.namespace
        self.types = types
        self.imports: dict[str, CompiledModel] = {}
        self.decisions: dict[str, CDecision] = {}
        self.inputs: dict[str, CInput] = {}
        self.bkms: dict[str, CBKM] = {}
        self.services: dict[str, CService] = {}
        self.by_name: dict[str, CDecision | CInput | CBKM | CService] = {}
        self.bridge_names: frozenset[str] = frozenset()
        """Every name of this model that importers may need to scan in FEEL text."""


class View:
    """A model as reached on one import path, with the input values that path supplies."""

    __slots__ = ("children", "inputs", "key", "label", "model")

    def __init__(
        self, model: CompiledModel, inputs: dict[str, Any], key: tuple[str, ...], label: str = ""
    ) -> None:
        self.model = model
        self.inputs = inputs
        self.key = key
        self.label = label
        """``prefix.`` path under which this view's results are reported ("" for the main model)."""
        self.children: dict[str, View] = {}

    def child(self, prefix: str) -> View:
        hit = self.children.get(prefix)
        if hit is None:
            named = not is_unnamed(prefix)
            if named:
                nested = self.inputs.get(prefix)
                inputs = nested if isinstance(nested, dict) else {}
            else:  # an import with an empty name: its inputs and results are not nested
                inputs = self.inputs
            label = self.label + prefix + "." if named else self.label
            hit = View(self.model.imports[prefix], inputs, (*self.key, prefix), label)
            self.children[prefix] = hit
        return hit


class Run:
    """One evaluation: memoised values, the message/rule collector, results by label."""

    __slots__ = ("ctx", "functions", "memo", "results")

    def __init__(self, ctx: EvalContext, memo: dict[tuple[tuple[str, ...], str], Any] | None = None) -> None:
        self.ctx = ctx
        self.memo: dict[tuple[tuple[str, ...], str], Any] = memo if memo is not None else {}
        self.functions: dict[tuple[tuple[str, ...], str], Any] = {}
        self.results: dict[str, Any] = {}

    def decision(self, view: View, d: CDecision) -> Any:
        key = (view.key, d.id)
        memo = self.memo
        if key in memo:
            return memo[key]
        if d.requires_decisions:
            self._required_first(view, d)
        # Required decisions are memoised now, so building the scope does not recurse deeply.
        types = view.model.types
        if types.has_items:  # `x instance of tItem` (§10.3.2.9) judges the model's item definitions
            token = TYPE_RESOLVER.set(types.check_for)
            shape = TYPE_STRUCTURE.set(types.structure_of)
            try:
                value = self._typed(d, d.evaluate(self.scope_for(view, d.reqs), self.ctx))
            finally:
                TYPE_STRUCTURE.reset(shape)
                TYPE_RESOLVER.reset(token)
        else:
            value = self._typed(d, d.evaluate(self.scope_for(view, d.reqs), self.ctx))
        memo[key] = value
        self.results[view.label + d.name] = value
        return value

    def _typed(self, d: CDecision, value: Any) -> Any:
        """The decision's value bound to its declared type (null and an error when it cannot be)."""
        check = d.type.check
        if check is not None and value is not None and not check(value):
            value, err = coerce(value, d.type)
            if err:
                self.ctx.error("type-mismatch", d.name, err)
        return value

    def _required_first(self, view: View, d: CDecision) -> None:
        """Evaluate the decisions ``d`` requires, deepest first, with an explicit stack.

        A long chain of decisions then needs no deep Python recursion (cycles are
        rejected when the model is loaded, so this terminates).
        """
        memo = self.memo
        stack: list[tuple[View, CDecision, bool]] = [
            (view if r.prefix is None else view.child(r.prefix), r.target, False)
            for r in d.reqs
            if r.kind == "decision"
        ]
        while stack:
            v, dec, expanded = stack.pop()
            if (v.key, dec.id) in memo:
                continue
            if expanded:
                self.decision(v, dec)
                continue
            stack.append((v, dec, True))
            for r in dec.reqs:
                if r.kind == "decision":
                    tv = v if r.prefix is None else v.child(r.prefix)
                    if (tv.key, r.target.id) not in memo:
                        stack.append((tv, r.target, False))

    def input(self, view: View, i: CInput) -> Any:
        key = (view.key, i.id)
        memo = self.memo
        if key in memo:
            return memo[key]
        value = view.inputs.get(i.name)
        check = i.type.check
        if check is not None and value is not None and not check(value):
            value, err = coerce(value, i.type)
            if err:
                self.ctx.error("invalid-input", i.name, err)
        memo[key] = value
        return value

    def bkm(self, view: View, b: CBKM) -> Any:
        key = (view.key, b.id)
        hit = self.functions.get(key)
        if hit is not None:
            return hit
        scope: dict[str, Any] = {}
        fn = b.make(scope, self.ctx)
        self.functions[key] = fn
        # The function holds ``scope`` by reference: filling it after creation lets a BKM require itself.
        scope.update(self.scope_for(view, b.reqs))
        return fn

    def service(self, view: View, s: CService) -> Any:
        key = (view.key, s.id)
        hit = self.functions.get(key)
        if hit is None:
            hit = ServiceFunction(s, view, self.ctx)
            self.functions[key] = hit
        return hit

    def value_of(self, view: View, r: Req) -> Any:
        target_view = view if r.prefix is None else view.child(r.prefix)
        if r.kind == "decision":
            return self.decision(target_view, r.target)
        if r.kind == "input":
            return self.input(target_view, r.target)
        if r.kind == "bkm":
            return self.bkm(target_view, r.target)
        return self.service(target_view, r.target)

    def scope_for(self, view: View, reqs: tuple[Req, ...]) -> dict[str, Any]:
        scope: dict[str, Any] = {}
        memo = self.memo
        key = view.key
        for r in reqs:
            if r.prefix is None and (r.kind == "input" or r.kind == "decision"):
                # The common case inline: an input or (usually already evaluated) decision of this model.
                value = memo.get((key, r.target.id), _UNSET)
                if value is _UNSET:
                    value = self.input(view, r.target) if r.kind == "input" else self.decision(view, r.target)
                scope[r.target.name] = value
                continue
            value = self.value_of(view, r)
            if r.prefix and not is_unnamed(r.prefix):
                nested = scope.get(r.prefix)
                if not isinstance(nested, dict):
                    nested = {}
                    scope[r.prefix] = nested
                nested[r.target.name] = value
            else:
                scope[r.target.name] = value
        return scope


def run_service(
    s: CService, view: View, params: dict[str, Any], ctx: EvalContext
) -> tuple[Any, dict[str, Any]]:
    """Evaluate decision service ``s`` with parameter values by name; (result, decision results)."""
    memo: dict[tuple[tuple[str, ...], str], Any] = {}
    # Input data of imported models stay reachable under their import names.
    inputs: dict[str, Any] = {
        p: view.inputs[p] for p in view.model.imports if not is_unnamed(p) and p in view.inputs
    }
    for r in (*s.input_decisions, *s.input_data):
        target_view = view if r.prefix is None else view.child(r.prefix)
        el: CDecision | CInput = r.target
        value = params.get(el.name)
        if value is not None and el.type.kind != "any":
            value, err = coerce(value, el.type)
            if err:
                # A non-conforming argument means the service is not invoked at all.
                ctx.error("type-mismatch", s.name, f"parameter {el.name!r}: {err}")
                return None, {}
        if r.kind == "decision":
            memo[(target_view.key, el.id)] = value
        else:
            inputs[el.name] = value
    sub_view = View(view.model, inputs, view.key)
    sub_view.children = {}
    run = Run(ctx, memo)
    values = {}
    for r in s.outputs:
        values[r.target.name] = run.value_of(sub_view, r)
    if len(values) == 1:
        result: Any = next(iter(values.values()))
    else:
        result = values
    out_type = s.type.element if s.type.kind == "function" else s.type
    if out_type is not None and out_type.kind != "any":
        result, err = coerce(result, out_type)
        if err:
            ctx.error("type-mismatch", s.name, err)
    return result, run.results


class ServiceFunction:
    """A decision service as a FEEL function (``FeelFunction``): inputs first, then input data."""

    __slots__ = ("_ctx", "_service", "_view")

    def __init__(self, service: CService, view: View, ctx: EvalContext) -> None:
        self._service = service
        self._view = view
        self._ctx = ctx

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return self._service.parameter_names

    def __repr__(self) -> str:
        return f"<decision service {self._service.name}>"

    def invoke(self, args: list[Any] | None = None, named: dict[str, Any] | None = None) -> Any:
        names = self.parameter_names
        values = bind_arguments(self._service.name, names, args, named, self._ctx)
        if values is None:
            return None
        result, _ = run_service(self._service, self._view, dict(zip(names, values, strict=True)), self._ctx)
        return result
