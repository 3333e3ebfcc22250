"""Chat with a case: answers grounded in its records, instructions as proposals a person confirms.

A person asks in their own words (``converse``). The answer comes from the configured model
(``chat_model``; the deterministic ``chat_offline`` answer when none is configured, or when
the model may not be asked or fails — the answer then says why) and stands on the case's
records only (``chat_grounding``): its state, plan, possible actions, pseudonymised case file,
history by sequence number and, with a ``retrieve`` tool, its documents. It cites them
(``#seq``, ``collection/document#chunk``); a citation of something the case does not hold is
dropped and flagged (``chat_rail.check_citations``). Before the person sees it, the answer
passes the bundle's output rail (a ``message`` verdict, ``chat_rail.output_rail``); a refused
answer is recorded with its rules and the person sees the reason.

An instruction never acts: it becomes a *proposal* of one of the actions possible now, shown
to the person; only ``confirm`` carries it out, through the same governed path as any action
a person picks (``Orchestrator.run_option``: reviewed as that person with their roles,
recorded as theirs) — in a worker where workers work the cases (``chat_queued``).

Everything is in the case history, in order: the message (``chat_message``, pseudonymised),
governance of the model call and of the retrieval (``verdict``), each model call with tokens,
cost, latency, route and DMN rule ids (``llm_call``), the rail's verdict, and the answer
(``chat_message`` with its citations, dropped citations, proposal and source). The
conversation *is* those ``chat_message`` events: the next turn reads them back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from casepilot.agent.chat_grounding import Grounding, Turn, conversation, ground
from casepilot.agent.chat_model import ChatCall, ask, chat_model_for
from casepilot.agent.chat_offline import offline_answer
from casepilot.agent.chat_rail import check_citations, output_rail
from casepilot.agent.operations import ensure_workable
from casepilot.agent.planning import LLMUsage
from casepilot.errors import IllegalTransition, NotFound

if TYPE_CHECKING:
    from casepilot.agent.context import LoadedCase
    from casepilot.agent.orchestrator import Orchestrator

__all__ = ["ChatEvent", "ChatTurn", "Proposal", "answer", "confirm", "converse", "proposed_option", "thread"]

ChatEvent = Callable[[str, Mapping[str, Any]], None]
"""Told of each stage of a turn as it happens (for server-sent events): ``message``,
``grounded``, ``model``, ``answer``."""

Source = Literal["model", "offline"]


@dataclass(frozen=True, slots=True)
class Proposal:
    """An action possible now that a chat answer proposes; ``confirm`` carries it out."""

    id: str
    option_id: str
    label: str
    kind: str


@dataclass(frozen=True, slots=True)
class ChatTurn:
    """One question and its answer as recorded."""

    case_id: str
    question_seq: int
    answer_seq: int
    text: str
    """What the person is shown (pseudonymised; the refusal's reason when the rail refused)."""
    source: Source
    citations: tuple[str, ...] = ()
    dropped_citations: tuple[str, ...] = ()
    proposal: Proposal | None = None
    refused: bool = False
    """The output rail refused the answer (``text`` says why)."""
    rule_ids: tuple[str, ...] = ()
    note: str | None = None
    """Why the answer comes from the records rather than the model, when it does despite one."""
    outcome: str | None = None
    """For a confirmation: the verdict the action got (``allow``, ``require_human``, ``block``)."""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["citations"], data["dropped_citations"] = list(self.citations), list(self.dropped_citations)
        data["rule_ids"] = list(self.rule_ids)
        return data


@dataclass
class _Draft:
    text: str
    listed: list[str] = field(default_factory=list)
    propose: str | None = None
    source: Source = "offline"
    note: str | None = None


def _quiet(_kind: str, _data: Mapping[str, Any]) -> None:
    return None


def converse(orch: Orchestrator, case_id: str, actor: str, message: str, *, roles: frozenset[str] = frozenset(),
             on_event: ChatEvent | None = None) -> ChatTurn:
    """Record ``message`` from ``actor`` (``person:<name>``), answer it, record the answer (see the module)."""
    emit = on_event or _quiet
    rt = orch.runtime
    with orch.leases.hold(case_id):
        ensure_workable(orch, case_id, "chat")
        said = rt.redact(case_id, {"role": "user", "text": message})
        with rt.step(case_id) as (step, _loaded):
            question = step.append("chat_message", actor=actor, payload=said)
        emit("message", {"seq": question.seq, "text": said["text"]})
        loaded = rt.load(case_id)
        if loaded.engine is None:
            return _record(orch, case_id, question.seq, _Draft("The case has not started yet."), None, None, None,
                           emit)
        grounding = ground(orch, loaded, str(said["text"]))
        emit("grounded", {"history": len(grounding.payload["history"]), "documents": len(grounding.documents),
                          "possible_actions": [o.label for o in grounding.options]})
        model = chat_model_for(orch)
        call: ChatCall | None = None
        draft: _Draft | None = None
        if model is not None:
            emit("model", {"model": model.model})
            turns = [t for t in conversation(orch, case_id) if t.seq < question.seq and t.role in ("user", "assistant")]
            call = ask(orch, loaded, model, {"grounding": grounding.payload, "question": said["text"]},
                       [{"role": t.role, "content": t.text} for t in turns])
            if call.answer is not None:
                draft = _Draft(call.answer.answer, list(call.answer.citations), call.answer.propose, "model")
        if draft is None:
            offline = offline_answer(orch, grounding, message)  # local: matched on what the person wrote
            note = _why_offline(call) if call is not None else None
            draft = _Draft(offline.text, offline.citations, offline.propose, "offline", note)
        return _record(orch, case_id, question.seq, draft, grounding, call, loaded, emit, roles=roles)


def _why_offline(call: ChatCall) -> str:
    if call.refused:
        return f"governance did not allow the model call: {call.refused}"
    failure = call.failure or {}
    if "failure" in failure:
        f = failure["failure"]
        status = f" HTTP {f['status']}" if f.get("status") else ""
        return f"the model endpoint {f.get('endpoint')!r} failed ({f.get('kind')}{status})"
    if "routing_error" in failure:
        return f"no model route: {failure['routing_error']}"
    if "invalid_replies" in failure:
        return "the model's replies were invalid"
    return "the model gave no answer"


def _record(orch: Orchestrator, case_id: str, question_seq: int, draft: _Draft, grounding: Grounding | None,
            call: ChatCall | None, loaded: LoadedCase | None, emit: ChatEvent, *,
            roles: frozenset[str] = frozenset()) -> ChatTurn:
    """Check the draft (citations, proposal, output rail) and record the turn in one step."""
    rt = orch.runtime
    citations: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()
    text = draft.text
    proposal: Proposal | None = None
    unknown_proposal: str | None = None
    rail = None
    if grounding is not None and loaded is not None:
        checked = check_citations(draft.text, draft.listed, grounding)
        citations, dropped = checked.citations, checked.dropped
        # The rail reviews the answer itself; what the chat adds after it (notes, the proposal) is its own text.
        rail = output_rail(rt, loaded, checked.text, audience="person", citations=citations)
        text = rail.text
        if draft.propose:
            option = grounding.option(draft.propose)
            if option is None:
                unknown_proposal = draft.propose
            else:
                proposal = Proposal(f"p{question_seq}", option.id, option.label, option.kind)
        if not rail.allowed:
            proposal, citations = None, ()
        else:
            if dropped:
                text += f" (Citations dropped, not in the case's records: {', '.join(dropped)}.)"
            if unknown_proposal:
                text += " (The action proposed is not one of the actions possible now, so nothing is proposed.)"
            if draft.note:
                text += f" (Answered from the case's records without the model: {draft.note}.)"
            if proposal is not None:
                text += (f" Proposed action: {proposal.label}. Nothing happens until you confirm it "
                         f"(proposal {proposal.id}); governance reviews it then.")
    elif draft.note:
        text += f" (Answered from the case's records without the model: {draft.note}.)"
    payload: dict[str, Any] = {
        "role": "assistant", "text": text, "in_reply_to": question_seq, "source": draft.source,
        "citations": list(citations), "dropped_citations": list(dropped),
        "proposal": asdict(proposal) if proposal is not None else None,
        "refused": bool(rail is not None and not rail.allowed),
        **({"note": draft.note} if draft.note else {}),
        **({"unknown_proposal": rt.redact(case_id, {"id": unknown_proposal})["id"]} if unknown_proposal else {}),
    }
    blocked = rt.redact(case_id, {"text": draft.text}) if rail is not None and not rail.allowed else None
    with rt.step(case_id) as (step, current):
        if grounding is not None and grounding.retrieval is not None:
            retrieval = dict(grounding.retrieval)
            verdict = dict(retrieval.pop("verdict", {}))
            route = retrieval.get("route") or {}
            step.append("verdict", actor="agent", payload={"action": "retrieval", "purpose": "chat", **verdict,
                                                          **retrieval},
                        rule_ids=[*verdict.get("rule_ids", []), *route.get("rule_ids", [])])
        for verdict in call.verdicts if call is not None else ():
            step.append("verdict", actor="agent", payload=verdict, rule_ids=verdict.get("rule_ids", []))
        if call is not None:
            _record_usage(step, current, call.usage)
            if call.failure or call.invalid:
                step.append("error", actor="agent", payload={
                    "source": "chat", "problem": _why_offline(call), "detail": call.failure or {},
                    "invalid_replies": call.invalid})
        if rail is not None:
            step.append("verdict", actor="agent",
                        payload={**rail.verdict, **({"blocked_answer": blocked["text"]} if blocked else {})},
                        rule_ids=rail.rule_ids)
        answered = step.append("chat_message", actor="agent", payload=payload)
    turn = ChatTurn(case_id, question_seq, answered.seq, text, draft.source, citations, dropped, proposal,
                    bool(payload["refused"]), rail.rule_ids if rail is not None else (), draft.note)
    emit("answer", turn.to_json())
    return turn


def _record_usage(step: Any, loaded: LoadedCase, usage: list[LLMUsage]) -> None:
    """Each model call: an ``llm_call`` event (tokens, cost or ``unknown``, latency, route and its rule ids),
    and the case's spend, which its budgets read."""
    for u in usage:
        cost = Decimal(u.cost) if u.cost is not None else None
        loaded.facts.usage = loaded.facts.usage.add(
            tokens=u.prompt_tokens + u.completion_tokens, cost=cost or Decimal(0), llm_calls=1,
            wall_seconds=u.latency_ms / 1000)
        route = dict(u.details).get("route") or {}
        step.append("llm_call", actor="agent", payload={
            "model": u.model, "prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens,
            "cost": str(cost) if cost is not None else None, **({"price": "unknown"} if cost is None else {}),
            **dict(u.details)}, rule_ids=tuple(route.get("rule_ids") or ()),
            tokens=u.prompt_tokens + u.completion_tokens, cost=cost, latency_ms=u.latency_ms)


def confirm(orch: Orchestrator, case_id: str, proposal_id: str, actor: str, *,
            roles: frozenset[str] = frozenset(), on_event: ChatEvent | None = None) -> ChatTurn:
    """Carry out a proposal of the case's chat as ``actor`` with ``roles``, governed like any action.

    ``NotFound`` for a proposal the chat never made; ``IllegalTransition`` (409) for one already
    confirmed. The action must still be possible; governance reviews it as the person.

    Where workers work the cases (the orchestrator's steps queue runs: ``casepilot serve`` with
    workers, ``queued_orchestrator``, the CLI on a database workers serve) nothing is carried out
    here: the confirmation is recorded with the case's run queued (``chat_queued``), the turn is
    the acknowledgement (``outcome`` ``"queued"``), and a worker carries the action out and answers.
    """
    from casepilot.agent._process_tasks import runs_queued

    if runs_queued(orch.runtime):  # workers work the cases: record and queue, a worker carries it out
        from casepilot.agent.chat_queued import confirm_queued

        return confirm_queued(orch, case_id, proposal_id, actor, roles=roles, on_event=on_event)
    emit = on_event or _quiet
    rt = orch.runtime
    with orch.leases.hold(case_id):
        ensure_workable(orch, case_id, "chat")
        option = proposed_option(orch, case_id, proposal_id)
        said = rt.redact(case_id, {"role": "user", "text": f"Confirm: {option['label']}", "confirms": proposal_id})
        with rt.step(case_id) as (step, _loaded):
            question = step.append("chat_message", actor=actor, payload=said)
        emit("message", {"seq": question.seq, "text": said["text"]})
        result = orch.run_option(case_id, str(option["option_id"]), requested_by="chat", actor=actor, roles=roles)
        outcome = _verdict_after(orch, case_id, question.seq)
        with rt.step(case_id) as (step, _loaded):
            answered = step.append("chat_message", actor="agent", payload={
                "role": "assistant", "text": result, "in_reply_to": question.seq, "source": "offline",
                "confirmed": proposal_id, "outcome": outcome})
    turn = ChatTurn(case_id, question.seq, answered.seq, result, "offline", outcome=outcome)
    emit("answer", turn.to_json())
    return turn


def proposed_option(orch: Orchestrator, case_id: str, proposal_id: str) -> dict[str, Any]:
    """The option the chat proposed as ``proposal_id`` (``NotFound``), not confirmed yet (``IllegalTransition``)."""
    turns = conversation(orch, case_id, limit=0)
    proposed = next((t for t in turns if (t.payload.get("proposal") or {}).get("id") == proposal_id), None)
    if proposed is None:
        raise NotFound(f"case {case_id} has no chat proposal {proposal_id!r}; ask the chat first")
    done = next((t for t in turns if t.payload.get("confirms") == proposal_id), None)
    if done is not None:
        raise IllegalTransition(f"proposal {proposal_id}", "confirmed", "confirm",
                                allowed=[f"nothing: it was confirmed at #{done.seq}; ask the chat again"])
    return dict(proposed.payload["proposal"])


def _verdict_after(orch: Orchestrator, case_id: str, seq: int) -> str | None:
    verdicts = [e for e in orch.store.history(case_id, after_seq=seq) if e.kind == "verdict"]
    return str(verdicts[-1].payload.get("kind")) if verdicts else None


def thread(orch: Orchestrator, case_id: str, *, limit: int = 200) -> list[Turn]:
    """The case's conversation, oldest first (``NotFound`` for an unknown case)."""
    orch.store.case(case_id)
    return conversation(orch, case_id, limit=limit)


def answer(orch: Orchestrator, case_id: str, actor: str, message: str,
           roles: frozenset[str] = frozenset()) -> str:
    """``converse`` for callers that want the text only (``Orchestrator.chat``, the CLI)."""
    return converse(orch, case_id, actor, message, roles=roles).text
