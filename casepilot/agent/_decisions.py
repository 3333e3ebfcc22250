"""Writing what ``govern`` decided, and carrying out an action a person approved.

``Decisions`` is the part of the loop's nodes that turns a verdict into records: the plan and
verdict events, the call recorded as started, a checkpoint with the action parked behind it —
and, for an approved action, the fresh review and the approval consumed exactly once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, cast

from casepilot.agent._llm_governance import LLMGovernance
from casepilot.agent._loop_state import DecisionRecord, LoopState, OptionData, PersonData
from casepilot.agent._message_rail import railed
from casepilot.agent._node_helpers import actor_of, answer_of, verdict_data
from casepilot.agent._proposals import Proposals
from casepilot.agent.context import LoadedCase
from casepilot.agent.facts import ParkedAction, StartedCall
from casepilot.agent.planning import LLMUsage
from casepilot.governance.actions import GovernanceContext, ProposedAction
from casepilot.governance.checkpoints import CheckpointRequest
from casepilot.governance.verdict import Verdict, strictest

__all__ = ["Decisions"]


class Decisions(LLMGovernance, Proposals):
    """Records of the decisions the nodes take (see the module docstring)."""

    def _write_decision(self, step: Any, loaded: LoadedCase, record: DecisionRecord | None) -> str | None:
        """Write what ``govern`` decided — model usage, plan, verdict, the call started — in ``step``.

        Called by ``govern`` itself, or by ``record`` in the step that also writes the outcome
        (``recorded_with_outcome``); returns the started call's id.
        """
        if record is None:
            return None
        who = record["actor"]
        self._record_llm_usage(step, loaded, [LLMUsage(**u) for u in record["usage"]])
        step.append("plan", actor=who, payload=record["plan"], owned=True)
        step.append("verdict", actor=who, payload=record["verdict"], rule_ids=tuple(record["rule_ids"]), owned=True)
        loaded.facts.steps += 1
        if record["loop_keys"] is not None:
            loaded.facts.count_keys(*record["loop_keys"])
        started = record["started"]
        if started is None:
            return None
        return self._record_started(step, loaded, (StartedCall.from_json(started["call"]), started["payload"]),
                                    actor=who)

    def _govern_approved(self, case_id: str, approved: dict[str, Any]) -> LoopState:
        """Execute an action a person approved — after a fresh review, and only once.

        The approval covers exactly the action the person was shown: the action is rebuilt
        from the case as it is now (the option, the binding's current arguments) and its
        digest must equal the one on the checkpoint, else it is not executed. Then the
        Governor reviews it again: the findings the person answered (``ParkedAction.answered``)
        are satisfied by the approval, any other objection wins — a budget exhausted since,
        an allowlist, another guardrail: ``block`` blocks it, a new ``require_human`` opens a
        new checkpoint (which carries the earlier answers). The approval is consumed in the
        same transaction that records the call as started, so neither a re-run nor a crash
        between here and ``act`` can execute it a second time.
        """
        loaded = self.rt.load(case_id)
        parked = loaded.facts.parked.get(approved["task_id"])
        if parked is None or not parked.option.get("approved_by"):
            return {"verdict": None, "approved": None}
        current = self._current_action(loaded, parked)
        if current is None or current[2].digest() != parked.digest:
            with self.rt.step(case_id, loaded) as (step, loaded):
                del loaded.facts.parked[parked.task_id]
                step.append("error", actor="agent", payload={
                    "problem": ("the approved action is no longer possible; it is not executed" if current is None
                                else "the approved action changed since it was approved; it is not executed"),
                    "task_id": parked.task_id, "action_digest": parked.digest})
            # Not rejected: the action as it is now is proposed again and asked about afresh.
            return {"verdict": None, "approved": None}
        option, arguments, action = current
        person = parked.requested_by
        who = actor_of(person)
        review = self.rt.governor_for(loaded.bundle).review(
            action, self._as(person, self.context(loaded, confidence=None, action=action)))
        review = railed(self.rt, loaded, option, arguments, review)
        open_findings = [f for f in review.findings if f.kind != "allow" and answer_of(f) not in parked.answered]
        verdict = strictest(open_findings, action_digest=review.action_digest, now=self.rt.clock())
        started = (self._started_call(loaded, option, arguments, parked.digest, review.transformed)
                   if verdict.kind == "allow" else None)
        approver = option["approved_by"]
        with self.rt.step(case_id, loaded) as (step, loaded):
            del loaded.facts.parked[parked.task_id]
            record = {**review.to_json(), "action": option["id"], "task_id": parked.task_id,
                      "answered": parked.answered, "transformed": None}
            if verdict.kind == "allow":
                record.update(kind="allow", reason=f"approved by {approver}", role=None, question=None)
                step.append("verdict", actor=who, payload=record, rule_ids=review.rule_ids)
                loaded.facts.count(action)
                call_id = self._record_started(step, loaded, started, actor=who)
                return {"verdict": {"kind": "allow"}, "call_id": call_id, "approved": None, "deferred": None,
                        "plan": {"option": cast(OptionData, option), "arguments": arguments,
                                 "person": cast("PersonData | None", person)}}
            record.update(kind=verdict.kind, reason=f"approved by {approver}, but: {verdict.reason}",
                          role=verdict.role, question=verdict.question)
            step.append("verdict", actor=who, payload=record, rule_ids=verdict.rule_ids)
            if verdict.kind == "block":
                return {"verdict": verdict_data(verdict), "approved": None, "blocked": [option["id"]]}
            self._park(step, loaded, option, arguments, action, verdict, planner=parked.planner,
                       answered=parked.answered, requested_by=person)
        return {"verdict": verdict_data(verdict), "approved": None}

    def _park(self, step: Any, loaded: LoadedCase, option: Mapping[str, Any], arguments: dict[str, Any],
              action: ProposedAction, verdict: Verdict, *, planner: str,
              answered: Sequence[dict[str, Any]] = (), requested_by: Mapping[str, Any] | None = None) -> None:
        """Open a checkpoint for ``action`` and park it behind it, with the findings the person will answer."""
        request = CheckpointRequest.from_verdict(verdict, action)
        task = step.create_task(request.question, kind="checkpoint", plan_item=option["label"],
                                role=request.role, options=request.options,
                                expires_at=request.expires_at, action_digest=request.action_digest,
                                actor="agent")
        option_saved = {k: v for k, v in option.items() if k != "approved_by"}
        option_saved.update(digest=action.digest(), default_choice=request.default_choice)
        asked = [answer_of(f) for f in verdict.findings if f.kind == "require_human"]
        loaded.facts.parked[task.id] = ParkedAction(
            task.id, option["id"], option_saved, dict(arguments), action.digest(), verdict.reason,
            answered=[*answered, *(a for a in asked if a not in answered)], planner=planner,
            requested_by=dict(requested_by) if requested_by is not None else None)

    @staticmethod
    def _record_started(step: Any, loaded: LoadedCase, started: tuple[StartedCall, dict[str, Any]] | None,
                        *, actor: str) -> str | None:
        if started is None:
            return None
        call, payload = started
        loaded.facts.started[call.call_id] = call
        step.append("tool_call_started", actor=actor, payload=payload, owned=True)
        return call.call_id

    @staticmethod
    def _as(person: Mapping[str, Any] | None, context: GovernanceContext) -> GovernanceContext:
        """The context of an action a person asked for (chat): governed as them, with their roles."""
        if person is None:
            return context
        return replace(context, actor=actor_of(person), roles=frozenset(person.get("roles") or ()))
