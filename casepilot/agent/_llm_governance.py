"""Governance of the planner's model calls: the prompt is reviewed and pseudonymised before a
model sees the case, the model a route picks is reviewed again before it is called, and every
call's tokens and cost are recorded (priced from the bundle's table, or as unknown)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, replace
from decimal import Decimal
from typing import Any

from casepilot.agent._loop_state import LoopState
from casepilot.agent._node_base import NodeBase
from casepilot.agent.context import LoadedCase
from casepilot.agent.facts import ParkedAction
from casepilot.agent.model_routing import CallGuard
from casepilot.agent.planning import ChatMessage, LLMUsage, Observation
from casepilot.governance.actions import ProposedAction, canonical_json
from casepilot.governance.checkpoints import CheckpointRequest

__all__ = ["LLMGovernance", "prompt_payload"]


def prompt_payload(observation: Observation) -> dict[str, Any]:
    """What of the case a model call carries: the case file, the chat, each option's arguments."""
    return {
        "variables": dict(observation.variables),
        "chat": [asdict(c) for c in observation.chat],
        "options": [dict(o.default_arguments) for o in observation.options],
    }


class LLMGovernance(NodeBase):
    """The model-call part of the nodes (``plan`` uses it)."""

    def _governed_prompt(self, case_id: str, observation: Observation) -> Observation | LoopState:
        """An LLM sees the case only after governance: budget checked, PII pseudonymised.

        Returns the observation to send, or the loop update when the call may not happen now
        (blocked: the run stops; a person must approve: an inbox item opens and the loop waits).
        """
        loaded = self.rt.load(case_id)
        payload = prompt_payload(observation)
        action = ProposedAction(kind="llm_call", name=getattr(self.rt.planner, "model", "llm"), case_id=case_id,
                                arguments=payload, estimated_tokens=len(canonical_json(payload)) // 4 + 500)
        verdict = self.rt.governor_for(loaded.bundle).review(action, self.context(loaded, confidence=None,
                                                                                  action=action))
        record = {"action": "llm_call", **verdict.to_json(), "transformed": None}
        overridden = verdict.kind == "require_human" and loaded.facts.llm_overrides > 0
        if verdict.kind != "allow":
            with self.rt.step(case_id, loaded) as (step, loaded):
                if overridden:
                    loaded.facts.llm_overrides -= 1
                    record["overridden"] = "approved earlier by a person"
                step.append("verdict", actor="agent", payload=record, rule_ids=verdict.rule_ids)
                waiting = any(p.option.get("kind") == "llm_call" for p in loaded.facts.parked.values())
                if verdict.kind == "require_human" and not overridden and not waiting:
                    request = CheckpointRequest.from_verdict(verdict, action)
                    task = step.create_task(request.question, kind="checkpoint", plan_item="LLM call",
                                            role=request.role, options=request.options,
                                            expires_at=request.expires_at, action_digest=request.action_digest,
                                            actor="agent")
                    option = {"id": "llm_call", "kind": "llm_call", "label": "LLM call",
                              "default_choice": request.default_choice}
                    loaded.facts.parked[task.id] = ParkedAction(task.id, "llm_call", option, {}, action.digest(),
                                                                verdict.reason)
            if verdict.kind == "block":
                return {"stop": "blocked_llm_call", "plan": None}
            if not overridden:
                return self._wait_for_people(case_id)
        safe: dict[str, Any] = verdict.transformed or payload
        options = tuple(
            replace(o, default_arguments=safe["options"][i]) for i, o in enumerate(observation.options)
        )
        chat = tuple(ChatMessage(**c) for c in safe["chat"])
        return replace(observation, variables=safe["variables"], options=options, chat=chat)

    def _routed_call_guard(self, case_id: str, governed: Observation) -> CallGuard:
        """Governance of the model a route calls (``ModelCall.guard``): ``_governed_prompt`` reviewed the
        call under the planner's own model; a route to another model is reviewed again under that
        model, and anything but ``allow`` refuses it (a person's approval was asked for the call as
        first reviewed, not for this model)."""
        reviewed = getattr(self.rt.planner, "model", "llm")
        payload = prompt_payload(governed)

        def guard(endpoint: str, model: str) -> Mapping[str, Any] | None:
            if model == reviewed:
                return None
            loaded = self.rt.load(case_id, check_version=False)
            action = ProposedAction(kind="llm_call", name=model, case_id=case_id, arguments=payload,
                                    estimated_tokens=len(canonical_json(payload)) // 4 + 500)
            verdict = self.rt.governor_for(loaded.bundle).review(action, self.context(loaded, confidence=None,
                                                                                      action=action))
            if verdict.kind == "allow":
                return None
            return {**verdict.to_json(), "transformed": None, "model": model, "endpoint": endpoint}

        return guard

    def _record_llm_usage(self, step: Any, loaded: LoadedCase, usage: Iterable[LLMUsage]) -> None:
        prices = loaded.bundle.prices
        for u in usage:
            # The bundle's price table (versioned with the definition) wins over the planner's own;
            # a model priced by neither costs an unknown amount (recorded as such, never as 0).
            cost = (prices.cost(u.model, u.prompt_tokens, u.completion_tokens) if u.model in prices.prices
                    else Decimal(u.cost) if u.cost is not None else None)
            loaded.facts.usage = loaded.facts.usage.add(
                tokens=u.prompt_tokens + u.completion_tokens, cost=cost or Decimal(0), llm_calls=1,
                wall_seconds=u.latency_ms / 1000)
            route = (u.details or {}).get("route") or {}
            step.append("llm_call", actor="agent", payload={"model": u.model, "prompt_tokens": u.prompt_tokens,
                        "completion_tokens": u.completion_tokens, "cost": str(cost) if cost is not None else None,
                        **({"price": "unknown"} if cost is None else {}), **dict(u.details or {})},
                        rule_ids=tuple(route.get("rule_ids") or ()),
                        tokens=u.prompt_tokens + u.completion_tokens, cost=cost, latency_ms=u.latency_ms)
