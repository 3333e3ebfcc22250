"""Parsing of the document level: ``definitions``, ``case``, case file, roles, parameters.

``definitions`` may also hold ``process``/``decision`` declarations (their ids are recorded
so that ``processRef``/``decisionRef`` can be checked), ``import`` and artifacts such as
``textAnnotation``/``association`` (no behaviour: accepted and dropped); CMMNDI diagrams
and vendor elements are kept verbatim as extensions.
"""

from __future__ import annotations

from lxml import etree

from casepilot.cmmn import _parse_vendor as vendor
from casepilot.cmmn._normalise import complete_to_occur
from casepilot.cmmn._parse_base import ParseContext
from casepilot.cmmn._parse_items import parameters, parse_stage
from casepilot.cmmn.definitions import (
    Case,
    CaseFileItem,
    CaseFileItemDefinition,
    Definitions,
    Role,
    Stage,
)

__all__ = ["parse_definitions"]

_DEFINITIONS_CHILDREN = frozenset(
    {"case", "caseFileItemDefinition", "process", "decision", "import", "textAnnotation", "association",
     "artifact", "relationship"}
)
_CASE_CHILDREN = frozenset({"caseFileModel", "casePlanModel", "caseRoles", "input", "output", "inputs", "outputs"})
_MULTIPLICITIES = frozenset({"ZeroOrOne", "ZeroOrMore", "ExactlyOne", "OneOrMore", "Unspecified", "Unknown"})


def parse_definitions(ctx: ParseContext, root: etree._Element, content_hash: str) -> Definitions:
    """The whole document; problems are recorded on ``ctx``."""
    ctx.register_id(root)
    ctx.expression_language = root.get("expressionLanguage")
    ctx.check_children(root, _DEFINITIONS_CHILDREN)
    cases: list[Case] = []
    cfids: list[CaseFileItemDefinition] = []
    process_ids: list[str] = []
    decision_ids: list[str] = []
    for local, child in ctx.model_children(root):
        if local == "case":
            case = _case(ctx, child)
            if case is not None:
                cases.append(case)
        elif local == "caseFileItemDefinition":
            cfids.append(_case_file_item_definition(ctx, child))
        elif local in ("process", "decision"):
            ident = ctx.required_id(child)
            (process_ids if local == "process" else decision_ids).append(ident)
        elif local in ("textAnnotation", "association", "artifact", "relationship"):
            ctx.register_id(child)
    if not cases and not any(p for p in ctx.problems):
        ctx.problem(root, "the definitions contain no <case>")
    return Definitions(
        id=root.get("id"),
        name=root.get("name"),
        target_namespace=root.get("targetNamespace"),
        cases=tuple(cases),
        case_file_item_definitions=tuple(cfids),
        process_ids=tuple(process_ids),
        decision_ids=tuple(decision_ids),
        expression_language=ctx.expression_language,
        file=ctx.file,
        content_hash=content_hash,
        extensions=ctx.extensions(root, foreign_children=True),
    )


def _case(ctx: ParseContext, el: etree._Element) -> Case | None:
    ident = ctx.required_id(el)
    ctx.check_children(el, _CASE_CHILDREN)
    vendor.check_element(ctx, el, "case")
    plan_el = ctx.child(el, "casePlanModel")
    if plan_el is None:
        ctx.problem(el, "case without a <casePlanModel>")
        return None
    if len(ctx.children(el, "casePlanModel")) > 1:
        ctx.problem(el, "case with more than one <casePlanModel>")
    plan_model: Stage = complete_to_occur(parse_stage(ctx, plan_el, plan_model=True))
    items: list[CaseFileItem] = []
    for model in ctx.children(el, "caseFileModel"):
        ctx.register_id(model)
        ctx.check_children(model, frozenset({"caseFileItem"}))
        items.extend(_case_file_item(ctx, c) for c in ctx.children(model, "caseFileItem"))
    return Case(
        id=ident,
        name=el.get("name"),
        plan_model=plan_model,
        case_file_items=tuple(items),
        roles=_roles(ctx, el),
        inputs=parameters(ctx, el, "input", "inputs"),
        outputs=parameters(ctx, el, "output", "outputs"),
        location=ctx.loc(el),
        extensions=ctx.extensions(el),
    )


def _roles(ctx: ParseContext, case_el: etree._Element) -> tuple[Role, ...]:
    """CMMN 1.1 ``<caseRoles><role/></caseRoles>``; CMMN 1.0 repeats ``<caseRoles id name/>``."""
    roles: list[Role] = []
    for holder in ctx.children(case_el, "caseRoles"):
        ctx.check_children(holder, frozenset({"role"}))
        inner = ctx.children(holder, "role")
        if inner:
            ctx.register_id(holder)
            for r in inner:
                roles.append(Role(id=ctx.required_id(r), name=r.get("name"), location=ctx.loc(r)))
        elif holder.get("id") or holder.get("name"):
            # CMMN 1.0 style: the caseRoles element is itself a role.
            ident = holder.get("id") or holder.get("name") or ""
            ctx.register_id(holder)
            roles.append(Role(id=ident, name=holder.get("name"), location=ctx.loc(holder)))
    return tuple(roles)


def _case_file_item(ctx: ParseContext, el: etree._Element) -> CaseFileItem:
    ident = ctx.required_id(el)
    ctx.check_children(el, frozenset({"children"}))
    multiplicity = el.get("multiplicity", "Unspecified")
    if multiplicity not in _MULTIPLICITIES:
        ctx.problem(el, f"multiplicity {multiplicity!r} is not one of {', '.join(sorted(_MULTIPLICITIES))}")
    kids: list[CaseFileItem] = []
    for holder in ctx.children(el, "children"):
        ctx.check_children(holder, frozenset({"caseFileItem"}))
        kids.extend(_case_file_item(ctx, c) for c in ctx.children(holder, "caseFileItem"))
    return CaseFileItem(
        id=ident,
        name=el.get("name"),
        definition_ref=el.get("definitionRef"),
        multiplicity=multiplicity,
        children=tuple(kids),
        source_refs=ctx.refs(el, "sourceRefs"),
        target_refs=ctx.refs(el, "targetRefs"),
        location=ctx.loc(el),
    )


def _case_file_item_definition(ctx: ParseContext, el: etree._Element) -> CaseFileItemDefinition:
    ident = ctx.required_id(el)
    ctx.check_children(el, frozenset({"property"}))
    names = tuple(p.get("name") or "" for p in ctx.children(el, "property"))
    return CaseFileItemDefinition(
        id=ident,
        name=el.get("name"),
        definition_type=el.get("definitionType"),
        structure_ref=el.get("structureRef"),
        import_ref=el.get("importRef"),
        property_names=names,
        location=ctx.loc(el),
    )
