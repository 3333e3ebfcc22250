"""What the loop's nodes share that needs no runtime: digests, the paths results map to, who an
action is recorded for, the plan of a person's choice, and whether a decision may be written with
its outcome (``recorded_with_outcome``)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, cast

import orjson

from casepilot.agent._loop_state import LoopState, RequestedOption, VerdictData
from casepilot.agent.facts import StartedCall
from casepilot.governance.actions import canonical_default, canonical_json
from casepilot.governance.verdict import Finding, Verdict
from casepilot.tools import Provenance

__all__ = ["actor_of", "answer_of", "arg_provenance", "deferred_call", "digest_of", "merge_paths",
           "recorded_with_outcome", "requested_plan", "verdict_data"]


_FINGERPRINT = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME


def digest_of(value: Any) -> str:
    """sha256 of ``value``'s canonical JSON (keys sorted, no spaces, UTF-8): the fingerprint of what
    the planner observed, which every plan records.

    The observation is a few KB at every step, so ``orjson`` writes it, in a tenth of the time
    of ``canonical_json``, with the same bytes but for the exponent of very large or small
    floats (``1e16``, not ``1e+16``) and an enum (its value, not its name): a fingerprint nobody
    recomputes from other bytes (``tests/agent/test_step_json.py`` holds the rest equal). What
    ``orjson`` refuses (an integer beyond 64 bits, a key that is not text) takes ``canonical_json``.
    """
    try:
        text = orjson.dumps(value, default=canonical_default, option=_FINGERPRINT)
    except TypeError:  # orjson.JSONEncodeError
        text = canonical_json(value).encode()
    return hashlib.sha256(text).hexdigest()


def merge_paths(variables: dict[str, Any], updates: dict[str, Any]) -> dict[str, Any]:
    """Top-level case-file updates for dotted result paths (``claim.amount``) merged into their parents."""
    merged: dict[str, Any] = {}
    for path, value in updates.items():
        head, *rest = path.split(".")
        if not rest:
            merged[head] = value
            continue
        base = merged.get(head, variables.get(head))
        root: dict[str, Any] = dict(base) if isinstance(base, dict) else {}
        node = root
        for part in rest[:-1]:
            child = node.get(part)
            node[part] = dict(child) if isinstance(child, dict) else {}
            node = node[part]
        node[rest[-1]] = value
        merged[head] = root
    return merged


def arg_provenance(observation: Mapping[str, Any], option_id: str) -> dict[str, Provenance]:
    """The provenance of an option's binding arguments, as the observation recorded it."""
    raw = (observation.get("arg_provenance") or {}).get(option_id, {})
    return {n: Provenance(p["trust"], p["source"]) for n, p in raw.items()}


def actor_of(person: Mapping[str, Any] | None) -> str:
    """Who an action is recorded for: the person who asked for it (chat), else the agent."""
    return str(person["actor"]) if person else "agent"


def answer_of(finding: Finding) -> dict[str, Any]:
    """What identifies a finding a person answers: the policy, its rules and the role asked."""
    return {"policy": finding.policy, "rule_ids": list(finding.rule_ids), "role": finding.role}


def requested_plan(requested: RequestedOption, observation: Mapping[str, Any]) -> LoopState:
    """The plan for an action a person chose (``Orchestrator.run_option``) — once: the run stops
    if the loop comes back to ``plan`` (the action was done, or the case moved on meanwhile)."""
    if requested.get("used"):
        return {"stop": "requested_done", "plan": None}
    option = next((o for o in observation["options"] if o["id"] == requested["option_id"]), None)
    if option is None:
        return {"stop": "not_possible", "plan": None, "requested": {**requested, "used": True}}
    return {"requested": {**requested, "used": True}, "plan": {
        "option": option, "arguments": dict(option["default_arguments"]),
        "rationale": f"requested by {requested['requested_by']}", "confidence": 1.0, "confidence_source": None,
        "planner": requested["requested_by"], "usage": [], "invalid_attempts": [], "person": requested["person"]}}


def verdict_data(verdict: Verdict) -> VerdictData:
    """A verdict as the loop carries it (its history payload: ``Verdict.to_json``)."""
    return cast(VerdictData, verdict.to_json())


def recorded_with_outcome(option: Mapping[str, Any], started: tuple[StartedCall, dict[str, Any]] | None) -> bool:
    """Whether an allowed action's plan and verdict may be written in ``record``'s step, with its outcome.

    Only a non-idempotent call must be recorded as started before it runs: after a crash,
    that record is what hands it to a person instead of running it again. A read-only or
    idempotent call — or a transition of the case's own plan — is simply done again when a
    crash loses its step, so one transaction per step suffices. Starting a child case
    writes another case, and a process writes steps of its own (one per persistence point):
    the decision is written first, as before.
    """
    if option["kind"] in ("start_child", "start_process"):
        return False
    return started is None or started[0].side_effect in ("read_only", "idempotent")


def deferred_call(deferred: Mapping[str, Any] | None, call_id: str | None) -> StartedCall | None:
    """The call ``govern`` left for ``record`` to write (``recorded_with_outcome``), if it is ``call_id``."""
    started = (deferred or {}).get("started")
    if started is None or call_id is None or started["call"]["call_id"] != call_id:
        return None
    return StartedCall.from_json(started["call"])
