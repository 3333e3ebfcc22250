"""Confirming a chat proposal where workers work the cases: recorded and queued here, carried out by a worker.

Behind ``casepilot serve`` with workers (any orchestrator whose steps queue runs,
``_process_tasks.runs_queued``) the process answering the person must not carry out the
action: it may call a tool or start a BPMN process that pays. So :func:`confirm_queued`
records the person's confirmed choice — the ``Confirm: …`` message, the request in the case's
facts (``AgentFacts.chat_requests``: the option, the person and their roles) and an
acknowledgement — in one step, under the case's lease; the step queues the case's run in the
same transaction (``JobScheduler(run_on_change=True)``).

Whatever works the case next calls :func:`carry_out_confirmed` before its loop — in one place,
``Orchestrator.run`` and ``Orchestrator.stream``, so the worker that takes the queued run, the
CLI's ``run --in-process`` and ``casepilot serve --in-process``'s ``POST /cases/{id}/run`` (and
every other route that runs a case) honour a waiting request alike: each request, oldest first,
is carried out through the normal governed loop (``Orchestrator.run_option``: reviewed as the
person with their roles, recorded as theirs), then answered (the chat message ``confirmed``, as
in-process) and removed, in one step. With no request waiting it costs one look at the loaded
case (usually the case cache's copy).

Exactly once, also when a worker is killed: the loop writes the person's plan and its verdict
in one transaction (before a non-idempotent call starts; with the outcome for a call that may
safely run again). A request whose plan is in the history since the request was taken up
(``after_seq``) was carried out already: the next worker only writes the answer, from the
recorded verdict. A request with no such plan had nothing recorded: carrying it out again is
what the loop itself would do (nothing ran, or only a call that may run again).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from casepilot.agent.operations import ensure_workable

if TYPE_CHECKING:
    from casepilot.agent.chat import ChatEvent, ChatTurn
    from casepilot.agent.orchestrator import Orchestrator
    from casepilot.store import HistoryEvent

__all__ = ["carry_out_confirmed", "confirm_queued", "confirmed_answer", "queued_reply"]

QUEUED = "queued"
"""A confirmation's ``outcome`` until a worker has carried it out."""


def queued_reply(label: str) -> str:
    """What the person is told at once: recorded, and who carries it out."""
    return (
        f"Confirmed: {label}. A worker carries it out now, governed as you with your roles; "
        "its answer follows in this conversation."
    )


def confirm_queued(
    orch: Orchestrator,
    case_id: str,
    proposal_id: str,
    actor: str,
    *,
    roles: frozenset[str] = frozenset(),
    on_event: ChatEvent | None = None,
) -> ChatTurn:
    """Record ``actor``'s confirmation of ``proposal_id`` for a worker to carry out (see the module).

    The same checks as in-process (``chat.confirm``): ``NotFound`` for a proposal the chat never
    made, ``IllegalTransition`` for one confirmed already, the case must be workable. Returns the
    acknowledgement as the turn, its ``outcome`` ``"queued"``.
    """
    from casepilot.agent.chat import ChatTurn, proposed_option

    rt = orch.runtime
    with orch.leases.hold(case_id):
        ensure_workable(orch, case_id, "chat")
        option = proposed_option(orch, case_id, proposal_id)
        said = rt.redact(
            case_id, {"role": "user", "text": f"Confirm: {option['label']}", "confirms": proposal_id}
        )
        reply = queued_reply(str(option["label"]))
        with rt.step(case_id) as (step, loaded):
            question = step.append("chat_message", actor=actor, payload=said)
            loaded.facts.chat_requests.append(
                {
                    "proposal": proposal_id,
                    "option_id": str(option["option_id"]),
                    "label": str(option["label"]),
                    "actor": actor,
                    "roles": sorted(roles),
                    "question_seq": question.seq,
                    "after_seq": question.seq,
                }
            )
            acknowledged = step.append(
                "chat_message",
                actor="agent",
                payload={
                    "role": "assistant",
                    "text": reply,
                    "in_reply_to": question.seq,
                    "source": "offline",
                    "queued": proposal_id,
                    "outcome": QUEUED,
                },
            )
    if on_event is not None:
        on_event("message", {"seq": question.seq, "text": said["text"]})
    turn = ChatTurn(case_id, question.seq, acknowledged.seq, reply, "offline", outcome=QUEUED)
    if on_event is not None:
        on_event("answer", turn.to_json())
    return turn


def carry_out_confirmed(orch: Orchestrator, case_id: str) -> int:
    """Carry out and answer the case's confirmed chat requests, oldest first (``Orchestrator.run`` /
    ``stream``, under the case's lease, before the loop); how many were answered."""
    rt = orch.runtime
    answered = 0
    while True:
        requests = rt.load(case_id).facts.chat_requests
        if not requests:
            return answered
        request = dict(requests[0])
        decided = _decided(orch, case_id, request)
        if decided is None:
            text = orch.run_option(
                case_id,
                str(request["option_id"]),
                requested_by="chat",
                actor=str(request["actor"]),
                roles=frozenset(request.get("roles") or ()),
            )
            decided = _decided(orch, case_id, request)
            outcome = str(decided[1].get("kind")) if decided is not None else None
        else:  # carried out by a worker that stopped before it answered: answer from the history
            label, verdict = decided
            text, outcome = _words(label, verdict), str(verdict.get("kind"))
        _answer(orch, case_id, request, text, outcome)
        answered += 1


def _decided(
    orch: Orchestrator, case_id: str, request: Mapping[str, Any]
) -> tuple[str, dict[str, Any]] | None:
    """The label and verdict of the person's plan for ``request``, if the loop recorded it since
    the request was taken up."""
    plan: HistoryEvent | None = None
    for event in orch.store.history(case_id, after_seq=int(request["after_seq"])):
        if event.actor != request["actor"]:
            continue
        if (
            plan is None
            and event.kind == "plan"
            and event.payload.get("planner") == "chat"
            and event.payload.get("chose") == request["option_id"]
        ):
            plan = event
        elif plan is not None and event.kind == "verdict":
            return str(plan.payload.get("label") or request["label"]), dict(event.payload)
    return None


def _words(label: str, verdict: Mapping[str, Any]) -> str:
    """What happened, in ``Orchestrator.run_option``'s words."""
    if verdict.get("kind") == "allow":
        return f"Done: {label} ({verdict.get('reason', 'allowed')})."
    if verdict.get("kind") == "require_human":
        return f"{label} needs a {verdict.get('role') or 'person'}'s approval first: {verdict.get('reason')}."
    return f"{label} was blocked: {verdict.get('reason')}."


def _answer(
    orch: Orchestrator, case_id: str, request: Mapping[str, Any], text: str, outcome: str | None
) -> None:
    """Answer the request and remove it, in one step; the requests after it are taken up from here."""
    with orch.runtime.step(case_id) as (step, loaded):
        waiting = loaded.facts.chat_requests
        if not waiting or waiting[0].get("question_seq") != request["question_seq"]:
            return  # answered already (not expected under the lease)
        said = step.append(
            "chat_message",
            actor="agent",
            payload={
                "role": "assistant",
                "text": text,
                "in_reply_to": request["question_seq"],
                "source": "offline",
                "confirmed": request["proposal"],
                "outcome": outcome,
            },
        )
        waiting.pop(0)
        for later in waiting:
            later["after_seq"] = said.seq


def confirmed_answer(orch: Orchestrator, case_id: str, proposal_id: str) -> ChatTurn | None:
    """The worker's answer to a confirmed proposal, once it is recorded (None before)."""
    from casepilot.agent.chat import ChatTurn

    for event in reversed(orch.store.history(case_id)):
        if event.kind == "chat_message" and event.payload.get("confirmed") == proposal_id:
            outcome = event.payload.get("outcome")
            return ChatTurn(
                case_id,
                int(event.payload["in_reply_to"]),
                event.seq,
                str(event.payload["text"]),
                "offline",
                outcome=str(outcome) if outcome is not None else None,
            )
    return None
