"""The case page's conversation: ask the case, see the answer and its citations, confirm a proposal.

The thread is the partial ``templates/_chat.html`` (included by ``case.html``), which reads the
conversation through the template global ``chat_thread`` registered here. Plain forms work
without JavaScript (post, then back to the case page); with it, a question goes to the
streaming route and each stage shows as it happens. Asking and confirming follow the JSON
API's rules (``casepilot.api.chat``): the bundle's operator role; a proposal is carried out
only when the person confirms it, governed as them.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from casepilot.agent.chat import ChatTurn, confirm, converse, thread
from casepilot.agent.orchestrator import Orchestrator
from casepilot.api import web
from casepilot.api.access import require_operator
from casepilot.api.chat import streamed
from casepilot.api.deps import OrchestratorDep
from casepilot.api.errors import ApiError
from casepilot.api.identity import request_person
from casepilot.errors import CasepilotError

__all__ = ["chat_thread", "router"]

router = APIRouter(prefix="/ui", include_in_schema=False, dependencies=list(web.router.dependencies))

Message = Annotated[str, Form(min_length=1, max_length=4000)]


def chat_thread(request: Request, case_id: str) -> dict[str, Any]:
    """The conversation as the partial shows it: turns, and which proposals are confirmed already."""
    orch: Orchestrator = request.app.state.orchestrator
    turns = thread(orch, case_id)
    confirmed = {str(t.payload.get("confirms")) for t in turns if t.payload.get("confirms")}
    return {"turns": turns, "confirmed": confirmed}


web._TEMPLATES.env.globals["chat_thread"] = chat_thread  # read by templates/_chat.html


def _notice(turn: ChatTurn) -> str:
    return ("Refused: " if turn.refused else "") + turn.text[:480]


@router.post("/cases/{case_id}/chat/messages", response_class=HTMLResponse)
def ask(request: Request, case_id: str, orch: OrchestratorDep, who: web.FormWho, message: Message) -> Response:
    """Ask the case; question and answer land in its conversation, shown on the case page."""

    def work() -> str:
        person = request_person(request, who.actor, who.roles)
        require_operator(request, orch, case_id, person, f"chat with case {case_id}")
        return _notice(converse(orch, case_id, f"person:{person.name}", message, roles=person.roles))

    return web._on_case(request, orch, case_id, work)


@router.post("/cases/{case_id}/chat/stream")
def ask_streaming(request: Request, case_id: str, orch: OrchestratorDep, who: web.FormWho,
                  message: Message) -> Response:
    """The page's script asks here: server-sent events as in ``POST /cases/{id}/chat/stream``."""
    try:
        person = request_person(request, who.actor, who.roles)
        require_operator(request, orch, case_id, person, f"chat with case {case_id}")
        orch.store.case(case_id)
    except (CasepilotError, ApiError) as exc:
        return web._case_error(request, orch, case_id, exc, web._status_of(exc))

    actor, roles = f"person:{person.name}", person.roles
    return StreamingResponse(
        streamed(lambda tell: converse(orch, case_id, actor, message, roles=roles, on_event=tell)),
        media_type="text/event-stream", headers={"Cache-Control": "no-store"})


@router.post("/cases/{case_id}/chat/proposals/{proposal_id}/confirm", response_class=HTMLResponse)
def confirm_proposal(request: Request, case_id: str, proposal_id: str, orch: OrchestratorDep,
                     who: web.FormWho) -> Response:
    """Carry out what the chat proposed, governed as the person who confirms it."""

    def work() -> str:
        person = request_person(request, who.actor, who.roles)
        require_operator(request, orch, case_id, person, f"confirm a chat proposal in case {case_id}")
        return _notice(confirm(orch, case_id, proposal_id, f"person:{person.name}", roles=person.roles))

    return web._on_case(request, orch, case_id, work)
