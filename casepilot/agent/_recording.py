"""Small helpers for what a step records: redacted payloads and the engine's transitions.

Apart because every writer of a case needs them — the nodes, the inbox, starting a case,
recovery — and none of them needs the rest of the runtime to do it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from casepilot.agent.privacy import CasePrivacy, jsonable
from casepilot.store._step import Step

__all__ = ["record_transitions", "redact"]


def redact(privacy: CasePrivacy | None, case_id: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """A history payload with PII replaced by the case's pseudonyms (only made JSON without ``privacy``)."""
    if privacy is None:
        return dict(jsonable(payload))
    return privacy.redact_arguments(payload, case_id).payload


def record_transitions(step: Step, events: list[dict[str, Any]], actor: str) -> None:
    """Append the engine's transition events to the step, as ``actor`` did them."""
    for event in events:
        step.append("transition", actor=actor, payload=event, owned=True)  # the engine's fresh event data
