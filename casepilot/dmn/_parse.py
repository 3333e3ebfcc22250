"""DMN 1.1–1.5 XML → frozen definitions (``_model``), collecting every problem.

The parser is deliberately forgiving about what it does not evaluate (diagram
interchange, knowledge sources, extension elements) and strict about what it does:
each structural problem becomes a ``DefinitionError`` with file and line, and all of
them are reported together so a modeller fixes a file in one round.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, cast

from lxml import etree

from casepilot._xml import parse_xml
from casepilot.dmn._model import (
    Binding,
    BKMDef,
    BoxedDef,
    ConditionalDef,
    ContextDef,
    ContextEntryDef,
    DecisionDef,
    DecisionServiceDef,
    DefinitionsDef,
    FilterDef,
    FunctionDef,
    ImportDef,
    InputDataDef,
    InvocationDef,
    ItemDefinitionDef,
    IteratorDef,
    ListDef,
    LiteralDef,
    ParameterDef,
    RelationDef,
    UnsupportedDef,
)
from casepilot.dmn._parse_table import XmlReader
from casepilot.dmn._parse_table import line_of as _line
from casepilot.dmn._parse_table import local_name as _local
from casepilot.errors import DefinitionError

__all__ = ["DMN_NAMESPACES", "parse_definitions"]

DMN_NAMESPACES: dict[str, str] = {
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd": "1.1",
    "http://www.omg.org/spec/DMN/20180521/MODEL/": "1.2",
    "https://www.omg.org/spec/DMN/20191111/MODEL/": "1.3",
    "https://www.omg.org/spec/DMN/20211108/MODEL/": "1.4",
    "https://www.omg.org/spec/DMN/20230324/MODEL/": "1.5",
}
"""Model namespaces accepted, with the DMN version each one denotes."""

EXPRESSION_TAGS = frozenset(
    {
        "literalExpression",
        "context",
        "list",
        "relation",
        "invocation",
        "conditional",
        "for",
        "some",
        "every",
        "filter",
        "functionDefinition",
        "decisionTable",
    }
)

IteratorKind = Literal["for", "some", "every"]


class _Reader(XmlReader):
    """Walks one ``definitions`` tree; ``problems`` collects what is wrong."""

    def expression_child(self, el: etree._Element | None) -> etree._Element | None:
        if el is None:
            return None
        for c in el:
            if _local(c) in EXPRESSION_TAGS and etree.QName(c).namespace == self.ns:
                return c
        return None

    # -- boxed expressions -----------------------------------------------------------------------
    def boxed(self, el: etree._Element | None) -> BoxedDef | None:
        if el is None:
            return None
        tag = _local(el)
        tr = self.type_ref(el)
        line = _line(el)
        eid = el.get("id")
        if tag == "literalExpression":
            text = self.text_of(el)
            if text is None:
                text = "null"
            return LiteralDef(text, tr, line, eid)
        if tag == "context":
            entries = []
            for ce in self.children(el, "contextEntry"):
                var = self.child(ce, "variable")
                name = var.get("name") if var is not None else None
                entries.append(
                    ContextEntryDef(name, self.type_ref(var), self.boxed(self.expression_child(ce)))
                )
            return ContextDef(tuple(entries), tr, line, eid)
        if tag == "list":
            items = tuple(
                self.boxed(c) or LiteralDef("null", None, _line(c))
                for c in el
                if _local(c) in EXPRESSION_TAGS
            )
            return ListDef(items, tr, line, eid)
        if tag == "relation":
            columns = tuple(c.get("name") or "" for c in self.children(el, "column"))
            rows = []
            for row in self.children(el, "row"):
                cells = tuple(
                    self.boxed(c) or LiteralDef("null", None, _line(c))
                    for c in row
                    if _local(c) in EXPRESSION_TAGS
                )
                if len(cells) != len(columns):
                    self.problem(
                        f"relation row has {len(cells)} cells for {len(columns)} columns", row, "row"
                    )
                rows.append(cells)
            return RelationDef(columns, tuple(rows), tr, line, eid)
        if tag == "invocation":
            callee = self.boxed(self.expression_child(el))
            if callee is None:
                self.problem("invocation names no function to invoke", el, "invocation")
                callee = LiteralDef("null", None, line)
            bindings = []
            for b in self.children(el, "binding"):
                param = self.child(b, "parameter")
                pname = param.get("name") if param is not None else None
                if not pname:
                    self.problem("binding without a parameter name", b, "binding")
                    continue
                bindings.append(Binding(pname, self.type_ref(param), self.boxed(self.expression_child(b))))
            return InvocationDef(callee, tuple(bindings), tr, line, eid)
        if tag == "conditional":
            parts = [self.boxed(self.expression_child(self.child(el, n))) for n in ("if", "then", "else")]
            if any(p is None for p in parts):
                self.problem("conditional needs if, then and else expressions", el, "conditional")
            c, t, e = (p or LiteralDef("null", None, line) for p in parts)
            return ConditionalDef(c, t, e, tr, line, eid)
        if tag in ("for", "some", "every"):
            iterator = el.get("iteratorVariable") or ""
            if not iterator:
                self.problem(f"{tag} without an iteratorVariable", el, tag)
            source = self.boxed(self.expression_child(self.child(el, "in")))
            body_tag = "return" if tag == "for" else "satisfies"
            body = self.boxed(self.expression_child(self.child(el, body_tag)))
            if source is None or body is None:
                self.problem(f"{tag} needs <in> and <{body_tag}> expressions", el, tag)
            kind = cast(IteratorKind, tag)
            return IteratorDef(
                kind,
                iterator,
                source or LiteralDef("null", None, line),
                body or LiteralDef("null", None, line),
                tr,
                line,
                eid,
            )
        if tag == "filter":
            source = self.boxed(self.expression_child(self.child(el, "in")))
            match = self.boxed(self.expression_child(self.child(el, "match")))
            if source is None or match is None:
                self.problem("filter needs <in> and <match> expressions", el, "filter")
            return FilterDef(
                source or LiteralDef("null", None, line),
                match or LiteralDef("null", None, line),
                tr,
                line,
                eid,
            )
        if tag == "functionDefinition":
            return self.function(el)
        if tag == "decisionTable":
            return self.table(el)
        return UnsupportedDef(tag, tr, line, eid)

    def function(self, el: etree._Element) -> FunctionDef:
        params = tuple(
            ParameterDef(p.get("name") or "", self.type_ref(p)) for p in self.children(el, "formalParameter")
        )
        for p, pe in zip(params, self.children(el, "formalParameter"), strict=True):
            if not p.name:
                self.problem("formal parameter without a name", pe, "formalParameter")
        kind = el.get("kind") or "FEEL"
        return FunctionDef(
            params,
            self.boxed(self.expression_child(el)),
            kind,
            self.type_ref(el),
            _line(el),
            el.get("id"),
        )

    # -- DRG elements -----------------------------------------------------------------------------
    def item_definition(self, el: etree._Element, top: bool) -> ItemDefinitionDef:
        name = el.get("name") or ""
        if not name:
            self.problem("itemDefinition without a name", el, _local(el))
        allowed = self.text_of(self.child(el, "allowedValues"))
        constraint = self.text_of(self.child(el, "typeConstraint"))
        fi = self.child(el, "functionItem")
        return ItemDefinitionDef(
            name=name,
            type_ref=self.type_ref(el),
            is_collection=(el.get("isCollection") or "false").strip() == "true",
            allowed_values=allowed,
            components=tuple(self.item_definition(c, False) for c in self.children(el, "itemComponent")),
            function_output=self.type_ref(fi, "outputTypeRef") if fi is not None else None,
            is_function=fi is not None,
            line=_line(el),
            type_constraint=constraint,
            function_parameters=tuple(self.type_ref(p) for p in self.children(fi, "parameters"))
            if fi is not None
            else (),
        )

    def hrefs(self, el: etree._Element, req: str, target: str) -> tuple[str, ...]:
        out = []
        for r in self.children(el, req):
            t = self.child(r, target)
            if t is not None:
                href = t.get("href")
                if href:
                    out.append(href.strip())
                else:
                    self.problem(f"<{target}> without an href", t, target)
        return tuple(out)

    def named(self, el: etree._Element, kind: str) -> tuple[str, str]:
        eid = el.get("id") or ""
        name = el.get("name") or ""
        if not name:
            self.problem(f"{kind} without a name", el, kind)
        if not eid:
            eid = name
        return eid, name

    def variable_type(self, el: etree._Element) -> str | None:
        return self.type_ref(self.child(el, "variable"))

    def read(self) -> DefinitionsDef:
        root = self.root
        imports = []
        for im in self.children(root, "import"):
            ns = im.get("namespace") or ""
            if not ns:
                self.problem("import without a namespace", im, "import")
            imports.append(
                ImportDef(im.get("name") or "", ns, im.get("locationURI"), im.get("importType") or "")
            )
        items = tuple(self.item_definition(i, True) for i in self.children(root, "itemDefinition"))
        inputs = []
        for el in self.children(root, "inputData"):
            eid, name = self.named(el, "inputData")
            inputs.append(InputDataDef(eid, name, self.variable_type(el), _line(el)))
        decisions = []
        for el in self.children(root, "decision"):
            eid, name = self.named(el, "decision")
            decisions.append(
                DecisionDef(
                    id=eid,
                    name=name,
                    type_ref=self.variable_type(el),
                    required_decisions=self.hrefs(el, "informationRequirement", "requiredDecision"),
                    required_inputs=self.hrefs(el, "informationRequirement", "requiredInput"),
                    required_knowledge=self.hrefs(el, "knowledgeRequirement", "requiredKnowledge"),
                    expression=self.boxed(self.expression_child(el)),
                    line=_line(el),
                )
            )
        bkms = []
        for el in self.children(root, "businessKnowledgeModel"):
            eid, name = self.named(el, "businessKnowledgeModel")
            logic = self.child(el, "encapsulatedLogic")
            bkms.append(
                BKMDef(
                    eid,
                    name,
                    self.variable_type(el),
                    self.hrefs(el, "knowledgeRequirement", "requiredKnowledge"),
                    self.function(logic) if logic is not None else None,
                    _line(el),
                )
            )
        services = []
        for el in self.children(root, "decisionService"):
            eid, name = self.named(el, "decisionService")

            def refs(tag: str, el: etree._Element = el) -> tuple[str, ...]:
                return tuple((c.get("href") or "").strip() for c in self.children(el, tag))

            services.append(
                DecisionServiceDef(
                    eid,
                    name,
                    self.variable_type(el),
                    refs("outputDecision"),
                    refs("encapsulatedDecision"),
                    refs("inputDecision"),
                    refs("inputData"),
                    _line(el),
                )
            )
        self._check_unique(root, decisions, inputs, bkms, services)
        return DefinitionsDef(
            namespace=root.get("namespace") or "",
            name=root.get("name") or "",
            file=self.file,
            dmn_version=DMN_NAMESPACES[self.ns],
            imports=tuple(imports),
            item_definitions=items,
            input_data=tuple(inputs),
            decisions=tuple(decisions),
            bkms=tuple(bkms),
            services=tuple(services),
        )

    def _check_unique(
        self,
        root: etree._Element,
        decisions: list[DecisionDef],
        inputs: list[InputDataDef],
        bkms: list[BKMDef],
        services: list[DecisionServiceDef],
    ) -> None:
        seen_ids: set[str] = set()
        seen_names: dict[str, int | None] = {}
        elements: list[DecisionDef | InputDataDef | BKMDef | DecisionServiceDef] = [
            *decisions,
            *inputs,
            *bkms,
            *services,
        ]
        for e in elements:
            if e.id in seen_ids:
                self.problems.append(DefinitionError(f"duplicate id {e.id!r}", file=self.file, line=e.line))
            seen_ids.add(e.id)
            if e.name and e.name in seen_names:
                self.problems.append(
                    DefinitionError(
                        f"duplicate DRG element name {e.name!r} (first at line {seen_names[e.name]})",
                        file=self.file,
                        line=e.line,
                    )
                )
            seen_names.setdefault(e.name, e.line)


def parse_definitions(source: str | bytes | Path, *, file: str | None = None) -> DefinitionsDef:
    """Read one DMN file (path, or the document as bytes/str) into frozen definitions.

    Raises ``DefinitionError`` listing every structural problem with file and line.
    """
    if isinstance(source, Path):
        file = file or str(source)
    root = parse_xml(source, file=file)
    if _local(root) != "definitions" or etree.QName(root).namespace not in DMN_NAMESPACES:
        raise DefinitionError(
            f"not a DMN model: root element is {root.tag!r}; expected <definitions> in a DMN 1.1–1.5 namespace",
            file=file,
            line=_line(root),
        )
    reader = _Reader(root, file)
    result = reader.read()
    if reader.problems:
        first = reader.problems[0]
        raise DefinitionError(
            f"{len(reader.problems)} problem(s) in DMN model {result.name!r}",
            file=file,
            line=first.line,
            problems=reader.problems,
        )
    return result
