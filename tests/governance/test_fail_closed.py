"""Governance fails closed: what it cannot interpret is a block or a checkpoint for a named role.

Each test here was written against a fail-open path found on main (issue 14): an unknown
verdict became a roleless checkpoint anyone could approve; a guardrail that reads
``amount`` allowed a tool that has none; a broken input entry silently meant "no match"
and the catch-all ``allow`` won; a plan item could be planned any number of times.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from casepilot.errors import DefinitionError
from casepilot.governance.actions import GovernanceContext, ProposedAction
from casepilot.governance.governor import Governor
from casepilot.governance.guardrails import GuardrailPolicy
from casepilot.governance.verdict import Finding

NOW = datetime(2026, 12, 5, tzinfo=UTC)


def table_dmn(inputs: list[tuple[str, str]], rules: list[tuple[str, list[str], str, str]],
              output_values: str = '"allow","require_human","block"', hit: str = "FIRST") -> str:
    """A guardrail table: inputs (label, expression); rules (id, entries, verdict cell, role cell)."""
    ins = "".join(
        f'<input id="in{i}" label="{label}"><inputExpression typeRef="Any"><text>{expr}</text></inputExpression></input>'
        for i, (label, expr) in enumerate(inputs))
    body = "".join(
        f'<rule id="{rid}">' + "".join(f"<inputEntry><text>{e}</text></inputEntry>" for e in entries)
        + f"<outputEntry><text>{verdict}</text></outputEntry><outputEntry><text>{role}</text></outputEntry></rule>"
        for rid, entries, verdict, role in rules)
    ov = f"<outputValues><text>{output_values}</text></outputValues>" if output_values else ""
    names = dict.fromkeys(expr.split(".")[0].split()[0] for _, expr in inputs)
    reqs = "".join(f'<informationRequirement><requiredInput href="#{n}"/></informationRequirement>' for n in names)
    data = "".join(f'<inputData id="{n}" name="{n}"/>' for n in names)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="g" name="g" namespace="urn:t">
  {data}
  <decision id="guard" name="Guard">{reqs}
    <decisionTable id="dt_guard" hitPolicy="{hit}">{ins}
      <output id="o1" name="verdict" typeRef="string">{ov}</output>
      <output id="o2" name="role" typeRef="string"/>
      {body}
    </decisionTable>
  </decision>
</definitions>"""


def write(tmp_path: Path, text: str, name: str = "guard.dmn") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


AMOUNT_RULES = [
    ("big", ["&gt; 10000"], '"require_human"', '"senior analyst"'),
    ("rest", ["-"], '"allow"', "null"),
]


def pay(**arguments: object) -> ProposedAction:
    return ProposedAction(kind="tool_call", name="pay", case_id="c1", arguments=arguments,
                          side_effect="non_idempotent")


def ctx(**kw: object) -> GovernanceContext:
    return GovernanceContext("d", 1, now=NOW, **kw)  # type: ignore[arg-type]


# -- deploy: the verdict vocabulary and the roles -------------------------------------------------


def test_an_output_value_that_is_not_a_verdict_is_a_deploy_error(tmp_path: Path) -> None:
    path = write(tmp_path, table_dmn([("Amount", "amount")], AMOUNT_RULES,
                                     output_values='"allow","require_human","deny"'))
    with pytest.raises(DefinitionError, match=r'output value "deny"') as caught:
        GuardrailPolicy.from_file(path, "Guard")
    assert caught.value.problems[0].file == str(path)


def test_a_null_verdict_in_a_rule_is_a_deploy_error(tmp_path: Path) -> None:
    rules = [("big", ["&gt; 10000"], "null", "null"), ("rest", ["-"], '"allow"', "null")]
    with pytest.raises(DefinitionError, match=r"rule 'big': verdict null"):
        GuardrailPolicy.from_file(write(tmp_path, table_dmn([("Amount", "amount")], rules)), "Guard")


def test_a_role_that_does_not_exist_in_the_bundle_is_a_deploy_error(tmp_path: Path) -> None:
    path = write(tmp_path, table_dmn([("Amount", "amount")], AMOUNT_RULES))
    with pytest.raises(DefinitionError, match=r"role 'senior analyst', which does not exist"):
        GuardrailPolicy.from_file(path, "Guard", known_roles=frozenset({"senior analist"}))
    assert GuardrailPolicy.from_file(path, "Guard", known_roles=frozenset({"senior analyst"})).analysis is not None


def test_a_roleless_checkpoint_needs_an_operator_role_at_deploy(tmp_path: Path) -> None:
    rules = [("big", ["&gt; 10000"], '"require_human"', "null"), ("rest", ["-"], '"allow"', "null")]
    path = write(tmp_path, table_dmn([("Amount", "amount")], rules))
    with pytest.raises(DefinitionError, match="operator_role"):
        GuardrailPolicy.from_file(path, "Guard", known_roles=frozenset())
    GuardrailPolicy.from_file(path, "Guard", known_roles=frozenset(), operator_role="ops")


def test_a_literal_expression_guardrail_with_an_unknown_verdict_is_a_deploy_error(tmp_path: Path) -> None:
    path = write(tmp_path, """<?xml version="1.0"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="g" name="g" namespace="urn:t">
  <decision id="guard" name="Guard"><literalExpression><text>"deny"</text></literalExpression></decision>
</definitions>""")
    with pytest.raises(DefinitionError, match="'deny', which is not a verdict"):
        GuardrailPolicy.from_file(path, "Guard")


# -- run time: what cannot be interpreted blocks ---------------------------------------------------


def test_a_computed_verdict_outside_the_vocabulary_blocks(tmp_path: Path) -> None:
    rules = [("computed", ["-"], 'if amount &gt; 5 then "deny" else "allow"', "null")]
    policy = GuardrailPolicy.from_file(write(tmp_path, table_dmn([("Amount", "amount")], rules)), "Guard")
    verdict = Governor(guardrails=(policy,), operator_role="ops").review(pay(amount=90000), ctx())
    assert verdict.kind == "block"
    assert "deny" in verdict.reason


def test_an_error_in_an_input_entry_blocks_instead_of_falling_through_to_allow(tmp_path: Path) -> None:
    """``"high" > 10000`` is null in FEEL, i.e. no match: for a guardrail that is an error, not an allow."""
    policy = GuardrailPolicy.from_file(
        write(tmp_path, table_dmn([("Amount", "arguments.amount")], AMOUNT_RULES)), "Guard")
    governor = Governor(guardrails=(policy,), operator_role="ops")
    verdict = governor.review(pay(amount="high"), ctx())
    assert verdict.kind == "block"
    assert "could not be evaluated" in verdict.reason and "big" in verdict.reason
    # The same table with a number decides as written.
    assert governor.review(pay(amount=20000), ctx()).kind == "require_human"
    assert governor.review(pay(amount=200), ctx()).kind == "allow"


def test_an_error_in_an_input_expression_blocks(tmp_path: Path) -> None:
    rules = [("big", ["&gt; 10000"], '"require_human"', "null"), ("rest", ["-"], '"allow"', "null")]
    policy = GuardrailPolicy.from_file(
        write(tmp_path, table_dmn([("Amount", 'amount * "x"')], rules)), "Guard", operator_role="ops")
    verdict = Governor(guardrails=(policy,), operator_role="ops").review(pay(amount=5), ctx())
    assert verdict.kind == "block"


def test_an_error_in_a_literal_expression_guardrail_blocks(tmp_path: Path) -> None:
    path = write(tmp_path, """<?xml version="1.0"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="g" name="g" namespace="urn:t">
  <decision id="guard" name="Guard">
    <informationRequirement><requiredInput href="#tool"/></informationRequirement>
    <literalExpression><text>if substring(tool, "x") = "p" then "allow" else "allow"</text></literalExpression>
  </decision>
  <inputData id="tool" name="tool"/>
</definitions>""")
    policy = GuardrailPolicy.from_file(path, "Guard")
    verdict = Governor(guardrails=(policy,), operator_role="ops").review(pay(), ctx())
    assert verdict.kind == "block"
    assert "could not be evaluated" in verdict.reason


def test_a_missing_decisive_input_yields_the_fallback_and_says_so(tmp_path: Path) -> None:
    policy = GuardrailPolicy.from_file(write(tmp_path, table_dmn([("Amount", "amount")], AMOUNT_RULES)), "Guard")
    governor = Governor(guardrails=(policy,), operator_role="claims operations")
    no_amount = ProposedAction(kind="tool_call", name="send_letter", case_id="c1", side_effect="non_idempotent",
                               arguments={"text": "hello"})
    verdict = governor.review(no_amount, ctx())
    assert (verdict.kind, verdict.role) == ("require_human", "claims operations")
    assert verdict.findings[0].missing_inputs == ("Amount",)
    assert verdict.rule_ids == ("big",)
    # The bundle may declare ``block`` as its fallback instead.
    strict = GuardrailPolicy.from_file(tmp_path / "guard.dmn", "Guard", missing_input="block")
    assert Governor(guardrails=(strict,)).review(no_amount, ctx()).kind == "block"


def test_a_missing_input_that_decides_nothing_is_no_reason_to_stop(tmp_path: Path) -> None:
    rules = [("reads", ['"read_only"', "-"], '"allow"', "null"),
             ("big", ["-", "&gt; 10000"], '"require_human"', '"senior analyst"'),
             ("rest", ["-", "-"], '"allow"', "null")]
    policy = GuardrailPolicy.from_file(
        write(tmp_path, table_dmn([("Side effect", "side_effect"), ("Amount", "amount")], rules)), "Guard")
    reading = ProposedAction(kind="tool_call", name="lookup", case_id="c1", side_effect="read_only")
    verdict = Governor(guardrails=(policy,), operator_role="ops").review(reading, ctx())
    assert (verdict.kind, verdict.rule_ids) == ("allow", ("reads",))


def test_numeric_text_is_an_amount_and_other_text_is_missing(tmp_path: Path) -> None:
    policy = GuardrailPolicy.from_file(write(tmp_path, table_dmn([("Amount", "amount")], AMOUNT_RULES)), "Guard")
    governor = Governor(guardrails=(policy,), operator_role="ops")
    assert governor.review(pay(amount="25000.00"), ctx()).role == "senior analyst"
    assert governor.review(pay(amount="1250.50"), ctx()).kind == "allow"
    unreadable = governor.review(pay(amount="a lot"), ctx())
    assert (unreadable.kind, unreadable.role, unreadable.findings[0].missing_inputs) == (
        "require_human", "ops", ("Amount",))


def test_a_missing_member_of_the_case_is_a_missing_input_not_an_error(tmp_path: Path) -> None:
    rules = [("approved", ['"approve"'], '"allow"', "null"), ("rest", ["-"], '"allow"', "null")]
    policy = GuardrailPolicy.from_file(
        write(tmp_path, table_dmn([("Review", "case.review.decision")], rules)), "Guard")
    assert Governor(guardrails=(policy,)).review(pay(), ctx(case_variables={})).kind == "allow"


# -- roles: every checkpoint goes to a role that exists ------------------------------------------------


def test_a_checkpoint_without_a_role_goes_to_the_operator_or_blocks() -> None:
    roleless = Finding("custom", "require_human", "look at this")
    assert Governor(operator_role="ops")._routed(roleless).role == "ops"
    assert Governor()._routed(roleless).kind == "block"


def test_a_checkpoint_for_a_role_the_bundle_lacks_goes_to_the_operator() -> None:
    finding = Finding("custom", "require_human", "look", role="intern")
    routed = Governor(operator_role="ops", known_roles=frozenset({"ops", "analyst"}))._routed(finding)
    assert routed.role == "ops" and "does not exist" in routed.reason
    kept = Governor(operator_role="ops", known_roles=frozenset({"intern"}))._routed(finding)
    assert kept.role == "intern"


def test_a_budget_checkpoint_without_a_role_is_not_anyones() -> None:
    from decimal import Decimal

    from casepilot.governance.budget import BudgetLimits, BudgetUsage

    governor = Governor(budget=BudgetLimits(max_cost=Decimal("1"), on_exceed="require_human"))
    verdict = governor.review(pay(), ctx(usage=BudgetUsage(cost=Decimal("2"))))
    assert verdict.kind == "block"
    routed = Governor(budget=BudgetLimits(max_cost=Decimal("1"), on_exceed="require_human"), operator_role="ops")
    assert routed.review(pay(), ctx(usage=BudgetUsage(cost=Decimal("2")))).role == "ops"


# -- loop guard ------------------------------------------------------------------------------------------


def test_the_loop_guard_asks_a_person_beyond_the_limit() -> None:
    governor = Governor(operator_role="ops", max_repeats=3)
    item = ProposedAction(kind="transition", name="plan", case_id="c1", plan_item="Ask for documents")
    assert governor.review(item, ctx(times_planned=2)).kind == "allow"
    verdict = governor.review(item, ctx(times_planned=3))
    assert (verdict.kind, verdict.role) == ("require_human", "ops")
    assert "already planned or run 3 times" in verdict.reason
    call = pay(amount=5)
    assert governor.review(call, ctx(times_called=3)).kind == "require_human"
    assert Governor(max_repeats=None).review(call, ctx(times_called=30)).kind == "allow"


def test_guardrails_read_the_repeat_counts_and_tool_tags(tmp_path: Path) -> None:
    rules = [("egress", ['list contains(?, "sends_externally")', "-"], '"require_human"', '"ops"'),
             ("again", ["-", "&gt;= 1"], '"block"', "null"),
             ("rest", ["-", "-"], '"allow"', "null")]
    policy = GuardrailPolicy.from_file(
        write(tmp_path, table_dmn([("Tags", "tool_tags"), ("Calls", "times_called")], rules)), "Guard")
    governor = Governor(guardrails=(policy,), operator_role="ops", max_repeats=None)
    tagged = ProposedAction(kind="tool_call", name="mail", case_id="c1", tags=("sends_externally",))
    assert governor.review(tagged, ctx()).kind == "require_human"
    plain = ProposedAction(kind="tool_call", name="lookup", case_id="c1")
    assert governor.review(plain, ctx()).kind == "allow"
    assert governor.review(plain, ctx(times_called=1)).kind == "block"


# -- provenance a person and a guardrail can see ---------------------------------------------------------


def test_a_checkpoint_shows_each_argument_and_where_it_came_from() -> None:
    from casepilot.tools import Provenance

    action = ProposedAction(
        kind="tool_call", name="send_money", case_id="c1", side_effect="non_idempotent",
        arguments={"recipient": "NL91ABNA0417164300", "amount": 98.7},
        provenance={"recipient": Provenance.untrusted("tool:read_file"), "amount": Provenance.trusted("request")},
        targets=("recipient",))
    verdict = Governor(provenance_role="account owner").review(action, ctx())
    assert verdict.kind == "require_human"
    assert verdict.question is not None
    assert '"NL91ABNA0417164300" [UNTRUSTED, from tool:read_file]' in verdict.question
    assert "amount = 98.7 [trusted, from request]" in verdict.question


def test_guardrails_read_untrusted_targets_and_argument_sources(tmp_path: Path) -> None:
    from casepilot.tools import Provenance

    rules = [("target", ["count(?) &gt; 0"], '"require_human"', '"ops"'), ("rest", ["-"], '"allow"', "null")]
    policy = GuardrailPolicy.from_file(
        write(tmp_path, table_dmn([("Untrusted targets", "untrusted_targets")], rules)), "Guard")
    governor = Governor(guardrails=(policy,), provenance_role=None, operator_role="ops")

    def mail(to: Provenance, body: Provenance) -> ProposedAction:
        return ProposedAction(kind="tool_call", name="send_email", case_id="c1", side_effect="non_idempotent",
                              arguments={"to": "x@example.org", "body": "hi"}, provenance={"to": to, "body": body},
                              targets=("to",))

    # A reply to someone the user named may quote a document …
    assert governor.review(mail(Provenance.trusted("request"), Provenance.untrusted("tool:read")), ctx()).kind == "allow"
    # … a message to an address a document named waits for a person.
    assert governor.review(
        mail(Provenance.untrusted("tool:read"), Provenance.trusted("request")), ctx()).kind == "require_human"
    from casepilot.governance.guardrails import guardrail_inputs

    inputs = guardrail_inputs(mail(Provenance.untrusted("tool:read"), Provenance.trusted("request")), ctx(),
                              redacted_arguments={}, pii_counts={})
    assert inputs["argument_sources"] == {"to": "tool:read", "body": "request"}
    assert inputs["untrusted_targets"] == ["to"]


def test_guardrails_read_what_the_request_named_and_which_variables_are_trusted(tmp_path: Path) -> None:
    """A recipient the user named stays named when a tool result mentions it too (it is untrusted
    then); a plan the case started with counts only while it is a trusted variable."""
    from dataclasses import replace

    from casepilot.governance.guardrails import guardrail_inputs
    from casepilot.tools import Provenance

    rules = [("unnamed", ["count(?) &gt; 0", "count(?) = 0"], '"require_human"', '"ops"'),
             ("rest", ["-", "-"], '"allow"', "null")]
    policy = GuardrailPolicy.from_file(write(tmp_path, table_dmn(
        [("Untrusted targets", "untrusted_targets"), ("Named", "named_in_request")], rules)), "Guard")
    governor = Governor(guardrails=(policy,), provenance_role=None, operator_role="ops")
    mail = ProposedAction(kind="tool_call", name="send_email", case_id="c1", side_effect="non_idempotent",
                          arguments={"to": "dana@example.org"}, provenance={"to": Provenance.untrusted("tool:read")},
                          targets=("to",))
    assert governor.review(mail, ctx()).kind == "require_human"
    assert governor.review(replace(mail, named_in_request=("to",)), ctx()).kind == "allow"
    inputs = guardrail_inputs(replace(mail, named_in_request=("to",)),
                              replace(ctx(), trusted_variables=frozenset({"request", "plan"})),
                              redacted_arguments={}, pii_counts={})
    assert inputs["named_in_request"] == ["to"]
    assert inputs["trusted_variables"] == ["plan", "request"]
    assert guardrail_inputs(mail, ctx(), redacted_arguments={}, pii_counts={})["named_in_request"] == []


@pytest.mark.parametrize("entry", ['string length(?) &gt; "x"', 'matches(?, "[")'])
def test_an_entry_using_the_input_that_cannot_be_decided_blocks(tmp_path: Path, entry: str) -> None:
    rules = [("odd", [entry], '"require_human"', '"ops"'), ("rest", ["-"], '"allow"', "null")]
    policy = GuardrailPolicy.from_file(write(tmp_path, table_dmn([("Tool", "tool")], rules)), "Guard")
    verdict = Governor(guardrails=(policy,), operator_role="ops").review(pay(), ctx())
    assert verdict.kind == "block"
    assert "rule 'odd'" in verdict.reason


def test_a_guardrail_table_reading_another_decision_decides_as_written(tmp_path: Path) -> None:
    path = write(tmp_path, """<?xml version="1.0"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="g" name="g" namespace="urn:t">
  <inputData id="amount" name="amount"/>
  <decision id="big" name="Big">
    <informationRequirement><requiredInput href="#amount"/></informationRequirement>
    <literalExpression><text>amount &gt; 10000</text></literalExpression>
  </decision>
  <decision id="guard" name="Guard">
    <informationRequirement><requiredDecision href="#big"/></informationRequirement>
    <decisionTable id="dt_guard" hitPolicy="FIRST">
      <input id="i1" label="Big"><inputExpression typeRef="boolean"><text>Big</text></inputExpression></input>
      <output id="o1" name="verdict" typeRef="string"/><output id="o2" name="role" typeRef="string"/>
      <rule id="big_one"><inputEntry><text>true</text></inputEntry>
        <outputEntry><text>"require_human"</text></outputEntry><outputEntry><text>"ops"</text></outputEntry></rule>
      <rule id="rest"><inputEntry><text>-</text></inputEntry>
        <outputEntry><text>"allow"</text></outputEntry><outputEntry><text>null</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>""")
    policy = GuardrailPolicy.from_file(path, "Guard")
    governor = Governor(guardrails=(policy,), operator_role="ops")
    assert governor.review(pay(amount=20000), ctx()).kind == "require_human"
    assert governor.review(pay(amount=200), ctx()).kind == "allow"
