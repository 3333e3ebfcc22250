"""What the planner observes: the case's state, variables, options, and recent history.

The observation travels through the loop's checkpoint as plain data (``observation_json``)
and is turned back into an ``Observation`` for the planner (``observation_object``).
Options a person rejected, that governance blocked in this run, or that wait behind an
inbox item are left out.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from casepilot.agent.context import AgentRuntime, LoadedCase
from casepilot.agent.planning import ActionOption, ChatMessage, Observation

__all__ = ["observation_json", "observation_object", "option_json"]


def observation_json(rt: AgentRuntime, loaded: LoadedCase, *, blocked: list[str]) -> dict[str, Any]:
    engine = loaded.engine
    assert engine is not None
    variables = engine.variables()
    options, arg_prov = rt.options(loaded)
    parked_ids = {p.option_id for p in loaded.facts.parked.values()}
    gone = set(blocked) | set(loaded.facts.rejected) | parked_ids
    options = [o for o in options if o.id not in gone]
    # Recent history and chat matter to a model; the rule planner reads neither (and they cost a query).
    wants_history = getattr(rt.planner, "name", "") != "rule"
    history = (rt.store.history(loaded.id, after_seq=max(0, loaded.record.last_seq - 8))
               if wants_history else [])
    chat = [
        asdict(ChatMessage(role=e.payload.get("role", "user"), actor=e.actor, text=str(e.payload.get("text", ""))))
        for e in history
        if e.kind == "chat_message"
    ]
    return {
        "case_id": loaded.id,
        "definition_key": loaded.bundle.key,
        "case_state": engine.state,
        "items": [v.to_json() for v in engine.items()],
        "variables": variables,
        "options": [option_json(o) for o in options],
        "arg_provenance": {
            k: {n: {"trust": p.trust, "source": p.source} for n, p in v.items()} for k, v in arg_prov.items()
        },
        "recent_history": [{"seq": e.seq, "kind": e.kind, "actor": e.actor} for e in history],
        "chat": chat,
    }

def option_json(option: ActionOption) -> dict[str, Any]:
    data = {f.name: getattr(option, f.name) for f in fields(option)}
    data["arguments_schema"] = dict(option.arguments_schema) if option.arguments_schema else None
    data["default_arguments"] = dict(option.default_arguments)
    return data

def observation_object(data: dict[str, Any]) -> Observation:
    return Observation(
        case_id=data["case_id"],
        definition_key=data["definition_key"],
        case_state=data["case_state"],
        items=tuple(data["items"]),
        variables=data["variables"],
        options=tuple(ActionOption(**o) for o in data["options"]),
        recent_history=tuple(data["recent_history"]),
        chat=tuple(ChatMessage(**c) for c in data["chat"]),
    )
