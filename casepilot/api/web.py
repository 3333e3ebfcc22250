"""The web page: an inbox where people decide, a case list, and a case page with its timeline.

Server-rendered (Jinja2, autoescaped: case content comes from letters and tools and is
never trusted as markup) with plain HTML forms, so it works without JavaScript and every
action is an ordinary POST followed by a redirect. It calls the same orchestrator as the
JSON API; a refused decision or a bad form shows the reason on the page with the status
the API would use.

Identity: behind the organisation's sign-on proxy (``TrustedHeaders``) the proxy's headers
are the person — every page needs them (401 otherwise) and the forms ask no name; without
one, a person types name and roles in (a developer's machine). The page follows the API's
rules of who may do what (``casepilot.api.access``); a refusal, 401 or 403, is a page that
says why, never a bare JSON body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from casepilot.agent.orchestrator import Orchestrator, Person, RunOutcome
from casepilot.api._body import check_params, check_value
from casepilot.api._once import FormKeys, new_form_key
from casepilot.api._origin import cross_site
from casepilot.api.access import (
    caller,
    require_action_role,
    require_item_role,
    require_operator,
    require_starter,
)
from casepilot.api.deps import OrchestratorDep
from casepilot.api.errors import ApiError, status_for
from casepilot.api.identity import identity_of, request_person
from casepilot.api.inbox import decide_with_values, declared_fields, refusal_status, require_claim_role
from casepilot.api.queued import enqueue_run, queue_mode
from casepilot.api.web_case import case_context, shown
from casepilot.api.web_cases import ListParams, cases_context, start_fields
from casepilot.api.web_forms import TYPE_WORDS, fields_of, read_fields, task_fields
from casepilot.api.web_inbox import InboxParams, inbox_context
from casepilot.errors import CasepilotError, DecisionRejected, NotFound

__all__ = ["error_page", "router"]

_TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
_TEMPLATES.env.globals["form_key"] = new_form_key  # a fresh key in every form (see ``_once``)
_TEMPLATES.env.globals["type_words"] = TYPE_WORDS
_KEYS_LOCK = threading.Lock()


def _same_site_posts(request: Request) -> None:
    """Refuse state-changing page requests sent by another site (see ``_origin``)."""
    if request.method == "POST":
        reason = cross_site(request)
        if reason is not None:
            raise ApiError(403, "CrossSiteRequest", f"refused: {reason}; use the page itself")


async def _keepable_text(request: Request) -> None:
    """Refuse (422, as a page) parameters and form fields casepilot cannot keep — a NUL
    character (``%00``) PostgreSQL refuses — before any page code looks them up or stores
    them (see ``_body``)."""
    check_params(request)
    if request.method == "POST" and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        check_value({name: value for name, value in form.items() if isinstance(value, str)}, "form")


async def _once_per_form(request: Request) -> None:
    """Refuse (409) a form sent a second time: its ``form_key`` was used already (see ``_once``)."""
    if request.method != "POST":
        return
    key = (await request.form()).get("form_key")
    if not isinstance(key, str) or not key:
        return
    with _KEYS_LOCK:
        keys = getattr(request.app.state, "form_keys", None)
        if keys is None:
            keys = request.app.state.form_keys = FormKeys()
    if not keys.claim(key):
        raise ApiError(409, "FormAlreadySent", "this form was sent already — nothing was done again; "
                       "open the page anew to act once more")
    request.state.form_key = key


router = APIRouter(prefix="/ui", include_in_schema=False,
                   dependencies=[Depends(_same_site_posts), Depends(_keepable_text), Depends(_once_per_form)])


def error_page(request: Request, exc: ApiError) -> HTMLResponse | None:
    """A refusal raised before or outside a page's own handling (not signed in, a cross-site
    post) as a page a person can read, with the API's status; None for API requests."""
    path = request.url.path
    if path != "/" and not path.startswith(router.prefix + "/"):
        return None
    title = {401: "Not signed in", 403: "Not allowed", 404: "Not found"}.get(exc.status, "Refused")
    return _page(request, "error.html", {"error": exc.detail, "title": title}, exc.status)


def _page(request: Request, template: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    key = getattr(request.state, "form_key", None)
    if status >= 400 and key is not None:  # refused: nothing was done, the same form may be sent again
        request.app.state.form_keys.release(key)
    identity = identity_of(request)
    signed_in = identity.person(request) if identity is not None else None
    context = {"trusted_identity": identity is not None, "signed_in": signed_in, **context}
    return _TEMPLATES.TemplateResponse(request, template, context, status_code=status)


def _to_case(request: Request, case_id: str, notice: str) -> RedirectResponse:
    """After a POST: to the case page, with what happened (post/redirect/get: a reload repeats nothing).

    The notice travels in the URL, signed with the app's secret: the page shows it only with a
    valid signature, so a crafted link cannot make the page claim that someone decided something.
    """
    sig = _signature(request, case_id, notice)
    return RedirectResponse(f"/ui/cases/{case_id}?notice={quote(notice)}&sig={sig}", status_code=303)


def _signature(request: Request, case_id: str, notice: str) -> str:
    secret: bytes = request.app.state.notice_secret
    return hmac.new(secret, f"{case_id}\n{notice}".encode(), hashlib.sha256).hexdigest()[:32]


def _roles(text: str) -> frozenset[str]:
    return frozenset(part.strip() for part in text.split(",") if part.strip())


@dataclass(frozen=True)
class _Who:
    """Who a form says acts: a typed name and comma-separated roles (behind a sign-on proxy
    its headers say who, and these are ignored — see ``identity``)."""

    actor: str
    roles_text: str

    @property
    def roles(self) -> list[str]:
        return sorted(_roles(self.roles_text))


def _form_who(actor: Annotated[str, Form(max_length=200)] = "",
              roles: Annotated[str, Form(max_length=1000)] = "") -> _Who:
    return _Who(actor, roles)


FormWho = Annotated[_Who, Depends(_form_who)]


async def _form_fields(request: Request) -> dict[str, str]:
    """The submitted form's text fields (typed start and task fields are named per definition or item)."""
    return {k: v for k, v in (await request.form()).items() if isinstance(v, str)}


def _inbox_context(request: Request, orch: Orchestrator, params: InboxParams | None = None) -> dict[str, Any]:
    identity = identity_of(request)
    me = identity.person(request) if identity is not None else None
    back = str(request.url.path) + (f"?{request.url.query}" if request.url.query else "")
    return {**inbox_context(orch, params or InboxParams(), me, datetime.now(UTC)),
            "back": back if request.method == "GET" else "/ui/inbox"}


@router.get("/inbox", response_class=HTMLResponse)
def inbox(request: Request, orch: OrchestratorDep, view: str | None = None, role: str | None = None,
          name: str | None = None, roles: str | None = None, sort: str | None = None) -> HTMLResponse:
    """The inbox: a view (all, my roles', mine), filters and sort order from the query string (see ``web_inbox``)."""
    return _page(request, "inbox.html", _inbox_context(request, orch, InboxParams.of(view, role, name, roles, sort)))


@router.post("/inbox/{task_id}/claim", response_class=HTMLResponse)
def claim(request: Request, task_id: str, orch: OrchestratorDep, who: FormWho,
          back: Annotated[str, Form(max_length=2000)] = "") -> Response:
    """Take an inbox item (the item's role; see ``casepilot.store._claims``), back to the inbox."""
    return _on_item(request, orch, task_id, who, back, lambda person: orch.store.claim_task(task_id, person.name))


@router.post("/inbox/{task_id}/release", response_class=HTMLResponse)
def release(request: Request, task_id: str, orch: OrchestratorDep, who: FormWho,
            back: Annotated[str, Form(max_length=2000)] = "") -> Response:
    """Give an inbox item back (the item's role), back to the inbox."""
    return _on_item(request, orch, task_id, who, back, lambda person: orch.store.release_task(task_id))


def _on_item(request: Request, orch: Orchestrator, task_id: str, who: _Who, back: str,
             work: Callable[[Person], object]) -> Response:
    try:
        person = request_person(request, who.actor, who.roles)
        task = orch.store.task(task_id)
        require_claim_role(request, orch, task, person)
        work(person)
    except (CasepilotError, ApiError) as exc:
        context = {**_inbox_context(request, orch), "error": str(exc), "actor": who.actor, "roles": who.roles_text}
        return _page(request, "inbox.html", context, _status_of(exc))
    same_list = back == "/ui/inbox" or back.startswith("/ui/inbox?")  # never elsewhere (an open redirect)
    return RedirectResponse(back if same_list else "/ui/inbox", status_code=303)


@router.post("/inbox/{task_id}", response_class=HTMLResponse)
def decide(
    request: Request,
    task_id: str,
    orch: OrchestratorDep,
    who: FormWho,
    choice: Annotated[str, Form(min_length=1, max_length=200)],
    form: Annotated[dict[str, str], Depends(_form_fields)],
    comment: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Record the decision with the task's typed fields (each problem shown beside its field, what
    was typed kept), then work the case on until it next waits or finishes."""
    try:
        person = request_person(request, who.actor, who.roles)
        task = orch.store.task(task_id)
        require_item_role(request, orch, task, person)
        values, problems = read_fields(task_fields(task_id, declared_fields(orch, task)), form)
        if problems:
            context = {**_inbox_context(request, orch), "actor": who.actor, "roles": who.roles_text,
                       "error": f"{len(problems)} field(s) need correcting: see below.", "failed_task": task_id,
                       "field_values": form, "field_errors": problems, "comment": comment}
            return _page(request, "inbox.html", context, 422)
        decide_with_values(orch, task, person, choice, comment or None, values)
    except (CasepilotError, ApiError) as exc:
        status = refusal_status(task, person, choice) if isinstance(exc, DecisionRejected) else _status_of(exc)
        context = {**_inbox_context(request, orch), "error": str(exc), "actor": who.actor, "roles": who.roles_text}
        return _page(request, "inbox.html", context, status)
    notice = f"{person.name} decided “{choice}”; {_run_on(request, orch, task.case_id)}."
    return _to_case(request, task.case_id, notice)


@router.get("/cases", response_class=HTMLResponse)
def cases(request: Request, orch: OrchestratorDep, q: str | None = None, state: str | None = None,
          definition: str | None = None, sort: str | None = None, order: str | None = None,
          page: str | None = None) -> HTMLResponse:
    """The case list: search, filters, sort and page from the query string (see ``web_cases``)."""
    return _page(request, "cases.html", cases_context(orch, ListParams.of(q, state, definition, sort, order, page)))


def _cases_context(orch: Orchestrator) -> dict[str, Any]:
    return cases_context(orch)


@router.post("/cases", response_class=HTMLResponse)
def start(
    request: Request,
    orch: OrchestratorDep,
    who: FormWho,
    definition_key: Annotated[str, Form(min_length=1, max_length=200)],
    form: Annotated[dict[str, str], Depends(_form_fields)],
    variables: Annotated[str, Form(max_length=1_000_000)] = "{}",
    business_key: Annotated[str, Form(max_length=200)] = "",
    process: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Start a case from the form and run it until it waits or finishes (the starter role, see ``access``).

    The definition's declared start variables come as typed fields (``web_forms``), each problem
    shown beside its field; the JSON box carries anything undeclared. With ``process``, that BPMN
    process of the bundle starts on its own (its variables from the JSON box: the typed fields
    are the CMMN case's)."""
    try:
        person = caller(request, who.actor, who.roles)
        require_starter(request, orch, definition_key, person)
    except (CasepilotError, ApiError) as exc:
        context = {**_cases_context(orch), "error": str(exc), "variables": variables}
        return _page(request, "cases.html", context, _status_of(exc))
    problem: str | None = None
    try:
        parsed = json.loads(variables or "{}")
    except json.JSONDecodeError as exc:
        parsed, problem = None, f"the variables are not JSON: {exc}"
    if problem is None and not isinstance(parsed, dict):
        problem = 'the variables must be a JSON object ({"name": value, …})'
    if problem is None:
        try:
            check_value(parsed, "variables")
        except ApiError as exc:
            problem = exc.detail
    if problem is not None:
        return _page(request, "cases.html", {**_cases_context(orch), "error": problem, "variables": variables,
                                             "field_values": form, "chosen": definition_key}, 422)
    declared = [] if process else fields_of(start_fields(orch)).get(definition_key, [])
    typed, field_errors = read_fields(declared, form)
    if field_errors:
        context = {**_cases_context(orch), "error": f"{len(field_errors)} field(s) need correcting: see below.",
                   "variables": variables, "field_values": form, "field_errors": field_errors, "chosen": definition_key}
        return _page(request, "cases.html", context, 422)
    parsed.update(typed)
    try:
        case = orch.start_case(definition_key, parsed, business_key or None,
                               actor=f"person:{person.name}" if person is not None else "web", process=process or None,
                               queued=queue_mode(request))
        notice = ("Case started; a worker works it." if queue_mode(request)  # its creation queued the run
                  else f"Case started; the run stopped: {_reason(orch.run(case.id))}.")
    except CasepilotError as exc:
        context = {**_cases_context(orch), "error": str(exc), "variables": variables}
        return _page(request, "cases.html", context, status_for(exc))
    return _to_case(request, case.id, notice)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, case_id: str, orch: OrchestratorDep, notice: str | None = None,
              sig: str | None = None, kind: str | None = None) -> HTMLResponse:
    try:
        context = case_context(orch, case_id, kind)
    except NotFound as exc:
        return _page(request, "cases.html", {**_cases_context(orch), "error": str(exc)}, 404)
    genuine = notice is not None and sig is not None and hmac.compare_digest(sig, _signature(request, case_id, notice))
    return _page(request, "case.html", {**context, "notice": notice if genuine else None})


def _status_of(exc: CasepilotError | ApiError) -> int:
    """The status the JSON API would answer with."""
    return exc.status if isinstance(exc, ApiError) else status_for(exc)


def _case_error(request: Request, orch: Orchestrator, case_id: str, exc: Exception, status: int) -> HTMLResponse:
    """The case page with the reason on top, or the case list when there is no such case."""
    try:
        context = case_context(orch, case_id)
    except NotFound:
        return _page(request, "cases.html", {**_cases_context(orch), "error": str(exc)}, 404)
    return _page(request, "case.html", {**context, "error": str(exc)}, status)


@router.post("/cases/{case_id}/reveal", response_class=HTMLResponse)
def reveal(request: Request, case_id: str, orch: OrchestratorDep, who: FormWho) -> Response:
    """The case file with personal data in clear, for a role the case allows; audited in the history.

    Answered directly (not redirected): clear values must never travel in a URL, and the page
    is marked not to be stored by the browser or a proxy.
    """
    try:
        person = request_person(request, who.actor, who.roles)
        orch.store.case(case_id)  # NotFound → 404 before anything else
        loaded = orch.runtime.load(case_id)
        clear = orch.reveal(case_id, loaded.engine.variables() if loaded.engine is not None else {}, person)
    except (CasepilotError, ApiError) as exc:
        return _case_error(request, orch, case_id, exc, 403 if isinstance(exc, DecisionRejected) else _status_of(exc))
    context = {**case_context(orch, case_id), "variables": shown(clear), "revealed_for": person.name,
               "notice": f"Personal data shown to {person.name}; this is recorded in the case history."}
    response = _page(request, "case.html", context)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/cases/{case_id}/actions/{action_id}", response_class=HTMLResponse)
def perform(request: Request, case_id: str, action_id: str, orch: OrchestratorDep, who: FormWho) -> Response:
    """A person makes a user event occur or plans a discretionary item; then the case runs on."""

    def work() -> str:
        person = request_person(request, who.actor, who.roles)
        orch.store.case(case_id)  # NotFound → 404 before anything else
        require_action_role(request, orch, case_id, action_id, person)
        orch.perform(case_id, action_id, person)
        return f"{person.name} did it; {_run_on(request, orch, case_id)}."

    return _on_case(request, orch, case_id, work)


@router.post("/cases/{case_id}/run", response_class=HTMLResponse)
def run(request: Request, case_id: str, orch: OrchestratorDep, who: FormWho) -> Response:
    """Work the case on until it waits or finishes (the operator role, see ``access``)."""

    def work() -> str:
        require_operator(request, orch, case_id, caller(request, who.actor, who.roles), f"run case {case_id}")
        if queue_mode(request):
            orch.store.case(case_id)  # NotFound → 404 before anything is queued
            enqueue_run(orch, case_id, 50)
            return "The run is queued; a worker works the case."
        outcome = orch.run(case_id)
        return f"The run stopped: {_reason(outcome)} after {outcome.steps} steps."

    return _on_case(request, orch, case_id, work)


@router.post("/cases/{case_id}/operate", response_class=HTMLResponse)
def operate(request: Request, case_id: str, orch: OrchestratorDep, who: FormWho,
            operation: Annotated[str, Form(max_length=20)],
            reason: Annotated[str, Form(max_length=2000)] = "", item: Annotated[str, Form(max_length=500)] = "",
            path: Annotated[str, Form(max_length=500)] = "", value: Annotated[str, Form(max_length=20000)] = "",
            task_id: Annotated[str, Form(max_length=100)] = "", to_role: Annotated[str, Form(max_length=200)] = "",
            to_person: Annotated[str, Form(max_length=200)] = "") -> Response:
    """An operation on the case (terminate, suspend, resume, retry, correct, reassign): the operator
    role or a role the bundle names for it, governed, recorded as the person's (``casepilot.api.operations``)."""
    from casepilot.api.operations import operate_from_form

    def work() -> str:
        person = request_person(request, who.actor, who.roles)
        orch.store.case(case_id)  # NotFound → 404 before anything else
        form = {"reason": reason, "item": item, "path": path, "value": value, "task_id": task_id,
                "to_role": to_role, "to_person": to_person}
        return operate_from_form(orch, case_id, person, operation, form)

    return _on_case(request, orch, case_id, work)


@router.post("/cases/{case_id}/chat", response_class=HTMLResponse)
def chat(request: Request, case_id: str, orch: OrchestratorDep, who: FormWho,
         message: Annotated[str, Form(min_length=1, max_length=4000)]) -> Response:
    """Ask the case; question and answer land in its history, which the page shows.

    A message may act on the case, so chatting needs the operator role (see ``access``).
    """

    def work() -> str:
        person = request_person(request, who.actor, who.roles)
        require_operator(request, orch, case_id, person, f"chat with case {case_id}")
        return orch.chat(case_id, person, message)[:500]

    return _on_case(request, orch, case_id, work)


def _on_case(request: Request, orch: Orchestrator, case_id: str, work: Callable[[], str]) -> Response:
    """Do a page's work on a case: to the case page with the notice ``work`` returns, or
    the case page with the refusal and the status the JSON API would answer with."""
    try:
        notice = work()
    except (CasepilotError, ApiError) as exc:
        return _case_error(request, orch, case_id, exc, _status_of(exc))
    return _to_case(request, case_id, notice)


def _reason(outcome: RunOutcome) -> str:
    return outcome.reason.replace("_", " ")


def _run_on(request: Request, orch: Orchestrator, case_id: str) -> str:
    """Work the case on after a person's change, and say how the run stopped — except with workers
    (``casepilot serve`` on PostgreSQL), where the page works no case itself: the change's own step
    queued the case's run, and a worker takes it (a process's payment is made there, not here)."""
    if queue_mode(request):
        return "a worker works the case on"
    return f"the case ran on: {_reason(orch.run(case_id))}"
