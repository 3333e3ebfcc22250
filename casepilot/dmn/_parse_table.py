"""The shared part of the DMN XML reader: element helpers and decision tables.

Split from ``_parse`` to keep each module small; ``_parse._Reader`` extends
:class:`XmlReader` with boxed expressions and the DRG elements.
"""

from __future__ import annotations

from typing import cast

from lxml import etree

from casepilot.dmn._model import DecisionTableDef, HitPolicy, InputClauseDef, OutputClauseDef, RuleDef
from casepilot.errors import DefinitionError

__all__ = ["XmlReader", "line_of", "local_name"]

_HIT_POLICIES: dict[str, str] = {
    "UNIQUE": "U",
    "ANY": "A",
    "PRIORITY": "P",
    "FIRST": "F",
    "RULE ORDER": "R",
    "OUTPUT ORDER": "O",
    "COLLECT": "C",
}
_AGGREGATIONS = {"SUM": "+", "MIN": "<", "MAX": ">", "COUNT": "#"}


def local_name(el: etree._Element) -> str:
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def line_of(el: etree._Element) -> int | None:
    """The element's source line (lxml's stubs type it loosely)."""
    line = el.sourceline
    return line if isinstance(line, int) else None


class XmlReader:
    """Reads elements of one ``definitions`` tree (in its DMN namespace); ``problems``
    collects what is wrong, each with file and line."""

    def __init__(self, root: etree._Element, file: str | None) -> None:
        self.root = root
        self.file = file
        self.ns = etree.QName(root).namespace or ""
        self.problems: list[DefinitionError] = []

    # -- helpers ---------------------------------------------------------------------------------
    def problem(self, message: str, el: etree._Element | None, element: str | None = None) -> None:
        line = line_of(el) if el is not None else None
        self.problems.append(DefinitionError(message, file=self.file, line=line, element=element))

    def children(self, el: etree._Element, name: str) -> list[etree._Element]:
        return [c for c in el if local_name(c) == name and etree.QName(c).namespace == self.ns]

    def child(self, el: etree._Element, name: str) -> etree._Element | None:
        for c in el:
            if local_name(c) == name and etree.QName(c).namespace == self.ns:
                return c
        return None

    def text_of(self, el: etree._Element | None, name: str = "text") -> str | None:
        """The ``<text>`` (or other named child) content of ``el``, None if absent."""
        if el is None:
            return None
        t = self.child(el, name)
        if t is None:
            return None
        return t.text or ""

    def type_ref(self, el: etree._Element | None, attr: str = "typeRef") -> str | None:
        """A typeRef attribute (or DMN 1.1 child), with a QName prefix such as ``feel:`` removed."""
        if el is None:
            return None
        value = el.get(attr)
        if value is None:
            sub = self.child(el, "typeRef")
            value = sub.text if sub is not None else None
        if value is None:
            return None
        value = value.strip()
        if ":" in value:
            prefix, rest = value.split(":", 1)
            if prefix in (el.nsmap or {}) or prefix in ("feel", "FEEL"):
                value = rest
        return value or None

    def table(self, el: etree._Element) -> DecisionTableDef:
        hp_text = (el.get("hitPolicy") or "UNIQUE").strip().upper()
        agg = el.get("aggregation")
        hp = _HIT_POLICIES.get(hp_text)
        if hp is None:
            self.problem(f"unknown hit policy {hp_text!r}", el, "decisionTable")
            hp = "U"
        if agg:
            sym = _AGGREGATIONS.get(agg.strip().upper())
            if sym is None or hp != "C":
                self.problem(f"aggregation {agg!r} is only allowed with COLLECT", el, "decisionTable")
            else:
                hp = "C" + sym
        inputs = []
        for inp in self.children(el, "input"):
            ie = self.child(inp, "inputExpression")
            text = self.text_of(ie)
            if text is None:
                self.problem("decision table input without an inputExpression text", inp, "input")
                text = "null"
            inputs.append(
                InputClauseDef(
                    inp.get("id"),
                    inp.get("label"),
                    text,
                    self.type_ref(ie),
                    self.text_of(self.child(inp, "inputValues")),
                    line_of(inp),
                )
            )
        outputs = []
        for out in self.children(el, "output"):
            outputs.append(
                OutputClauseDef(
                    out.get("id"),
                    out.get("name"),
                    self.type_ref(out),
                    self.text_of(self.child(out, "outputValues")),
                    self.text_of(self.child(out, "defaultOutputEntry")),
                    line_of(out),
                )
            )
        if not outputs:
            self.problem("decision table without outputs", el, "decisionTable")
        if len(outputs) > 1 and any(not o.name for o in outputs):
            self.problem("every output of a multi-output decision table needs a name", el, "decisionTable")
        if len(outputs) > 1 and hp in ("C+", "C<", "C>", "C#"):
            self.problem("an aggregating COLLECT table must have a single output", el, "decisionTable")
        rules = []
        for i, r in enumerate(self.children(el, "rule")):
            ins = tuple(
                (c.text or "") if (c := self.child(e, "text")) is not None else ""
                for e in self.children(r, "inputEntry")
            )
            outs = tuple(
                (c.text or "") if (c := self.child(e, "text")) is not None else ""
                for e in self.children(r, "outputEntry")
            )
            if len(ins) != len(inputs):
                self.problem(f"rule has {len(ins)} input entries for {len(inputs)} inputs", r, "rule")
            if len(outs) != len(outputs):
                self.problem(f"rule has {len(outs)} output entries for {len(outputs)} outputs", r, "rule")
            rules.append(RuleDef(r.get("id") or f"rule-{i + 1}", ins, outs, line_of(r)))
        return DecisionTableDef(
            cast(HitPolicy, hp),
            tuple(inputs),
            tuple(outputs),
            tuple(rules),
            el.get("outputLabel"),
            self.type_ref(el),
            line_of(el),
            el.get("id"),
        )
