"""The nodes of the orchestrator loop: observe → plan → govern → act → record (and wait).

Each node is a method of ``Nodes`` taking and returning the loop's own state (plain,
checkpointable data: ids, the current plan, the tool outcome). The case itself is read
from and written to the store inside the nodes.

* ``observe`` starts the case if needed, expires overdue checkpoints, hands tool calls
  left ``started`` by a crash to a person (non-idempotent) or back to the planner
  (idempotent), and builds the options;
* ``plan`` asks the planner (an LLM planner's prompt is itself governed and redacted);
* ``govern`` reviews the chosen action (``_decisions``); a non-idempotent call is recorded
  as started — plan, verdict, call — in one transaction before it runs, anything else that
  is allowed is left for ``record`` to write with its outcome (one transaction per step); a
  ``require_human`` verdict parks the action behind an inbox item;
* ``act`` runs the tool — the only node with an outside effect;
* ``record`` records the outcome (and the decision, if ``govern`` left it), maps results
  into the case file, completes the task and records every transition, in one transaction;
* ``wait`` pauses with ``interrupt()`` while people have work; it has no side effect, as
  LangGraph re-runs a node from its start on resume.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, replace
from typing import Any

from langgraph.types import interrupt

from casepilot.agent._case_reveal import fail_unrevealable
from casepilot.agent._decisions import Decisions
from casepilot.agent._keepable import Unkeepable, keepable
from casepilot.agent._loop_state import (
    DecisionRecord,
    LoopState,
)
from casepilot.agent._message_rail import railed
from casepilot.agent._node_helpers import (
    actor_of,
    arg_provenance,
    deferred_call,
    digest_of,
    merge_paths,
    recorded_with_outcome,
    requested_plan,
    verdict_data,
)
from casepilot.agent._observation import observation_json, observation_object
from casepilot.agent._process_tasks import resume_due, start_process
from casepilot.agent._recovery import expire_and_recover
from casepilot.agent._retrieval_scope import retrieval_scope
from casepilot.agent._task_kinds import (
    apply_decision,
    definition_of,
    engine_transition,
    evaluate_decision,
    start_child,
)
from casepilot.agent.context import LoadedCase
from casepilot.agent.facts import loop_keys
from casepilot.agent.model_routing import CallRefused, has_choice, model_call
from casepilot.agent.planning import Observation, PlannerError
from casepilot.agent.privacy import jsonable
from casepilot.errors import PersonalDataErased, ToolError
from casepilot.tools import apply_results, result_provenance

__all__ = ["LoopState", "Nodes"]


class Nodes(Decisions):
    """The loop's nodes over one ``AgentRuntime`` (model-call governance in ``_llm_governance``,
    the actions governance reviews in ``_proposals``)."""

    # -- observe ---------------------------------------------------------------------------------

    def observe(self, state: LoopState) -> LoopState:
        try:
            return self._observe(state)
        except PersonalDataErased as exc:
            # Listing the options (an applicability rule, a parked action's digest) read erased
            # personal data outside a step: the case fails and the history says why, as when a
            # step's condition does (``_case_reveal.fail_unrevealable``: once); the run stops.
            case_id = state["case_id"]
            fail_unrevealable(self.rt.steps, case_id, exc)
            engine = self.rt.load(case_id).engine
            if engine is None or not engine.finished:
                raise  # it could not even be failed (only the error is recorded)
            return {"stop": engine.state, "observation": None, "plan": None, "approved": None}

    def _observe(self, state: LoopState) -> LoopState:
        case_id = state["case_id"]
        if state.get("steps", 0) >= state.get("max_steps", 50):
            return {"stop": "max_steps", "observation": None, "plan": None, "approved": None}
        # The first observe of a run reads what other workers or people may have changed; later
        # ones continue from this thread's copy (a stale copy fails its next write and the
        # node is re-run on a fresh read).
        loaded = self.rt.load(case_id, check_version=state.get("steps", 0) == 0)
        if loaded.engine is None:
            self.rt.start_engine(case_id)
            loaded = self.rt.load(case_id)
        if expire_and_recover(self.rt, loaded):
            loaded = self.rt.load(case_id)
        if loaded.facts.processes and resume_due(self.rt, loaded):  # a process stopped mid-call, or its timer
            loaded = self.rt.load(case_id)
        assert loaded.engine is not None
        if loaded.engine.finished:
            return {"stop": loaded.engine.state, "observation": None, "plan": None, "approved": None}
        approved = self._approved_action(loaded)
        if approved is not None:
            if state.get("requested") is not None:
                # A person's one action waits: the action approved earlier goes first, in ``run``.
                return {"stop": "approved_action_first", "observation": None, "plan": None, "approved": None}
            return {"stop": None, "approved": approved, "observation": None, "plan": None}
        observation = observation_json(self.rt, loaded, blocked=state.get("blocked", []))
        return {"stop": None, "observation": observation, "plan": None, "approved": None}

    def _approved_action(self, loaded: LoadedCase) -> dict[str, Any] | None:
        for parked in loaded.facts.parked.values():
            if parked.option.get("approved_by") and parked.option.get("kind") != "llm_call":
                return parked.to_json()
        return None

    # -- plan ------------------------------------------------------------------------------------

    def plan(self, state: LoopState) -> LoopState:
        if state.get("approved") is not None:
            return {}
        data = state.get("observation")
        assert data is not None
        requested = state.get("requested")
        if requested is not None:
            return requested_plan(requested, data)
        case_id = state["case_id"]
        planner = self.rt.planner
        observation = observation_object(data)
        if getattr(planner, "name", "") != "rule":
            if not has_choice(observation.options):
                return self._wait_for_people(case_id)  # nothing to choose: no model call (and no tokens)
            governed = self._governed_prompt(case_id, observation)
            if not isinstance(governed, Observation):
                return governed
            # The call's routing context (PII types, spend, stage), the definition's model settings, its router.
            call = model_call(self.rt.load(case_id, check_version=False), governed)
            observation = replace(governed, call=replace(call, guard=self._routed_call_guard(case_id, governed)))
        try:
            plan = planner.plan(observation)
        except CallRefused as exc:  # governance refused the model the route chose: nothing was sent
            with self.rt.step(case_id) as (step, loaded):
                self._record_llm_usage(step, loaded, exc.usage)
                step.append("verdict", actor="agent", payload={"action": "llm_call", **dict(exc.verdict)},
                            rule_ids=tuple(exc.verdict.get("rule_ids") or ()))
            return {"stop": "blocked_llm_call", "plan": None}
        except PlannerError as exc:
            with self.rt.step(case_id) as (step, loaded):
                self._record_llm_usage(step, loaded, exc.usage)
                problem: dict[str, Any] = {
                    "problem": f"the planner failed: {exc}", "invalid_attempts": list(exc.invalid_attempts),
                    "source": "planner"}
                if exc.detail:
                    # What the endpoint said about a request that was pseudonymised already.
                    problem["detail"] = dict(exc.detail)
                step.append("error", actor="agent", payload=problem)
            return {"stop": "planner_error", "plan": None}
        if plan.option_id == "wait":
            if plan.usage:
                with self.rt.step(case_id) as (step, loaded):
                    self._record_llm_usage(step, loaded, plan.usage)
            return self._wait_for_people(case_id)
        option = observation.option(plan.option_id)
        if option is None:
            with self.rt.step(case_id) as (step, loaded):
                self._record_llm_usage(step, loaded, plan.usage)
                step.append("error", actor="agent", payload={
                    "problem": f"the planner chose {plan.option_id!r}, which is not a possible action"})
            return {"stop": "planner_error", "plan": None}
        return {"plan": {
            "option": next(o for o in data["options"] if o["id"] == option.id),
            "arguments": dict(plan.arguments),
            "rationale": plan.rationale,
            "confidence": plan.confidence,
            "confidence_source": plan.confidence_source or ("rule" if plan.planner == "rule" else None),
            "self_reported_confidence": plan.self_reported_confidence,
            "planner": plan.planner,
            "usage": [asdict(u) for u in plan.usage],
            "invalid_attempts": list(plan.invalid_attempts),
        }}

    # -- govern ----------------------------------------------------------------------------------

    def govern(self, state: LoopState) -> LoopState:
        case_id = state["case_id"]
        approved = state.get("approved")
        if approved is not None:
            # An approved action is a step too: ``max_steps`` bounds every path of the loop.
            return {**self._govern_approved(case_id, approved), "steps": state.get("steps", 0) + 1}
        plan = state.get("plan")
        assert plan is not None
        option = plan["option"]
        if option["kind"] == "wait":
            return {"verdict": None}
        loaded = self.rt.load(case_id, check_version=False)
        if loaded.fresh and option["id"] not in {o.id for o in self.rt.options(loaded)[0]}:
            return {"verdict": None}  # the case moved on since observe (another worker or a person)
        if any(c.option.get("id") == option["id"] for c in loaded.facts.started.values()):
            # The same call is already started (by a worker that lost its lease, or is still running):
            # never start it a second time; recovery decides about the first one.
            return {"verdict": None}
        observation = state.get("observation") or {}
        # From here on the arguments are pseudonymised like the case file they mostly come from:
        # governance, the history, the stored call and a parked action never hold clear PII a
        # planner wrote itself; ``act`` reveals the real values to an in-process tool only.
        arguments = self._pseudonymised(case_id, option, plan["arguments"])
        action = self._proposed(loaded, option, arguments, arg_provenance(observation, option["id"]),
                                planner=plan["planner"], chat=observation.get("chat") or ())
        person = plan.get("person")
        who = actor_of(person)
        verdict = self.rt.governor_for(loaded.bundle).review(
            action, self._as(person, self.context(loaded, confidence=plan["confidence"], action=action,
                                                  confidence_source=plan.get("confidence_source"))))
        # Text the call would send out of the case passes the output rail first (``_message_rail``).
        verdict = railed(self.rt, loaded, option, arguments, verdict)
        # What the agent saw comes from the store, where values are already pseudonymised.
        plan_payload = {
            "observation_digest": digest_of(observation),
            "saw": jsonable({"state": observation.get("case_state"), "items": observation.get("items"),
                             "variables": observation.get("variables")}),
            "options": [o["id"] for o in observation.get("options", [])],
            "chose": option["id"], "label": option["label"],
            "arguments": jsonable(arguments),
            "rationale": plan["rationale"], "confidence": plan["confidence"], "planner": plan["planner"],
            "invalid_attempts": plan["invalid_attempts"],
        }
        if plan.get("confidence_source"):
            plan_payload["confidence_source"] = plan["confidence_source"]
        if plan.get("self_reported_confidence") is not None:
            plan_payload["self_reported_confidence"] = plan["self_reported_confidence"]
        started = self._started_call(loaded, option, arguments, action.digest(), verdict.transformed) \
            if verdict.kind == "allow" else None
        steps = state.get("steps", 0) + 1
        record: DecisionRecord = {
            "actor": who, "version": loaded.record.version, "usage": plan["usage"], "plan": plan_payload,
            "verdict": {"action": option["id"], **verdict.to_json()}, "rule_ids": list(verdict.rule_ids),
            "loop_keys": list(loop_keys(action)) if verdict.kind == "allow" else None,
            "started": None if started is None else {"call": started[0].to_json(), "payload": started[1]}}
        decided: LoopState = {"verdict": verdict_data(verdict), "steps": steps, "deferred": None,
                              "acted": {"option_id": option["id"], "label": option["label"],
                                        "verdict": verdict_data(verdict)}}
        if verdict.kind == "allow" and recorded_with_outcome(option, started):
            # Nothing outside happens before ``record`` that could not safely happen again:
            # the plan, the verdict and the call are written with its outcome, in one step.
            return {**decided, "call_id": started[0].call_id if started else None, "deferred": record}
        with self.rt.step(case_id, loaded) as (step, loaded):
            call_id = self._write_decision(step, loaded, record)
            if verdict.kind == "block":
                return {**decided, "blocked": [*state.get("blocked", []), option["id"]]}
            if verdict.kind == "require_human":
                self._park(step, loaded, option, arguments, action, verdict, planner=plan["planner"],
                           requested_by=person)
                return decided
        return {**decided, "call_id": call_id}

    # -- act -------------------------------------------------------------------------------------

    def act(self, state: LoopState) -> LoopState:
        call_id = state.get("call_id")
        if call_id is None:
            return {"outcome": None}
        loaded = self.rt.load(state["case_id"], check_version=False)
        call = loaded.facts.started.get(call_id) or deferred_call(state.get("deferred"), call_id)
        if call is None:
            return {"outcome": None, "call_id": None}
        arguments = call.arguments
        if self.rt.privacy is not None and call.tool not in self.rt.governor_for(loaded.bundle).external_tools:
            # In-process tools work on the real values; only pseudonyms are stored.
            arguments = self.rt.privacy.reveal_payload(arguments, loaded.id)
        started = time.perf_counter()
        try:
            with retrieval_scope(self.rt.registry, loaded, call):  # a retrieval is routed on the case's context
                outcome = self.rt.registry.invoke(call.tool, arguments)
        except ToolError as exc:
            error = str(exc)
            if self.rt.privacy is not None:
                error = self.rt.privacy.redact_value(error, loaded.id)[0]
            return {"outcome": {"ok": False, "error": error, "latency_ms": (time.perf_counter() - started) * 1000}}
        latency_ms = outcome.latency_s * 1000
        try:  # what the store, the hash chain and the checkpoint cannot hold is fixed or refused here
            kept = keepable(outcome.result.model_dump())
        except Unkeepable as exc:
            return {"outcome": {"ok": False, "error": f"{call.tool} returned a result casepilot cannot keep: {exc}",
                                "latency_ms": latency_ms}}
        result, changed = kept.value, list(kept.changed)
        if self.rt.privacy is not None:
            # The loop's checkpoint must not hold clear PII either: pseudonymise before returning.
            result = self.rt.privacy.redact_value(result, loaded.id)[0]
            changed = self.rt.privacy.redact_value(changed, loaded.id)[0]
        return {"outcome": {"ok": True, "result": result, "changed": changed,
                            "attempts": outcome.attempts, "latency_ms": latency_ms}}

    # -- record ----------------------------------------------------------------------------------

    def record(self, state: LoopState) -> LoopState:
        case_id = state["case_id"]
        plan = state.get("plan")
        verdict = state.get("verdict")
        done: LoopState = {"plan": None, "verdict": None, "outcome": None, "call_id": None, "deferred": None}
        if plan is None or verdict is None or verdict.get("kind") != "allow":
            return done
        deferred = state.get("deferred")
        option = plan["option"]
        who = actor_of(plan.get("person"))
        call_id = state.get("call_id")
        outcome = state.get("outcome")
        loaded = self.rt.load(case_id, check_version=False)
        engine = loaded.engine
        assert engine is not None
        if deferred is not None and loaded.record.version != deferred["version"]:
            # The case moved on since ``govern`` decided (this worker lost its lease while the call
            # ran): nothing of it is applied; a call that ran is recorded as such, with its decision.
            if call_id is not None and outcome is not None:
                self._record_unexpected_outcome(case_id, call_id, option, outcome, who, decision=deferred)
            return done
        if call_id is None and option["kind"] == "start_child":
            start_child(self.rt, loaded, option, actor=who)
            return done
        if call_id is None and option["kind"] == "start_process":
            start_process(self.rt, loaded, option, actor=who)
            return done
        if call_id is None:
            decision = evaluate_decision(loaded, option) if option["kind"] == "decide" else None
            with self.rt.step(case_id, loaded) as (step, loaded):
                assert loaded.engine is not None
                self._write_decision(step, loaded, deferred)
                if decision is not None:
                    events = apply_decision(step, loaded, option, decision)
                else:
                    events = engine_transition(loaded.engine, option)
                self.rt.record_transitions(step, events, who)
                self.rt.sync_inbox(step, loaded)
            return done
        if outcome is None:
            if deferred is not None:  # the call was not made after all: the plan and verdict stand
                with self.rt.step(case_id, loaded) as (step, loaded):
                    self._write_decision(step, loaded, {**deferred, "started": None})
            return done
        if deferred_call(deferred, call_id) is None and call_id not in loaded.facts.started:
            loaded = self.rt.load(case_id)  # make sure: not this thread's stale copy
            if call_id not in loaded.facts.started:
                self._record_unexpected_outcome(case_id, call_id, option, outcome, who)
                return done
            engine = loaded.engine
            assert engine is not None
        if not outcome["ok"]:
            with self.rt.step(case_id, loaded) as (step, loaded):
                self._write_decision(step, loaded, deferred)
                loaded.facts.started.pop(call_id, None)
                step.append("tool_call_failed", actor=who, payload={
                    "call_id": call_id, "tool": option["tool"], "error": outcome["error"]},
                    latency_ms=outcome["latency_ms"])
                loaded.facts.rejected.append(option["id"])
            return done
        instance_id = option.get("instance_id")
        assert instance_id is not None, "a tool call's option names the task instance it runs for"
        binding = loaded.bundle.bindings.get(definition_of(engine, instance_id))
        # ``act`` already pseudonymised the result.
        updates = merge_paths(engine.variables(), apply_results(binding, outcome["result"]) if binding else {})
        completed = {"call_id": call_id, "tool": option["tool"], "result": jsonable(outcome["result"]),
                     "attempts": outcome["attempts"]}
        if outcome.get("changed"):
            completed["changed"] = outcome["changed"]  # what ``keepable`` replaced, for the record
        with self.rt.step(case_id, loaded) as (step, loaded):
            engine = loaded.engine
            assert engine is not None
            self._write_decision(step, loaded, deferred)
            loaded.facts.started.pop(call_id, None)
            loaded.facts.usage = loaded.facts.usage.add(wall_seconds=outcome["latency_ms"] / 1000)
            step.append("tool_call_completed", actor=who, payload=completed, latency_ms=outcome["latency_ms"], owned=True)
            for name, prov in (result_provenance(binding) if binding else {}).items():
                loaded.facts.set_provenance(name, prov.trust, prov.source)
            events = engine.set_variables(updates) if updates else []
            view = engine.item(instance_id)
            if view is not None and view.state == "active":
                events += engine.complete(instance_id)
            self.rt.record_transitions(step, events, who)
            self.rt.sync_inbox(step, loaded)
        return done

    def _record_unexpected_outcome(self, case_id: str, call_id: str, option: Mapping[str, Any],
                                   outcome: Mapping[str, Any], who: str,
                                   decision: Mapping[str, Any] | None = None) -> None:
        """Record the outcome of a call the case no longer expects, without applying it.

        That happens when another worker took the call for interrupted while it ran (and handed
        it to a person, or offered it again) and this worker lost the race to record it. The
        call did run: the history says so, so that whoever decides "run it again?" sees it. A
        call whose outcome is already recorded (this node re-run after a crash) is left alone.
        """
        recorded = any(e.kind in ("tool_call_completed", "tool_call_failed") and e.payload.get("call_id") == call_id
                       for e in self.rt.store.iter_history(case_id))
        if recorded:
            return
        problem = ("the outcome arrived after the case stopped expecting this call (another worker took it "
                   "for interrupted): recorded, not applied to the case")
        with self.rt.step(case_id) as (step, _loaded):
            if decision is not None:  # what ``govern`` decided was not written yet (``recorded_with_outcome``)
                step.append("plan", actor=who, payload=decision["plan"])
                step.append("verdict", actor=who, payload=decision["verdict"], rule_ids=tuple(decision["rule_ids"]))
            if outcome["ok"]:
                payload = {"call_id": call_id, "tool": option.get("tool"), "result": jsonable(outcome["result"]),
                           "attempts": outcome.get("attempts"), "applied": False, "problem": problem}
                step.append("tool_call_completed", actor=who, payload=payload, latency_ms=outcome["latency_ms"])
            else:
                step.append("tool_call_failed", actor=who, payload={
                    "call_id": call_id, "tool": option.get("tool"), "error": outcome["error"], "applied": False,
                    "problem": problem}, latency_ms=outcome["latency_ms"])

    # -- wait ------------------------------------------------------------------------------------

    def wait(self, state: LoopState) -> LoopState:
        """Pause until a person decides (no side effects: LangGraph re-runs this node on resume)."""
        decision = interrupt({"case_id": state["case_id"], "pending": state.get("pending") or []})
        return {"resume": decision if isinstance(decision, dict) else {"value": decision}, "pending": None}
