"""What people do to a case besides deciding inbox items: a user event or a discretionary item
(``perform``), seeing its personal data in clear (``reveal``), erasing it (``erase``) — each
checked against roles, recorded with the person as actor, under the case's lease.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from casepilot.agent.nodes import Nodes
from casepilot.agent.operations import ensure_workable
from casepilot.agent.people import authorised, listed_actions, person_actions
from casepilot.errors import DecisionRejected, GovernanceBlocked, NotAuthorized, NotFound, UnknownPlanItem
from casepilot.governance.actions import ProposedAction

if TYPE_CHECKING:
    from casepilot.agent.orchestrator import Orchestrator, Person

__all__ = ["erase", "perform", "reveal"]


def reveal(orch: Orchestrator, case_id: str, value: Any, actor: Person) -> Any:
    """Restore the clear text behind pseudonyms for an actor whose role the case allows; audited."""
    with orch.leases.hold(case_id):
        loaded = orch.runtime.load(case_id)
        allowed = set(loaded.bundle.manifest.governance.reveal_roles)
        if orch.runtime.privacy is None:
            return value
        if not allowed & set(actor.roles):
            with orch.runtime.step(case_id) as (step, _):
                step.append("error", actor=f"person:{actor.name}", payload={
                    "problem": "reveal refused: the actor has none of the roles allowed to see personal data",
                    "allowed_roles": sorted(allowed)})
            raise DecisionRejected(
                f"{actor.name} may not see personal data of case {case_id}: needs one of {sorted(allowed) or 'no role'}")
        try:
            revealed = orch.runtime.privacy.reveal_payload(value, case_id)
        except NotFound as exc:
            raise NotFound(f"the personal data of case {case_id} cannot be revealed: {exc}") from exc
        with orch.runtime.step(case_id) as (step, _):
            step.append("pii_revealed", actor=f"person:{actor.name}", payload={
                "roles": sorted(actor.roles), "tokens": sorted(orch.runtime.privacy.tokens_in(value))})
        return revealed


def erase(orch: Orchestrator, case_id: str, actor: Person | str = "system", reason: str | None = None) -> None:
    """Crypto-shred the case's personal data (its vault key) and record the erasure.

    The history stays verifiable; pseudonyms in it can never be resolved again, in this
    process or any other.
    """
    with orch.leases.hold(case_id):
        who = actor if isinstance(actor, str) else f"person:{actor.name}"
        orch.store.erase(case_id, actor=who, reason=reason)
        if orch.runtime.privacy is not None:
            orch.runtime.privacy.forget(case_id)


def perform(orch: Orchestrator, case_id: str, action_id: str, actor: Person) -> None:
    """A person makes a user event occur or plans a discretionary item (see ``person_actions``).

    Checked against the model's authorised roles (``NotAuthorized``), reviewed by governance
    (``GovernanceBlocked`` unless allowed — the verdict is recorded either way) and recorded
    with the person as actor. ``run`` then works the case on.
    """
    with orch.leases.hold(case_id):
        ensure_workable(orch, case_id, "act")
        loaded = orch.runtime.load(case_id)
        possible, unavailable = listed_actions(loaded.engine)
        if any(u.id == action_id for u in unavailable):
            # Its applicability rule reads erased personal data: evaluated in a step, it fails the
            # case with the reason recorded, and the request is refused (``PersonalDataErased``).
            with orch.runtime.step(case_id, loaded) as (_step, fresh):
                assert fresh.engine is not None
                person_actions(fresh.engine)
        found = next((a for a in possible if a.id == action_id), None)
        if found is None:
            names = ", ".join(f"{a.id} ({a.label})" for a in possible) or "none"
            raise UnknownPlanItem(f"{action_id!r} is not an action people can take in case {case_id} now; "
                                  f"possible: {names}")
        if not authorised(found, actor.roles):
            held = ", ".join(sorted(actor.roles)) or "no roles"
            raise NotAuthorized(f"{actor.name} cannot {found.kind} {found.label!r}: the case model authorises "
                                f"{found.roles_wanted}, and {actor.name} has {held}")
        who = f"person:{actor.name}"
        proposed = ProposedAction(kind="transition", name=found.kind, case_id=case_id, plan_item=found.label,
                                  arguments={"action": found.id})
        context = replace(Nodes(orch.runtime).context(loaded, confidence=None, action=proposed),
                          actor=who, roles=actor.roles)
        verdict = orch.runtime.governor_for(loaded.bundle).review(proposed, context)
        with orch.runtime.step(case_id, loaded) as (step, loaded):
            step.append("verdict", actor=who, payload={"action": found.id, **verdict.to_json()},
                        rule_ids=verdict.rule_ids)
            if verdict.kind == "allow":
                loaded.facts.count(proposed)
                assert loaded.engine is not None
                orch.runtime.record_transitions(step, loaded.engine.apply(found.action), who)
                orch.runtime.sync_inbox(step, loaded)
        if verdict.kind != "allow":
            raise GovernanceBlocked(f"{found.label!r} was not allowed: {verdict.reason}")
