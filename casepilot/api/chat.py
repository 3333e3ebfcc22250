"""``/cases/{id}/chat``: ask a case, stream the answer's progress, confirm what it proposes.

The chat (``casepilot.agent.chat``) answers from the case's records through the configured
model (offline from the records without one), with citations, past the bundle's output rail.
An instruction comes back as a *proposal*; nothing happens until the person confirms it with
``POST /cases/{id}/chat/proposals/{proposal}/confirm``, which governs it as that person like
any other action — in a worker when workers work the cases (``casepilot.agent.chat_queued``). Asking and confirming need the bundle's operator role (a conversation
steers the case); reading the conversation needs a signed-in person, like every read.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from casepilot.agent.chat import ChatEvent, ChatTurn, confirm, converse, thread
from casepilot.agent.chat_queued import confirmed_answer
from casepilot.api._body import JsonRoute
from casepilot.api.access import require_operator
from casepilot.api.deps import OrchestratorDep
from casepilot.api.errors import error_responses
from casepilot.api.identity import request_person
from casepilot.api.queued import Wait, accepted, queue_mode, wait_until_stopped
from casepilot.api.schemas import ActorIn, ChatIn
from casepilot.errors import CasepilotError

__all__ = ["ChatAnswer", "ChatThread", "router"]

router = APIRouter(prefix="/cases", tags=["chat"], route_class=JsonRoute, responses=error_responses(401, 422, 503))

_NOT_FOUND = error_responses(_404="No case with this id.")
_CHANGES = error_responses(400, 409, 413, _403="The person lacks the bundle's operator role.")


class ProposalOut(BaseModel):
    """An action possible now that the answer proposes; nothing happens until it is confirmed."""

    id: str = Field(description="Confirm with POST /cases/{case_id}/chat/proposals/{id}/confirm.")
    option_id: str
    label: str
    kind: str


class ChatAnswer(BaseModel):
    """One answer of the chat, as recorded in the case history."""

    case_id: str
    reply: str = Field(description="What the person is shown: the answer with its citations, or the refusal's reason.")
    question_seq: int = Field(description="The history sequence number of the question.")
    answer_seq: int = Field(description="The history sequence number of the answer.")
    source: str = Field(description="model, or offline (from the records without a model).")
    citations: list[str] = Field(description="History events (#seq) and passages (collection/document#chunk) cited.")
    dropped_citations: list[str] = Field(description="Citations of things the case does not hold, dropped.")
    proposal: ProposalOut | None = None
    refused: bool = Field(description="The output rail refused the answer; `reply` says why.")
    rule_ids: list[str] = Field(description="The rules of the output rail's verdict.")
    note: str | None = Field(default=None, description="Why the answer is from the records despite a model.")
    outcome: str | None = Field(default=None, description=(
        "For a confirmation: the verdict the action got (allow, require_human, block); with workers, "
        "queued until a worker has carried it out."))


class ChatTurnOut(BaseModel):
    """One message of the conversation (pseudonymised, as the history holds it)."""

    seq: int
    role: str
    actor: str
    text: str
    citations: list[str] = Field(default_factory=list)
    proposal: ProposalOut | None = None
    confirms: str | None = None
    refused: bool = False


class ChatThread(BaseModel):
    """The case's conversation, oldest first."""

    case_id: str
    turns: list[ChatTurnOut]


def answer_out(turn: ChatTurn) -> ChatAnswer:
    data = turn.to_json()
    return ChatAnswer(reply=data.pop("text"), **data)


@router.get("/{case_id}/chat", response_model=ChatThread, responses=_NOT_FOUND)
def conversation(case_id: str, orch: OrchestratorDep) -> ChatThread:
    """The case's conversation: every question and answer, with citations and proposals."""
    turns = [ChatTurnOut(seq=t.seq, role=t.role, actor=t.actor, text=t.text,
                         citations=list(t.payload.get("citations") or []),
                         proposal=t.payload.get("proposal"), confirms=t.payload.get("confirms"),
                         refused=bool(t.payload.get("refused")))
             for t in thread(orch, case_id)]
    return ChatThread(case_id=case_id, turns=turns)


@router.post("/{case_id}/chat", response_model=ChatAnswer, responses={**_NOT_FOUND, **_CHANGES})
def chat(case_id: str, body: ChatIn, request: Request, orch: OrchestratorDep) -> ChatAnswer:
    """Ask the case a question, or ask for one of its possible actions (answered with a proposal to confirm).

    Needs the bundle's operator role, since a conversation steers the case.
    """
    person = request_person(request, body.actor, body.roles)
    require_operator(request, orch, case_id, person, f"chat with case {case_id}")
    return answer_out(converse(orch, case_id, f"person:{person.name}", body.message, roles=person.roles))


@router.post(
    "/{case_id}/chat/stream",
    responses={**_NOT_FOUND, **_CHANGES, 200: {"content": {"text/event-stream": {}}, "description": (
        "`message` (the question recorded), `grounded`, `model` (a model is asked), then `answer` with what "
        "`/chat` returns — or `error` with the error body.")}},
)
def chat_streaming(case_id: str, body: ChatIn, request: Request, orch: OrchestratorDep) -> StreamingResponse:
    """Like ``/chat``, telling each stage as it happens (server-sent events).

    The answer is sent once it passed the output rail — never before: a person must not see
    model text the rail has not allowed.
    """
    person = request_person(request, body.actor, body.roles)
    require_operator(request, orch, case_id, person, f"chat with case {case_id}")
    orch.store.case(case_id)  # NotFound → 404 before the stream starts
    actor, roles, message = f"person:{person.name}", person.roles, body.message
    return StreamingResponse(
        streamed(lambda tell: converse(orch, case_id, actor, message, roles=roles, on_event=tell)),
        media_type="text/event-stream", headers={"Cache-Control": "no-store"})


def streamed(run: Callable[[ChatEvent], ChatTurn]) -> Iterator[str]:
    """Server-sent events of one chat turn as it happens: ``run`` works on a thread and tells each
    stage; the ``answer`` (what ``/chat`` returns) comes last, or ``error`` with the error body."""
    events: queue.Queue[tuple[str, Any]] = queue.Queue()

    def tell(kind: str, data: Mapping[str, Any]) -> None:
        if kind != "answer":
            events.put((kind, dict(data)))

    def work() -> None:
        try:
            events.put(("answer", answer_out(run(tell)).model_dump(mode="json")))
        except CasepilotError as exc:
            events.put(("error", {"error": type(exc).__name__, "detail": str(exc), "problems": []}))
        except Exception as exc:  # the status line is sent already: say so rather than cut the stream
            events.put(("error", {"error": "InternalError", "detail": type(exc).__name__, "problems": []}))
        finally:
            events.put(("", None))

    threading.Thread(target=work, name="casepilot-chat", daemon=True).start()
    while True:
        kind, data = events.get()
        if not kind:
            return
        yield sse(kind, data)


@router.post("/{case_id}/chat/proposals/{proposal_id}/confirm", response_model=ChatAnswer,
             responses={202: {"model": ChatAnswer, "description": (
                 "With workers (PostgreSQL): confirmed and recorded; a worker carries it out (``Location`` "
                 "names the case; ``?wait=`` waits for it). The body is the acknowledgement, ``outcome`` "
                 "``queued``.")},
                        **_CHANGES, **error_responses(
                 _404="No case with this id, or the chat made no such proposal.",
                 _409="The proposal was confirmed already, or the case cannot act (suspended, terminated).")})
def confirm_proposal(case_id: str, proposal_id: str, request: Request, response: Response, orch: OrchestratorDep,
                     body: ActorIn | None = None, wait: Wait = 0) -> ChatAnswer:
    """Carry out what the chat proposed, governed as the confirming person with their roles.

    The reply says what happened: done, waiting for a person's approval, or blocked and why
    (``outcome``: the verdict). With workers (PostgreSQL) the server carries out nothing: the
    confirmation — the person's choice, name and roles — is recorded in the case's history with
    the case's run queued, in one transaction, and a worker carries out exactly that action,
    governed as the person, then answers in the conversation. The answer is 202 with the
    acknowledgement (``outcome`` ``queued``, ``answer_seq`` the acknowledgement's), or 200 with
    the worker's answer once the case has stopped within ``?wait=`` seconds.
    """
    body = body or ActorIn()
    person = request_person(request, body.actor, body.roles)
    require_operator(request, orch, case_id, person, f"confirm a chat proposal in case {case_id}")
    turn = confirm(orch, case_id, proposal_id, f"person:{person.name}", roles=person.roles)
    if queue_mode(request):
        stopped = wait_until_stopped(orch, case_id, wait)
        if stopped:
            turn = confirmed_answer(orch, case_id, proposal_id) or turn
        accepted(response, case_id, stopped=stopped, done_status=200)
    return answer_out(turn)


def sse(event: str, data: Mapping[str, Any] | Any) -> str:
    """One server-sent event."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"
