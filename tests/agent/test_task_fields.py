"""A human task's typed fields in the manifest (``human_tasks.<task>.fields``): strict like the rest
of the manifest, and the values a decision brings checked against them (``task_value_problems``)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from casepilot.agent.manifest import HumanTaskSpec
from casepilot.agent.task_fields import InvalidTaskValues, check_task_values, task_value_problems


def _spec(fields: object) -> HumanTaskSpec:
    return HumanTaskSpec.model_validate({"result": "review", "fields": fields})


def test_declarations_and_their_shorthand() -> None:
    spec = _spec({"amount": "number", "code": {"type": "choice", "enum": ["a", "b"], "required": False}})
    assert spec.fields["amount"].type == "number" and spec.fields["amount"].required
    assert spec.fields["code"].enum == ("a", "b") and not spec.fields["code"].required


@pytest.mark.parametrize(("fields", "message"), [
    ({"a": {"type": "number", "bogus": 1}}, "Extra inputs are not permitted"),
    ({"a": "float"}, "Input should be 'string'"),
    ({"a": {"type": "choice"}}, "a choice field needs enum"),
    ({"a": {"type": "string", "enum": ["x"]}}, "only a choice field may have one"),
    ({"a": {"type": "choice", "enum": ["x", "x"]}}, "each once"),
    ({"comment": "string"}, "taken by the decision itself"),
])
def test_a_wrong_declaration_is_refused(fields: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _spec(fields)


def test_fields_need_a_result_variable() -> None:
    with pytest.raises(ValidationError, match="fields need result"):
        HumanTaskSpec.model_validate({"fields": {"a": "number"}})


def test_values_are_checked_and_kept_typed() -> None:
    fields = _spec({"n": "number", "i": "integer", "b": "boolean", "d": "date", "s": "string",
                    "c": {"type": "choice", "enum": ["x", "y"]}, "o": {"type": "integer", "required": False}}).fields
    typed, problems = task_value_problems(fields, {"n": 1.5, "i": 2.0, "b": False, "d": "2026-01-31", "s": "t", "c": "y"})
    assert problems == {}
    assert typed == {"n": 1.5, "i": 2, "b": False, "d": "2026-01-31", "s": "t", "c": "y"}
    assert type(typed["i"]) is int
    _, problems = task_value_problems(fields, {"n": True, "i": 1.5, "b": 1, "d": "2026-02-30", "s": 3, "c": "z",
                                               "o": "1", "x": 0})
    assert problems == {"n": "must be a number", "i": "must be a whole number", "b": "must be true or false",
                        "d": "must be a date written YYYY-MM-DD", "s": "must be text",
                        "c": "must be one of x, y", "o": "must be a whole number",
                        "x": "not a field of this task (its fields: n, i, b, d, s, c, o)"}
    with pytest.raises(InvalidTaskValues) as raised:
        check_task_values("Review", fields, {"n": float("nan")})
    rendered = [str(p) for p in raised.value.problems]
    assert "n: must be a finite number" in rendered[0] and len(rendered) == 6  # nan, and five required missing
