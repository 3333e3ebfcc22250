"""Pure mapping between case-file variables and tool calls, with provenance."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from casepilot.tools import (
    FromCaseFile,
    LiteralValue,
    Provenance,
    ToolBinding,
    ToolCallError,
    ToolOutcome,
    apply_results,
    build_arguments,
    result_provenance,
)
from casepilot.tools._binding_syntax import parse_pairs, parse_source

BINDING = ToolBinding(
    task="t_pay",
    tool="pay",
    arguments={
        "payee": FromCaseFile("claim.payee.iban"),
        "amount": FromCaseFile("claim.amount"),
        "first_item": FromCaseFile("claim.items.0"),
        "currency": LiteralValue("EUR"),
        "memo": FromCaseFile("memo"),
        "note": FromCaseFile("absent.path"),
    },
    results={"payment_id": "receipt.id", "paid": "ok"},
    definition_id="t_pay",
)

VARIABLES = {
    "claim": {"amount": 1200, "payee": {"iban": "DE02120300000000202051"}, "items": ["bumper", "light"]},
    "memo": "claim 4711",
}


def test_build_arguments_reads_paths_and_literals() -> None:
    bound = build_arguments(BINDING, VARIABLES, {})
    assert dict(bound.values) == {
        "payee": "DE02120300000000202051",
        "amount": 1200,
        "first_item": "bumper",
        "currency": "EUR",
        "memo": "claim 4711",
    }
    assert bound.missing == ("note",)


def test_provenance_follows_the_most_specific_variable_record() -> None:
    provenance = {
        "claim": Provenance.trusted("request"),
        "claim.payee": Provenance.untrusted("tool:ocr"),
    }
    bound = build_arguments(BINDING, VARIABLES, provenance)
    assert bound.provenance["amount"] == Provenance("trusted", "request", via="claim.amount")
    assert bound.provenance["payee"] == Provenance("untrusted", "tool:ocr", via="claim.payee.iban")
    assert bound.provenance["currency"] == Provenance("trusted", "binding:t_pay")
    # no record for "memo": unknown provenance is never trusted
    assert bound.provenance["memo"] == Provenance("untrusted", "unknown", via="memo")
    assert bound.untrusted == ("memo", "payee")
    assert "note" not in bound.provenance


def test_untrusted_lists_exactly_the_untrusted_arguments() -> None:
    bound = build_arguments(
        BINDING, VARIABLES, {"claim": Provenance.trusted("person:alice"), "memo": Provenance.untrusted("llm")}
    )
    assert bound.untrusted == ("memo",)
    assert bound.provenance["payee"].is_trusted


class Receipt(BaseModel):
    id: str


class PayResult(BaseModel):
    ok: bool
    receipt: Receipt


def test_apply_results_from_model_mapping_and_outcome() -> None:
    result = PayResult(ok=True, receipt=Receipt(id="PAY-1"))
    expected = {"payment_id": "PAY-1", "paid": True}
    assert apply_results(BINDING, result) == expected
    assert apply_results(BINDING, result.model_dump()) == expected
    outcome = ToolOutcome(
        tool="pay", side_effect="non_idempotent", arguments={}, result=result, attempts=1, latency_s=0.0
    )
    assert apply_results(BINDING, outcome) == expected
    assert result_provenance(BINDING) == {
        "payment_id": Provenance.untrusted("tool:pay"),
        "paid": Provenance.untrusted("tool:pay"),
    }


def test_apply_results_names_absent_fields() -> None:
    with pytest.raises(ToolCallError, match=r"no field receipt\.id") as info:
        apply_results(BINDING, {"ok": False, "receipt": None})
    assert info.value.kind == "invalid_result" and info.value.tool == "pay"


def test_binding_text_syntax() -> None:
    pairs, problems = parse_pairs("text=letter; lang='en, fr' , n=3; flag=true; x=\"a;b\"")
    assert problems == []
    assert [(k, parse_source(v)) for k, v in pairs] == [
        ("text", FromCaseFile("letter")),
        ("lang", LiteralValue("en, fr")),
        ("n", LiteralValue(3)),
        ("flag", LiteralValue(True)),
        ("x", LiteralValue("a;b")),
    ]
    assert parse_source("claim.items.0") == FromCaseFile("claim.items.0")
    assert parse_source("null") == LiteralValue(None)
    assert isinstance(parse_source("two words"), str)
    assert parse_pairs("text letter")[1]
