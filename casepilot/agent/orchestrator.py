"""The orchestrator: the public API for working CMMN cases with a governed agent.

::

    orch = Orchestrator(Store.from_url("sqlite:///cases.db"), registry)
    orch.deploy("examples/claims")
    case = orch.start_case("claim-triage", {"letter": "...", "policy": "POL-1"})
    outcome = orch.run(case.id)            # → RunOutcome(reason="waiting_for_people", …)
    for task in orch.pending(case.id):
        orch.decide(task.id, Person("ann", {"senior analyst"}), "approve", "documents verified")
    orch.run(case.id)                      # resumes, also in a new process

Every step lands in the case history; every action passes the bundle's governor first.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.types import Command, Durability

from casepilot.agent import operations
from casepilot.agent._decision_values import prepared_values
from casepilot.agent._inbox import decision_values
from casepilot.agent._loop_state import PersonData
from casepilot.agent._people_ops import erase, perform, reveal
from casepilot.agent._process_tasks import decide_item, owner_of, runs_queued
from casepilot.agent._task_kinds import sync_children
from casepilot.agent.bundle import bundle_files, declared_files, load_files, load_folder
from casepilot.agent.chat import answer
from casepilot.agent.chat_queued import carry_out_confirmed
from casepilot.agent.checkpointing import checkpointer_for
from casepilot.agent.context import AgentRuntime
from casepilot.agent.graph import build_graph
from casepilot.agent.lease import CaseLeases
from casepilot.agent.nodes import LoopState, Nodes
from casepilot.agent.operations import OperationDone, check_assignee, ensure_workable
from casepilot.agent.people import PersonAction, person_actions
from casepilot.agent.planning import Planner
from casepilot.agent.privacy import CasePrivacy
from casepilot.agent.rule_planner import RulePlanner
from casepilot.errors import DecisionRejected
from casepilot.governance.budget import BudgetLimits
from casepilot.governance.checkpoints import check_decision
from casepilot.governance.governor import Governor
from casepilot.store import CaseRecord, DefinitionBundle, DefinitionVersion, HumanTask, Store
from casepilot.tools import ToolRegistry

__all__ = ["DURABILITY", "Orchestrator", "Person", "RunOutcome", "default_planner"]

DURABILITY: Durability = "exit"
"""When the loop's own LangGraph checkpoint is written: when a run ends (finished, or paused
for people by ``interrupt()``). Every step of the case is already durable in the store (one
transaction after the call, and one before it too for a non-idempotent call), and a worker that stops mid-run restarts at
``observe`` from the store — so per-node checkpoints would only repeat what the store holds."""

RESULT_KEYS = ["stop", "steps", "acted"]
"""What a run reads of the loop's final state (``invoke``'s ``output_keys``). Asking LangGraph for
all of it makes it build the whole state after every node (``stream_mode`` values and updates):
measured 2.1–2.2 against 1.4 ms of LangGraph's own CPU per five-node step. Interrupts are
reported all the same (``__interrupt__``)."""


@dataclass(frozen=True, slots=True)
class Person:
    """Someone acting on a case, with the roles the inbox and policies check."""

    name: str
    roles: frozenset[str] = field(default_factory=frozenset)

    def __init__(self, name: str, roles: set[str] | frozenset[str] | tuple[str, ...] = frozenset()) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "roles", frozenset(roles))


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """Why a run stopped, and what the case waits for."""

    case_id: str
    reason: str
    """completed | terminated | failed | waiting_for_people | waiting_for_events | max_steps |
    planner_error | blocked_llm_call"""
    steps: int
    case_state: str
    pending: tuple[HumanTask, ...]
    detail: Mapping[str, Any] | None = None
    """For ``planner_error``: what failed — the endpoint's failure (kind, HTTP status, message,
    endpoint, model), the route taken, or why no route could be taken — as recorded in the history.
    For a case that completed with plan items still Failed: ``{"failed_items": [{"id", "name"}…]}``."""


def default_planner() -> Planner:
    """The LLM planner when a model is configured (``CASEPILOT_MODEL``, ``OPENAI_API_KEY``, ``OPENAI_BASE_URL``
    alone for a local server, or ``CASEPILOT_ENDPOINTS__…``), else the RulePlanner."""
    from casepilot.agent.llm_endpoints import llm_configured

    if llm_configured():
        from casepilot.agent.llm_planner import LLMPlanner

        return LLMPlanner()
    return RulePlanner()


def _fresh_input(case_id: str, max_steps: int) -> LoopState:
    """The loop's input for a run from ``observe``: what an earlier run left in the thread's
    checkpoint (a person's choice, a decision not yet written, the last verdict) is cleared."""
    return {"case_id": case_id, "max_steps": max_steps, "steps": 0, "blocked": [], "stop": None,
            "requested": None, "acted": None, "deferred": None}


class Orchestrator:
    """Works CMMN cases: observe → plan → govern → act → record, durably, one thread per case."""

    def __init__(
        self,
        store: Store,
        registry: ToolRegistry,
        planner: Planner | None = None,
        governor: Governor | None = None,
        *,
        privacy: CasePrivacy | bool | None = True,
        clock: Callable[[], dt.datetime] | None = None,
        lease_ttl: float = 30.0,
        lease_wait: float = 60.0,
    ) -> None:
        if privacy is True:
            privacy = CasePrivacy(store.vault)
        self.store = store
        self.registry = registry
        self.runtime = AgentRuntime(
            store=store,
            registry=registry,
            planner=planner or default_planner(),
            privacy=privacy or None,
            governor=governor,
            clock=clock or (lambda: dt.datetime.now(dt.UTC)),
        )
        self.leases = CaseLeases(store, ttl=lease_ttl, wait=lease_wait)
        """One worker per case: every method that works a case holds its lease (``lease``)."""
        self.runtime.lease_of = self.leases.mine
        self._checkpointer, self._checkpoint_conn = checkpointer_for(store)
        self._graph = build_graph(Nodes(self.runtime), self._checkpointer)

    def close(self) -> None:
        if self._checkpoint_conn is not None:
            self._checkpoint_conn.close()

    # -- definitions and cases --------------------------------------------------------------------

    def deploy(self, folder: str | Path) -> DefinitionVersion:
        """Validate the bundle in ``folder`` and deploy it (a new version only when it changed)."""
        bundle = load_folder(folder, self.registry, redactor=self.runtime.privacy)
        return self.store.deploy(bundle.key, DefinitionBundle(files=bundle_files(Path(folder)),
                                                               metadata={"description": bundle.manifest.description}))

    def deploy_files(self, files: Mapping[str, str | bytes]) -> DefinitionVersion:
        """Validate and deploy a bundle given as file name -> content (what a folder would hold).

        For callers without a folder — an HTTP upload, a bundle kept in another database —
        validated exactly like ``deploy`` (every problem in one ``DefinitionError``). Only the
        files the manifest declares are stored, as for a folder: an upload's extras are not part
        of the definition or its hash.
        """
        bundle = load_files(files, self.registry, redactor=self.runtime.privacy)
        declared = declared_files(bundle.manifest, bundle.folder)
        return self.store.deploy(bundle.key, DefinitionBundle(files={name: files[name] for name in declared},
                                                               metadata={"description": bundle.manifest.description}))

    def start_case(
        self,
        definition_key: str,
        variables: Mapping[str, Any] | None = None,
        business_key: str | None = None,
        *,
        tenant: str | None = None,
        actor: str = "system",
        budget: BudgetLimits | None = None,
        process: str | None = None,
        queued: bool = False,
    ) -> CaseRecord:
        """Create a case on the latest version of ``definition_key`` and start its plan model.

        With ``process``, start that BPMN process of the bundle on its own instead: a case
        whose plan is the process (``_process_cases``), run at once to its first wait state
        (its user tasks and checkpoints in the inbox, every step in its history) — unless
        ``queued`` (or the orchestrator queues its runs: ``queued_orchestrator``): a run of the case is
        queued for workers, which start the process (what ``casepilot serve`` with workers does); ``NotFound`` names the bundle's processes when
        it has no such one. The manifest's ``start:`` requirements are the CMMN case's and are
        not checked for a process.

        The starting variables are trusted (they come from the request) and are stored
        pseudonymised: their PII goes to the case's vault. ``budget`` sets limits for this
        case on top of the definition's budget (both are checked). Variables the manifest
        requires (``start: {required: …}``) missing or ill-typed: ``InvalidStartVariables``
        listing every problem, and no case is created.
        """
        if process is not None:
            from casepilot.agent._process_cases import start_process_case

            return self.store.case(start_process_case(self, definition_key, process, variables or {},
                                                      business_key=business_key, tenant=tenant, actor=actor,
                                                      budget=budget, start=not (queued or runs_queued(self.runtime))))
        _check_start(self, definition_key, variables or {})
        case_id = self.runtime.create_case(
            definition_key, dict(variables or {}), business_key=business_key, tenant=tenant, actor=actor,
            budget=budget,
        )
        return self.store.case(case_id)

    # -- the loop -----------------------------------------------------------------------------------

    def _config(self, case_id: str) -> RunnableConfig:
        return {"configurable": {"thread_id": case_id}, "recursion_limit": 100_000}

    def _input(self, case_id: str, max_steps: int) -> Any:
        config = self._config(case_id)
        snapshot = self._graph.get_state(config)
        fresh = _fresh_input(case_id, max_steps)
        if snapshot.next and snapshot.interrupts:
            return Command(resume={"resumed": True},
                           update={"steps": 0, "max_steps": max_steps, "requested": None, "acted": None})
        if tuple(snapshot.next) == ("record",) and snapshot.values.get("outcome") is not None:
            # A worker stopped after its tool returned: record the (pseudonymised) outcome.
            return None
        # Anywhere else a stopped worker starts over at observe, which hands tool calls left
        # "started" to a person (non-idempotent) or back to the planner — never re-runs them blindly.
        return fresh

    def run(self, case_id: str, *, max_steps: int = 50) -> RunOutcome:
        """Work the case until it finishes, waits for people or events, or ``max_steps`` steps.

        Child cases started by case tasks are worked too; when one finishes, its case task
        completes and the parent goes on.
        """
        with self.leases.hold(case_id):
            ensure_workable(self, case_id, "run", finished_ok=True)  # NotFound for an unknown case, first
            carry_out_confirmed(self, case_id)  # people's confirmed chat requests first (``chat_queued``)
            sync_children(self.runtime, case_id)
            result = self._graph.invoke(self._input(case_id, max_steps), self._config(case_id), durability=DURABILITY,
                                        output_keys=RESULT_KEYS)
            while True:
                children = list(self.runtime.load(case_id).facts.children.values())
                for child_id in children:
                    self.run(child_id, max_steps=max_steps)
                if not children or not sync_children(self.runtime, case_id):
                    break
                result = self._graph.invoke(self._input(case_id, max_steps), self._config(case_id), durability=DURABILITY,
                                        output_keys=RESULT_KEYS)
            # A run that paused in ``wait`` says so in its result.
            return self._outcome(case_id, result, interrupted="__interrupt__" in result)

    def stream(self, case_id: str, *, max_steps: int = 50) -> Iterator[dict[str, Any]]:
        """Run like ``run`` and yield each node's update as it happens."""
        with self.leases.hold(case_id):
            self.store.case(case_id)
            ensure_workable(self, case_id, "run", finished_ok=True)
            carry_out_confirmed(self, case_id)  # people's confirmed chat requests first (``chat_queued``)
            for chunk in self._graph.stream(self._input(case_id, max_steps), self._config(case_id), durability=DURABILITY,
                                            stream_mode="updates"):
                for node, update in chunk.items():
                    yield {"node": node, "update": update}

    def outcome(self, case_id: str) -> RunOutcome:
        """Where the case's loop stands now (after ``run`` or ``stream``)."""
        snapshot = self._graph.get_state(self._config(case_id))
        return self._outcome(case_id, snapshot.values, interrupted=bool(snapshot.interrupts))

    def _outcome(self, case_id: str, result: Mapping[str, Any], *, interrupted: bool) -> RunOutcome:
        loaded = self.runtime.load(case_id)
        state = loaded.engine.state if loaded.engine else "active"
        pending = tuple(self.store.tasks(case_id=case_id, status="open"))
        reason = "waiting_for_people" if interrupted else str(result.get("stop") or "waiting_for_events")
        detail = self._planner_failure(case_id) if reason == "planner_error" else None
        if state == "completed" and loaded.engine is not None:
            # CMMN completes a stage over a Failed child (ch. 8): a caller must not read it as a clean success.
            failed = [{"id": v.instance_id, "name": v.name} for v in loaded.engine.items() if v.state == "failed"]
            detail = {"failed_items": failed} if failed else None
        return RunOutcome(case_id, reason, int(result.get("steps", 0)), state, pending, detail)

    def _planner_failure(self, case_id: str) -> dict[str, Any] | None:
        """The planner's failure as the history recorded it (the last planner ``error`` event)."""
        last = self.store.case(case_id).last_seq
        for event in reversed(self.store.history(case_id, after_seq=max(0, last - 20))):
            if event.kind == "error" and event.payload.get("source") == "planner":
                return {"problem": event.payload.get("problem"), "seq": event.seq,
                        **dict(event.payload.get("detail") or {})}
        return None

    # -- people -------------------------------------------------------------------------------------

    def pending(self, case_id: str | None = None, *, role: str | None = None) -> list[HumanTask]:
        """Open inbox items, of one case or all, optionally for one role."""
        return self.store.tasks(case_id=case_id, role=role, status="open")

    def decide(self, task_id: str, actor: Person, choice: str, comment: str | None = None, *,
               values: Mapping[str, Any] | None = None) -> HumanTask:
        """Record a person's decision; the next ``run`` resumes the case with it.

        ``values``: what the person entered in the fields the human task declares (manifest
        ``human_tasks.<task>.fields``), written with the decision into its result variable —
        checked first (``InvalidTaskValues`` lists every problem), text pseudonymised.
        Raises ``DecisionRejected`` when the actor lacks the role, the choice is not an
        option, the item expired, or the action behind a checkpoint changed since.
        """
        task = self.store.task(task_id)
        with self.leases.hold(task.case_id):
            ensure_workable(self, task.case_id, "decide")
            check_assignee(self, task, actor)
            if task.status != "open":
                return self._decide(task, actor, choice, comment)  # DecisionRejected: decided or expired
            with decision_values(prepared_values(self.runtime, task, values or {})):
                return self._decide(task, actor, choice, comment)

    def _decide(self, task: HumanTask, actor: Person, choice: str, comment: str | None) -> HumanTask:
        task_id = task.id
        result: dict[str, Any] = {"decision": choice, "comment": comment, "by": actor.name}
        if self.runtime.privacy is not None:
            result = self.runtime.privacy.redact_value(result, task.case_id)[0]
        comment = result["comment"]
        loaded = self.runtime.load(task.case_id)
        if loaded.facts.processes and owner_of(loaded, task_id) is not None:  # a BPMN process's item: its runner decides
            return decide_item(self.runtime, loaded, task, actor, choice, comment)
        with self.runtime.step(task.case_id, loaded) as (step, loaded):
            parked = loaded.facts.parked.get(task_id)
            current = self.runtime.current_digest(loaded, parked) if parked is not None else None
            check_decision(task, actor=actor.name, actor_roles=actor.roles, choice=choice,
                           now=self.runtime.clock(), current_digest=current)
            decided = step.decide_task(task_id, decided_by=f"person:{actor.name}", decision=choice, comment=comment)
            if task.kind == "checkpoint":
                if parked is None:
                    raise DecisionRejected(f"checkpoint {task_id} has no pending action any more")
                if parked.option.get("kind") == "llm_call":
                    del loaded.facts.parked[task_id]
                    if choice == "approve":
                        loaded.facts.llm_overrides += 1
                elif choice == "approve":
                    parked.option["approved_by"] = f"person:{actor.name}"
                else:
                    del loaded.facts.parked[task_id]
                    loaded.facts.rejected.append(parked.option_id)
            else:
                self.runtime.complete_human_task(step, loaded, task_id, actor.name, result)
        return decided

    def reveal(self, case_id: str, value: Any, actor: Person) -> Any:
        """Restore the clear text behind pseudonyms for an actor whose role the case allows; audited
        (``_people_ops.reveal``)."""
        return reveal(self, case_id, value, actor)

    def erase(self, case_id: str, actor: Person | str = "system", reason: str | None = None) -> None:
        """Crypto-shred the case's personal data (its vault key) and record the erasure.

        The history stays verifiable; pseudonyms in it can never be resolved again, in this
        process or any other.
        """
        erase(self, case_id, actor, reason)

    # -- chat ---------------------------------------------------------------------------------------

    def chat(self, case_id: str, actor: Person | str, message: str) -> str:
        """Answer a question about the case from its state and history; an instruction that names
        a possible action becomes a proposed action that goes through governance like any other.

        An instruction is the person's: governance reviews it with ``actor`` and their roles
        (pass a ``Person``; a plain actor string such as ``"person:joe"`` holds no roles), and
        the history records the action as theirs.
        """
        with self.leases.hold(case_id):
            ensure_workable(self, case_id, "chat")
            if isinstance(actor, Person):
                return answer(self, case_id, f"person:{actor.name}", message, roles=actor.roles)
            return answer(self, case_id, actor, message)

    def run_option(self, case_id: str, option_id: str, *, requested_by: str = "chat", actor: str | None = None,
                   roles: frozenset[str] = frozenset()) -> str:
        """Carry out one possible action chosen by a person, through governance like any other.

        With ``actor`` (``person:<name>``) the action is reviewed as that person with ``roles``
        and recorded as theirs, not the agent's. Returns what happened, in words (allowed and
        done, waiting for a person, or blocked).
        """
        with self.leases.hold(case_id):
            # The same graph as ``run``, with the person's choice in the planner's place, one step.
            asker: PersonData | None = {"actor": actor, "roles": sorted(roles)} if actor else None
            state = _fresh_input(case_id, 1)
            state["requested"] = {"option_id": option_id, "requested_by": requested_by, "person": asker}
            result = self._graph.invoke(state, self._config(case_id), durability=DURABILITY,
                                        output_keys=RESULT_KEYS)
            acted = result.get("acted")
            if acted is None:
                if result.get("stop") in ("not_possible", "requested_done"):  # gone, or gone since observed
                    return f"{option_id!r} is not possible now."
                return f"The case cannot act now ({result.get('stop') or 'nothing to do'})."
            verdict, label = acted["verdict"], acted["label"]
            if verdict.get("kind") == "allow":
                return f"Done: {label} ({verdict.get('reason', 'allowed')})."
            if verdict.get("kind") == "require_human":
                return f"{label} needs a {verdict.get('role') or 'person'}'s approval first: {verdict.get('reason')}."
            return f"{label} was blocked: {verdict.get('reason')}."

    # -- people's own actions ---------------------------------------------------------------------

    def person_actions(self, case_id: str) -> list[PersonAction]:
        """User events people may make occur and discretionary items they may plan, now (with the
        roles the model authorises for each)."""
        loaded = self.runtime.load(case_id)  # a listing: never one whose rule reads erased data (``_case_reveal``)
        return person_actions(loaded.engine, []) if loaded.engine is not None else []

    def perform(self, case_id: str, action_id: str, actor: Person) -> None:
        """A person makes a user event occur or plans a discretionary item (see ``person_actions``).

        Checked against the model's authorised roles (``NotAuthorized``), reviewed by governance
        (``GovernanceBlocked`` unless allowed — the verdict is recorded either way) and recorded
        with the person as actor (``_people_ops.perform``). ``run`` then works the case on.
        """
        perform(self, case_id, action_id, actor)

    # -- operations on cases (casepilot.agent.operations) ------------------------------------------

    def terminate(self, case_id: str, actor: Person, reason: str) -> OperationDone:
        """Terminate an active or suspended case (its open inbox items are cancelled).

        Every operation here needs the operator role or a role the manifest names for it
        (``NotAuthorized``), is reviewed by governance as ``actor`` (``GovernanceBlocked`` unless
        allowed; the verdict is recorded either way) and is recorded with the person as actor.
        """
        return operations.terminate(self, case_id, actor, reason)

    def suspend(self, case_id: str, actor: Person, reason: str) -> OperationDone:
        """Suspend an active case: run, chat, act and decide refuse it until ``resume``."""
        return operations.suspend(self, case_id, actor, reason)

    def resume(self, case_id: str, actor: Person, reason: str) -> OperationDone:
        """Resume a suspended case; the next ``run`` works it on."""
        return operations.resume(self, case_id, actor, reason)

    def retry(self, case_id: str, item: str, actor: Person, reason: str | None = None) -> OperationDone:
        """Offer a failed task (name or instance id) again; the next ``run`` proposes it, governed."""
        return operations.retry(self, case_id, actor, item, reason)

    def correct(self, case_id: str, path: str, value: Any, actor: Person, reason: str) -> OperationDone:
        """Set case-file item ``path`` to ``value`` as the person's (trusted) correction; old and new recorded."""
        return operations.correct(self, case_id, actor, path, value, reason)

    def reassign(self, task_id: str, actor: Person, *, role: str | None = None, person: str | None = None,
                 reason: str | None = None) -> HumanTask:
        """Hand an open inbox item to another role or a named person; returns the new item."""
        return operations.reassign(self, task_id, actor, role=role, person=person, reason=reason)

    # -- async variants -----------------------------------------------------------------------------

    async def astart_case(self, definition_key: str, variables: Mapping[str, Any] | None = None,
                          business_key: str | None = None) -> CaseRecord:
        return await asyncio.to_thread(self.start_case, definition_key, variables, business_key)

    async def arun(self, case_id: str, *, max_steps: int = 50) -> RunOutcome:
        return await asyncio.to_thread(self.run, case_id, max_steps=max_steps)

    async def adecide(self, task_id: str, actor: Person, choice: str, comment: str | None = None) -> HumanTask:
        return await asyncio.to_thread(self.decide, task_id, actor, choice, comment)

    async def achat(self, case_id: str, actor: str, message: str) -> str:
        return await asyncio.to_thread(self.chat, case_id, actor, message)

    def case(self, case_id: str) -> CaseRecord:
        """The stored case (``NotFound`` if there is none)."""
        return self.store.case(case_id)


def _check_start(orch: Orchestrator, definition_key: str, variables: Mapping[str, Any]) -> None:
    """``InvalidStartVariables`` when the latest definition's manifest requires other starting variables."""
    from casepilot.agent.start_variables import check_start_variables

    definition = orch.store.definition(definition_key)
    check_start_variables(orch.runtime.bundle(definition_key, definition.version).manifest, variables)
