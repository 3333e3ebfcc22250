"""The plan as boxes: one node per plan item (and discretionary item) of a CMMN case, with its
current state, and the sentry links between them — what the SVG renderer draws.

Built from the frozen definition (``casepilot.cmmn.definitions``) and, when a case runs, the
engine's item views; nothing here lays out or draws.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from casepilot.cmmn.definitions import (
    Case,
    Criterion,
    DiscretionaryItem,
    PlanItem,
    PlanItemOnPart,
    PlanningTable,
    Stage,
)

__all__ = ["Link", "Node", "StateView", "build_nodes", "links"]


class StateView(Protocol):
    """What the diagram reads of a running item: its state and the plan item it instantiates —
    ``element`` (``casepilot.cmmn.runtime.ItemView``) or ``element_id`` (``casepilot.agent.engine.ItemView``)."""

    @property
    def state(self) -> str: ...


@dataclass
class Node:
    """One box: a plan item (or the case plan model, or a discretionary item) and where it is drawn."""

    id: str
    name: str
    kind: str
    """The definition's element name: ``task``, ``humanTask``, ``stage``, ``milestone``, ``userEventListener``…"""
    state: str | None
    discretionary: bool = False
    children: list[Node] = field(default_factory=list)
    entry: list[Criterion] = field(default_factory=list)
    exit: list[Criterion] = field(default_factory=list)
    x: float = 0.0
    y: float = 0.0
    w: float = 0.0
    h: float = 0.0

    def walk(self) -> Iterable[Node]:
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(frozen=True, slots=True)
class Link:
    """A sentry's on-part: when ``source`` goes through ``event``, the criterion on ``target`` is met."""

    source: str
    target: str
    criterion: Criterion
    event: str


def build_nodes(case: Case, items: Iterable[StateView] = (), case_state: str | None = None) -> Node:
    """The plan model as a tree of nodes, each with the state of its latest instance (None when
    the item has no instance, e.g. a case not started or a discretionary item not planned)."""
    states: dict[str, str] = {}
    for item in items:  # creation order: a repeated item shows its latest instance
        element = getattr(item, "element", None) or getattr(item, "element_id", None)
        if isinstance(element, str):
            states[element] = item.state[:1].upper() + item.state[1:]  # the agent's views say "active"
    model = case.plan_model
    root = Node(model.id, model.name or case.name or case.id, "casePlanModel", case_state,
                exit=list(model.exit_criteria))
    _fill(case, model, root, states)
    return root


def _fill(case: Case, stage: Stage, node: Node, states: Mapping[str, str]) -> None:
    for plan_item in stage.plan_items:
        node.children.append(_item(case, plan_item, states))
        table = getattr(case.definitions.get(plan_item.definition_ref), "planning_table", None)
        if not isinstance(case.definitions.get(plan_item.definition_ref), Stage) and isinstance(table, PlanningTable):
            # a human task's own planning table: its items are drawn beside it, in its stage
            node.children.extend(_item(case, d, states) for d in _discretionary(table))
    if stage.planning_table is not None:
        for discretionary in _discretionary(stage.planning_table):
            node.children.append(_item(case, discretionary, states))


def _discretionary(table: PlanningTable) -> Iterable[DiscretionaryItem]:
    for entry in table.items:
        if isinstance(entry, PlanningTable):
            yield from _discretionary(entry)
        else:
            yield entry


def _item(case: Case, item: PlanItem | DiscretionaryItem, states: Mapping[str, str]) -> Node:
    definition = case.definitions.get(item.definition_ref)
    kind = definition.kind if definition is not None else "task"
    name = item.name or (definition.name if definition is not None else None) or item.id
    node = Node(item.id, name, kind, states.get(item.id), discretionary=isinstance(item, DiscretionaryItem),
                entry=list(item.entry_criteria), exit=list(item.exit_criteria))
    if isinstance(definition, Stage):
        _fill(case, definition, node, states)
    return node


def links(case: Case, root: Node) -> list[Link]:
    """Every on-part whose source is a drawn node, to the criterion's node."""
    drawn = {n.id for n in root.walk()}
    found: list[Link] = []
    for node in root.walk():
        for criterion in [*node.entry, *node.exit]:
            sentry = case.sentries.get(criterion.sentry_ref)
            if sentry is None:
                continue
            for part in sentry.on_parts:
                if isinstance(part, PlanItemOnPart) and part.source_ref in drawn:
                    found.append(Link(part.source_ref, node.id, criterion, str(part.standard_event)))
    return found
