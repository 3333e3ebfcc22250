"""Shared machinery of the loop's nodes: loading a case, writing a step, recording events.

Every node that changes a case does so in one ``Store.step`` — events, inbox changes and
the new state commit together or not at all — and re-reads the case first, so a node
never works on a stale copy (the store's version check turns a race between workers into
``ConcurrencyConflict`` instead of a lost update).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from casepilot.agent.bundle import CaseBundle, load_files
from casepilot.agent.case_cache import CacheLimits, CaseCache
from casepilot.agent.engine import EngineCase, ItemView
from casepilot.agent.facts import STATE_SCHEMA, AgentFacts, ParkedAction, split_state
from casepilot.agent.manifest import HumanTaskSpec
from casepilot.agent.metrics import observe_step
from casepilot.agent.options import build_options
from casepilot.agent.planning import ActionOption, Planner
from casepilot.agent.privacy import CasePrivacy, jsonable
from casepilot.cmmn.runtime.state import decode_value, encode_value
from casepilot.governance.actions import ProposedAction
from casepilot.governance.budget import BudgetLimits
from casepilot.governance.governor import Governor
from casepilot.store import CaseRecord, Store
from casepilot.store._step import Step
from casepilot.tools import Provenance, ToolRegistry

__all__ = ["AgentRuntime", "LoadedCase", "provenance_map", "state_json"]


def state_json(engine: EngineCase | None, facts: AgentFacts) -> dict[str, Any]:
    """The case state JSON the store keeps (see ``facts`` for the layout)."""
    return {"schema": STATE_SCHEMA, "engine": engine.dump() if engine else None, "agent": jsonable(facts.to_json())}


_FIXED_BYTES = 6_000
_BYTES_PER_STATE_BYTE = 13
"""Memory a loaded case takes: about 6 KB plus 13 bytes per byte of its state JSON (parsed state,
engine with its indexes, facts; measured with tracemalloc on 3- and 100-task cases: 16 KB at
0.8 KB of state, 118 KB at 8.5 KB). The cache's byte limit counts with this estimate."""


def _approx_bytes(record: CaseRecord) -> int:
    return _FIXED_BYTES + record.state_bytes * _BYTES_PER_STATE_BYTE


def _changes(engine: EngineCase, facts: AgentFacts) -> list[list[Any]]:
    """What a step changed, as delta operations on the stored state (``store.history.apply_ops``)."""
    header, items = engine.instance.changes()
    ops: list[list[Any]] = [["set", ["engine", key], value] for key, value in header.items()
                            if key not in ("schema", "case", "id")]
    ops += [["put", ["engine", "items"], item] for item in items]
    ops.append(["set", ["agent"], jsonable(facts.to_json())])
    return ops


def provenance_map(facts: AgentFacts) -> dict[str, Provenance]:
    """Per-variable provenance as ``Provenance`` records (unknown variables count as untrusted)."""
    return {k: Provenance(v.get("trust", "untrusted"), v.get("source", "unknown")) for k, v in facts.provenance.items()}


@dataclass
class LoadedCase:
    """A case read from the store, with its bundle and engine rebuilt."""

    record: CaseRecord
    """The case row as read, kept current by each step (version, chain head); after a step that
    recorded only its changes, ``record.state`` keeps just the keys steps never change
    (``schema``, ``parent``, ``start_variables``): the current state is ``engine`` and ``facts``."""
    bundle: CaseBundle
    engine: EngineCase | None
    facts: AgentFacts
    fresh: bool = True
    """Read from the store just now (not this thread's cached copy)."""
    size: int = 0
    """About how many bytes of memory this copy takes (for the cache's limit)."""
    delta_base: bool = False
    """The engine's changes (``CaseInstance.changes``) are relative to the stored state, so a
    step can record just them; False for an engine started or replaced since the last write."""
    current_under: str | None = None
    """The case lease (its owner name) under which this copy was read fresh, checked against the
    store's version or written: while that lease is held, no one else changes the case."""

    @property
    def id(self) -> str:
        return self.record.id


@dataclass
class AgentRuntime:
    """What the nodes share: store, tools, planner, privacy layer, clock, bundle cache."""

    store: Store
    registry: ToolRegistry
    planner: Planner
    privacy: CasePrivacy | None = None
    governor: Governor | None = None
    """When set, used for every case instead of each bundle's own governor."""
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))
    on_step: Callable[[Step, LoadedCase], None] | None = None
    """Called inside every step before it commits, to stage the jobs the step makes due
    (``casepilot.worker.JobScheduler``); None in the single in-process mode."""
    cache_limits: CacheLimits = field(default_factory=CacheLimits.from_env)
    """How many loaded cases (and about how many bytes) the process keeps for reuse."""
    lease_of: Callable[[str], str | None] = field(default=lambda _case_id: None)
    """The lease this thread holds on a case (``CaseLeases.mine``), or None: a copy known to be
    current under the lease held now needs no version check (one query less per read)."""
    _bundles: dict[tuple[str, int], CaseBundle] = field(default_factory=dict)
    _bundle_lock: threading.Lock = field(default_factory=threading.Lock)
    _cases: CaseCache[LoadedCase] = field(init=False)

    def __post_init__(self) -> None:
        self._cases = CaseCache(self.cache_limits, weigh=lambda c: c.size, version=lambda c: c.record.version)

    @property
    def case_cache(self) -> CaseCache[LoadedCase]:
        """The loaded cases kept for reuse (bounded; see ``case_cache``)."""
        return self._cases

    def bundle(self, key: str, version: int) -> CaseBundle:
        cached = self._bundles.get((key, version))
        if cached is None:
            definition = self.store.definition(key, version)
            cached = load_files(definition.files, self.registry, redactor=self.privacy)
            with self._bundle_lock:
                cached = self._bundles.setdefault((key, version), cached)
        return cached

    def governor_for(self, bundle: CaseBundle) -> Governor:
        return self.governor or bundle.governor

    def load(self, case_id: str, *, with_engine: bool = True, check_version: bool = True) -> LoadedCase:
        """Read the case; ``with_engine=False`` skips rebuilding the CMMN engine (read-only uses).

        The copy this thread read or wrote last is reused while the store's version still
        matches (one cheap query instead of parsing the state and rebuilding the engine) — or
        without even that query while this thread holds the case's lease and the copy was
        current under it (read, checked or written since the lease was taken: every path that
        works a case holds its lease, so nobody else wrote it; should the lease be lost, the
        next write's version check still refuses the stale copy);
        ``check_version=False`` skips even that, for nodes that write the case in a step
        right after — the step's version check turns a stale copy into
        ``ConcurrencyConflict``, and the loop retries the node on a fresh read. A cached copy
        is lent to one thread at a time (``CaseCache``), so no two threads share a mutable case.
        """
        cached = self._cases.get(case_id)
        lease = self.lease_of(case_id)
        if cached is not None and cached.engine is not None:
            if lease is not None and cached.current_under == lease:
                cached.fresh = False  # current under the lease this thread holds: nobody else wrote it
                return cached
            if not check_version or self.store.case_version(case_id) == cached.record.version:
                cached.fresh = False
                if check_version:
                    cached.current_under = lease
                return cached
        if cached is not None:
            self._cases.discard(case_id)
        record = self.store.load_case(case_id)  # checked against the chain: StateTampered if edited
        bundle = self.bundle(record.definition_key, record.definition_version)
        engine_json, facts = split_state(dict(record.state))
        engine = EngineCase.load(bundle.case, engine_json) if engine_json is not None and with_engine else None
        loaded = LoadedCase(record, bundle, engine, facts, size=_approx_bytes(record), delta_base=engine is not None,
                            current_under=lease)
        if engine is not None:
            self._cases.put(case_id, loaded)
        return loaded

    @contextmanager
    def step(self, case_id: str, loaded: LoadedCase | None = None) -> Iterator[tuple[Step, LoadedCase]]:
        """A unit of work on the case; saves the state on success.

        What the step changed is recorded (the engine's changed plan items, its variables and
        the agent's facts), not the whole state: the store writes a full snapshot every
        ``Store.snapshot_every`` steps, so a step costs the same at 100 or 10,000 plan items.

        With ``loaded``, the step applies to that copy and fails with ``ConcurrencyConflict``
        if another worker moved the case since it was read — so work that must happen
        outside the transaction (pseudonymising, which writes the vault) can be done first.
        """
        started_ns = time.time_ns()  # for the step's span (casepilot.agent.tracing)
        loaded = loaded or self.load(case_id)
        self._cases.discard(case_id)  # a failing step must not leave a half-changed copy behind
        with self.store.step(case_id, loaded.record.version) as step:
            now = self.clock()
            if loaded.engine is not None and not loaded.engine.finished and now > loaded.engine.now:
                # The case clock follows the wall clock at every write; due timers fire here.
                self.record_transitions(step, loaded.engine.advance_to(now), "system")
            yield step, loaded
            self._stage_jobs(step, loaded)
            extra = {k: v for k, v in loaded.record.state.items() if k in ("parent", "start_variables")}
            written: dict[str, Any] = {"schema": STATE_SCHEMA, **extra}

            def full() -> dict[str, Any]:
                written.update(state_json(loaded.engine, loaded.facts), **extra)
                return written

            if loaded.engine is not None and loaded.delta_base:
                step.save_changes(_changes(loaded.engine, loaded.facts), snapshot=full, actor="agent")
            else:
                step.save_state(full(), actor="agent")
        result = step.result
        observe_step(result, started_ns)  # Prometheus counters and OpenTelemetry spans (casepilot.agent.metrics)
        if result is not None and loaded.engine is not None:
            last = result.events[-1] if result.events else None
            loaded.delta_base = True
            loaded.record = loaded.record.model_copy(update={
                # The full state when this step wrote a snapshot; else what stays put (the engine
                # and facts of ``loaded`` are the current state).
                "version": result.version, "state": written,
                "last_seq": last.seq if last else loaded.record.last_seq,
                "head_hash": last.hash if last else loaded.record.head_hash,
                "updated_at": result.updated_at or loaded.record.updated_at})
            # Written with the store's version check: current now, and under this thread's lease
            # (if it holds one) until the lease is given back.
            loaded.current_under = self.lease_of(case_id)
            self._cases.put(case_id, loaded)

    def _stage_jobs(self, step: Step, loaded: LoadedCase) -> None:
        if self.on_step is not None:
            self.on_step(step, loaded)

    # -- recording helpers ------------------------------------------------------------------

    def redact(self, case_id: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """A history payload with PII replaced by the case's pseudonyms."""
        if self.privacy is None:
            return dict(jsonable(payload))
        return self.privacy.redact_arguments(payload, case_id).payload

    def record_transitions(self, step: Step, events: list[dict[str, Any]], actor: str) -> None:
        for event in events:
            step.append("transition", actor=actor, payload=event)

    def sync_inbox(self, step: Step, loaded: LoadedCase) -> None:
        """Open an inbox item for every newly active human task; cancel items whose task ended."""
        engine = loaded.engine
        if engine is None:
            return
        facts = loaded.facts
        active_humans: dict[str, ItemView] = {
            v.instance_id: v for v in engine.active_items() if v.kind == "humanTask"
        }
        for instance_id, task_id in list(facts.inbox.items()):
            if instance_id not in active_humans:
                step.close_task(task_id, "cancelled", actor="agent", comment="the human task ended without a decision")
                del facts.inbox[instance_id]
        for instance_id, view in active_humans.items():
            if instance_id in facts.inbox:
                continue
            spec = loaded.bundle.human_tasks.get(view.definition_id, HumanTaskSpec())
            task = step.create_task(
                spec.question or view.name,
                kind="human_task",
                plan_item=view.name,
                role=spec.role,
                options=spec.options,
                actor="agent",
            )
            facts.inbox[instance_id] = task.id

    def create_case(
        self,
        definition_key: str,
        variables: Mapping[str, Any],
        *,
        business_key: str | None = None,
        tenant: str | None = None,
        actor: str = "system",
        source: str = "request",
        parent: tuple[str, str] | None = None,
        budget: BudgetLimits | None = None,
        provenance: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> str:
        """Create a case and start its plan model; returns its id.

        The id is chosen first so the starting variables are pseudonymised into the new
        case's vault and stored (encoded) with the case: if the process dies before the
        start step commits, ``observe`` starts the engine from them.

        Without ``provenance`` every starting variable is trusted, from ``source`` (a
        request). With it (a child case: the parent's record of each passed variable and
        of the parts inside it), those records are kept and a variable it does not cover
        is untrusted — provenance is never upgraded on the way into a case.
        """
        definition = self.store.definition(definition_key)
        bundle = self.bundle(definition_key, definition.version)
        case_id = uuid.uuid4().hex
        safe = dict(variables)
        if self.privacy is not None:
            safe = self.privacy.redact_value(safe, case_id)[0]
        if provenance is None:
            recorded = {k: {"trust": "trusted", "source": source} for k in variables}
        else:
            recorded = {k: dict(v) for k, v in provenance.items()}
            for name in variables:
                recorded.setdefault(name, {"trust": "untrusted", "source": source})
        facts = AgentFacts(provenance=recorded,
                           case_budget=budget.to_json() if budget is not None else None)
        state = {**state_json(None, facts), "start_variables": {k: encode_value(v) for k, v in safe.items()}}
        if parent is not None:
            state["parent"] = {"case_id": parent[0], "instance_id": parent[1]}
        record = self.store.create_case(definition_key, state, definition_version=definition.version,
                                        business_key=business_key, tenant=tenant, actor=actor, case_id=case_id)
        self.start_engine(record.id, actor=actor, bundle=bundle)
        return record.id

    def start_engine(self, case_id: str, *, actor: str = "system", bundle: CaseBundle | None = None) -> None:
        """Start the CMMN engine of a created case from its stored starting variables (idempotent)."""
        with self.step(case_id) as (step, loaded):
            if loaded.engine is not None:
                return
            start = {k: decode_value(v) for k, v in (loaded.record.state.get("start_variables") or {}).items()}
            engine, events = EngineCase.start((bundle or loaded.bundle).case, start, self.clock())
            loaded.engine = engine
            loaded.delta_base = False
            self.record_transitions(step, events, actor)
            self.sync_inbox(step, loaded)

    def options(self, loaded: LoadedCase) -> tuple[list[ActionOption], dict[str, Mapping[str, Provenance]]]:
        """What the agent may do now in ``loaded`` (see ``options.build_options``)."""
        engine = loaded.engine
        if engine is None:
            return [], {}
        return build_options(engine, loaded.bundle.bindings, self.registry, engine.variables(),
                             provenance_map(loaded.facts), decisions=loaded.bundle.decision_tasks.keys(),
                             child_cases={k: b.key for k, b in loaded.bundle.case_tasks.items()},
                             started_children=loaded.facts.children.keys())

    def current_digest(self, loaded: LoadedCase, parked: ParkedAction) -> str | None:
        """The digest the parked action would have if proposed now (``None``: no longer possible).

        A person's approval holds only for the action they saw: when the case file changed
        the arguments the binding would pass, the digest differs and the decision is refused.
        """
        if loaded.engine is None:
            return None
        options, _ = self.options(loaded)
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

    def complete_human_task(
        self, step: Step, loaded: LoadedCase, task_id: str, actor: str, result: dict[str, Any]
    ) -> None:
        """Apply a person's decision on a CMMN human task: write its (pseudonymised) result, complete it."""
        engine = loaded.engine
        if engine is None:
            return
        instance_id = next((i for i, t in loaded.facts.inbox.items() if t == task_id), None)
        if instance_id is None:
            return
        del loaded.facts.inbox[instance_id]
        view = engine.item(instance_id)
        if view is None or view.state != "active":
            return
        spec = loaded.bundle.human_tasks.get(view.definition_id, HumanTaskSpec())
        events: list[dict[str, Any]] = []
        if spec.result:
            events += engine.set_variables({spec.result: result})
            loaded.facts.set_provenance(spec.result, "trusted", f"person:{actor}")
        events += engine.complete(instance_id)
        self.record_transitions(step, events, f"person:{actor}")
        self.sync_inbox(step, loaded)
