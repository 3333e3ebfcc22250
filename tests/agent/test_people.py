"""People's own actions: user events and discretionary items, only with the roles the CMMN model
authorises, reviewed by governance and recorded with the person as actor."""

from __future__ import annotations

import datetime as dt

import pytest

from casepilot.agent.engine import EngineCase
from casepilot.agent.options import build_options
from casepilot.agent.orchestrator import Person
from casepilot.agent.people import authorised, person_actions
from casepilot.cmmn.parser import parse_bytes
from casepilot.errors import GovernanceBlocked, NotAuthorized, UnknownPlanItem
from casepilot.governance.budget import BudgetLimits
from casepilot.tools import BindingSet, ToolRegistry
from tests.agent._support import CLAIMS
from tests.agent.conftest import OrchFactory
from tests.cmmn.runtime._models import case_of

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
LETTER = ("This is the third time I write. Nobody answers and I am furious. "
          "Mary Jones wants the EUR 800 for the broken mirror now.")

ROLES_MODEL = (
    '<planItem id="p_event" definitionRef="uel"/>'
    '<planItem id="p_open" definitionRef="uel_open"/>'
    '<planningTable id="outer" authorizedRoleRefs="r_lead">'
    '  <discretionaryItem id="d_table" definitionRef="t_a"/>'
    '  <discretionaryItem id="d_own" definitionRef="t_b" authorizedRoleRefs="r_clerk"/>'
    '  <planningTable id="inner"><discretionaryItem id="d_inner" definitionRef="t_c"/></planningTable>'
    '</planningTable>'
    '<userEventListener id="uel" name="Fraud suspected" authorizedRoleRefs="r_clerk r_lead"/>'
    '<userEventListener id="uel_open" name="Customer called"/>'
    '<task id="t_a" name="Audit"/><task id="t_b" name="Call back"/><task id="t_c" name="Inspect"/>'
)
ROLES = '<caseRoles><role id="r_clerk" name="Clerk"/><role id="r_lead" name="team lead"/></caseRoles>'


def _engine() -> EngineCase:
    doc = ('<definitions xmlns="http://www.omg.org/spec/CMMN/20151109/MODEL" id="d" targetNamespace="urn:t">'
           f'<case id="c" name="C"><casePlanModel id="cpm" name="Plan">{ROLES_MODEL}</casePlanModel>{ROLES}</case>'
           "</definitions>")
    return EngineCase.start(parse_bytes(doc.encode()).case(), {}, T0)[0]


def test_actions_carry_the_roles_the_model_authorises() -> None:
    actions = {a.label: a for a in person_actions(_engine())}
    assert actions["Fraud suspected"].kind == "occur" and actions["Fraud suspected"].roles == ("Clerk", "team lead")
    assert actions["Customer called"].roles == ()
    assert actions["Audit"].kind == "plan" and actions["Audit"].roles == ("team lead",)  # the table's roles
    # Its own roles AND the table's (each list that names roles is a condition, as in the engine):
    assert actions["Call back"].roles == ("team lead", "Clerk")
    assert actions["Call back"].roles_wanted == "team lead, and Clerk"
    assert actions["Inspect"].roles == ("team lead",)  # inherited through the nested table
    assert authorised(actions["Fraud suspected"], frozenset({"clerk"}))  # names compare case-insensitively
    assert not authorised(actions["Audit"], frozenset({"Clerk"}))
    assert not authorised(actions["Call back"], frozenset({"Clerk"}))
    assert authorised(actions["Call back"], frozenset({"Clerk", "team lead"}))
    assert authorised(actions["Customer called"], frozenset())


@pytest.mark.parametrize("held", [frozenset(), frozenset({"Clerk"}), frozenset({"team lead"}),
                                  frozenset({"clerk", "TEAM LEAD"}), frozenset({"auditor"})])
def test_the_agent_authorises_exactly_what_the_engine_does(held: frozenset[str]) -> None:
    engine = _engine()
    agent = {a.action for a in person_actions(engine) if authorised(a, held)}
    by_engine = {a for a in engine.instance.activatable(roles=held) if a in {p.action for p in person_actions(engine)}}
    assert agent == by_engine


def test_the_agent_is_not_offered_items_reserved_for_roles() -> None:
    engine = _engine()
    options, _ = build_options(engine, BindingSet(), ToolRegistry([]), {}, {})
    assert [o.label for o in options if o.kind == "plan"] == []  # every item here is reserved for roles
    open_case = EngineCase.start(case_of('<planItem id="p_keep" definitionRef="h"/><planningTable id="pt">'
                                         '<discretionaryItem id="d_free" definitionRef="t"/></planningTable>'
                                         '<humanTask id="h" name="Keep"/><task id="t" name="Free"/>'), {}, T0)[0]
    options, _ = build_options(open_case, BindingSet(), ToolRegistry([]), {}, {})
    assert [o.label for o in options if o.kind == "plan"] == ["Free"]


def test_a_claims_handler_records_the_withdrawal_and_the_case_ends(make_orch: OrchFactory) -> None:
    orch, store = make_orch()
    orch.deploy(CLAIMS)
    case = orch.start_case("claim-triage", {"letter": LETTER, "policy": "POL-1"})
    assert orch.run(case.id).reason == "waiting_for_people"
    withdraw = next(a for a in orch.person_actions(case.id) if a.label == "Customer withdraws")
    assert withdraw.roles == ("claims handler",)

    before = len(store.history(case.id))
    with pytest.raises(NotAuthorized, match="authorises claims handler, and ann has senior analyst"):
        orch.perform(case.id, withdraw.id, Person("ann", {"senior analyst"}))
    with pytest.raises(UnknownPlanItem, match="possible: occur:"):
        orch.perform(case.id, "occur:nope", Person("carol", {"claims handler"}))
    assert len(store.history(case.id)) == before  # refusals change nothing

    orch.perform(case.id, withdraw.id, Person("carol", {"claims handler"}))
    outcome = orch.run(case.id)
    assert (outcome.reason, outcome.case_state, outcome.pending) == ("terminated", "terminated", ())
    events = store.history(case.id)[before:]
    verdict = next(e for e in events if e.kind == "verdict")
    assert (verdict.actor, verdict.payload["kind"], verdict.payload["action"]) == ("person:carol", "allow", withdraw.id)
    occurred = [e for e in events if e.kind == "transition" and e.payload["transition"] == "occur"]
    assert [(e.actor, e.payload["name"]) for e in occurred] == [("person:carol", "Customer withdraws")]
    assert store.verify(case.id).ok


def test_governance_reviews_a_persons_action_too(make_orch: OrchFactory) -> None:
    orch, store = make_orch()
    orch.deploy(CLAIMS)
    # A case budget of no wall time at all: once a tool has run, every action is over budget.
    case = orch.start_case("claim-triage", {"letter": LETTER, "policy": "POL-1"},
                           budget=BudgetLimits(max_wall_seconds=0.0))
    orch.run(case.id)
    withdraw = next(a for a in orch.person_actions(case.id) if a.label == "Customer withdraws")
    with pytest.raises(GovernanceBlocked, match="budget"):
        orch.perform(case.id, withdraw.id, Person("carol", {"claims handler"}))
    last = store.history(case.id)[-2:]
    assert [e.kind for e in last] == ["verdict", "state_delta"]
    assert (last[0].actor, last[0].payload["kind"]) == ("person:carol", "block")
    assert orch.case(case.id).state["engine"] is not None
    assert any(a.id == withdraw.id for a in orch.person_actions(case.id))  # nothing happened
