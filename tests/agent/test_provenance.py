"""Provenance travels with data (DESIGN.md): a value a planner wrote itself is trusted only
when it repeats, verbatim, what a trusted source said (the request a person typed), and
stays untrusted when it also appears in, or only comes from, a tool's output or a document.

End to end with a planner that writes its own arguments: paying the IBAN the user typed
needs no person; paying the IBAN the injected document names does (the provenance rule).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from casepilot.agent._values import ValueSources
from casepilot.governance.actions import GovernanceContext, ProposedAction
from casepilot.governance.governor import Governor
from casepilot.governance.verdict import Verdict
from casepilot.tools import Provenance
from tests.agent._support import ScriptedPlanner, TaskSpec, assert_sound, calls_of, events, write_bundle
from tests.agent.conftest import OrchFactory

PLANNER = Provenance.untrusted("planner:scripted")
USER_IBAN = "GB33BUKB20201555555555"
DOC_IBAN = "DE89370400440532013000"  # the IBAN the injected document (``INJECTION``) names

Reviewed = list[tuple[ProposedAction, GovernanceContext, Verdict]]


@pytest.fixture
def reviewed(monkeypatch: pytest.MonkeyPatch) -> Iterator[Reviewed]:
    """Every action the Governor reviews in this test, with its context and verdict."""
    seen: Reviewed = []
    original = Governor.review

    def review(self: Governor, action: ProposedAction, context: GovernanceContext) -> Verdict:
        verdict = original(self, action, context)
        seen.append((action, context, verdict))
        return verdict

    monkeypatch.setattr(Governor, "review", review)
    yield seen


# -- the rule, on values ------------------------------------------------------------------------


def sources(**variables: Any) -> ValueSources:
    provenance = {
        "request": {"trust": "trusted", "source": "request"},
        "review": {"trust": "trusted", "source": "person:ann"},
        "document": {"trust": "untrusted", "source": "tool:fetch_document"},
        "claim": {"trust": "trusted", "source": "request"},
        "claim.amount": {"trust": "untrusted", "source": "tool:extract_claim"},
    }
    return ValueSources(variables, provenance)


def test_a_value_the_user_typed_is_trusted_as_the_request() -> None:
    found = sources(request=f"Please pay 100.00 EUR to {USER_IBAN} today").provenance_of(USER_IBAN, PLANNER)
    assert (found.trust, found.source, found.via) == ("trusted", "request:request", "request")
    # numbers: exact equality with a number token of the text
    assert sources(request="pay 100.00 EUR").provenance_of(100, PLANNER).is_trusted
    assert sources(request="pay 100.00 EUR").provenance_of(Decimal("100.0"), PLANNER).is_trusted
    # a person's input is trusted as that person
    person = sources(review={"decision": "approve", "limit": 250}).provenance_of(250, PLANNER)
    assert (person.trust, person.source) == ("trusted", "person:ann")


@pytest.mark.parametrize("value", [
    "DE8937040044053201300",   # a truncated IBAN: not a whole word of the text
    "E89370400440532013000",
    100,                        # occurs only inside 1000
    10,                         # only inside 10.5
    "",                         # nothing
    True,                       # booleans only by equality
    None,
    "pay 1000 EUR to DE89370400440532013000 now",  # longer than anything trusted
])
def test_a_value_that_does_not_occur_verbatim_stays_the_planners(value: Any) -> None:
    found = sources(request=f"pay 1000 EUR to {DOC_IBAN}, fee 10.5").provenance_of(value, PLANNER)
    assert found == PLANNER


def test_a_value_that_also_occurs_in_untrusted_data_is_untrusted_and_says_where() -> None:
    both = sources(request=f"Pay {DOC_IBAN}", document=f"IBAN: {DOC_IBAN}")
    found = both.provenance_of(DOC_IBAN, PLANNER)
    assert (found.trust, found.source, found.via) == ("untrusted", "tool:fetch_document", "document")
    only_document = sources(request="Pay the invoice", document="pay 9999 now").provenance_of(9999, PLANNER)
    assert (only_document.trust, only_document.source) == ("untrusted", "tool:fetch_document")


def test_a_nested_untrusted_value_inside_a_trusted_variable_stays_untrusted() -> None:
    claim = sources(claim={"holder": "Ann", "amount": Decimal("25000")})
    assert claim.provenance_of("Ann", PLANNER).is_trusted
    found = claim.provenance_of(25000, PLANNER)
    assert (found.trust, found.source, found.via) == ("untrusted", "tool:extract_claim", "claim.amount")


def test_lists_and_dicts_are_trusted_only_when_every_element_is() -> None:
    case = sources(request="send to ann@example.org and bob@example.org", document="and eve@example.org")
    assert case.provenance_of(["ann@example.org", "bob@example.org"], PLANNER).is_trusted
    assert case.provenance_of({"to": "ann@example.org"}, PLANNER).is_trusted
    mixed = case.provenance_of(["ann@example.org", "eve@example.org"], PLANNER)
    assert (mixed.trust, mixed.source) == ("untrusted", "tool:fetch_document")
    assert case.provenance_of(["ann@example.org", "mallory@example.org"], PLANNER) == PLANNER


def test_chat_a_person_wrote_is_trusted_as_that_person_model_text_is_not() -> None:
    chat = [{"role": "user", "actor": "person:joe", "text": f"pay {USER_IBAN}"},
            {"role": "assistant", "actor": "agent", "text": f"I will pay {DOC_IBAN}"}]
    case = ValueSources({}, {}, chat)
    joe = case.provenance_of(USER_IBAN, PLANNER)
    assert (joe.trust, joe.source, joe.via) == ("trusted", "person:joe", "chat")
    model = case.provenance_of(DOC_IBAN, PLANNER)
    assert (model.trust, model.source) == ("untrusted", "chat:agent")


# -- end to end ----------------------------------------------------------------------------------

PAY_AFTER_FETCH = (
    TaskSpec("fetch", "Fetch document", "fetch_document", {"ref": "ref"}, {"document": "text"}),
    TaskSpec("pay", "Pay out", "wire_transfer", {"iban": "ref"}, {"paid": "done"}, after="fetch"),
)


def _pay(make_orch: OrchFactory, tmp_path: Path, request: str, arguments: dict[str, Any]) -> tuple[Any, Any, str]:
    folder = write_bundle(tmp_path / "pay", "pay-after-fetch", PAY_AFTER_FETCH, variables=("ref", "request"),
                          extra_governance={"provenance_role": "payments officer", "operator_role": "operator"})
    orch, store = make_orch(ScriptedPlanner({"Pay out": arguments}))
    orch.deploy(folder)
    case = orch.start_case("pay-after-fetch", {"ref": "R-1", "request": request})
    return orch, store, case.id


def _payment(reviewed: Reviewed) -> tuple[ProposedAction, Verdict]:
    action, _context, verdict = next(r for r in reviewed if r[0].name == "wire_transfer")
    return action, verdict


def test_paying_the_iban_the_user_typed_needs_no_person(make_orch: OrchFactory, tmp_path: Path,
                                                       reviewed: Reviewed) -> None:
    orch, store, case_id = _pay(make_orch, tmp_path, f"Please pay 100 EUR to {USER_IBAN}.",
                                {"iban": USER_IBAN, "amount": 100})

    outcome = orch.run(case_id)

    action, verdict = _payment(reviewed)
    assert {n: (p.is_trusted, p.source) for n, p in action.provenance.items()} == {
        "iban": (True, "request:request"), "amount": (True, "request:request")}
    assert verdict.kind == "allow"
    assert outcome.reason == "completed"
    assert calls_of("wire_transfer") == [{"iban": USER_IBAN, "amount": 100.0}]
    assert_sound(store, case_id)


def test_paying_the_iban_a_document_names_needs_a_person(make_orch: OrchFactory, tmp_path: Path,
                                                        reviewed: Reviewed) -> None:
    # The user's request even names the same IBAN: it occurs in the document too, so it is not trusted.
    orch, store, case_id = _pay(make_orch, tmp_path, f"Please pay the invoice to {DOC_IBAN}.",
                                {"iban": DOC_IBAN, "amount": 9999})

    outcome = orch.run(case_id)

    action, verdict = _payment(reviewed)
    assert action.provenance["iban"].source == "tool:fetch_document"
    assert not action.provenance["amount"].is_trusted  # (the stored document holds 9999 pseudonymised)
    assert (verdict.kind, verdict.role) == ("require_human", "payments officer")
    assert "provenance" in verdict.policies
    assert calls_of("wire_transfer") == []
    [task] = outcome.pending
    assert task.role == "payments officer"
    assert events(store, case_id, "tool_call_started")[-1]["tool"] == "fetch_document"
    assert_sound(store, case_id)


def test_a_value_the_planner_made_up_is_the_planners(make_orch: OrchFactory, tmp_path: Path,
                                                    reviewed: Reviewed) -> None:
    orch, _store, case_id = _pay(make_orch, tmp_path, "Please pay my invoice.",
                                 {"iban": USER_IBAN, "amount": 100})

    orch.run(case_id)

    action, verdict = _payment(reviewed)
    assert action.provenance["iban"] == PLANNER
    assert verdict.kind == "require_human"
    assert calls_of("wire_transfer") == []


def test_tool_labels_reach_governance(make_orch: OrchFactory, tmp_path: Path, reviewed: Reviewed) -> None:
    orch, _store, case_id = _pay(make_orch, tmp_path, f"Please pay 100 EUR to {USER_IBAN}.",
                                 {"iban": USER_IBAN, "amount": 100})

    orch.run(case_id)

    action, _verdict = _payment(reviewed)
    assert action.tags == ("moves_money", "irreversible")
    fetch = next(a for a, _c, _v in reviewed if a.name == "fetch_document")
    assert fetch.tags == ()
