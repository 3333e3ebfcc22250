"""Which endpoint and model a model call goes to, decided per call — by a DMN decision when the bundle has one.

Sending a case to a model is a business decision (where may personal data go? what may this
case still cost?), so it lives in a decision table analysts can read and change, versioned
with the bundle, and the rules that chose the route are recorded with the call.

``casepilot.yaml`` names the decision (in one of the ``decisions:`` files)::

    decisions: [model-routing.dmn]
    model_routing: {decision: Model routing, risk: claim.risk}

Inputs of the decision (those it declares are read):

| name              | FEEL type        | meaning                                                         |
|-------------------|------------------|-----------------------------------------------------------------|
| purpose           | string           | ``plan`` (choose the next action), ``chat``, ``summarise``      |
| definition        | string           | the case definition key                                         |
| stage             | string or null   | the first active stage of the case                              |
| stages            | list of strings  | every active stage                                              |
| pii_types         | list of strings  | PII types in what the call would send (pseudonymised already)   |
| risk              | any              | the case-file value at ``model_routing.risk``                   |
| tokens_spent      | number           | tokens the case used so far                                     |
| cost_spent        | number           | money the case spent so far                                     |
| llm_calls         | number           | model calls the case made so far                                |
| previous_failure  | string or null   | why the previous route of this call failed (``rate_limited``,   |
|                   |                  | ``server_error``, ``timeout``, ``connection``, ``client_error``,|
|                   |                  | ``bad_response``, ``deadline``), null on the first route        |
| previous_status   | number or null   | its HTTP status                                                 |
| previous_endpoint | string or null   | the endpoint that failed                                        |
| endpoints_tried   | list of strings  | endpoints this call already failed on                           |

Outputs: ``endpoint`` (a configured endpoint name, see ``llm_endpoints``; null after a
failure means "no fallback"), and optionally ``model``, ``temperature``, ``max_tokens``.

Fails closed: an evaluation error, no matching rule, an output that is not a route, or an
endpoint the deployment does not configure stops the call before anything is sent; the
step fails with the reason. Without a routing decision the route is the ``default``
endpoint, and after a failure the ``fallback`` endpoint when one is configured.

Governance sees the model a route calls: a ``ModelCall`` carries a ``guard`` the planner asks
before every call with the endpoint and model the route chose (the first route and every
fallback), so a guardrail on the ``llm_call``'s model ("not on the approved list → block")
holds for the model actually called. A refusal raises ``CallRefused``: nothing is sent.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from casepilot.agent.llm_client import CallFailure
from casepilot.agent.llm_endpoints import DEFAULT_ENDPOINT
from casepilot.agent.manifest import LLMSpec
from casepilot.agent.planning import LLMUsage, PlannerError
from casepilot.governance.budget import PriceTable
from casepilot.governance.guardrails import lookup_path
from casepilot.governance.pii.pseudonymizer import TOKEN_PATTERN

if TYPE_CHECKING:
    from casepilot.agent.bundle import CaseBundle
    from casepilot.agent.context import LoadedCase
    from casepilot.agent.planning import ActionOption, Observation
    from casepilot.dmn import DecisionModel

__all__ = [
    "FALLBACK_ENDPOINT",
    "CallContext",
    "CallGuard",
    "CallRefused",
    "DefaultRouter",
    "DmnModelRouter",
    "ModelCall",
    "ModelRouter",
    "Route",
    "RoutingError",
    "has_choice",
    "model_call",
    "router_for",
    "routing_problem",
]

FALLBACK_ENDPOINT = "fallback"

CallGuard = Callable[[str, str], "Mapping[str, Any] | None"]
"""Asked with (endpoint, model) before a call is sent: ``None`` to send it, else the refusal
(the governance verdict, as recorded in the history) — the call is then not made."""


class CallRefused(PlannerError):
    """Governance refused the call a route chose (its endpoint and model); nothing was sent."""

    def __init__(self, message: str, *, verdict: Mapping[str, Any], usage: Sequence[LLMUsage] = (),
                 invalid_attempts: Sequence[str] = (), detail: Mapping[str, Any] | None = None) -> None:
        super().__init__(message, usage=usage, invalid_attempts=invalid_attempts, detail=detail)
        self.verdict: Mapping[str, Any] = dict(verdict)


class RoutingError(Exception):
    """No route may be taken: the call is not made."""


@dataclass(frozen=True, slots=True)
class CallContext:
    """What a routing decision knows about one model call."""

    purpose: str = "plan"
    definition: str | None = None
    stage: str | None = None
    stages: tuple[str, ...] = ()
    pii_types: tuple[str, ...] = ()
    risk: Any = None
    tokens_spent: int = 0
    cost_spent: Decimal = Decimal(0)
    llm_calls: int = 0

    def inputs(self, failure: CallFailure | None, tried: Sequence[str]) -> dict[str, Any]:
        return {
            "purpose": self.purpose,
            "definition": self.definition,
            "stage": self.stage,
            "stages": list(self.stages),
            "pii_types": list(self.pii_types),
            "risk": self.risk,
            "tokens_spent": self.tokens_spent,
            "cost_spent": self.cost_spent,
            "llm_calls": self.llm_calls,
            "previous_failure": failure.kind if failure else None,
            "previous_status": failure.status if failure else None,
            "previous_endpoint": failure.endpoint if failure else None,
            "endpoints_tried": list(tried),
        }


@dataclass(frozen=True, slots=True)
class Route:
    """Where one call goes, and which rules said so."""

    endpoint: str
    model: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    decision: str | None = None
    """The routing decision, or ``None`` for the built-in default route."""
    rule_ids: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "model": self.model, "temperature": self.temperature,
                "max_tokens": self.max_tokens, "decision": self.decision, "rule_ids": list(self.rule_ids)}


class ModelRouter(Protocol):
    """Chooses the route of a call; after a failure, the next route (``None``: give up)."""

    def route(self, context: CallContext, failure: CallFailure | None, tried: Sequence[str]) -> Route | None: ...


@dataclass(frozen=True, slots=True)
class DefaultRouter:
    """No routing decision: the ``default`` endpoint, then ``fallback`` when it is configured."""

    endpoints: Collection[str]

    def route(self, context: CallContext, failure: CallFailure | None, tried: Sequence[str]) -> Route | None:
        if failure is None:
            return Route(DEFAULT_ENDPOINT)
        if FALLBACK_ENDPOINT in self.endpoints and FALLBACK_ENDPOINT not in tried:
            return Route(FALLBACK_ENDPOINT)
        return None


def _number(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise RoutingError(f"must be a number, not {value!r}")
    return float(value)


class DmnModelRouter:
    """Routes with a DMN decision; load once, route many times."""

    def __init__(self, model: DecisionModel, decision: str) -> None:
        self.model = model
        self.decision = decision

    def route(self, context: CallContext, failure: CallFailure | None, tried: Sequence[str]) -> Route | None:
        result = self.model.evaluate(self.decision, context.inputs(failure, tried))
        value = result.value
        if not result.ok or not isinstance(value, Mapping):
            problems = "; ".join(str(m) for m in result.errors) or "no rule matched"
            raise RoutingError(f"the model routing decision {self.decision!r} gave no route ({problems}); the call "
                               "was not made. Fix the table, e.g. add a catch-all last rule")
        endpoint = value.get("endpoint")
        if endpoint is None and failure is not None:
            return None  # the table says: no fallback for this failure
        if not isinstance(endpoint, str) or not endpoint:
            raise RoutingError(f"the model routing decision {self.decision!r} must return an endpoint name, "
                               f"got {endpoint!r} (rules {', '.join(result.rule_ids) or 'none'}); the call was not made")
        model = value.get("model")
        if model is not None and not isinstance(model, str):
            raise RoutingError(f"the model routing decision {self.decision!r} returned model {model!r}, not a name")
        try:
            temperature = _number(value.get("temperature"))
            max_tokens = _number(value.get("max_tokens"))
        except RoutingError as exc:
            raise RoutingError(f"the model routing decision {self.decision!r}: temperature/max_tokens {exc}") from None
        return Route(endpoint, model or None, temperature, int(max_tokens) if max_tokens is not None else None,
                     self.decision, result.rule_ids)


@dataclass(frozen=True, slots=True)
class _BrokenRouter:
    """A routing decision that cannot be loaded: every call fails closed with the reason."""

    reason: str

    def route(self, context: CallContext, failure: CallFailure | None, tried: Sequence[str]) -> Route | None:
        raise RoutingError(self.reason)


_ROUTERS: dict[str, ModelRouter] = {}
_ROUTERS_LOCK = threading.Lock()


def router_for(bundle: CaseBundle) -> ModelRouter | None:
    """The bundle's routing decision as a router (``None`` when it has none), loaded once per bundle content."""
    spec = bundle.manifest.model_routing
    if spec is None:
        return None
    with _ROUTERS_LOCK:
        router = _ROUTERS.get(bundle.content_hash)
        if router is None:
            router = _ROUTERS[bundle.content_hash] = _load_router(bundle.folder, bundle.manifest.decisions,
                                                                   spec.decision)
        return router


def routing_problem(folder: Path, files: Sequence[str], decision: str) -> str | None:
    """Why the routing decision named in a manifest cannot route (checked at deploy), or ``None``."""
    router = _load_router(folder, files, decision)
    return router.reason if isinstance(router, _BrokenRouter) else None


def _load_router(folder: Path, files: Sequence[str], decision: str) -> ModelRouter:
    from casepilot.dmn import DecisionModel

    for name in files:
        try:
            model = DecisionModel.from_xml(folder / name)
        except Exception as exc:  # a broken file fails every call closed, with the reason
            return _BrokenRouter(f"the model routing decision cannot be loaded from {name}: {exc}")
        if any(decision in (d.name, d.id) for d in model.decisions):
            found = next(d.name for d in model.decisions if decision in (d.name, d.id))
            return DmnModelRouter(model, found)
    listed = ", ".join(files) or "none listed under `decisions:`"
    return _BrokenRouter(f"model_routing names decision {decision!r}, which is in none of the bundle's DMN files "
                         f"({listed}); no model call is made until it is fixed")


@dataclass(frozen=True, slots=True)
class ModelCall:
    """Everything about the call a planner makes besides the prompt: context, the definition's settings, router."""

    context: CallContext = field(default_factory=CallContext)
    settings: LLMSpec = field(default_factory=LLMSpec)
    router: ModelRouter | None = None
    """The bundle's routing decision; ``None``: the planner's own (``DefaultRouter``)."""
    prices: PriceTable | None = None
    """The bundle's prices (they win over the planner's own)."""
    cost_limited: bool = False
    """A budget limits the case's cost: a model without a price may not be called (its cost
    could not be counted, so the limit would silently not hold)."""
    guard: CallGuard | None = None
    """Governance of the routed call (endpoint, model), asked before each call; ``None``: none."""


def has_choice(options: Sequence[ActionOption]) -> bool:
    """Whether a model has anything to choose: some option besides waiting (else it is not called)."""
    return any(o.kind != "wait" for o in options)


def pii_types_in(value: Any) -> tuple[str, ...]:
    """The PII types whose pseudonyms (``<PERSON_1>``) occur in ``value``."""
    text = json.dumps(value, default=str, ensure_ascii=False)
    return tuple(sorted({m.group("type") for m in TOKEN_PATTERN.finditer(text)}))


def model_call(loaded: LoadedCase, observation: Observation, *, purpose: str = "plan") -> ModelCall:
    """The ``ModelCall`` of ``observation`` (already governed, so pseudonymised) for the case ``loaded``."""
    bundle = loaded.bundle
    manifest = bundle.manifest
    stages = tuple(str(i.get("name")) for i in observation.items
                   if i.get("kind") == "stage" and i.get("state") == "active" and i.get("name"))
    risk = None
    if manifest.model_routing is not None and manifest.model_routing.risk:
        risk = lookup_path(observation.variables, manifest.model_routing.risk)
    sent = {"variables": observation.variables, "chat": [m.text for m in observation.chat],
            "options": [dict(o.default_arguments) for o in observation.options]}
    usage = loaded.facts.usage
    governor = bundle.governor
    cost_limited = any(b is not None and b.max_cost is not None for b in (governor.budget, governor.total_budget)) \
        or bool((loaded.facts.case_budget or {}).get("max_cost") is not None)
    context = CallContext(
        purpose=purpose,
        definition=bundle.key,
        stage=stages[0] if stages else None,
        stages=stages,
        pii_types=pii_types_in(sent),
        risk=risk,
        tokens_spent=usage.tokens,
        cost_spent=usage.cost,
        llm_calls=usage.llm_calls,
    )
    return ModelCall(context=context, settings=manifest.llm, router=router_for(bundle), prices=bundle.prices,
                     cost_limited=cost_limited)
