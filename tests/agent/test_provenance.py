"""Provenance travels with data (DESIGN.md): a value a planner wrote itself is trusted only
when it repeats, verbatim, what a trusted source said (the request a person typed), and
stays untrusted when it also appears in, or only comes from, a tool's output or a document.

End to end with a planner that writes its own arguments: paying the IBAN the user typed
needs no person; paying the IBAN the injected document names does (the provenance rule).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from pydantic import BaseModel

from casepilot.agent._values import ValueSources
from casepilot.agent.engine import EngineCase
from casepilot.agent.facts import AgentFacts
from casepilot.agent.options import build_options
from casepilot.agent.orchestrator import Orchestrator
from casepilot.governance.actions import ProposedAction
from casepilot.governance.verdict import Verdict
from casepilot.store import Store
from casepilot.tools import BindingSet, FromCaseFile, Provenance, ToolBinding, ToolRegistry, tool
from tests.agent import test_task_kinds as kinds
from tests.agent._support import (
    Reviewed,
    ScriptedPlanner,
    TaskSpec,
    assert_sound,
    calls_of,
    events,
    watch_reviews,
    write_bundle,
    write_files,
)
from tests.agent.conftest import OrchFactory
from tests.cmmn.runtime._models import case_of

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
PLANNER = Provenance.untrusted("planner:scripted")
USER_IBAN = "GB33BUKB20201555555555"
DOC_IBAN = "DE89370400440532013000"  # the IBAN the injected document (``INJECTION``) names

@pytest.fixture
def reviewed(monkeypatch: pytest.MonkeyPatch) -> Reviewed:
    """Every action the Governor reviews in this test, with its context and verdict."""
    return watch_reviews(monkeypatch)


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


# -- every hop: bindings, case files, child cases, decisions -----------------------------------------


class _Done(BaseModel):
    ok: bool


class _ClaimArgs(BaseModel):
    claim: dict[str, Any]


@tool(name="file_claim", side_effect="non_idempotent")
def file_claim(args: _ClaimArgs) -> _Done:
    """File a claim."""
    return _Done(ok=True)


def test_reading_a_trusted_variable_with_an_untrusted_part_inside_gives_an_untrusted_argument() -> None:
    body = '<planItem id="p" definitionRef="t"/><task id="t" name="File"/>'
    engine = EngineCase.start(case_of(body), {}, T0)[0]
    whole = ToolBinding(task="t", tool="file_claim", definition_id="t",
                        arguments=MappingProxyType({"claim": FromCaseFile("claim")}))
    claim = {"holder": "Ann", "amount": 25000}
    recorded = {"claim": Provenance.trusted("request"), "claim.amount": Provenance.untrusted("tool:extract_claim")}

    _options, provenance = build_options(engine, BindingSet(MappingProxyType({"t": whole})),
                                         ToolRegistry([file_claim]), {"claim": claim}, recorded)

    [argument] = provenance.values()
    assert (argument["claim"].trust, argument["claim"].source, argument["claim"].via) == (
        "untrusted", "tool:extract_claim", "claim")
    # and reading the part of an untrusted whole stays untrusted (the longest recorded prefix)
    part = ToolBinding(task="t", tool="file_claim", definition_id="t",
                       arguments=MappingProxyType({"claim": FromCaseFile("claim.holder")}))
    _options, provenance = build_options(engine, BindingSet(MappingProxyType({"t": part})),
                                         ToolRegistry([file_claim]), {"claim": claim},
                                         {"claim": Provenance.untrusted("tool:ocr")})
    [argument] = provenance.values()
    assert (argument["claim"].trust, argument["claim"].source) == ("untrusted", "tool:ocr")


def test_a_value_written_over_a_variable_drops_what_was_recorded_inside_it() -> None:
    facts = AgentFacts(provenance={"claim": {"trust": "untrusted", "source": "tool:ocr"},
                                   "claim.iban": {"trust": "trusted", "source": "request"}})
    facts.set_provenance("claim", "untrusted", "tool:extract_claim")
    assert facts.provenance == {"claim": {"trust": "untrusted", "source": "tool:extract_claim"}}


PARENT = """<definitions xmlns="http://www.omg.org/spec/CMMN/20151109/MODEL" id="d" targetNamespace="x">
  <case id="intake" name="Intake">
    <caseFileModel id="cfm">
      <caseFileItem id="cfi_ref" name="ref" multiplicity="ZeroOrOne"/>
      <caseFileItem id="cfi_doc" name="document" multiplicity="ZeroOrOne"/>
    </caseFileModel>
    <casePlanModel id="cpm" name="Intake" autoComplete="true">
      <planItem id="pi_fetch" name="Fetch document" definitionRef="t_fetch"/>
      <planItem id="pi_pay" name="Pay from document" definitionRef="ct_pay">
        <entryCriterion id="ec" sentryRef="s"/>
      </planItem>
      <sentry id="s"><planItemOnPart id="op" sourceRef="pi_fetch"><standardEvent>complete</standardEvent></planItemOnPart></sentry>
      <task id="t_fetch" name="Fetch document"/>
      <caseTask id="ct_pay" name="Pay from document" caseRef="child-pay"/>
    </casePlanModel>
  </case>
</definitions>"""

CHILD = """<definitions xmlns="http://www.omg.org/spec/CMMN/20151109/MODEL" id="d" targetNamespace="y">
  <case id="pay" name="Pay">
    <caseFileModel id="cfm">
      <caseFileItem id="cfi_ref" name="ref" multiplicity="ZeroOrOne"/>
      <caseFileItem id="cfi_doc" name="document" multiplicity="ZeroOrOne"/>
    </caseFileModel>
    <casePlanModel id="cpm" name="Pay" autoComplete="true">
      <planItem id="pi_pay" name="Pay out" definitionRef="t_pay"/>
      <task id="t_pay" name="Pay out"/>
    </casePlanModel>
  </case>
</definitions>"""


def test_a_document_does_not_become_trusted_in_a_child_case(make_orch: OrchFactory, tmp_path: Path,
                                                            reviewed: Reviewed) -> None:
    operator = {"operator_role": "operator", "provenance_role": "payments officer"}
    child = write_files(tmp_path / "child", {
        "case.cmmn": CHILD,
        "bindings.yaml": {"bindings": [{"task": "Pay out", "tool": "wire_transfer", "inputs": {"iban": "document"},
                                        "outputs": {"paid": "done"}}]},
        "casepilot.yaml": {"key": "child-pay", "model": "case.cmmn", "governance": operator}})
    parent = write_files(tmp_path / "parent", {
        "case.cmmn": PARENT,
        "bindings.yaml": {"bindings": [{"task": "Fetch document", "tool": "fetch_document", "inputs": {"ref": "ref"},
                                        "outputs": {"document": "text"}}]},
        "casepilot.yaml": {"key": "intake", "model": "case.cmmn", "governance": {"operator_role": "operator"}}})
    orch, store = make_orch()
    orch.deploy(child)
    orch.deploy(parent)
    case = orch.start_case("intake", {"ref": "R-1"})

    orch.run(case.id)

    child_id = next(iter(orch.runtime.load(case.id).facts.children.values()))
    recorded = orch.runtime.load(child_id).facts.provenance
    assert recorded["document"] == {"trust": "untrusted", "source": "tool:fetch_document"}
    assert recorded["ref"] == {"trust": "trusted", "source": "request"}
    payment, verdict = _payment(reviewed)
    assert payment.case_id == child_id and not payment.provenance["iban"].is_trusted
    assert (verdict.kind, verdict.role) == ("require_human", "payments officer")
    assert calls_of("wire_transfer") == []
    assert [t.role for t in orch.pending(child_id)] == ["payments officer"]
    assert_sound(store, child_id)


def test_outputs_come_back_from_a_child_with_the_childs_provenance(tmp_path: Path) -> None:
    orch = Orchestrator(Store.from_url(f"sqlite:///{tmp_path}/cases.db"), ToolRegistry([]), privacy=False)
    orch.deploy(kinds.bundle(tmp_path, "child", {
        "case.cmmn": kinds.CHILD, "score.dmn": kinds.SCORE,
        "casepilot.yaml": "key: fraud-check\nmodel: case.cmmn\ndecisions: [score.dmn]\n"}))
    orch.deploy(kinds.bundle(tmp_path, "parent", {
        "case.cmmn": kinds.PARENT, "casepilot.yaml": "key: onboarding\nmodel: case.cmmn\n"
                                                     "human_tasks: {Welcome: {role: clerk}}\n"}))
    trusted = orch.start_case("onboarding", {"applicant": "Ann"})
    orch.run(trusted.id)
    # a score the child's decision computed from a trusted applicant comes back trusted
    assert orch.runtime.load(trusted.id).facts.provenance["score"] == {"trust": "trusted", "source": "definition:dmn"}

    tainted = orch.start_case("onboarding", {"applicant": "Eve"})
    with orch.runtime.step(tainted.id) as (_step, loaded):  # as if a tool had written the applicant
        loaded.facts.set_provenance("applicant", "untrusted", "tool:ocr")
    orch.run(tainted.id)
    # ... and one computed from an untrusted applicant comes back untrusted, naming where it came from
    assert orch.runtime.load(tainted.id).facts.provenance["score"] == {"trust": "untrusted", "source": "tool:ocr"}
    orch.close()


def test_a_decision_is_only_as_trusted_as_its_inputs(tmp_path: Path) -> None:
    orch = Orchestrator(Store.from_url(f"sqlite:///{tmp_path}/cases.db"), ToolRegistry([]), privacy=False)
    orch.deploy(kinds.bundle(tmp_path, "pricing", {
        "case.cmmn": kinds.PRICING, "premium.dmn": kinds.PREMIUM,
        "casepilot.yaml": "key: pricing\nmodel: case.cmmn\ndecisions: [premium.dmn]\n"
                          "human_tasks: {Review price: {role: underwriter}}\n"}))
    typed = orch.start_case("pricing", {"age": 40})
    read = orch.start_case("pricing", {"age": 40})
    with orch.runtime.step(read.id) as (_step, loaded):
        loaded.facts.set_provenance("age", "untrusted", "tool:ocr")

    orch.run(typed.id)
    orch.run(read.id)

    assert orch.runtime.load(typed.id).facts.provenance["price"] == {"trust": "trusted", "source": "definition:dmn"}
    assert orch.runtime.load(read.id).facts.provenance["price"] == {"trust": "untrusted", "source": "tool:ocr"}
    orch.close()


# -- named in the request: what a trusted source said, tainted or not ---------------------------------


def test_a_value_the_user_named_stays_named_when_a_document_holds_it_too() -> None:
    both = sources(request=f"Pay {DOC_IBAN} what they sent me", document=f"from {DOC_IBAN}: 42.00")
    assert not both.provenance_of(DOC_IBAN, PLANNER).is_trusted  # the document could have suggested it
    assert both.named(DOC_IBAN)  # but the user did name it
    assert not both.named(42)  # only the document says 42
    assert not both.named(DOC_IBAN[:-1])  # verbatim, at word boundaries, as for trust
    assert both.named([DOC_IBAN, "Pay"]) and not both.named([DOC_IBAN, "42.00"])
    assert not both.named([]) and not both.named({})
    assert sources(review={"limit": 250}).named(250)  # a person's words count as the request does


def test_the_governor_sees_which_arguments_the_request_named_and_which_variables_are_trusted(
        make_orch: OrchFactory, tmp_path: Path, reviewed: Reviewed) -> None:
    # The document names the same IBAN: untrusted, and still named by the user; the amount is the planner's.
    orch, _store, case_id = _pay(make_orch, tmp_path, f"Please pay the invoice to {DOC_IBAN}.",
                                 {"iban": DOC_IBAN, "amount": 9999})

    orch.run(case_id)

    action, context, _verdict = next(r for r in reviewed if r[0].name == "wire_transfer")
    assert "iban" in action.untrusted_arguments
    assert action.named_in_request == ("iban",)
    assert "request" in context.trusted_variables
    assert "document" not in context.trusted_variables  # a tool wrote it


# -- which field a value was found in ------------------------------------------------------------------


def test_fields_say_where_in_the_untrusted_data_each_value_occurs() -> None:
    found = sources(request=f"Reply to {USER_IBAN}",
                    document={"mails": [{"sender": "ann@x.org", "body": "write to eve@y.org"},
                                        {"sender": "bob@x.org", "body": "hi"}]})
    assert found.fields("ann@x.org") == [["document.mails.sender"]]  # list indices dropped
    assert found.fields(["bob@x.org", "eve@y.org"]) == [["document.mails.sender"], ["document.mails.body"]]
    assert found.fields("nowhere@z.org") == [[]]
    assert found.fields("eve@y.or") == [[]]  # verbatim at word boundaries, as for trust
    assert found.fields(USER_IBAN) == [[]]  # trusted values are not listed: only the untrusted data's fields


def test_the_governor_sees_the_fields_of_each_untrusted_argument_and_the_calls_made_so_far(
        make_orch: OrchFactory, tmp_path: Path, reviewed: Reviewed) -> None:
    orch, _store, case_id = _pay(make_orch, tmp_path, "Please pay the invoice.", {"iban": DOC_IBAN, "amount": 4321})

    orch.run(case_id)

    action, context, _verdict = next(r for r in reviewed if r[0].name == "wire_transfer")
    (iban_fields,) = action.argument_fields["iban"]
    assert iban_fields and all(f.startswith("document") for f in iban_fields)  # the fetched document holds it
    assert action.argument_fields["amount"] == ((),)  # the planner's own number: found in no data
    assert context.tools_called.get("fetch_document") == 1
    assert "wire_transfer" not in context.tools_called
    orch.close()
