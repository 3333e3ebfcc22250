"""The offline, deterministic planner — the default when no model is configured.

It is a real planner for rule-driven cases, not a test double. At every step it takes
the first option in this documented order:

1. ``decide`` — evaluate the DMN decision of an active decision task (required first);
2. ``run_task`` / ``start_child`` / ``start_process`` — run the tool bound to an active task,
   start the child case of an active case task or the BPMN process of a process task; required items first, then in the order the items
   appear in the model;
3. ``start`` — manually start an enabled item, but only a *required* one (a person
   decides about optional manually-activated work);
4. ``plan`` — add a discretionary item, only when its binding says ``auto_plan``
   (``ActionOption.description`` carries ``auto_plan``);
5. ``wait`` — nothing the agent may do now: the case waits for people or events.

Tool arguments are the binding's mappings from the case file (``default_arguments``).
"""

from __future__ import annotations

from casepilot.agent.planning import ActionOption, Observation, Plan

__all__ = ["RulePlanner"]

_ORDER = {"decide": 0, "run_task": 1, "start_child": 1, "start_process": 1, "start": 2, "plan": 3}


class RulePlanner:
    """Deterministic planner: same observation, same plan."""

    name = "rule"

    def plan(self, observation: Observation) -> Plan:
        candidates = [o for o in observation.options if self._eligible(o)]
        if not candidates:
            wait = next((o for o in observation.options if o.kind == "wait"), None)
            return Plan(
                option_id=wait.id if wait else "wait",
                rationale="nothing the agent may do now; waiting for people or events",
                planner=self.name,
            )
        position = {o.id: i for i, o in enumerate(observation.options)}
        best = min(candidates, key=lambda o: (_ORDER[o.kind], not o.required, position[o.id]))
        return Plan(
            option_id=best.id,
            arguments=dict(best.default_arguments),
            rationale=self._why(best),
            confidence=1.0,
            planner=self.name,
        )

    @staticmethod
    def _eligible(option: ActionOption) -> bool:
        if option.kind in ("decide", "run_task", "start_child", "start_process"):
            return True
        if option.kind == "start":
            return option.required
        if option.kind == "plan":
            return "auto_plan" in option.description
        return False

    @staticmethod
    def _why(option: ActionOption) -> str:
        if option.kind == "decide":
            return f"{option.label!r} is an active decision task; its DMN decision is evaluated"
        if option.kind == "run_task":
            req = "required " if option.required else ""
            return f"{option.label!r} is an active {req}task bound to tool {option.tool!r}"
        if option.kind == "start_child":
            return f"{option.label!r} is an active case task; its child case is started"
        if option.kind == "start_process":
            return f"{option.label!r} is an active process task; its BPMN process is started"
        if option.kind == "start":
            return f"{option.label!r} is enabled and required for its stage to complete"
        return f"{option.label!r} is a discretionary item whose binding plans it automatically"
