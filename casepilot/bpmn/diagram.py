"""A process drawn from its BPMN DI, with the tokens of a running instance highlighted (SVG).

The modeler already laid the process out: BPMN DI (``bpmndi:BPMNShape`` bounds and
``bpmndi:BPMNEdge`` waypoints) says where each element is. :func:`diagram_of` reads it at
deploy (kept on the :class:`~casepilot.bpmn.ProcessDefinition`); :meth:`ProcessDiagram.svg`
draws it — tasks as rounded boxes with their kind, events as circles (thick: end, double:
intermediate and boundary, dashed: non-interrupting), gateways as diamonds with their marker,
flows as arrows — with the elements holding a token marked ``active`` (orange, with a token
dot) and the completed ones ``completed`` (green). :class:`DiagramView` is what a notebook
shows (``_repr_svg_``): ``instance.diagram()``.

Every text is escaped; nothing of the model reaches the SVG as markup.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from lxml import etree

from casepilot.errors import DefinitionError

from ._names import tag

__all__ = ["DiagramView", "Edge", "ProcessDiagram", "Shape", "diagram_of"]

BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"


@dataclass(frozen=True, slots=True)
class Shape:
    """One element's box: ``kind`` is the BPMN tag's local name (``serviceTask``, ``endEvent``…)."""

    element: str
    kind: str
    name: str
    x: float
    y: float
    width: float
    height: float
    marker: str = ""
    """What distinguishes the element inside its kind: a gateway's sign, an event's definition."""
    interrupting: bool = True


@dataclass(frozen=True, slots=True)
class Edge:
    """A sequence flow (or association) as drawn."""

    element: str
    kind: str
    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True, slots=True)
class ProcessDiagram:
    """The drawn layout of one process."""

    process_id: str
    shapes: tuple[Shape, ...]
    edges: tuple[Edge, ...]

    def svg(self, active: Iterable[str] = (), completed: Iterable[str] = ()) -> str:
        """The diagram as SVG text; ``active`` / ``completed`` element ids are highlighted."""
        return _render(self, frozenset(active), frozenset(completed))


@dataclass(frozen=True, slots=True)
class DiagramView:
    """A diagram with an instance's tokens, for notebooks (``_repr_svg_``) and pages (``svg``)."""

    diagram: ProcessDiagram
    active: tuple[str, ...] = ()
    completed: tuple[str, ...] = ()

    @property
    def svg(self) -> str:
        return self.diagram.svg(self.active, self.completed)

    def _repr_svg_(self) -> str:
        return self.svg


_GATEWAY_MARKS = {"exclusiveGateway": "X", "parallelGateway": "+", "inclusiveGateway": "O", "eventBasedGateway": "E",
                  "complexGateway": "*"}
_TASK_LABELS = {"serviceTask": "service", "userTask": "user", "businessRuleTask": "rule", "manualTask": "manual",
                "sendTask": "send", "receiveTask": "receive", "scriptTask": "script", "callActivity": "call",
                "subProcess": "sub-process", "task": ""}


_EVENT_MARKS = {"timer": "\u25f7", "error": "\u26a1", "message": "\u2709", "signal": "\u25b2",
                "terminate": "\u25cf", "compensate": "\u00ab", "escalation": "\u21d1", "conditional": "\u2261",
                "cancel": "\u2715", "link": "\u2192"}


def _marker(el: etree._Element) -> str:
    local = etree.QName(el).localname
    if local in _GATEWAY_MARKS:
        return _GATEWAY_MARKS[local]
    for child in el:
        if isinstance(child.tag, str) and child.tag.endswith("EventDefinition"):
            kind = etree.QName(child).localname.removesuffix("EventDefinition")
            return _EVENT_MARKS.get(kind, kind[:1].upper())
    return _TASK_LABELS.get(local, "")


def diagram_of(root: etree._Element, process_id: str) -> ProcessDiagram | None:
    """The DI layout of ``process_id`` in a parsed BPMN document; None when it has no shapes."""
    process = next((p for p in root.iter(tag("process")) if p.get("id") == process_id), None)
    if process is None:
        return None
    elements = {str(el.get("id")): el for el in process.iter() if isinstance(el.tag, str) and el.get("id")}
    shapes: list[Shape] = []
    edges: list[Edge] = []
    for shape in root.iter(f"{{{BPMNDI}}}BPMNShape"):
        el = elements.get(str(shape.get("bpmnElement")))
        bounds = shape.find(f"{{{DC}}}Bounds")
        if el is None or bounds is None or el.tag == tag("lane"):
            continue
        try:
            box = [float(bounds.get(k, "")) for k in ("x", "y", "width", "height")]
        except ValueError:
            raise DefinitionError(f"the diagram of {el.get('id')!r} has bounds that are not numbers",
                                  line=bounds.sourceline if isinstance(bounds.sourceline, int) else None,
                                  element=el.get("id")) from None
        x, y, width, height = box
        shapes.append(Shape(str(el.get("id")), etree.QName(el).localname, el.get("name") or "", x, y, width, height,
                            marker=_marker(el), interrupting=el.get("cancelActivity") != "false"))
    for edge in root.iter(f"{{{BPMNDI}}}BPMNEdge"):
        el = elements.get(str(edge.get("bpmnElement")))
        if el is None:
            continue
        try:
            points = tuple((float(p.get("x", "")), float(p.get("y", ""))) for p in edge.iter(f"{{{DI}}}waypoint"))
        except ValueError:
            continue  # an unreadable edge is left out of the picture, not fatal
        if len(points) >= 2:
            edges.append(Edge(str(el.get("id")), etree.QName(el).localname, points))
    if not shapes:
        return None
    return ProcessDiagram(process_id, tuple(shapes), tuple(edges))


# --------------------------------------------------------------------------- drawing

_STYLE = """
.cp-bpmn text{font:12px sans-serif;fill:#222}
.cp-bpmn .kind{font-size:9px;fill:#777}
.cp-bpmn .mark{font-size:14px;fill:#444}
.cp-bpmn .shape{fill:#fff;stroke:#444;stroke-width:1.5}
.cp-bpmn .completed .shape{fill:#e8f5e9;stroke:#2e7d32}
.cp-bpmn .active .shape{fill:#fff3e0;stroke:#ef6c00;stroke-width:3}
.cp-bpmn .token{fill:#ef6c00}
.cp-bpmn .flow{fill:none;stroke:#555;stroke-width:1.2}
.cp-bpmn .association{fill:none;stroke:#999;stroke-dasharray:3 3}
.cp-bpmn .end .shape{stroke-width:4}
.cp-bpmn .non-interrupting .shape{stroke-dasharray:4 3}
"""


def _lines(text: str, width: float) -> list[str]:
    per_line = max(int(width / 7), 4)
    words, lines, current = text.split(), [], ""
    for word in words:
        if current and len(current) + 1 + len(word) > per_line:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    if current:
        lines.append(current)
    return lines[:4]


def _text(lines: list[str], cx: float, cy: float) -> str:
    if not lines:
        return ""
    top = cy - (len(lines) - 1) * 7
    spans = "".join(f'<tspan x="{cx:g}" y="{top + i * 14:g}">{escape(line)}</tspan>' for i, line in enumerate(lines))
    return f'<text text-anchor="middle" dominant-baseline="middle">{spans}</text>'


def _shape(s: Shape, state: str) -> str:
    classes = " ".join(c for c in (state, "end" if s.kind == "endEvent" else "",
                                   "" if s.interrupting else "non-interrupting") if c)
    cx, cy = s.x + s.width / 2, s.y + s.height / 2
    parts = [f'<g data-element={quoteattr(s.element)} data-kind={quoteattr(s.kind)} class={quoteattr(classes)}>',
             f"<title>{escape(s.name or s.element)} ({escape(s.kind)})</title>"]
    if s.kind.endswith("Event"):
        r = min(s.width, s.height) / 2
        parts.append(f'<circle class="shape" cx="{cx:g}" cy="{cy:g}" r="{r:g}"/>')
        if s.kind in ("intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"):
            parts.append(f'<circle class="shape" cx="{cx:g}" cy="{cy:g}" r="{max(r - 3, 1):g}" fill="none"/>')
        if s.marker:
            parts.append(f'<text class="mark" x="{cx:g}" y="{cy:g}" text-anchor="middle" '
                         f'dominant-baseline="middle">{escape(s.marker[:2])}</text>')
        parts.append(_text(_lines(s.name, 110), cx, s.y + s.height + 14))
    elif s.kind.endswith("Gateway"):
        points = f"{cx:g},{s.y:g} {s.x + s.width:g},{cy:g} {cx:g},{s.y + s.height:g} {s.x:g},{cy:g}"
        parts.append(f'<polygon class="shape" points="{points}"/>')
        parts.append(f'<text x="{cx:g}" y="{cy:g}" text-anchor="middle" dominant-baseline="middle">'
                     f"{escape(s.marker)}</text>")
        parts.append(_text(_lines(s.name, 110), cx, s.y - 10))
    else:
        parts.append(f'<rect class="shape" x="{s.x:g}" y="{s.y:g}" width="{s.width:g}" height="{s.height:g}" '
                     'rx="8"/>')
        if s.marker:
            parts.append(f'<text class="kind" x="{s.x + 5:g}" y="{s.y + 11:g}">{escape(s.marker)}</text>')
        parts.append(_text(_lines(s.name or s.element, s.width - 8), cx, cy + 3))
    if state == "active":
        parts.append(f'<circle class="token" cx="{s.x + s.width - 2:g}" cy="{s.y + 2:g}" r="6"/>')
    parts.append("</g>")
    return "".join(parts)


def _render(diagram: ProcessDiagram, active: frozenset[str], completed: frozenset[str]) -> str:
    xs = [s.x for s in diagram.shapes] + [p[0] for e in diagram.edges for p in e.points]
    ys = [s.y for s in diagram.shapes] + [p[1] for e in diagram.edges for p in e.points]
    right = max([s.x + s.width for s in diagram.shapes] + xs)
    bottom = max([s.y + s.height for s in diagram.shapes] + ys)
    left, top = min(xs) - 60, min(ys) - 30
    width, height = right - left + 60, bottom - top + 50
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="cp-bpmn" viewBox="{left:g} {top:g} {width:g} {height:g}" '
           f'width="{width:g}" height="{height:g}" data-process={quoteattr(diagram.process_id)}>',
           f"<style>{_STYLE}</style>",
           '<defs><marker id="cp-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
           'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>']
    for edge in diagram.edges:
        points = " ".join(f"{x:g},{y:g}" for x, y in edge.points)
        css = "flow" if edge.kind == "sequenceFlow" else "association"
        arrow = ' marker-end="url(#cp-arrow)"' if edge.kind == "sequenceFlow" else ""
        out.append(f'<polyline class="{css}" data-element={quoteattr(edge.element)} points="{points}"{arrow}/>')
    # Containers first so that what is inside them is drawn over them; boundary events last.
    order = sorted(diagram.shapes, key=lambda s: (s.kind != "subProcess", s.kind == "boundaryEvent"))
    for shape in order:
        state = "active" if shape.element in active else "completed" if shape.element in completed else ""
        out.append(_shape(shape, state))
    out.append("</svg>")
    return "\n".join(out)

