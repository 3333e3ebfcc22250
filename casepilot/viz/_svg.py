"""The placed nodes as SVG: CMMN's shapes (a folder for the plan model, octagon-cornered stages,
rounded tasks, pill milestones, circled event listeners, dashed discretionary items), the
sentries as diamonds — white for entry, black for exit — with dashed lines from the items they
wait on, and each item's current state as its colour and in words.

Every text is escaped: names come from a deployed model, never trusted as markup.
"""

from __future__ import annotations

from html import escape

from ._model import Link, Node

__all__ = ["STATE_COLOURS", "render"]

STATE_COLOURS: dict[str, tuple[str, str]] = {
    "Active": ("#dce8ff", "#1f4fb0"),
    "Enabled": ("#fff3c4", "#8a6d00"),
    "Available": ("#ffffff", "#5b6472"),
    "Completed": ("#d6efdc", "#1f6b34"),
    "Occurred": ("#d6efdc", "#1f6b34"),
    "Disabled": ("#eceef1", "#5b6472"),
    "Suspended": ("#ffe2c2", "#8a4b00"),
    "Failed": ("#fbdada", "#9b1c1c"),
    "Terminated": ("#fbdada", "#9b1c1c"),
    "Closed": ("#eceef1", "#5b6472"),
}
"""State -> (fill, stroke and text colour); an item without an instance is drawn white and grey."""
_NONE = ("#ffffff", "#7a8391")


def _person(x: float, y: float, stroke: str) -> str:
    """A small person glyph (human tasks, user event listeners): fonts need not have emoji."""
    return (f'<circle cx="{x}" cy="{y - 3}" r="2.6" fill="none" stroke="{stroke}"/>'
            f'<path d="M{x - 4.5},{y + 5} q4.5,-7 9,0" fill="none" stroke="{stroke}"/>')


def _clock(x: float, y: float, stroke: str) -> str:
    return (f'<circle cx="{x}" cy="{y}" r="5.5" fill="none" stroke="{stroke}"/>'
            f'<path d="M{x},{y - 3.5} V{y} H{x + 3}" fill="none" stroke="{stroke}"/>')


_KIND_WORDS = {"decisionTask": "decision", "processTask": "process", "caseTask": "case"}


def _t(value: object) -> str:
    return escape(str(value), quote=True)


def _label(text: str, width: float) -> list[str]:
    """``text`` broken into at most two lines that fit ``width`` (about 7 px a character)."""
    per_line = max(6, int(width / 7))
    words, lines, line = text.split(), [], ""
    for word in words:
        if len(line) + len(word) + 1 > per_line and line:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    if len(lines) > 2:
        lines = [lines[0], (" ".join(lines[1:]))[: per_line - 1] + "…"]
    return lines


def _shape(node: Node) -> str:
    fill, stroke = STATE_COLOURS.get(node.state or "", _NONE)
    dash = ' stroke-dasharray="5 3"' if node.discretionary else ""
    x, y, w, h = node.x, node.y, node.w, node.h
    state = node.state or ("not planned" if node.discretionary else "not started")
    parts = [f'<g class="plan-item kind-{_t(node.kind)}" data-element="{_t(node.id)}" data-state="{_t(state)}">',
             f"<title>{_t(node.name)}: {_t(state)}</title>"]
    common = f'fill="{fill}" stroke="{stroke}" stroke-width="1.6"{dash}'
    text_x, text_y = x + w / 2, y + h / 2
    if node.kind == "casePlanModel":
        parts.append(f'<path d="M{x},{y + 14} h{min(w * 0.45, 220)} l8,-14 h-{min(w * 0.45, 220) - 16} z" '
                     f'fill="{fill}" stroke="{stroke}" stroke-width="1.6"/>')
        parts.append(f'<rect x="{x}" y="{y + 14}" width="{w}" height="{h - 14}" {common} fill-opacity="0.35"/>')
        parts.append(f'<text x="{x + 8}" y="{y + 11}" class="title">{_t(node.name)} · {_t(state)}</text>')
        parts.append("</g>")
        return "".join(parts)
    if node.kind == "stage":
        c = 10
        parts.append(f'<path d="M{x + c},{y} H{x + w - c} L{x + w},{y + c} V{y + h - c} L{x + w - c},{y + h} '
                     f'H{x + c} L{x},{y + h - c} V{y + c} Z" {common} fill-opacity="0.45"/>')
        parts.append(f'<text x="{x + 10}" y="{y + 17}" class="title">{_t(node.name)} · {_t(state)}</text>')
        parts.append("</g>")
        return "".join(parts)
    if node.kind.endswith("ventListener"):
        r = 15
        cx, cy = x + w / 2, y + r + 2
        parts.append(f'<circle cx="{cx}" cy="{cy}" r="{r}" {common}/>'
                     f'<circle cx="{cx}" cy="{cy}" r="{r - 4}" fill="none" stroke="{stroke}"/>')
        if node.kind.startswith("timer"):
            parts.append(_clock(cx, cy, stroke))
        elif node.kind.startswith("user"):
            parts.append(_person(cx, cy, stroke))
        for i, line in enumerate(_label(node.name, w)):
            parts.append(f'<text x="{cx}" y="{y + 2 * r + 16 + 12 * i}" text-anchor="middle">{_t(line)}</text>')
        parts.append(f'<text x="{cx}" y="{y + 2 * r + 16 + 12 * 2 + 2}" text-anchor="middle" class="state" '
                     f'fill="{stroke}">{_t(state)}</text>')
        parts.append("</g>")
        return "".join(parts)
    rx = h / 2 if node.kind == "milestone" else 8
    parts.append(f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="{rx}" {common}/>')
    if node.kind == "humanTask":
        parts.append(_person(x + 10, y + 10, stroke))
    elif node.kind in _KIND_WORDS:
        parts.append(f'<text x="{x + 5}" y="{y + 12}" class="icon" fill="{stroke}">{_KIND_WORDS[node.kind]}</text>')
    lines = _label(node.name, w - 12)
    top = text_y - 6 * len(lines) - 4
    for i, line in enumerate(lines):
        parts.append(f'<text x="{text_x}" y="{top + 12 * i + 10}" text-anchor="middle">{_t(line)}</text>')
    parts.append(f'<text x="{text_x}" y="{y + h - 6}" text-anchor="middle" class="state" '
                 f'fill="{stroke}">{_t(state)}</text>')
    parts.append("</g>")
    return "".join(parts)


def _diamonds(node: Node) -> tuple[str, dict[str, tuple[float, float]]]:
    """The node's sentries as diamonds on its left (entry) and right (exit) edges; criterion id -> its point."""
    out: list[str] = []
    points: dict[str, tuple[float, float]] = {}
    for criteria, x, fill in ((node.entry, node.x, "#ffffff"), (node.exit, node.x + node.w, "#1d2433")):
        for i, criterion in enumerate(criteria):
            y = node.y + min(node.h - 8, 14 + 16 * i) if node.kind == "casePlanModel" else \
                node.y + node.h * (i + 1) / (len(criteria) + 1)
            points[criterion.id or criterion.sentry_ref] = (x, y)
            out.append(f'<path class="sentry" data-sentry="{_t(criterion.sentry_ref)}" '
                       f'd="M{x},{y - 8} L{x + 6},{y} L{x},{y + 8} L{x - 6},{y} Z" fill="{fill}" '
                       f'stroke="#1d2433" stroke-width="1.2"><title>{criterion.kind} criterion '
                       f'{_t(criterion.sentry_ref)}</title></path>')
    return "".join(out), points


def render(root: Node, link_list: list[Link], *, title: str) -> str:
    """The whole diagram as one ``<svg>`` element."""
    nodes = list(root.walk())
    width = max(n.x + n.w for n in nodes) + 14
    height = max(n.y + n.h for n in nodes) + 14
    by_id = {n.id: n for n in nodes}
    shapes = [_shape(n) for n in nodes]
    diamonds, points = [], {}
    for node in nodes:
        drawn, found = _diamonds(node)
        diamonds.append(drawn)
        points.update(found)
    lines = []
    for link in link_list:
        source, end = by_id[link.source], points.get(link.criterion.id or link.criterion.sentry_ref)
        if end is None:
            continue
        sx = source.x + source.w if source.x + source.w <= end[0] else source.x
        sy = source.y + min(source.h / 2, 17)
        lines.append(f'<path class="on-part" data-from="{_t(link.source)}" data-to="{_t(link.target)}" '
                     f'd="M{sx},{sy} C{(sx + end[0]) / 2},{sy} {(sx + end[0]) / 2},{end[1]} {end[0]},{end[1]}" '
                     f'fill="none" stroke="#5b6472" stroke-dasharray="4 3"><title>{_t(source.name)} '
                     f'{_t(link.event)}</title></path>')
    style = ("<style>text{font:12px system-ui,sans-serif;fill:#1d2433}.title{font-weight:600}"
             ".state{font-size:10.5px}.icon{font-size:9.5px}</style>")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="plan-diagram" role="img" '
            f'aria-label="{_t(title)}" width="{width:.0f}" height="{height:.0f}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}"><title>{_t(title)}</title>{style}'
            f'{"".join(shapes)}{"".join(lines)}{"".join(diamonds)}</svg>')
