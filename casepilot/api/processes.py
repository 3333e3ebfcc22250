"""The BPMN processes of a case over HTTP: their state in ``GET /cases/{id}`` and their diagrams.

A process started on its own is a case (``casepilot.agent._process_cases``), and a CMMN case
runs processes through its process tasks; either way ``GET /cases/{id}`` lists them
(:func:`process_states`: the elements holding a token, the completed ones, the variables
pseudonymised like the case file) and ``GET /cases/{id}/processes/{instance}/diagram`` draws
one from its model's BPMN DI with the tokens marked (SVG; every model text escaped).
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Response

from casepilot.agent._loaded_case import LoadedCase
from casepilot.agent._process_cases import process_views
from casepilot.api._body import JsonRoute
from casepilot.api.deps import OrchestratorDep
from casepilot.api.errors import ApiError, error_responses
from casepilot.api.schemas import ProcessState

__all__ = ["diagram_url", "process_states", "router"]

router = APIRouter(prefix="/cases", tags=["cases"], route_class=JsonRoute, responses=error_responses(401, 422, 503))


def diagram_url(case_id: str, instance_id: str) -> str:
    return f"/cases/{quote(case_id, safe='')}/processes/{quote(instance_id, safe='')}/diagram"


def process_states(loaded: LoadedCase) -> list[ProcessState]:
    """The case's BPMN processes, running and ended (see the module docstring)."""
    states = []
    for view in process_views(loaded, with_svg=False):
        definitions = loaded.bundle.processes
        drawn = definitions is not None and definitions.processes[view.process_id].diagram is not None
        states.append(ProcessState(
            instance_id=view.instance_id, process_id=view.process_id, name=view.name,
            status=view.status,  # type: ignore[arg-type]  # the runner's and the end's statuses
            active_elements=list(view.active), completed_elements=list(view.completed),
            variables=dict(view.variables), next_timer=view.next_timer,
            diagram=diagram_url(loaded.id, view.instance_id) if drawn else None))
    return states


@router.get(
    "/{case_id}/processes/{instance_id}/diagram",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {"schema": {"type": "string"}}},
                     "description": "The process drawn from its BPMN DI, the elements holding a token marked."},
               **error_responses(_404="No case with this id, no process of it with this instance id, or its "
                                      "model carries no diagram (BPMN DI).")},
)
def process_diagram(case_id: str, instance_id: str, orch: OrchestratorDep) -> Response:
    """A process of the case drawn with its tokens (SVG); ``instance_id`` is one of ``GET /cases/{id}``'s
    ``processes``."""
    loaded = orch.runtime.load(case_id)
    views = {v.instance_id: v for v in process_views(loaded)}
    view = views.get(instance_id)
    if view is None:
        raise ApiError(404, "NotFound", f"case {case_id} runs no BPMN process as {instance_id!r}; its processes: "
                                        f"{', '.join(sorted(views)) or 'none'} (see GET /cases/{case_id})")
    if view.svg is None:
        raise ApiError(404, "NotFound", f"process {view.process_id!r} has no diagram: its BPMN file carries no "
                                        "BPMN DI (draw it in a modeler such as bpmn.io)")
    # Every model text in it is escaped; the policy keeps an SVG opened on its own from running or loading anything.
    return Response(view.svg, media_type="image/svg+xml", headers={
        "Cache-Control": "no-store", "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})
