"""Loading a deployable case bundle: CMMN model + bindings + guardrails + manifest.

``CaseBundle`` is the frozen, parsed form the orchestrator works with. A bundle is read
from a folder (``load_folder``) or from the files a definition version holds in the
store (``load_files``); both validate everything at load time — the manifest, the CMMN
model, the tool bindings against the registry, the DMN guardrails — and report every
problem together, so a bad deployment fails before any case starts.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

import yaml
from pydantic import ValidationError

from casepilot.agent._bundle_processes import (
    ProcessBinding,
    check_process_tools,
    load_bundle_processes,
    parameter_names,
    process_tasks,
    process_tools,
)
from casepilot.agent.manifest import HumanTaskSpec, Manifest
from casepilot.cmmn.definitions import Case, CaseTask, DecisionTask, Definitions, Parameter
from casepilot.cmmn.parser import parse_file
from casepilot.dmn import DecisionModel
from casepilot.errors import DefinitionError
from casepilot.governance.allowlist import ToolAllowlist
from casepilot.governance.budget import BudgetLimits, ModelPrice, PriceTable
from casepilot.governance.governor import Governor, PayloadRedactor
from casepilot.governance.guardrails import GuardrailPolicy
from casepilot.tools import BINDING_FILE, BindingSet, ToolRegistry, load_bindings
from casepilot.tools.bundle_tools import add_tools, bundle_code_files, resolve_tools

if TYPE_CHECKING:
    from casepilot.bpmn import ProcessDefinitions

__all__ = ["MANIFEST_NAME", "CaseBundle", "bundle_files", "declared_files", "load_files", "load_folder"]

MANIFEST_NAME = "casepilot.yaml"


@dataclass(frozen=True, slots=True)
class DecisionBinding:
    """A decision task bound to a DMN decision of the bundle (no tool needed)."""

    model: DecisionModel
    decision: str
    result_variable: str


@dataclass(frozen=True, slots=True)
class ChildCaseBinding:
    """A case task: which deployed definition its child case runs, and which variables cross over."""

    key: str
    inputs: tuple[str, ...]
    """Case-file names passed to the child (all variables when the task declares no inputs)."""
    outputs: tuple[str, ...]
    """Case-file names copied back from the child when it completes."""


@dataclass(frozen=True)
class CaseBundle:
    """A parsed, validated case definition with everything the orchestrator needs."""

    manifest: Manifest
    definitions: Definitions
    case: Case
    bindings: BindingSet
    governor: Governor
    prices: PriceTable
    human_tasks: Mapping[str, HumanTaskSpec]
    """Plan item definition id -> inbox settings (resolved from the manifest's names or ids)."""
    decision_tasks: Mapping[str, DecisionBinding]
    """Decision task definition id -> the DMN decision it evaluates (tasks without a tool binding)."""
    case_tasks: Mapping[str, ChildCaseBinding]
    """Case task definition id -> the child case it starts."""
    content_hash: str
    folder: Path
    processes: ProcessDefinitions | None = None
    """The BPMN processes of ``processes:`` (validated with the bundle's DMN), or None."""
    process_tasks: Mapping[str, ProcessBinding] = field(default_factory=lambda: MappingProxyType({}))
    """Process task definition id -> the BPMN process it runs (tasks without a tool binding)."""

    @property
    def key(self) -> str:
        return self.manifest.key


def bundle_files(folder: Path) -> dict[str, str | bytes]:
    """The files of a bundle folder, for ``Store.deploy`` (text files as text): the manifest, the
    files it names (model, bindings — ``bindings.yaml`` beside the model by default —, decision
    models, guardrails) and the tool modules of ``tools:`` that sit in the folder. Nothing else:
    scripts and scratch files beside them are not part of the definition or its hash."""
    manifest_path = folder / MANIFEST_NAME
    if not manifest_path.is_file():
        raise DefinitionError(f"no {MANIFEST_NAME} in the bundle folder", file=str(folder))
    manifest = _read_manifest(manifest_path)
    return {name: _read(folder / name) for name in declared_files(manifest, folder)}


def declared_files(manifest: Manifest, folder: Path) -> list[str]:
    """The names of the bundle's files in ``folder`` (see ``bundle_files``); each must be a plain
    file name beside the manifest, since a definition holds one flat folder."""
    names = [MANIFEST_NAME, *manifest.files()]
    if manifest.bindings is None and (folder / BINDING_FILE).is_file():
        names.append(BINDING_FILE)
    names += bundle_code_files(manifest.tools, folder)
    problems = [
        DefinitionError(f"{name!r} is not a file beside {MANIFEST_NAME}: a bundle is one flat folder",
                        file=str(folder / MANIFEST_NAME))
        for name in names if "/" in name or "\\" in name or name.startswith(".")
    ]
    if problems:
        raise DefinitionError(problems[0].message, file=str(folder / MANIFEST_NAME), problems=problems)
    return list(dict.fromkeys(names))


def _read(path: Path) -> str | bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DefinitionError(f"cannot read the bundle file {path.name}: {exc.strerror}", file=str(path)) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data


def _read_manifest(path: Path) -> Manifest:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise DefinitionError(
            f"the manifest is not valid YAML: {exc}", file=str(path), line=(mark.line + 1) if mark else None
        ) from exc
    try:
        return Manifest.model_validate(raw)
    except ValidationError as exc:
        problems = [
            DefinitionError(f"{'.'.join(str(p) for p in err['loc']) or 'manifest'}: {err['msg']}", file=str(path))
            for err in exc.errors()
        ]
        raise DefinitionError("the manifest is invalid", file=str(path), problems=problems) from exc


def _human_tasks(manifest: Manifest, case: Case, file: str) -> dict[str, HumanTaskSpec]:
    out: dict[str, HumanTaskSpec] = {}
    problems: list[DefinitionError] = []
    for ref, spec in manifest.human_tasks.items():
        found = [
            d.id
            for d in case.definitions.values()
            if d.kind == "humanTask" and ref in (d.id, d.name)
        ] + [
            case.plan_items[p].definition_ref
            for p in case.plan_items
            if ref in (p, case.plan_items[p].name) and case.definitions[case.plan_items[p].definition_ref].kind == "humanTask"
        ]
        if not found:
            problems.append(DefinitionError(f"human_tasks: no human task named or with id {ref!r}", file=file))
            continue
        for def_id in dict.fromkeys(found):
            out[def_id] = spec
    if problems:
        raise DefinitionError("the manifest names unknown human tasks", file=file, problems=problems)
    return out


def _decision_tasks(
    manifest: Manifest, case: Case, bindings: BindingSet, root: Path, file: str
) -> dict[str, DecisionBinding]:
    models = [DecisionModel.from_xml(root / name) for name in manifest.decisions]
    out: dict[str, DecisionBinding] = {}
    problems: list[DefinitionError] = []
    for definition in case.definitions.values():
        if not isinstance(definition, DecisionTask) or definition.id in bindings:
            continue
        ref = definition.decision_ref
        if ref is None:
            problems.append(DefinitionError(
                f"decision task {definition.name or definition.id!r} has neither a decisionRef nor a tool binding",
                file=file, element=definition.id))
            continue
        found = next(
            ((m, d.name) for m in models for d in m.decisions if ref in (d.id, d.name)), None
        )
        if found is None:
            listed = ", ".join(manifest.decisions) or "none listed under `decisions:`"
            problems.append(DefinitionError(
                f"decision task {definition.name or definition.id!r} refers to decision {ref!r}, which is in none "
                f"of the bundle's DMN models ({listed})", file=file, element=definition.id))
            continue
        model, decision = found
        target = next((p.binding_ref for p in definition.outputs if p.binding_ref), None)
        item = case.case_file_items_by_id.get(target) if target else None
        out[definition.id] = DecisionBinding(model, decision, (item.name if item and item.name else None) or decision)
    if problems:
        raise DefinitionError("decision tasks cannot be bound", file=file, problems=problems)
    return out


def _case_tasks(manifest: Manifest, case: Case, file: str) -> dict[str, ChildCaseBinding]:
    out: dict[str, ChildCaseBinding] = {}
    problems: list[DefinitionError] = []

    def names(params: tuple[Parameter, ...]) -> tuple[str, ...]:
        return parameter_names(case, params)

    for definition in case.definitions.values():
        if not isinstance(definition, CaseTask):
            continue
        refs = [r for r in (definition.name, definition.id, definition.case_ref) if r]
        key = next((manifest.case_tasks[r] for r in refs if r in manifest.case_tasks), definition.case_ref)
        if key is None:
            problems.append(DefinitionError(
                f"case task {definition.name or definition.id!r} has no caseRef and no entry under `case_tasks:`",
                file=file, element=definition.id))
            continue
        out[definition.id] = ChildCaseBinding(key, names(definition.inputs), names(definition.outputs))
    if problems:
        raise DefinitionError("case tasks cannot be bound", file=file, problems=problems)
    return out


def known_roles(manifest: Manifest, case: Case) -> frozenset[str]:
    """The roles that exist in a bundle: declared in ``governance.roles``, named anywhere in the
    manifest (human tasks, budgets, provenance/operator/starter/reveal roles, the allowlist)
    or by the CMMN model's case roles. A checkpoint may only go to one of these."""
    gov = manifest.governance
    named: list[str | None] = [*gov.roles, gov.provenance_role, gov.operator_role, gov.starter_role,
                               *gov.reveal_roles]
    named += [spec.role for spec in manifest.human_tasks.values()]
    named += [b.role for b in (gov.budget, gov.total_budget) if b is not None]
    if gov.allowlist is not None:
        named += list(gov.allowlist.roles)
    named += [r.name or r.id for r in case.roles]
    return frozenset(r for r in named if r)


def _check_operator_role(manifest: Manifest, bindings: BindingSet, registry: ToolRegistry, file: str,
                         process_tools: Mapping[str, str] | None = None) -> None:
    """A bundle that binds a non-idempotent tool — to a task, or to a service task of one of its
    processes — must say who answers "it may have run — run it again?"."""
    if manifest.governance.operator_role is not None:
        return
    tools = {b.tool for b in bindings} | set((process_tools or {}).values())
    risky = sorted({t for t in tools if t in registry and registry.get(t).side_effect == "non_idempotent"})
    if risky:
        raise DefinitionError(
            f"the bundle binds the non-idempotent tool(s) {', '.join(risky)} but names no operator role: after a "
            "crash mid-call someone must decide whether to run it again. Add `operator_role: <role>` under "
            "`governance:` in casepilot.yaml", file=file)


def load_folder(
    folder: str | Path, registry: ToolRegistry, *, redactor: PayloadRedactor | None = None
) -> CaseBundle:
    """Load and validate the bundle in ``folder``.

    The tools its manifest names (``tools:``) are loaded — the folder's tool modules are run —
    and added to ``registry``, so that the same registry then works its cases.
    """
    return _load(Path(folder), registry, redactor=redactor, trust_code=True)


def _load(root: Path, registry: ToolRegistry, *, redactor: PayloadRedactor | None, trust_code: bool) -> CaseBundle:
    manifest_path = root / MANIFEST_NAME
    if not manifest_path.is_file():
        raise DefinitionError(f"no {MANIFEST_NAME} in {root}; a case bundle needs a manifest", file=str(root))
    manifest = _read_manifest(manifest_path)
    names = declared_files(manifest, root)
    files = {name: _read(root / name) for name in names if (root / name).is_file()}
    if manifest.tools:
        add_tools(registry, resolve_tools(manifest.tools, files, origin=str(manifest_path), trust_code=trust_code),
                  origin=str(manifest_path))
    definitions = parse_file(root / manifest.model)
    try:
        case = definitions.case(manifest.case)
    except KeyError as exc:
        raise DefinitionError(str(exc.args[0]), file=str(manifest_path)) from exc
    bindings = load_bindings(
        definitions, registry, binding_file=(root / manifest.bindings) if manifest.bindings else None
    )
    gov = manifest.governance
    digest = hashlib.sha256()
    for name in sorted(files):
        content = files[name]
        digest.update(name.encode() + b"\0" + (content.encode() if isinstance(content, str) else content) + b"\0")
    # Guardrails are versioned with the whole bundle: any change to a policy, model or binding
    # gives the verdicts a new version.
    version = digest.hexdigest()[:12]
    roles = known_roles(manifest, case)
    processes = load_bundle_processes(manifest, root, str(manifest_path))
    check_process_tools(process_tools(processes), registry, str(manifest_path))
    _check_operator_role(manifest, bindings, registry, str(manifest_path), process_tools(processes))
    guardrail_problems: list[DefinitionError] = []
    loaded_guardrails: list[GuardrailPolicy] = []
    for g in gov.guardrails:
        try:
            loaded_guardrails.append(GuardrailPolicy.from_file(
                root / g.file, g.decision, version=version, known_roles=roles, operator_role=gov.operator_role,
                missing_input=gov.missing_input,
            ).with_scope(applies_to=frozenset(g.applies_to), amount_path=g.amount))
        except DefinitionError as exc:
            guardrail_problems.extend(exc.problems or [exc])
    if guardrail_problems:
        raise DefinitionError(
            f"{len(guardrail_problems)} problem(s) in the guardrails: "
            + "; ".join(p.message for p in guardrail_problems),
            file=guardrail_problems[0].file, line=guardrail_problems[0].line, problems=guardrail_problems)
    guardrails = tuple(loaded_guardrails)
    allowlist = (
        ToolAllowlist.build(
            definition=gov.allowlist.tools,
            by_stage=gov.allowlist.stages,
            by_role=gov.allowlist.roles,
        )
        if gov.allowlist is not None
        else None
    )
    budget = BudgetLimits(**gov.budget.model_dump()) if gov.budget is not None else None
    total_budget = BudgetLimits(**gov.total_budget.model_dump()) if gov.total_budget is not None else None
    governor = Governor(
        allowlist=allowlist,
        budget=budget,
        total_budget=total_budget,
        guardrails=guardrails,
        redactor=redactor,
        external_tools=frozenset(gov.external_tools),
        provenance_role=gov.provenance_role,
        name=manifest.key,
        operator_role=gov.operator_role,
        known_roles=roles,
        max_repeats=gov.max_repeats,
    )
    prices = PriceTable(
        MappingProxyType({m: ModelPrice(p.input_per_1k, p.output_per_1k) for m, p in gov.prices.items()})
    )
    if manifest.model_routing is not None:
        from casepilot.agent.model_routing import routing_problem

        problem = routing_problem(root, manifest.decisions, manifest.model_routing.decision)
        if problem is not None:
            raise DefinitionError(problem, file=str(manifest_path))
    return CaseBundle(
        manifest=manifest,
        definitions=definitions,
        case=case,
        bindings=bindings,
        governor=governor,
        prices=prices,
        human_tasks=MappingProxyType(_human_tasks(manifest, case, str(manifest_path))),
        decision_tasks=MappingProxyType(_decision_tasks(manifest, case, bindings, root, str(manifest_path))),
        case_tasks=MappingProxyType(_case_tasks(manifest, case, str(manifest_path))),
        content_hash=digest.hexdigest(),
        folder=root,
        processes=processes,
        process_tasks=MappingProxyType(process_tasks(manifest, case, bindings, processes, str(manifest_path))),
    )


_MATERIALISED: dict[str, Path] = {}


def load_files(
    files: Mapping[str, str | bytes], registry: ToolRegistry, *, redactor: PayloadRedactor | None = None
) -> CaseBundle:
    """Load a bundle from deployed files (written once per content hash to a private temp folder).

    Tool modules shipped in ``files`` are not run: their tools must already be loaded in this
    process from the same code (``casepilot.tools.resolve_bundle_tools`` or a folder deploy),
    so that a bundle sent over the network can never bring new code.
    """
    digest = hashlib.sha256()
    for name in sorted(files):
        content = files[name]
        digest.update(name.encode() + b"\0" + (content.encode() if isinstance(content, str) else content) + b"\0")
    key = digest.hexdigest()
    folder = _MATERIALISED.get(key)
    if folder is None or not folder.exists():
        folder = Path(tempfile.mkdtemp(prefix=f"casepilot-bundle-{key[:12]}-"))
        for name, content in files.items():
            if "/" in name or "\\" in name or name.startswith("."):
                raise DefinitionError(f"bundle file name {name!r} is not a plain file name")
            target = folder / name
            if isinstance(content, str):
                target.write_text(content, encoding="utf-8")
            else:
                target.write_bytes(content)
        _MATERIALISED[key] = folder
    return _load(folder, registry, redactor=redactor, trust_code=False)
