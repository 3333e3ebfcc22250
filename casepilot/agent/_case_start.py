"""Creating a case: its row with pseudonymised starting variables, then its plan model started.

Two steps on purpose: the case row (with the starting variables, encoded) commits first, then
a step starts the CMMN engine from them. If the process dies in between, ``start_engine``
is idempotent and ``observe`` finishes the start from what was stored — nothing is lost and
nothing starts twice.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from casepilot.agent._bundles import BundleCache
from casepilot.agent._case_reveal import case_reveal
from casepilot.agent._inbox import sync_inbox
from casepilot.agent._loaded_case import state_json
from casepilot.agent._recording import record_transitions
from casepilot.agent._step_writer import StepWriter
from casepilot.agent.bundle import CaseBundle
from casepilot.agent.engine import EngineCase
from casepilot.agent.facts import AgentFacts
from casepilot.agent.privacy import CasePrivacy
from casepilot.cmmn.runtime.state import decode_value, encode_value
from casepilot.governance.budget import BudgetLimits
from casepilot.store import Store

__all__ = ["CaseStarter"]


class CaseStarter:
    """Creates cases of deployed definitions and starts their engines (see the module docstring)."""

    def __init__(self, store: Store, bundles: BundleCache, steps: StepWriter, *,
                 privacy: CasePrivacy | None, clock: Callable[[], dt.datetime]) -> None:
        self.store = store
        self.bundles = bundles
        self.steps = steps
        self.privacy = privacy
        self.clock = clock

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
        """Create a case and start its plan model; returns its id.

        The id is chosen first so the starting variables are pseudonymised into the new
        case's vault and stored (encoded) with the case: if the process dies before the
        start step commits, ``observe`` starts the engine from them.

        Without ``provenance`` every starting variable is trusted, from ``source`` (a
        request). With it (a child case: the parent's record of each passed variable and
        of the parts inside it), those records are kept and a variable it does not cover
        is untrusted — provenance is never upgraded on the way into a case.

        With ``process``, the case is that BPMN process of the bundle started on its own
        (``_process_cases``): its plan is the one-task wrapper around the process.
        """
        definition = self.store.definition(definition_key)
        bundle = self.bundles.bundle(definition_key, definition.version, process=process)
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
        facts = AgentFacts(provenance=recorded, process=process,
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
        with self.steps.step(case_id) as (step, loaded):
            if loaded.engine is not None:
                return
            start = {k: decode_value(v) for k, v in (loaded.record.state.get("start_variables") or {}).items()}
            engine, events = EngineCase.start((bundle or loaded.bundle).case, start, self.clock(),
                                              reveal=case_reveal(self.privacy, case_id))
            loaded.engine = engine
            loaded.delta_base = False
            record_transitions(step, events, actor)
            sync_inbox(step, loaded)
