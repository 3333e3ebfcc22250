"""Reading a case for the loop, reusing the copy this thread worked last when it is still current.

Why: rebuilding a case (parsing its state, rebuilding the CMMN engine) costs more than the step
that follows, so a loaded copy is kept in the bounded ``CaseCache`` and reused. Reuse must
never hand out a stale copy, and checking the store's version costs a query per read; so a
copy is also marked with the case lease it is known to be current under (``current_under``):
while this thread still holds that lease, nobody else can have written the case (every path
that works a case holds its lease), and the copy is reused without asking the store.
"""

from __future__ import annotations

from collections.abc import Callable

from casepilot.agent._bundles import BundleCache
from casepilot.agent._case_reveal import case_reveal
from casepilot.agent._loaded_case import LoadedCase
from casepilot.agent.case_cache import CacheLimits, CaseCache
from casepilot.agent.engine import EngineCase
from casepilot.agent.facts import split_state
from casepilot.store import CaseRecord, Store

__all__ = ["CaseLoader", "no_lease"]


_FIXED_BYTES = 6_000
_BYTES_PER_STATE_BYTE = 13
"""Memory a loaded case takes: about 6 KB plus 13 bytes per byte of its state JSON (parsed state,
engine with its indexes, facts; measured with tracemalloc on 3- and 100-task cases: 16 KB at
0.8 KB of state, 118 KB at 8.5 KB). The cache's byte limit counts with this estimate."""


def _approx_bytes(record: CaseRecord) -> int:
    return _FIXED_BYTES + record.state_bytes * _BYTES_PER_STATE_BYTE


def no_lease(_case_id: str) -> str | None:
    """``lease_of`` without leases (a runtime outside an orchestrator): no copy is current by lease."""
    return None


class CaseLoader:
    """Loads cases through a bounded cache, lease-aware (see the module docstring)."""

    def __init__(self, store: Store, bundles: BundleCache, limits: CacheLimits,
                 lease_of: Callable[[str], str | None] = no_lease) -> None:
        self.store = store
        self.bundles = bundles
        self.lease_of = lease_of
        """The lease this thread holds on a case (``CaseLeases.mine``), or None: a copy known to be
        current under the lease held now needs no version check (one query less per read)."""
        self._cases: CaseCache[LoadedCase] = CaseCache(limits, weigh=lambda c: c.size,
                                                       version=lambda c: c.record.version)

    @property
    def case_cache(self) -> CaseCache[LoadedCase]:
        """The loaded cases kept for reuse (bounded; see ``case_cache``)."""
        return self._cases

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
        engine_json, facts = split_state(dict(record.state))
        bundle = self.bundles.bundle(record.definition_key, record.definition_version, process=facts.process)
        engine = (EngineCase.load(bundle.case, engine_json, reveal=case_reveal(self.bundles.privacy, case_id))
                  if engine_json is not None and with_engine else None)
        loaded = LoadedCase(record, bundle, engine, facts, size=_approx_bytes(record), delta_base=engine is not None,
                            current_under=lease)
        if engine is not None:
            self._cases.put(case_id, loaded)
        return loaded

    def forget(self, case_id: str) -> None:
        """Drop this thread's copy of the case (a step is about to change it and may fail half way)."""
        self._cases.discard(case_id)

    def keep_written(self, case_id: str, loaded: LoadedCase) -> None:
        """Keep ``loaded`` as this thread's copy right after a step wrote it.

        Written with the store's version check, the copy is current now, and under this
        thread's lease (if it holds one) until the lease is given back.
        """
        loaded.current_under = self.lease_of(case_id)
        self._cases.put(case_id, loaded)
