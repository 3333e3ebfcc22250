"""Where each node goes: the model's own CMMNDI coordinates when it has them for every node, a
simple layered layout otherwise.

The layout puts a stage's children in columns by how many sentries lie before them (an item
whose entry criterion waits on a sibling stands right of it), stacked within a column — so the
drawing reads left to right the way the case runs.
"""

from __future__ import annotations

from collections.abc import Mapping

from casepilot._xml import parse_xml
from casepilot.cmmn.definitions import Case, Definitions, PlanItemOnPart
from casepilot.errors import DefinitionError

from ._model import Node

__all__ = ["di_bounds", "lay_out"]

_CMMNDI = "{http://www.omg.org/spec/CMMN/20151109/CMMNDI}"
_DC = "{http://www.omg.org/spec/CMMN/20151109/DC}"
PAD, HEADER, GAP = 14.0, 26.0, 28.0
_SIZES = {"milestone": (150.0, 50.0)}
_LISTENER = (110.0, 58.0)
_TASK = (150.0, 56.0)


def di_bounds(definitions: Definitions | None) -> dict[str, tuple[float, float, float, float]]:
    """Element id -> (x, y, width, height) of its CMMNDI shape, from the definitions' DI (kept verbatim by the parser)."""
    found: dict[str, tuple[float, float, float, float]] = {}
    if definitions is None:
        return found
    for element in definitions.extensions.elements:
        if element.tag != f"{_CMMNDI}CMMNDI":
            continue
        try:
            root = parse_xml(element.xml)
        except DefinitionError:
            continue  # a DI the parser kept but cannot read again: draw with the layout
        for shape in root.iter(f"{_CMMNDI}CMMNShape"):
            ref, bounds = shape.get("cmmnElementRef"), shape.find(f"{_DC}Bounds")
            if ref is None or bounds is None:
                continue
            try:
                found[ref] = tuple(float(bounds.get(k, "")) for k in ("x", "y", "width", "height"))  # type: ignore[assignment]
            except ValueError:
                continue
    return found


def lay_out(case: Case, root: Node, bounds: Mapping[str, tuple[float, float, float, float]]) -> str:
    """Place every node (absolute coordinates); returns ``"di"`` or ``"layout"``, whichever placed them."""
    nodes = list(root.walk())
    if bounds and all(n.id in bounds for n in nodes):
        left = min(bounds[n.id][0] for n in nodes) - PAD
        top = min(bounds[n.id][1] for n in nodes) - PAD
        for n in nodes:
            x, y, w, h = bounds[n.id]
            n.x, n.y, n.w, n.h = x - left, y - top, w, h
        return "di"
    _size(case, root)
    _place(root, PAD, PAD)
    return "layout"


def _size(case: Case, node: Node) -> None:
    """Size ``node`` and give its children positions relative to it."""
    if node.kind not in ("stage", "casePlanModel"):
        node.w, node.h = _LISTENER if node.kind.endswith("ventListener") else _SIZES.get(node.kind, _TASK)
        return
    for child in node.children:
        _size(case, child)
    columns: dict[int, list[Node]] = {}
    levels = _levels(case, node.children)
    for child in node.children:
        columns.setdefault(levels[child.id], []).append(child)
    x = PAD
    height = 0.0
    for level in sorted(columns):
        y = HEADER
        width = max(c.w for c in columns[level])
        for child in columns[level]:
            child.x, child.y = x, y
            y += child.h + GAP
        height = max(height, y - GAP)
        x += width + GAP * 1.6
    node.w = max(x - GAP * 1.6 + PAD, 180.0)
    node.h = max(height + PAD, HEADER + 40.0)


def _place(node: Node, dx: float, dy: float) -> None:
    node.x += dx
    node.y += dy
    for child in node.children:
        _place(child, node.x, node.y)


def _levels(case: Case, siblings: list[Node]) -> dict[str, int]:
    """Sibling id -> column: one right of the furthest sibling its entry sentries wait on."""
    owner: dict[str, str] = {}
    for sibling in siblings:
        for inner in sibling.walk():
            owner[inner.id] = sibling.id
    waits: dict[str, set[str]] = {}
    for sibling in siblings:
        sources: set[str] = set()
        for criterion in sibling.entry:
            sentry = case.sentries.get(criterion.sentry_ref)
            for part in sentry.on_parts if sentry is not None else ():
                if isinstance(part, PlanItemOnPart) and part.source_ref in owner:
                    sources.add(owner[part.source_ref])
        sources.discard(sibling.id)
        waits[sibling.id] = sources
    levels: dict[str, int] = {}

    def level(ident: str, seen: frozenset[str]) -> int:
        if ident in levels:
            return levels[ident]
        before = [level(s, seen | {ident}) for s in waits.get(ident, ()) if s not in seen]
        levels[ident] = 1 + max(before) if before else 0
        return levels[ident]

    for sibling in siblings:
        level(sibling.id, frozenset())
    return levels
