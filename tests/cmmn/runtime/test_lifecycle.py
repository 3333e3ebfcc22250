"""The one transition table (CMMN 1.1 ch. 8 plan item lifecycles) and its typed refusal."""

from __future__ import annotations

import pytest

from casepilot.cmmn.runtime.lifecycle import TRANSITIONS, allowed_transitions, lifecycle_kind, next_state
from casepilot.errors import IllegalTransition


@pytest.mark.parametrize(
    ("kind", "state", "transition", "target"),
    [
        ("work", "Available", "start", "Active"),
        ("work", "Available", "enable", "Enabled"),
        ("work", "Enabled", "disable", "Disabled"),
        ("work", "Disabled", "reenable", "Enabled"),
        ("work", "Enabled", "manualStart", "Active"),
        ("work", "Active", "complete", "Completed"),
        ("work", "Active", "terminate", "Terminated"),
        ("work", "Disabled", "exit", "Terminated"),
        ("work", "Active", "fault", "Failed"),
        ("work", "Failed", "reactivate", "Active"),
        ("work", "Active", "suspend", "Suspended"),
        ("work", "Suspended", "resume", "Active"),
        ("event", "Available", "occur", "Completed"),
        ("event", "Available", "parentTerminate", "Terminated"),
        ("case", "Active", "suspend", "Suspended"),
        ("case", "Suspended", "reactivate", "Active"),
        ("case", "Completed", "close", "Closed"),
        ("case", "Terminated", "reactivate", "Active"),
    ],
)
def test_table_moves(kind: str, state: str, transition: str, target: str) -> None:
    assert next_state(kind, state, transition, item="x") == target  # type: ignore[arg-type]


def test_parent_resume_returns_to_prior_state() -> None:
    assert next_state("work", "Suspended", "parentResume", item="x", prior="Enabled") == "Enabled"
    assert next_state("event", "Suspended", "parentResume", item="x", prior="Available") == "Available"


def test_illegal_transition_names_item_state_and_transition() -> None:
    with pytest.raises(IllegalTransition) as info:
        next_state("work", "Completed", "complete", item="Review (i3)")
    err = info.value
    assert (err.item, err.state, err.transition) == ("Review (i3)", "Completed", "complete")
    assert "Review (i3)" in str(err) and "Completed" in str(err)


def test_illegal_transition_lists_what_is_allowed() -> None:
    with pytest.raises(IllegalTransition) as info:
        next_state("work", "Enabled", "complete", item="T")
    assert info.value.allowed == ["disable", "exit", "manualStart", "parentSuspend"]
    assert allowed_transitions("event", "Available") == sorted(
        t for t, (src, _) in TRANSITIONS["event"].items() if "Available" in src
    )


def test_milestones_and_listeners_follow_the_event_lifecycle() -> None:
    assert lifecycle_kind("milestone") == "event"
    assert lifecycle_kind("userEventListener") == "event"
    assert lifecycle_kind("humanTask") == "work"
    assert lifecycle_kind("stage") == "work"
    assert lifecycle_kind("stage", is_case=True) == "case"
    with pytest.raises(IllegalTransition):
        next_state("event", "Available", "start", item="M")
