"""What the loop's nodes share to load, change and record a case: ``AgentRuntime``.

Every node that changes a case does so in one ``Store.step`` — events, inbox changes and
the new state commit together or not at all — and re-reads the case first, so a node
never works on a stale copy (the store's version check turns a race between workers into
``ConcurrencyConflict`` instead of a lost update).

``AgentRuntime`` does none of the jobs itself: it builds one collaborator per job and keeps
the small surface the nodes, operations, chat, worker and API call. Where each job lives:

- deployed bundles by ``(key, version)``, the governor of a case — ``_bundles.BundleCache``;
- loading a case through the bounded, lease-aware cache — ``_case_loader.CaseLoader``;
- writing a step (changes or a snapshot, due jobs, metrics) — ``_step_writer.StepWriter``;
- creating a case and starting its engine — ``_case_start.CaseStarter``;
- the inbox of human tasks — ``_inbox``;
- the options of a case, the digest of a parked action — ``_case_options``;
- redacted payloads, transition events — ``_recording``;
- the loaded case itself and its state JSON — ``_loaded_case``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any

from casepilot.agent import _inbox, _recording
from casepilot.agent._bundles import BundleCache
from casepilot.agent._case_loader import CaseLoader, no_lease
from casepilot.agent._case_options import case_options, current_digest
from casepilot.agent._case_reveal import Unavailable
from casepilot.agent._case_start import CaseStarter
from casepilot.agent._loaded_case import LoadedCase, provenance_map, state_json
from casepilot.agent._step_writer import StepHook, StepWriter
from casepilot.agent.bundle import CaseBundle
from casepilot.agent.case_cache import CacheLimits, CaseCache
from casepilot.agent.facts import ParkedAction
from casepilot.agent.planning import ActionOption, Planner
from casepilot.agent.privacy import CasePrivacy
from casepilot.governance.budget import BudgetLimits
from casepilot.governance.governor import Governor
from casepilot.store import Store
from casepilot.store._step import Step
from casepilot.tools import Provenance, ToolRegistry

__all__ = ["AgentRuntime", "LoadedCase", "provenance_map", "state_json"]


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class AgentRuntime:
    """What the nodes share: store, tools, planner, privacy layer, clock — and one collaborator per job.

    ``store``, ``registry``, ``privacy``, ``governor`` and ``clock`` are read-only: the
    collaborators were built with them. ``lease_of`` and ``on_step`` may be set after
    construction (an orchestrator installs its leases, a worker its job scheduler).
    """

    def __init__(
        self,
        store: Store,
        registry: ToolRegistry,
        planner: Planner,
        privacy: CasePrivacy | None = None,
        governor: Governor | None = None,
        clock: Callable[[], dt.datetime] = _utc_now,
        on_step: StepHook | None = None,
        cache_limits: CacheLimits | None = None,
        lease_of: Callable[[str], str | None] = no_lease,
    ) -> None:
        self._store = store
        self._registry = registry
        self._privacy = privacy
        self._clock = clock
        self.planner = planner
        self.bundles = BundleCache(store, registry, privacy=privacy, governor=governor)
        """Deployed bundles by ``(key, version)``; the governor of a case."""
        self.cases = CaseLoader(store, self.bundles, cache_limits or CacheLimits.from_env(), lease_of)
        """Loads cases through the bounded cache, reusing a copy current under this thread's lease."""
        self.steps = StepWriter(store, self.cases, clock, on_step)
        """Writes steps on cases."""
        self.starter = CaseStarter(store, self.bundles, self.steps, privacy=privacy, clock=clock)
        """Creates cases and starts their engines."""

    # -- what the collaborators were built with --------------------------------------------------

    @property
    def store(self) -> Store:
        return self._store

    @property
    def registry(self) -> ToolRegistry:
        return self._registry

    @property
    def privacy(self) -> CasePrivacy | None:
        return self._privacy

    @property
    def governor(self) -> Governor | None:
        """When set, used for every case instead of each bundle's own governor."""
        return self.bundles.governor

    @property
    def clock(self) -> Callable[[], dt.datetime]:
        return self._clock

    @property
    def lease_of(self) -> Callable[[str], str | None]:
        """The lease this thread holds on a case (``CaseLeases.mine``), or None: a copy known to be
        current under the lease held now needs no version check (one query less per read)."""
        return self.cases.lease_of

    @lease_of.setter
    def lease_of(self, lease_of: Callable[[str], str | None]) -> None:
        self.cases.lease_of = lease_of

    @property
    def on_step(self) -> StepHook | None:
        """Called inside every step before it commits, to stage the jobs the step makes due
        (``casepilot.worker.JobScheduler``); None in the single in-process mode."""
        return self.steps.on_step

    @on_step.setter
    def on_step(self, on_step: StepHook | None) -> None:
        self.steps.on_step = on_step

    @property
    def case_cache(self) -> CaseCache[LoadedCase]:
        """The loaded cases kept for reuse (bounded; see ``case_cache``)."""
        return self.cases.case_cache

    @property
    def cache_limits(self) -> CacheLimits:
        """How many loaded cases (and about how many bytes) the process keeps for reuse."""
        return self.cases.case_cache.limits

    # -- the jobs, each done by its collaborator ---------------------------------------------------

    def bundle(self, key: str, version: int) -> CaseBundle:
        return self.bundles.bundle(key, version)

    def governor_for(self, bundle: CaseBundle) -> Governor:
        return self.bundles.governor_for(bundle)

    def load(self, case_id: str, *, with_engine: bool = True, check_version: bool = True) -> LoadedCase:
        """Read the case, reusing this thread's current copy (``CaseLoader.load``)."""
        return self.cases.load(case_id, with_engine=with_engine, check_version=check_version)

    def step(self, case_id: str, loaded: LoadedCase | None = None) -> AbstractContextManager[tuple[Step, LoadedCase]]:
        """A unit of work on the case; saves what it changed on success (``StepWriter.step``)."""
        return self.steps.step(case_id, loaded)

    def redact(self, case_id: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """A history payload with PII replaced by the case's pseudonyms."""
        return _recording.redact(self._privacy, case_id, payload)

    record_transitions = staticmethod(_recording.record_transitions)
    sync_inbox = staticmethod(_inbox.sync_inbox)
    complete_human_task = staticmethod(_inbox.complete_human_task)

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
        process: str | None = None,
    ) -> str:
        """Create a case and start its plan model; returns its id (``CaseStarter.create_case``)."""
        return self.starter.create_case(definition_key, variables, business_key=business_key, tenant=tenant,
                                        actor=actor, source=source, parent=parent, budget=budget,
                                        provenance=provenance, process=process)

    def start_engine(self, case_id: str, *, actor: str = "system", bundle: CaseBundle | None = None) -> None:
        """Start the CMMN engine of a created case from its stored starting variables (idempotent)."""
        self.starter.start_engine(case_id, actor=actor, bundle=bundle)

    def options(self, loaded: LoadedCase) -> tuple[list[ActionOption], dict[str, Mapping[str, Provenance]]]:
        """What the agent may do now in ``loaded`` (see ``options.build_options``)."""
        return case_options(loaded, self._registry)

    def listed_options(self, loaded: LoadedCase) -> tuple[list[ActionOption], list[Unavailable]]:
        """``options`` for a read-only listing outside a step (the chat's possible actions): an item
        whose applicability rule reads erased personal data is not offered but listed apart, with
        the reason, instead of failing the listing (``_case_reveal``)."""
        unavailable: list[Unavailable] = []
        options, _ = case_options(loaded, self._registry, unavailable)
        return options, unavailable

    def current_digest(self, loaded: LoadedCase, parked: ParkedAction) -> str | None:
        """The digest the parked action would have if proposed now (``None``: no longer possible)."""
        return current_digest(loaded, parked, self._registry)
