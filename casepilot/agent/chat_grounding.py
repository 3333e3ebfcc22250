"""What a chat answer may stand on: the case's state, plan, file, history and documents.

Everything here is read from the store, where it is already pseudonymised (the case file and
every history payload), so the grounding can go to a model once governance has reviewed the
call. Each record carries the reference an answer cites it by — a history event by ``#seq``,
a passage by ``collection/document#chunk`` — and ``Grounding.known`` is what citations are
checked against: an answer cannot cite what it was not shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from casepilot.agent.planning import ActionOption
from casepilot.store import HistoryEvent
from casepilot.store.timeline import HIDDEN_KINDS, describe_event

if TYPE_CHECKING:
    from casepilot.agent.context import LoadedCase
    from casepilot.agent.orchestrator import Orchestrator

__all__ = ["HISTORY_SHOWN", "TURNS_SHOWN", "Grounding", "Turn", "conversation", "ground"]

HISTORY_SHOWN = 40
"""The newest history events (bookkeeping left out) an answer is grounded in."""
TURNS_SHOWN = 12
"""The newest chat turns a model sees as the conversation so far."""
_DOCUMENTS = 4


@dataclass(frozen=True, slots=True)
class Turn:
    """One chat turn as the history holds it (pseudonymised)."""

    seq: int
    role: str
    actor: str
    text: str
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Grounding:
    """The records one answer may use, as sent to a model, and the references they can be cited by."""

    case_id: str
    definition: str
    state: str
    payload: dict[str, Any]
    """What the model is shown (the ``grounding`` part of the prompt)."""
    options: tuple[ActionOption, ...]
    """The actions possible now (waiting left out): the only things an instruction can become."""
    seqs: frozenset[int]
    """Every history sequence number that exists in the case (a citation must name one)."""
    documents: frozenset[str]
    """The ``collection/document#chunk`` references of the passages shown."""
    last_seq: int
    retrieval: Mapping[str, Any] | None = None
    """What to record about the documents' retrieval (verdict, route, citations), when there was one."""

    def option(self, option_id: str) -> ActionOption | None:
        return next((o for o in self.options if o.id == option_id), None)


def conversation(orch: Orchestrator, case_id: str, *, limit: int = TURNS_SHOWN) -> list[Turn]:
    """The case's chat so far, oldest first (the newest ``limit`` turns)."""
    # streamed page by page: a long history is not held in memory to find its chat turns
    turns = [_turn(e) for e in orch.store.iter_history(case_id) if e.kind == "chat_message"]
    return turns[-limit:] if limit else turns


def _turn(event: HistoryEvent) -> Turn:
    p = event.payload
    return Turn(event.seq, str(p.get("role", "user")), event.actor, str(p.get("text", "")), dict(p))


def ground(orch: Orchestrator, loaded: LoadedCase, question: str) -> Grounding:
    """The grounding of an answer to ``question`` in the case ``loaded`` (which must have started)."""
    engine = loaded.engine
    assert engine is not None
    case_id = loaded.id
    last_seq = orch.store.case(case_id).last_seq
    events = [e for e in orch.store.history(case_id, after_seq=max(0, last_seq - 4 * HISTORY_SHOWN),
                                            limit=4 * HISTORY_SHOWN)
              if e.kind not in HIDDEN_KINDS][-HISTORY_SHOWN:]
    # A read-only listing: an item whose applicability rule reads erased personal data is never a
    # possible action; the grounding says it is unavailable and why (``_case_reveal``).
    options, unavailable = orch.runtime.listed_options(loaded)
    possible = tuple(o for o in options if o.kind != "wait")
    waiting = [{"task": t.id, "role": t.role, "question": t.prompt, "options": list(t.options)}
               for t in orch.store.tasks(case_id=case_id, status="open")]
    passages, retrieval = _documents(orch, loaded, question)
    payload: dict[str, Any] = {
        "case": case_id,
        "definition": loaded.bundle.key,
        "state": engine.state,
        "plan": [{"name": v.name, "kind": v.kind, "state": v.state} for v in engine.items()],
        "possible_actions": [{"id": o.id, "kind": o.kind, "label": o.label} for o in possible],
        "waiting_for_people": waiting,
        "case_file": engine.variables(),
        "history": [{"cite": f"#{e.seq}", "kind": e.kind, "actor": e.actor, "what": describe_event(e, width=240)}
                    for e in events],
    }
    if unavailable:
        payload["unavailable_actions"] = [{"label": u.label, "reason": u.reason} for u in unavailable]
    if passages:
        payload["documents"] = passages
    return Grounding(case_id=case_id, definition=loaded.bundle.key, state=engine.state, payload=payload,
                     options=possible, seqs=frozenset(range(1, last_seq + 1)),
                     documents=frozenset(str(p["cite"]) for p in passages), last_seq=last_seq,
                     retrieval=retrieval)


def _documents(orch: Orchestrator, loaded: LoadedCase, question: str) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Passages of the case's documents for ``question`` when a ``retrieve`` tool is configured, and
    what to record about the retrieval (its verdict, DMN route and citations).

    The query leaves the process, so it is reviewed as a ``retrieval`` action first (pseudonymised;
    anything but ``allow`` retrieves nothing). Retrieval goes through the tool, whose DMN route picks
    collection and embedding from the case's context (``tools.builtin.retrieve``); a failing
    retriever leaves the answer to the case's own records, and says so in the record.
    """
    if "retrieve" not in orch.registry.names() or not question.strip():
        return [], None
    from casepilot.agent.nodes import Nodes
    from casepilot.governance.actions import ProposedAction
    from casepilot.tools import ToolCallError
    from casepilot.tools.builtin.retrieve import RetrievalContext, retrieval_context

    engine = loaded.engine
    assert engine is not None
    action = ProposedAction(kind="retrieval", name="retrieve", case_id=loaded.id, arguments={"query": question[:4000]})
    verdict = orch.runtime.governor_for(loaded.bundle).review(
        action, Nodes(orch.runtime).context(loaded, confidence=None, action=action))
    record: dict[str, Any] = {"verdict": {k: v for k, v in verdict.to_json().items() if k != "transformed"}}
    if verdict.kind != "allow":
        return [], record
    query = str((verdict.transformed or action.arguments).get("query", ""))
    stages = [v.name for v in engine.items() if v.kind == "stage" and v.state == "active"]
    context = RetrievalContext(definition=loaded.bundle.key, stage=stages[0] if stages else None,
                               pii_types=_pii_types({"case": engine.variables(), "query": query}))
    try:
        with retrieval_context(context):
            outcome = orch.registry.invoke("retrieve", {"query": query, "limit": _DOCUMENTS})
    except ToolCallError as exc:
        record["error"] = str(exc)[:500]
        return [], record
    data = outcome.output()
    passages = [{"cite": str(p["source"]).split(" ", 1)[0], "text": str(p["text"])[:1500]}
                for p in data.get("passages", [])]
    record.update(route=data.get("route"), citations=[p["cite"] for p in passages])
    return passages, record


def _pii_types(variables: Mapping[str, Any]) -> tuple[str, ...]:
    from casepilot.agent.model_routing import pii_types_in

    return pii_types_in(variables)
