"""What the agent may do now in a case, and whether a parked action is still the one a person saw.

Apart because both the planner's menu (``case_options``) and the check of a person's approval
(``current_digest``) must see the same options: an approval holds only while the option it
approved is still offered with the same arguments.
"""

from __future__ import annotations

from collections.abc import Mapping

from casepilot.agent._case_reveal import Unavailable
from casepilot.agent._loaded_case import LoadedCase, provenance_map
from casepilot.agent.facts import ParkedAction
from casepilot.agent.options import build_options
from casepilot.agent.planning import ActionOption
from casepilot.governance.actions import ProposedAction
from casepilot.tools import Provenance, ToolRegistry

__all__ = ["case_options", "current_digest"]


def case_options(loaded: LoadedCase, registry: ToolRegistry, unavailable: list[Unavailable] | None = None
                 ) -> tuple[list[ActionOption], dict[str, Mapping[str, Provenance]]]:
    """What the agent may do now in ``loaded`` (see ``options.build_options``; ``unavailable``: a
    read-only listing's)."""
    engine = loaded.engine
    if engine is None:
        return [], {}
    return build_options(engine, loaded.bundle.bindings, registry, engine.variables(),
                         provenance_map(loaded.facts), decisions=loaded.bundle.decision_tasks.keys(),
                         child_cases={k: b.key for k, b in loaded.bundle.case_tasks.items()},
                         started_children=loaded.facts.children.keys(),
                         processes={k: b.process_id for k, b in loaded.bundle.process_tasks.items()},
                         started_processes=loaded.facts.processes.keys(), unavailable=unavailable)


def current_digest(loaded: LoadedCase, parked: ParkedAction, registry: ToolRegistry) -> str | None:
    """The digest the parked action would have if proposed now (``None``: no longer possible).

    A person's approval holds only for the action they saw: when the case file changed
    the arguments the binding would pass, the digest differs and the decision is refused.
    """
    if loaded.engine is None:
        return None
    options, _ = case_options(loaded, registry)
    current = next((o for o in options if o.id == parked.option_id), None)
    if current is None:
        if parked.option.get("kind") in ("run_task", "decide"):
            return "gone"
        return parked.digest
    if parked.option.get("kind") in ("run_task", "decide"):
        args = dict(current.default_arguments)
        if dict(parked.option.get("default_arguments") or {}) != dict(parked.arguments):
            args = dict(parked.arguments)  # the planner chose its own arguments: compare those
        action = ProposedAction(kind="tool_call", name=str(current.tool), case_id=loaded.id,
                                plan_item=current.label, arguments=args)
        return action.digest()
    return parked.digest
