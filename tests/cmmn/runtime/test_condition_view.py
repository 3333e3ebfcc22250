"""The host's view of the variables a condition reads (``CaseInstance(view=…)``).

The engine stays pure: it does not know what the view does (casepilot's agent reveals the clear
values behind pseudonyms). It asks the view for every if-part, rule and timer expression that
reads a variable — with the names it reads — evaluates on what the view shows, and stores what
it stored. A view that raises stops the operation; the engine never falls back to the stored value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from casepilot.cmmn import CaseInstance
from tests.cmmn.runtime._models import case_of

CLEAR = {"<PERSON_1>": "John Smith"}


class Shown:
    """A view that shows the clear value behind each pseudonym and records what it was asked."""

    def __init__(self, fail: bool = False) -> None:
        self.asked: list[frozenset[str]] = []
        self.fail = fail

    def __call__(self, variables: Mapping[str, Any], read: frozenset[str]) -> Mapping[str, Any]:
        self.asked.append(read)
        if self.fail:
            raise LookupError("cannot show")
        return {k: CLEAR.get(v, v) if isinstance(v, str) and k in read else v for k, v in variables.items()}


def _model() -> Any:
    return case_of(
        '<planItem id="pa" definitionRef="ta"><entryCriterion sentryRef="s"/></planItem>'
        '<planItem id="pb" definitionRef="tb"><itemControl><requiredRule><condition>amount &gt; 10</condition>'
        '</requiredRule><manualActivationRule><condition>payee = "John Smith"</condition></manualActivationRule>'
        "</itemControl></planItem>"
        '<planItem id="pc" definitionRef="tc"><itemControl><manualActivationRule><condition>true</condition>'
        "</manualActivationRule></itemControl></planItem>"
        '<sentry id="s"><ifPart><condition>payee = "John Smith"</condition></ifPart></sentry>'
        '<humanTask id="ta" name="Review"/><humanTask id="tb" name="Pay"/><humanTask id="tc" name="Note"/>'
    )


def _states(case: CaseInstance) -> dict[str, str]:
    return {item.name: item.state for item in case.items()}


def test_without_a_view_conditions_read_the_stored_values() -> None:
    case = CaseInstance.start(_model(), {"payee": "<PERSON_1>", "amount": 5})
    assert _states(case) == {"Review": "Available", "Pay": "Active", "Note": "Enabled"}


def test_if_parts_and_rules_are_evaluated_on_the_view_and_the_case_keeps_the_stored_values() -> None:
    view = Shown()
    case = CaseInstance.start(_model(), {"payee": "<PERSON_1>", "amount": 5}, view=view)
    # The if-part and the manual activation rule held on "John Smith": Review started, Pay waits for a person.
    assert _states(case) == {"Review": "Active", "Pay": "Enabled", "Note": "Enabled"}
    assert set(view.asked) == {frozenset({"payee"}), frozenset({"amount"})}  # never for the constant rule
    assert case.variables["payee"] == "<PERSON_1>"
    assert "John" not in case.to_json()
    # The view is the host's, not the snapshot's: a reloaded case asks the view it is given.
    again = CaseInstance.from_json(_model(), case.to_json(), view=view)
    assert again.view is view and CaseInstance.from_json(_model(), case.to_json()).view is None


def test_a_view_that_cannot_show_a_value_stops_the_operation() -> None:
    with pytest.raises(LookupError, match="cannot show"):
        CaseInstance.start(_model(), {"payee": "<PERSON_1>", "amount": 5}, view=Shown(fail=True))
    armed = CaseInstance.start(_model(), {"payee": "<PERSON_2>", "amount": 5}, view=Shown())
    failing = CaseInstance.from_json(_model(), armed.to_json(), view=Shown(fail=True))
    with pytest.raises(LookupError):
        failing.set_variables({"payee": "<PERSON_3>"})  # the armed if-part reads payee again


def test_a_dollar_expression_is_shown_the_same_view() -> None:
    model = case_of(
        '<planItem id="pa" definitionRef="ta"><entryCriterion sentryRef="s"/></planItem>'
        '<sentry id="s"><ifPart><condition>${payee == "John Smith"}</condition></ifPart></sentry>'
        '<humanTask id="ta" name="Review"/>'
    )
    view = Shown()
    assert _states(CaseInstance.start(model, {"payee": "<PERSON_1>"}, view=view)) == {"Review": "Active"}
    assert view.asked == [frozenset({"payee"})]
    assert _states(CaseInstance.start(model, {"payee": "<PERSON_1>"})) == {"Review": "Available"}
