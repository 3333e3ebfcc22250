"""DMN guardrails through the Governor, with the shipped seed policy of examples/claims.

"If the AI confidence score is below 75%, or if the extracted sentiment score is negative,
then route the task to a senior analyst for human-in-the-loop review."
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from casepilot.errors import DefinitionError
from casepilot.governance.actions import GovernanceContext, ProposedAction
from casepilot.governance.governor import Governor
from casepilot.governance.guardrails import GuardrailPolicy

SEED = Path(__file__).resolve().parents[2] / "examples" / "claims" / "guardrails.dmn"
NOW = datetime(2026, 11, 25, tzinfo=UTC)


@pytest.fixture(scope="module")
def policy() -> GuardrailPolicy:
    return GuardrailPolicy.from_file(SEED, "Review routing", version="v7")


def review(policy: GuardrailPolicy, *, confidence: float | None, sentiment: float | None,
           variables: dict[str, object] | None = None) -> tuple[str, str | None, tuple[str, ...], str]:
    gov = Governor(guardrails=(policy,))
    action = ProposedAction(kind="tool_call", name="pay_claim", case_id="c1", arguments={"amount": 800},
                            side_effect="non_idempotent")
    ctx = GovernanceContext("claim-triage", 3, confidence=confidence, sentiment=sentiment,
                            case_variables=variables or {}, now=NOW)
    v = gov.review(action, ctx)
    return v.kind, v.role, v.rule_ids, v.reason


@pytest.mark.parametrize(
    ("confidence", "sentiment", "kind", "rule"),
    [
        (0.74, 0.5, "require_human", "low_confidence"),
        (0.5, -0.2, "require_human", "low_confidence"),
        (0.9, -0.01, "require_human", "negative_sentiment"),
        (0.75, 0.0, "allow", "otherwise_allow"),
        (0.99, 0.8, "allow", "otherwise_allow"),
    ],
)
def test_seed_policy_verbatim(policy: GuardrailPolicy, confidence: float, sentiment: float, kind: str,
                              rule: str) -> None:
    got_kind, role, rule_ids, _reason = review(policy, confidence=confidence, sentiment=sentiment)
    assert got_kind == kind
    assert rule_ids == (rule,)
    assert role == ("senior analyst" if kind == "require_human" else None)


def test_verdict_names_policy_version_and_rules(policy: GuardrailPolicy) -> None:
    gov = Governor(guardrails=(policy,))
    action = ProposedAction(kind="tool_call", name="pay_claim", case_id="c1", side_effect="non_idempotent")
    v = gov.review(action, GovernanceContext("claim-triage", 3, confidence=0.6, sentiment=0.1, now=NOW))
    assert v.policies == ("guardrails@v7",)
    assert v.question == "AI confidence score is below 75%"
    assert v.to_json()["findings"][0]["rule_ids"] == ["low_confidence"]


def test_prior_human_approval_is_respected(policy: GuardrailPolicy) -> None:
    kind, _, rules, reason = review(policy, confidence=0.5, sentiment=-0.9,
                                    variables={"review": {"decision": "approve"}})
    assert (kind, rules) == ("allow", ("already_approved",))
    assert "approved" in reason


@pytest.mark.parametrize(("scored", "kind", "rule"), [
    (False, "require_human", "unmeasured_sentiment"),
    (True, "allow", "otherwise_allow"),
    (None, "allow", "otherwise_allow"),  # a case from before the sentiment tool said whether it scored
])
def test_a_letter_whose_sentiment_was_not_measured_goes_to_the_analyst(
        policy: GuardrailPolicy, scored: bool | None, kind: str, rule: str) -> None:
    variables: dict[str, object] = {} if scored is None else {"sentiment_scored": scored}
    got_kind, role, rule_ids, reason = review(policy, confidence=0.95, sentiment=0.0, variables=variables)
    assert (got_kind, rule_ids) == (kind, (rule,))
    if kind == "require_human":
        assert role == "senior analyst"
        assert "could not be measured" in reason


def test_missing_signals_fall_back_to_the_operator_not_to_allow(policy: GuardrailPolicy) -> None:
    """No confidence and no sentiment yet: the rules that would route the payment cannot be ruled out."""
    gov = Governor(guardrails=(policy,), operator_role="claims operations")
    action = ProposedAction(kind="tool_call", name="pay_claim", case_id="c1", side_effect="non_idempotent")
    v = gov.review(action, GovernanceContext("claim-triage", 3, now=NOW))
    assert (v.kind, v.role) == ("require_human", "claims operations")
    finding = v.to_json()["findings"][0]
    assert finding["missing_inputs"] == ["Claimed amount", "AI confidence score", "Sentiment score"]
    assert "missing its input" in v.reason
    # Without an operator role to send it to, the same checkpoint blocks instead of being anyone's.
    kind, role, _, _ = review(policy, confidence=None, sentiment=None)
    assert (kind, role) == ("block", None)


def test_a_reading_tool_needs_no_signals(policy: GuardrailPolicy) -> None:
    gov = Governor(guardrails=(policy,), operator_role="claims operations")
    action = ProposedAction(kind="tool_call", name="extract_claim", case_id="c1", side_effect="read_only")
    v = gov.review(action, GovernanceContext("claim-triage", 3, now=NOW))
    assert (v.kind, v.rule_ids) == ("allow", ("reading_only",))


def test_unknown_decision_is_a_definition_error() -> None:
    with pytest.raises(DefinitionError, match="Review routing"):
        GuardrailPolicy.from_file(SEED, "No such decision")


def test_guardrail_scoped_to_action_kinds(policy: GuardrailPolicy) -> None:
    scoped = policy.with_scope(applies_to=frozenset({"llm_call"}))
    gov = Governor(guardrails=(scoped,))
    action = ProposedAction(kind="tool_call", name="pay_claim", case_id="c1")
    v = gov.review(action, GovernanceContext("claim-triage", 3, confidence=0.1, now=NOW))
    assert v.kind == "allow"
    assert v.policies == ()


def test_a_verdict_typo_is_a_deploy_error_naming_file_table_and_rule(tmp_path: Path) -> None:
    broken = tmp_path / "broken.dmn"
    broken.write_text(
        SEED.read_text().replace('<outputEntry><text>"require_human"</text>', '<outputEntry><text>"deny"</text>', 1),
        encoding="utf-8",
    )
    with pytest.raises(DefinitionError) as caught:
        GuardrailPolicy.from_file(broken, "Review routing")
    problem = caught.value.problems[0]
    assert problem.file == str(broken) and problem.element == "large_amount" and problem.line is not None
    assert "dt_review_routing" in problem.message and '"deny"' in problem.message
