"""Writing a case: one ``Store.step`` per unit of work, recording what it changed.

Every change to a case goes through ``StepWriter.step`` so that the rules of a write hold in
one place: events, inbox changes, the new state and the jobs the step makes due commit
together or not at all; the case clock catches up with the wall clock (due timers fire); a
step records only what changed, so its cost does not grow with the case; a committed step is
counted once (metrics, traces) and its copy kept for the next read.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from casepilot.agent._case_loader import CaseLoader
from casepilot.agent._case_reveal import fail_unrevealable
from casepilot.agent._loaded_case import LoadedCase, state_json
from casepilot.agent._recording import record_transitions
from casepilot.agent.engine import EngineCase
from casepilot.agent.facts import STATE_SCHEMA, AgentFacts
from casepilot.agent.metrics import observe_step
from casepilot.agent.privacy import jsonable
from casepilot.errors import PersonalDataErased
from casepilot.store import Store
from casepilot.store._step import Step

__all__ = ["StepHook", "StepWriter"]

StepHook = Callable[[Step, LoadedCase], None]
"""Called inside a step before it commits (``StepWriter.on_step``)."""


def _changes(engine: EngineCase, facts: AgentFacts,
             stored_agent: dict[str, Any] | None) -> tuple[list[list[Any]], dict[str, Any]]:
    """What a step changed, as delta operations on the stored state (``store.history.apply_ops``),
    and the agent's facts as JSON (what the state holds after the step).

    The facts are written by what changed in them where ``stored_agent`` — the facts as this
    copy's last step stored them — says what the state holds (``_set_changed``). Without it (a
    copy read from the store), all of them."""
    header, items = engine.instance.changes()
    ops: list[list[Any]] = [["set", ["engine", key], value] for key, value in header.items()
                            if key not in ("schema", "case", "id")]
    ops += [["put", ["engine", "items"], item] for item in items]
    agent = jsonable(facts.to_json())
    if stored_agent is None:
        ops.append(["set", ["agent"], agent])
    else:
        _set_changed(["agent"], stored_agent, agent, ops)
    return ops, agent


def _set_changed(path: list[str], old: Any, new: Any, ops: list[list[Any]]) -> None:
    """Append the ``set`` operations that turn ``old`` (at ``path``) into ``new``: an object that
    kept all its keys is written by the members that changed, down to the values that did;
    anything else whole (a delta has no operation that removes a key).

    Why down to the values: a claim's payment process lives in the facts — SpiffWorkflow's
    serialised workflow, 7–15 kilobytes — and a batch of the process changes a few of its tasks.
    Written whole at each of the process's batches (facts by key), it made a claim's deltas
    8–15 KB each and, by outweighing the last snapshot sooner, most of its steps snapshots."""
    if isinstance(old, dict) and isinstance(new, dict) and old.keys() <= new.keys():
        for key, value in new.items():
            if key not in old:
                ops.append(["set", [*path, key], value])
            elif old[key] != value:
                _set_changed([*path, key], old[key], value, ops)
    elif old != new:
        ops.append(["set", path, new])


class StepWriter:
    """Steps on cases loaded by ``cases`` (see the module docstring)."""

    def __init__(self, store: Store, cases: CaseLoader, clock: Callable[[], dt.datetime],
                 on_step: StepHook | None = None) -> None:
        self.store = store
        self.cases = cases
        self.clock = clock
        self.on_step = on_step
        """Called inside every step before it commits, to stage the jobs the step makes due
        (``casepilot.worker.JobScheduler``); None in the single in-process mode."""

    @contextmanager
    def step(self, case_id: str, loaded: LoadedCase | None = None) -> Iterator[tuple[Step, LoadedCase]]:
        """A unit of work on the case (``write``); when it failed because a condition of the case reads
        personal data that was erased, the case fails and the history says why (``_case_reveal``)."""
        try:
            with self.write(case_id, loaded) as pair:
                yield pair
        except PersonalDataErased as exc:
            fail_unrevealable(self, case_id, exc)
            raise

    @contextmanager
    def write(self, case_id: str, loaded: LoadedCase | None = None) -> Iterator[tuple[Step, LoadedCase]]:
        """A unit of work on the case; saves the state on success.

        What the step changed is recorded (the engine's changed plan items, its variables and
        the agent's facts), not the whole state: the store writes a full snapshot every
        ``Store.snapshot_every`` steps, so a step costs the same at 100 or 10,000 plan items.

        With ``loaded``, the step applies to that copy and fails with ``ConcurrencyConflict``
        if another worker moved the case since it was read — so work that must happen
        outside the transaction (pseudonymising, which writes the vault) can be done first.
        """
        started_ns = time.time_ns()  # for the step's span (casepilot.agent.tracing)
        loaded = loaded or self.cases.load(case_id)
        self.cases.forget(case_id)  # a failing step must not leave a half-changed copy behind
        with self.store.step(case_id, loaded.record.version, head=loaded.head) as step:
            now = self.clock()
            if loaded.engine is not None and not loaded.engine.finished and now > loaded.engine.now:
                # The case clock follows the wall clock at every write; due timers fire here.
                record_transitions(step, loaded.engine.advance_to(now), "system")
            yield step, loaded
            if self.on_step is not None:
                self.on_step(step, loaded)  # stage the jobs this step makes due
            extra = {k: v for k, v in loaded.record.state.items() if k in ("parent", "start_variables")}
            written: dict[str, Any] = {"schema": STATE_SCHEMA, **extra}

            def full() -> dict[str, Any]:
                # Plain JSON made for this step and only read after it: handed to the store as it is.
                written.update(state_json(loaded.engine, loaded.facts), **extra)
                return written

            # When a snapshot is due whatever the changes weigh (``Step.snapshot_due`` grows with
            # them), the changes are not worked out at all: ``save_changes`` would only encode
            # them to find that out (in a small case, every step's events outweigh the snapshot).
            agent: dict[str, Any] | None = None
            if loaded.engine is not None and loaded.delta_base and not step.snapshot_due():
                ops, agent = _changes(loaded.engine, loaded.facts, loaded.stored_agent)
                step.save_changes(ops, snapshot=full, actor="agent", owned=True)
            else:
                step.save_state(full(), actor="agent", owned=True)
        result = step.result
        observe_step(result, started_ns)  # Prometheus counters and OpenTelemetry spans (casepilot.agent.metrics)
        if result is not None and loaded.engine is not None:
            last = result.events[-1] if result.events else None
            loaded.delta_base = True
            loaded.head = step.next_head
            # What the state holds now: the snapshot's facts, else those the delta brought it to
            # (both plain JSON of this step's own making, which nothing changes afterwards).
            loaded.stored_agent = written.get("agent", agent)
            loaded.record = loaded.record.model_copy(update={
                # The full state when this step wrote a snapshot; else what stays put (the engine
                # and facts of ``loaded`` are the current state).
                "version": result.version, "state": written,
                "last_seq": last.seq if last else loaded.record.last_seq,
                "head_hash": last.hash if last else loaded.record.head_hash,
                "updated_at": result.updated_at or loaded.record.updated_at})
            self.cases.keep_written(case_id, loaded)
