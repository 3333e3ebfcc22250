"""Frozen definitions (several files, linked by imports) → ``CompiledModel`` graph.

Compilation resolves every href and typeRef, compiles every FEEL text once, checks
that the decision graph has no cycles, and collects every problem so that
``DecisionModel.from_xml`` can report them all in one ``DefinitionError``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from casepilot.dmn._boxed import BoxedCompiler, result_of
from casepilot.dmn._drg import CBKM, CDecision, CInput, CompiledModel, CService, Req, ReqKind
from casepilot.dmn._feelbridge import Eval, FeelBridge
from casepilot.dmn._model import (
    BoxedDef,
    ConditionalDef,
    ContextDef,
    DecisionTableDef,
    DefinitionsDef,
    FilterDef,
    FunctionDef,
    ImportDef,
    InvocationDef,
    ItemDefinitionDef,
    IteratorDef,
    ListDef,
    RelationDef,
)
from casepilot.dmn._parse import DMN_NAMESPACES
from casepilot.dmn._results import EvalContext
from casepilot.dmn._types import ANY, UNNAMED, TypeRegistry, is_unnamed
from casepilot.errors import DefinitionError

__all__ = ["compile_models"]


def _is_dmn_import(im: ImportDef) -> bool:
    t = im.import_type.strip()
    return not t or t in DMN_NAMESPACES or "DMN" in t.upper()


class _Linker:
    def __init__(self, all_defs: Sequence[DefinitionsDef], strict: bool) -> None:
        self.by_ns: dict[str, DefinitionsDef] = {}
        for d in all_defs:
            self.by_ns.setdefault(d.namespace, d)
        self.strict = strict
        self.problems: list[DefinitionError] = []
        self.compiled: dict[str, CompiledModel] = {}
        self.bridges: dict[str, FeelBridge] = {}

    def problem(self, defs: DefinitionsDef, message: str, line: int | None) -> None:
        self.problems.append(DefinitionError(message, file=defs.file, line=line))

    def model(self, defs: DefinitionsDef, chain: tuple[str, ...] = ()) -> CompiledModel:
        hit = self.compiled.get(defs.namespace)
        if hit is not None:
            return hit
        imported: dict[str, CompiledModel] = {}
        for im in defs.imports:
            if not _is_dmn_import(im):
                continue
            target = self.by_ns.get(im.namespace)
            if target is None:
                self.problem(
                    defs,
                    f"import {im.name!r} of namespace {im.namespace!r} is not among the loaded models; "
                    "pass the imported file too",
                    None,
                )
                continue
            if target.namespace in chain or target.namespace == defs.namespace:
                self.problem(defs, f"import {im.name!r} makes a cycle of imports", None)
                continue
            # Imports with an empty name (§6.3.3) are keyed by namespace: several may coexist.
            key = im.name or UNNAMED + target.namespace
            if key in imported:
                what = f"name {im.name!r}" if im.name else f"namespace {im.namespace!r} and no name"
                self.problem(defs, f"two imports have the {what}", None)
                continue
            imported[key] = self.model(target, (*chain, defs.namespace))
        bridge = FeelBridge(defs.file, self.strict)
        members = set(member_names(defs))
        for prefix, m in imported.items():
            members |= m.bridge_names
            if prefix and not is_unnamed(prefix):
                members.add(prefix)
        bridge.member_names = frozenset(members)
        self.bridges[defs.namespace] = bridge

        def allowed(text: str) -> Any:
            return bridge.matcher(text, "itemDefinition", None)

        types = TypeRegistry(defs.item_definitions, {p: m.types for p, m in imported.items()}, allowed)
        cm = CompiledModel(defs, types)
        cm.imports = imported
        element_names = {d.name for d in defs.decisions} | {i.name for i in defs.input_data}
        element_names |= {b.name for b in defs.bkms} | {s.name for s in defs.services}
        cm.bridge_names = frozenset(members | element_names)
        self.compiled[defs.namespace] = cm
        self._fill(cm, bridge)
        if self.strict:
            for t in defs.item_definitions:
                types.resolve(t.name)
            for p in types.problems:
                self.problem(defs, p, None)
        self.problems.extend(bridge.problems)
        return cm

    # -- elements --------------------------------------------------------------------------------
    def _fill(self, cm: CompiledModel, bridge: FeelBridge) -> None:
        defs = cm.defs
        boxed = BoxedCompiler(bridge, cm.types)
        for i in defs.input_data:
            cm.inputs[i.id] = CInput(i.id, i.name, i.type_ref, cm.types.resolve(i.type_ref))
        # Placeholders first so that requirements can point at any element regardless of order.
        pending_decisions = {d.id: d for d in defs.decisions}
        for d in defs.decisions:
            cm.decisions[d.id] = CDecision(d.id, d.name, d.type_ref, ANY, (), lambda s, c: None)
        for b in defs.bkms:
            cm.bkms[b.id] = CBKM(b.id, b.name, (), lambda s, c: None)
        for s in defs.services:
            cm.services[s.id] = CService(s.id, s.name, (), (), (), ANY)
        for b in defs.bkms:
            result_type = result_of(cm.types.resolve(b.type_ref))
            reqs = self._reqs(cm, b.required_knowledge, ("bkm", "service"), b.name, b.line)
            names = scope_names(reqs)
            if b.logic is None:
                make = boxed.compile(None, b.name, names)
            else:
                make = boxed.function(b.logic, b.name, result_type, names)
            cm.bkms[b.id] = CBKM(b.id, b.name, reqs, make)
        for d in pending_decisions.values():
            reqs = (
                *self._reqs(cm, d.required_decisions, ("decision",), d.name, d.line),
                *self._reqs(cm, d.required_inputs, ("input",), d.name, d.line),
                *self._reqs(cm, d.required_knowledge, ("bkm", "service"), d.name, d.line),
            )
            if d.expression is None:
                evaluate = _no_logic(d.name)
            else:
                evaluate = boxed.compile(d.expression, d.name, scope_names(reqs))
            cm.decisions[d.id] = CDecision(
                d.id, d.name, d.type_ref, cm.types.resolve(d.type_ref), reqs, evaluate
            )
        for s in defs.services:
            cm.services[s.id] = CService(
                s.id,
                s.name,
                self._reqs(cm, s.output_decisions, ("decision",), s.name, s.line),
                self._reqs(cm, s.input_decisions, ("decision",), s.name, s.line),
                self._reqs(cm, s.input_data, ("input",), s.name, s.line),
                cm.types.resolve(s.type_ref),
            )
        # Rebind the placeholder targets held by requirements to the final objects.
        elements: list[CDecision | CBKM | CService | CInput] = [
            *cm.decisions.values(),
            *cm.bkms.values(),
            *cm.services.values(),
        ]
        for el in elements:
            for r in _all_reqs(el):
                _retarget(r)
        elements.extend(cm.inputs.values())
        for el in elements:
            cm.by_name.setdefault(el.name, el)

    def _reqs(
        self,
        cm: CompiledModel,
        hrefs: tuple[str, ...],
        kinds: tuple[ReqKind, ...],
        owner: str,
        line: int | None,
    ) -> tuple[Req, ...]:
        out = []
        for href in hrefs:
            ns, _, eid = href.rpartition("#")
            target_model = cm
            prefix: str | None = None
            if ns and ns != cm.namespace:
                names = [p for p, m in cm.imports.items() if m.namespace == ns]
                if not names:
                    self.problem(
                        cm.defs, f"{owner!r} requires {href!r} from a namespace that is not imported", line
                    )
                    continue
                prefix = names[0]
                target_model = cm.imports[prefix]
            found = None
            for kind in kinds:
                pool: Any = {
                    "decision": target_model.decisions,
                    "input": target_model.inputs,
                    "bkm": target_model.bkms,
                    "service": target_model.services,
                }[kind]
                if eid in pool:
                    found = Req(kind, pool[eid], target_model, prefix)
                    break
            if found is None:
                what = " or ".join(kinds)
                self.problem(cm.defs, f"{owner!r} requires {href!r}, which is no {what} of the model", line)
                continue
            out.append(found)
        return tuple(out)


def _no_logic(name: str) -> Eval:
    def evaluate(scope: dict[str, Any], ctx: EvalContext) -> Any:
        ctx.warn("missing-logic", name, "decision has no decision logic; its value is null")
        return None

    return evaluate


def scope_names(reqs: tuple[Req, ...]) -> frozenset[str]:
    """The variable names a set of requirements puts in scope (imports add their prefix)."""
    names: set[str] = set()
    for r in reqs:
        names.add(r.target.name)
        if r.prefix and not is_unnamed(r.prefix):
            names.add(r.prefix)
    return frozenset(names)


def _expr_names(expr: BoxedDef | None, out: set[str]) -> None:
    if expr is None:
        return
    if isinstance(expr, ContextDef):
        for e in expr.entries:
            if e.name:
                out.add(e.name)
            _expr_names(e.value, out)
    elif isinstance(expr, ListDef):
        for i in expr.items:
            _expr_names(i, out)
    elif isinstance(expr, RelationDef):
        out.update(expr.columns)
        for row in expr.rows:
            for c in row:
                _expr_names(c, out)
    elif isinstance(expr, InvocationDef):
        _expr_names(expr.callee, out)
        for b in expr.bindings:
            out.add(b.parameter)
            _expr_names(b.expression, out)
    elif isinstance(expr, ConditionalDef):
        for part in (expr.condition, expr.then, expr.otherwise):
            _expr_names(part, out)
    elif isinstance(expr, IteratorDef):
        out.add(expr.variable)
        _expr_names(expr.source, out)
        _expr_names(expr.body, out)
    elif isinstance(expr, FilterDef):
        _expr_names(expr.source, out)
        _expr_names(expr.match, out)
    elif isinstance(expr, FunctionDef):
        out.update(p.name for p in expr.parameters)
        _expr_names(expr.body, out)
    elif isinstance(expr, DecisionTableDef):
        out.update(o.name for o in expr.outputs if o.name)


def _item_names(item: ItemDefinitionDef, out: set[str]) -> None:
    out.add(item.name)
    for c in item.components:
        _item_names(c, out)


def member_names(defs: DefinitionsDef) -> frozenset[str]:
    """Names that may be read through paths anywhere in ``defs``: type components, context
    entries, parameters, relation columns, table outputs. FEEL needs them to scan names with
    spaces or operator characters."""
    out: set[str] = set()
    for item in defs.item_definitions:
        _item_names(item, out)
    for d in defs.decisions:
        _expr_names(d.expression, out)
    for b in defs.bkms:
        _expr_names(b.logic, out)
    return frozenset(n for n in out if n)


def _all_reqs(el: Any) -> tuple[Req, ...]:
    if isinstance(el, CService):
        return (*el.outputs, *el.input_decisions, *el.input_data)
    return tuple(el.reqs)


def _retarget(r: Req) -> None:
    pool: Any = {
        "decision": r.model.decisions,
        "input": r.model.inputs,
        "bkm": r.model.bkms,
        "service": r.model.services,
    }[r.kind]
    object.__setattr__(r, "target", pool[r.target.id])


def _check_cycles(models: Sequence[CompiledModel], problems: list[DefinitionError]) -> None:
    """Report decision cycles; iterative, so a very long chain of decisions cannot overflow the stack."""
    done: set[int] = set()
    for cm in models:
        for start in cm.decisions.values():
            if id(start) in done:
                continue
            on_path: dict[int, int] = {}
            path: list[CDecision] = []
            stack: list[tuple[CDecision, int]] = [(start, 0)]
            while stack:
                d, i = stack.pop()
                if i == 0:
                    if id(d) in done:
                        continue
                    on_path[id(d)] = len(path)
                    path.append(d)
                reqs = [r.target for r in d.reqs if r.kind == "decision"]
                if i < len(reqs):
                    stack.append((d, i + 1))
                    nxt = reqs[i]
                    if id(nxt) in on_path:
                        names = [p.name for p in path[on_path[id(nxt)] :]] + [nxt.name]
                        problems.append(
                            DefinitionError(
                                f"decisions require each other in a cycle: {' -> '.join(names)}",
                                file=cm.defs.file,
                            )
                        )
                    elif id(nxt) not in done:
                        stack.append((nxt, 0))
                    continue
                done.add(id(d))
                on_path.pop(id(d), None)
                path.pop()


def compile_models(main: DefinitionsDef, others: Sequence[DefinitionsDef], *, strict: bool) -> CompiledModel:
    """Compile ``main`` and whatever it imports from ``others``; raise all problems together."""
    linker = _Linker([main, *others], strict)
    root = linker.model(main)
    _check_cycles(list(linker.compiled.values()), linker.problems)
    if linker.problems:
        first = linker.problems[0]
        raise DefinitionError(
            f"{len(linker.problems)} problem(s) in DMN model {main.name!r}",
            file=first.file or main.file,
            line=first.line,
            problems=linker.problems,
        )
    return root
