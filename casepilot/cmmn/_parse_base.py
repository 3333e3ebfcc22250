"""Parse context and small XML helpers shared by the CMMN parser modules.

The parser never stops at the first problem: every module appends to ``ParseContext.problems``
and the public entry point raises one ``DefinitionError`` listing them all (DESIGN.md, example 2).
CMMN 1.0 documents are read with the same code: ``ParseContext.ns`` is the model namespace of
the document and the few renamed elements are mapped in ``CMMN10_ALIASES``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from types import MappingProxyType

from lxml import etree

from casepilot.cmmn.definitions import (
    CMMN_NS,
    NO_EXTENSIONS,
    Expression,
    ExtensionElement,
    Extensions,
    SourceLocation,
)
from casepilot.errors import DefinitionError

__all__ = [
    "CMMN10_ALIASES",
    "CMMN10_NS",
    "MODEL_NAMESPACES",
    "ParseContext",
    "attributes",
    "line_of",
]

CMMN10_NS = "http://www.omg.org/spec/CMMN/20131201/MODEL"
"""The CMMN 1.0 model namespace; accepted and mapped onto the 1.1 definitions."""

MODEL_NAMESPACES = (CMMN_NS, CMMN10_NS)

CMMN10_ALIASES = MappingProxyType(
    {"userEvent": "userEventListener", "timerEvent": "timerEventListener", "event": "eventListener"}
)
"""CMMN 1.0 element names that CMMN 1.1 renamed."""


@dataclass
class ParseContext:
    """Mutable state of one parse: where we are, what we found wrong, which ids we saw."""

    file: str | None
    ns: str = CMMN_NS
    strict_extensions: bool = True
    expression_language: str | None = None
    problems: list[DefinitionError] = field(default_factory=list)
    ids: dict[str, int | None] = field(default_factory=dict)

    # -- locations and problems ------------------------------------------------------------

    def loc(self, el: etree._Element) -> SourceLocation:
        """The source location of ``el``."""
        return SourceLocation(self.file, line_of(el))

    def problem(self, el: etree._Element | None, message: str, *, element: str | None = None) -> None:
        """Record a problem at ``el`` (named ``<tag id='…'>`` unless ``element`` is given)."""
        line = line_of(el) if el is not None else None
        if element is None and el is not None:
            element = self.describe(el)
        self.problems.append(DefinitionError(message, file=self.file, line=line, element=element))

    def problem_at(self, where: SourceLocation | None, element: str | None, message: str) -> None:
        """Record a problem found after parsing, at a definition's ``location``."""
        line = where.line if where is not None else None
        self.problems.append(DefinitionError(message, file=self.file, line=line, element=element))

    def describe(self, el: etree._Element) -> str:
        """``tag id='x'`` — how problems name an element."""
        ident = el.get("id")
        name = self.local(el)
        return f"{name} id='{ident}'" if ident else name

    def register_id(self, el: etree._Element) -> str | None:
        """Note ``el``'s id; a second element with the same id is a problem."""
        ident = el.get("id")
        if ident is None:
            return None
        if ident in self.ids:
            first = self.ids[ident]
            where = f" (first defined at line {first})" if first is not None else ""
            self.problem(el, f"duplicate id '{ident}'{where}")
        else:
            self.ids[ident] = line_of(el)
        return ident

    def required_id(self, el: etree._Element) -> str:
        """``el``'s id, registering it; CMMN 1.1 makes ids optional, so a missing one is generated.

        Generated ids (``<tag>@<line>``) are stable for a given file and cannot clash with
        XML ids, which may not contain ``@``.
        """
        ident = self.register_id(el)
        if ident:
            return ident
        base = f"{self.local(el)}@{line_of(el)}"
        ident, n = base, 1
        while ident in self.ids:
            n += 1
            ident = f"{base}.{n}"
        self.ids[ident] = line_of(el)
        return ident

    # -- element helpers -------------------------------------------------------------------

    def is_model(self, el: etree._Element) -> bool:
        """Whether ``el`` is an element of the document's CMMN namespace."""
        return isinstance(el.tag, str) and etree.QName(el).namespace == self.ns

    def local(self, el: etree._Element) -> str:
        """Local name of a model element (CMMN 1.0 names mapped to 1.1), else the qualified tag."""
        if not isinstance(el.tag, str):
            return "#comment"
        qn = etree.QName(el)
        if qn.namespace == self.ns:
            if self.ns == CMMN10_NS:
                return CMMN10_ALIASES.get(qn.localname, qn.localname)
            return qn.localname
        return str(el.tag)

    def model_children(self, el: etree._Element) -> Iterator[tuple[str, etree._Element]]:
        """``(local name, element)`` of ``el``'s children in the model namespace."""
        for child in el:
            if self.is_model(child):
                yield self.local(child), child

    def child(self, el: etree._Element, name: str) -> etree._Element | None:
        """The first model child called ``name``."""
        for local, child in self.model_children(el):
            if local == name:
                return child
        return None

    def children(self, el: etree._Element, name: str) -> list[etree._Element]:
        """Every model child called ``name``."""
        return [c for local, c in self.model_children(el) if local == name]

    def check_children(self, el: etree._Element, allowed: frozenset[str]) -> None:
        """Report model children that the element's CMMN type does not allow."""
        for local, child in self.model_children(el):
            if local not in allowed and local not in _ALWAYS_ALLOWED:
                self.problem(child, f"unsupported element <{local}> inside <{self.local(el)}>")

    def text(self, el: etree._Element | None) -> str | None:
        """Stripped text content (CDATA included), ``None`` when empty."""
        if el is None:
            return None
        value = "".join(t for t in el.itertext() if isinstance(t, str)).strip()
        return value or None

    def bool_attr(self, el: etree._Element, name: str, default: bool) -> bool:
        """An ``xsd:boolean`` attribute; anything else is a problem."""
        raw = el.get(name)
        if raw is None:
            return default
        value = raw.strip().lower()
        if value in ("true", "1"):
            return True
        if value in ("false", "0"):
            return False
        self.problem(el, f"attribute {name}={raw!r} is not a boolean (true/false)")
        return default

    def refs(self, el: etree._Element, name: str) -> tuple[str, ...]:
        """A whitespace-separated list of id references (``xsd:IDREFS``)."""
        raw = el.get(name)
        return tuple(raw.split()) if raw else ()

    def documentation(self, el: etree._Element) -> str | None:
        """Text of the element's ``documentation`` children, joined."""
        texts = [t for d in self.children(el, "documentation") if (t := self.text(d))]
        return "\n".join(texts) or None

    def expression(self, el: etree._Element | None) -> Expression | None:
        """An expression element (``condition``, ``timerExpression``, …); CMMN 1.0 ``body`` too."""
        if el is None:
            return None
        body_el = self.child(el, "body")
        body = self.text(body_el) if body_el is not None else _own_text(el)
        language = el.get("language") or self.expression_language
        text = body or ""
        if text.startswith("#{") and text.endswith("}"):
            # JUEL's deferred ``#{…}`` means the same as ``${…}`` in a condition: one dialect downstream.
            text = "${" + text[2:]
        return Expression(body=text, language=language, location=self.loc(el))

    def extensions(self, el: etree._Element, *, foreign_children: bool = False) -> Extensions:
        """Foreign-namespace attributes and ``extensionElements`` children of ``el``, verbatim.

        ``foreign_children`` also keeps direct children in other namespaces (CMMNDI diagrams
        sit directly under ``definitions``).
        """
        attrs = {k: v for k, v in attributes(el).items() if k.startswith("{")}
        elements: list[ExtensionElement] = []
        if foreign_children:
            elements.extend(_extension_element(c) for c in el if isinstance(c.tag, str) and not self.is_model(c))
        for holder in self.children(el, "extensionElements"):
            for child in holder:
                if isinstance(child.tag, str):
                    elements.append(_extension_element(child))
        if not attrs and not elements:
            return NO_EXTENSIONS
        return Extensions(attributes=MappingProxyType(attrs), elements=tuple(elements))


_ALWAYS_ALLOWED = frozenset({"documentation", "extensionElements"})


def _own_text(el: etree._Element) -> str | None:
    """Text of ``el`` itself and of its non-model children (CDATA included)."""
    value = "".join(t for t in el.itertext() if isinstance(t, str)).strip()
    return value or None


def _extension_element(el: etree._Element) -> ExtensionElement:
    xml = etree.tostring(el, encoding="unicode", with_tail=False)
    return ExtensionElement(tag=str(el.tag), attributes=MappingProxyType(attributes(el)), xml=xml)


def line_of(el: etree._Element) -> int | None:
    """lxml's source line of ``el`` (``None`` when unknown)."""
    line = el.sourceline
    return line if isinstance(line, int) else None


def attributes(el: etree._Element) -> dict[str, str]:
    """``el``'s attributes as text (lxml's stubs also allow bytes)."""
    return {_s(k): _s(v) for k, v in el.attrib.items()}


def _s(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value
