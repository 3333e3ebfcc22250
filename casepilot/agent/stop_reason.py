"""Why a case stopped, in words — and whether that means it is stuck.

``run`` used to end a case blocked by a guardrail or stopped by a failed tool with
``waiting_for_events … 0 open inbox items`` and exit 0 (issue 16). ``stop_reason`` reads the
run's outcome and the case's history and says what holds the case now:

- ``blocked by guardrail <decision> rule <id>: <reason>``
- ``tool <T> failed: <error>``
- ``planner failed: <detail>``
- ``waiting for <role> (<task>) since <time>``
- ``completed`` / ``terminated by <person>: <reason>`` / ``suspended by <person>: <reason>``

Only what is current: a block or a failure the case has moved past (the same action allowed
or done since, the item over, a retry) is not reported. ``StopReason.exit_code`` is what
``casepilot run`` exits with (``EXIT_CODES``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, Literal

from casepilot.store import HistoryEvent

if TYPE_CHECKING:
    from casepilot.agent.manifest import Manifest
    from casepilot.agent.orchestrator import RunOutcome

__all__ = ["EXIT_CODES", "StopReason", "guardrail_decisions", "stop_reason"]

StopKind = Literal["completed", "terminated", "suspended", "waiting", "blocked", "failed"]

EXIT_CODES: Mapping[StopKind, int] = {
    "completed": 0, "terminated": 0, "suspended": 0, "waiting": 0, "blocked": 3, "failed": 4}
"""0: the case completed, was ended or suspended by a person, or waits for people or events;
3: a guardrail blocks what the case needs next; 4: a tool, the planner or the case failed.
(1 and 2 are the CLI's own: an error, a usage mistake.)"""


@dataclass(frozen=True, slots=True)
class StopReason:
    """What holds the case now: one ``kind`` and the lines that say it."""

    kind: StopKind
    lines: tuple[str, ...]

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.kind]

    @property
    def stuck(self) -> bool:
        """Blocked or failed: the case will not move on by itself or by an inbox decision."""
        return self.kind in ("blocked", "failed")

    def __str__(self) -> str:
        return "; ".join(self.lines)


def guardrail_decisions(manifest: Manifest) -> dict[str, str]:
    """Policy name in the history (the guardrail file's stem) -> the DMN decision it evaluates."""
    return {PurePosixPath(g.file).stem: g.decision for g in manifest.governance.guardrails}


def _block_text(payload: Mapping[str, Any], decisions: Mapping[str, str]) -> str:
    blocking = [f for f in payload.get("findings") or [] if f.get("kind") == "block"]
    if blocking:
        parts = []
        for finding in blocking:
            rules = ", ".join(finding.get("rule_ids") or [])
            policy = str(finding.get("policy"))
            name = f"{decisions[policy]} ({policy})" if policy in decisions else policy
            parts.append(f"blocked by guardrail {name}" + (f" rule {rules}" if rules else "")
                         + f": {finding.get('reason')}")
        return "; ".join(parts)
    rules = ", ".join(payload.get("rule_ids") or [])
    return "blocked" + (f" by rule {rules}" if rules else "") + f": {payload.get('reason')}"


def _planner_text(detail: Mapping[str, Any] | None, history_error: Mapping[str, Any] | None) -> str:
    source = dict(detail or history_error or {})
    problem = str(source.pop("problem", "") or "the planner failed").removeprefix("the planner failed: ")
    source.pop("seq", None)
    source.pop("failures", None)  # every attempt; the last one is ``failure``
    extra = ", ".join(f"{k} {_words(v)}" for k, v in source.items()
                      if _words(v) and k != "invalid_attempts")
    return f"planner failed: {problem}" + (f" ({extra})" if extra else "")


def _words(value: Any) -> str:
    """A detail value on one line: a mapping as ``key=value`` of its non-empty fields (the endpoint's
    failure, the route), a list comma-separated."""
    if isinstance(value, Mapping):
        return " ".join(f"{k}={_words(v)}" for k, v in value.items() if _words(v))
    if isinstance(value, (list, tuple)):
        return ",".join(_words(v) for v in value if _words(v))
    return "" if value is None else str(value)


def stop_reason(outcome: RunOutcome, history: Iterable[HistoryEvent],
                decisions: Mapping[str, str] | None = None) -> StopReason:
    """Why the case of ``outcome`` stands where it does, from its (whole) ``history``.

    ``decisions`` (``guardrail_decisions`` of the case's manifest) names the DMN decision of
    each guardrail the history knows by file.
    """
    issues: dict[str, tuple[StopKind, str]] = {}
    """Option id -> its current block or failure (the latest one; dropped once moved past)."""
    last_action: str | None = None
    last_operation: dict[str, tuple[str, str]] = {}
    planner_error: dict[str, Any] | None = None
    for event in history:
        p = event.payload
        if event.kind in ("plan", "llm_call"):
            issues.pop("llm_call", None)  # a model was asked since: a block of an earlier call is over
            if event.kind == "plan":
                last_action = p.get("chose") or last_action
        elif event.kind == "verdict" and p.get("operation"):
            if p.get("kind") == "allow":
                last_operation[str(p["operation"])] = (event.actor.removeprefix("person:"),
                                                      str((p.get("arguments") or {}).get("reason") or ""))
                if p["operation"] == "retry" and p.get("instance"):
                    _drop_instance(issues, str(p["instance"]))
        elif event.kind == "verdict" and p.get("action"):
            last_action = str(p["action"])
            if p.get("kind") == "block":
                issues[last_action] = ("blocked", _block_text(p, decisions or {}))
            else:
                issues.pop(last_action, None)
        elif event.kind == "tool_call_failed" and not p.get("problem"):
            key = last_action or str(p.get("tool"))
            issues[key] = ("failed", f"tool {p.get('tool')} failed: {p.get('error')}")
        elif event.kind == "tool_call_completed" and last_action is not None:
            issues.pop(last_action, None)
        elif event.kind == "transition" and p.get("to_state") in ("Completed", "Terminated", "Closed"):
            _drop_instance(issues, str(p.get("instance")))
        elif event.kind == "error" and p.get("source") == "planner":
            planner_error = p
    state = outcome.case_state
    if state == "completed":
        # CMMN lets a stage complete over a Failed child (ch. 8): say so, never hide it (``RunOutcome.detail``).
        failed = (outcome.detail or {}).get("failed_items") or []
        if failed:
            names = ", ".join(sorted({str(item.get("name") or item.get("id")) for item in failed}))
            return StopReason("completed", ("completed", f"though {len(failed)} item(s) failed and stay "
                                                        f"failed: {names}"))
        return StopReason("completed", ("completed",))
    if state == "terminated":
        return StopReason("terminated", (_by("terminated", last_operation.get("terminate")),))
    if state == "suspended":
        return StopReason("suspended", (_by("suspended", last_operation.get("suspend")),))
    if state == "failed":
        return StopReason("failed", ("the case failed", *(text for _, text in issues.values())))
    lines = [text for _, text in issues.values()]
    kinds = {kind for kind, _ in issues.values()}
    if outcome.reason == "planner_error":
        lines.append(_planner_text(outcome.detail, planner_error))
        kinds.add("failed")
    for task in outcome.pending:
        what = task.plan_item or task.prompt
        lines.append(f"waiting for {task.role or 'the operator'} ({what}) since {task.created_at:%Y-%m-%d %H:%M} UTC")
    if outcome.reason == "max_steps":
        lines.append(f"stopped after {outcome.steps} steps (--max-steps); run again to go on")
    if not lines:
        lines.append("waiting for events (a timer, a case-file change or a person's action)")
    if outcome.reason == "blocked_llm_call":
        kinds.add("blocked")
        if "llm_call" not in issues:
            lines.append("blocked: the planner's model call was not allowed (see the last verdict)")
    kind: StopKind = "failed" if "failed" in kinds else "blocked" if "blocked" in kinds else "waiting"
    return StopReason(kind, tuple(lines))


def _by(state: str, operation: tuple[str, str] | None) -> str:
    who, why = operation or ("", "")
    return state + (f" by {who}" if who else "") + (f": {why}" if why else "")


def _drop_instance(issues: dict[str, tuple[StopKind, str]], instance: str) -> None:
    for key in [k for k in issues if k.partition(":")[2] == instance]:
        del issues[key]
