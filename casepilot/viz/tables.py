"""Tables and grids a notebook shows as pictures: a case's history and verdicts, a DMN decision
table's rules, a decision evaluated over a grid of two inputs (a heat map).

Each object has ``_repr_html_`` (Jupyter draws it), ``rows`` for code, and ``to_pandas()`` for
analysts who have pandas (imported only then; casepilot does not depend on it). Every cell is
escaped: values come from letters, tools and models.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from casepilot._xml import parse_xml
from casepilot.agent.timeline import timeline
from casepilot.store import HistoryEvent

__all__ = ["DecisionGrid", "Table", "decision_grid", "decision_table", "history_table", "verdict_table"]

_DMN = "{https://www.omg.org/spec/DMN/20191111/MODEL/}"


@dataclass(frozen=True, slots=True)
class Table:
    """Rows under named columns, shown as an HTML table."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    caption: str = ""

    def _repr_html_(self) -> str:
        head = "".join(f"<th style='text-align:left'>{escape(c)}</th>" for c in self.columns)
        body = "".join("<tr>" + "".join(f"<td style='text-align:left'>{escape(_text(v))}</td>" for v in row) + "</tr>"
                       for row in self.rows)
        caption = f"<caption style='text-align:left'>{escape(self.caption)}</caption>" if self.caption else ""
        return f"<table class='casepilot-table'>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def to_pandas(self) -> Any:
        """A ``pandas.DataFrame`` of the rows (needs pandas installed)."""
        try:
            pd = importlib.import_module("pandas")  # optional: casepilot does not depend on it
        except ImportError as exc:
            raise ImportError("to_pandas needs pandas: pip install pandas") from exc
        return pd.DataFrame(list(self.rows), columns=list(self.columns))

    def __len__(self) -> int:
        return len(self.rows)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return str(value)


def history_table(events: Iterable[HistoryEvent], group: str | None = None) -> Table:
    """A case's history as people read it (``casepilot.agent.timeline``): time, actor, kind, what, rules."""
    rows = tuple((e.seq, e.at.strftime("%Y-%m-%d %H:%M:%S"), e.actor, e.kind, e.what, e.rule_ids)
                 for e in timeline(events, group))
    return Table(("#", "at", "actor", "kind", "what", "rules"), rows, "history")


def verdict_table(events: Iterable[HistoryEvent]) -> Table:
    """Every governance verdict of a case: what was reviewed, the verdict, the rules that decided, why."""
    rows = []
    labels: dict[str, str] = {}
    """Option id -> what the plan called it ("Pay claim"), for the action column."""
    for e in events:
        p = e.payload
        if e.kind == "plan" and p.get("chose") and p.get("label"):
            labels[str(p["chose"])] = str(p["label"])
        if e.kind != "verdict":
            continue
        if p.get("engine") == "bpmn":  # a BPMN service task's call: the verdict is nested, the action is its element
            p = {**(p.get("verdict") or {}), "action": f"{p.get('tool')} at {p.get('process')}/{p.get('element')}"}
        action = str(p.get("action") or p.get("operation") or "")
        rows.append((e.seq, labels.get(action, action), p.get("kind"), e.rule_ids, p.get("role") or "",
                     p.get("reason") or ""))
    return Table(("#", "action", "verdict", "rules", "role", "reason"), tuple(rows), "verdicts")


def decision_table(source: str | bytes | Path, decision: str) -> Table:
    """The rules of DMN decision ``decision`` (its name or id) as written: one row per rule, its id,
    input entries and output entries under the table's input and output names."""
    root = parse_xml(source)
    ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else _DMN
    for element in root.iter(f"{ns}decision"):
        if decision not in (element.get("name"), element.get("id")):
            continue
        table = element.find(f"{ns}decisionTable")
        if table is None:
            raise ValueError(f"decision {decision!r} is not a decision table")
        inputs = tuple(i.get("label") or (i.findtext(f"{ns}inputExpression/{ns}text") or "?").strip()
                       for i in table.iterfind(f"{ns}input"))
        outputs = tuple(o.get("name") or o.get("label") or "output" for o in table.iterfind(f"{ns}output"))
        rows = tuple((r.get("id") or "", *((e.findtext(f"{ns}text") or "").strip()
                                            for e in [*r.iterfind(f"{ns}inputEntry"), *r.iterfind(f"{ns}outputEntry")]))
                     for r in table.iterfind(f"{ns}rule"))
        policy = table.get("hitPolicy", "UNIQUE")
        return Table(("rule", *inputs, *outputs), rows, f"{element.get('name')} (hit policy {policy})")
    raise ValueError(f"no decision {decision!r} in the model")


_PALETTE = ("#d6efdc", "#fff3c4", "#fbdada", "#dce8ff", "#eadcff", "#ffe2c2")


@dataclass(frozen=True, slots=True)
class DecisionGrid:
    """A decision evaluated over two inputs: the outcome (and the rule) in every cell, coloured by outcome."""

    x_name: str
    y_name: str
    xs: tuple[Any, ...]
    ys: tuple[Any, ...]
    cells: Mapping[tuple[Any, Any], tuple[str, tuple[str, ...]]]
    """(x, y) -> (outcome, rule ids)."""

    def outcomes(self) -> list[str]:
        return sorted({outcome for outcome, _ in self.cells.values()})

    def _repr_svg_(self) -> str:
        w, h, left, top = 120, 42, 90, 30
        colour = {o: _PALETTE[i % len(_PALETTE)] for i, o in enumerate(self.outcomes())}
        parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{left + w * len(self.xs) + 10}' "
                 f"height='{top + h * len(self.ys) + 40}' role='img' aria-label='{escape(self.y_name)} by "
                 f"{escape(self.x_name)}'><style>text{{font:11px system-ui,sans-serif}}</style>"]
        for i, x in enumerate(self.xs):
            parts.append(f"<text x='{left + w * i + w / 2}' y='{top - 10}' text-anchor='middle'>{escape(str(x))}</text>")
        for j, y in enumerate(self.ys):
            parts.append(f"<text x='{left - 8}' y='{top + h * j + h / 2 + 4}' text-anchor='end'>{escape(str(y))}</text>")
            for i, x in enumerate(self.xs):
                outcome, rules = self.cells[(x, y)]
                parts.append(f"<rect x='{left + w * i}' y='{top + h * j}' width='{w - 2}' height='{h - 2}' "
                             f"fill='{colour[outcome]}' stroke='#5b6472' stroke-width='0.5'/>"
                             f"<text x='{left + w * i + w / 2}' y='{top + h * j + 17}' text-anchor='middle'>"
                             f"{escape(outcome)}</text><text x='{left + w * i + w / 2}' y='{top + h * j + 31}' "
                             f"text-anchor='middle' fill='#5b6472'>{escape(', '.join(rules))}</text>")
        parts.append(f"<text x='{left + w * len(self.xs) / 2}' y='{top + h * len(self.ys) + 22}' "
                     f"text-anchor='middle'>{escape(self.x_name)} →</text>")
        parts.append(f"<text x='8' y='{top - 10}'>{escape(self.y_name)} ↓</text></svg>")
        return "".join(parts)

    def _repr_html_(self) -> str:
        return self._repr_svg_()


def decision_grid(evaluate: Callable[[Mapping[str, Any]], Any], x: tuple[str, Sequence[Any]],
                  y: tuple[str, Sequence[Any]], *, fixed: Mapping[str, Any] | None = None,
                  outcome: Callable[[Any], str] = lambda r: str(r.value)) -> DecisionGrid:
    """Evaluate a decision at every (x, y) — ``evaluate(inputs)`` returns a ``DecisionResult``, e.g.
    ``lambda i: model.evaluate("Review routing", i)`` — and keep each cell's outcome and rule ids."""
    cells: dict[tuple[Any, Any], tuple[str, tuple[str, ...]]] = {}
    for yv in y[1]:
        for xv in x[1]:
            result = evaluate({**(fixed or {}), x[0]: xv, y[0]: yv})
            cells[(xv, yv)] = (outcome(result), tuple(result.rule_ids))
    return DecisionGrid(x[0], y[0], tuple(x[1]), tuple(y[1]), cells)
