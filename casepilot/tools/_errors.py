"""The error a tool call raises: ``ToolCallError``, a ``ToolError`` that says which tool and why.

The orchestrator records failed calls in the history and must decide what happens next
(retry later, send to a person, fail the plan item). For that it needs more than a
message: the tool's name, the kind of failure, how many attempts ran, whether the
tool's code was entered at all (``started``) and — for non-idempotent tools — whether
the effect in the outside world is unknown. Those are attributes here, not text to parse.
"""

from __future__ import annotations

from typing import Literal, TypeAlias

from casepilot.errors import ToolError

__all__ = ["ToolCallError", "ToolErrorKind"]

ToolErrorKind: TypeAlias = Literal["unknown_tool", "invalid_arguments", "timeout", "failed", "invalid_result"]
"""Why a call failed: the first two never run the tool; the last three happen after it started."""


class ToolCallError(ToolError):
    """A tool call failed; ``tool`` and ``kind`` say which and why, ``cause`` keeps the original error."""

    def __init__(
        self,
        message: str,
        *,
        tool: str,
        kind: ToolErrorKind,
        attempts: int = 0,
        latency_s: float = 0.0,
        effect_unknown: bool = False,
        cause: BaseException | None = None,
    ) -> None:
        self.message = message
        self.tool = tool
        self.kind: ToolErrorKind = kind
        self.attempts = attempts
        """How many times the tool's code was entered (0 when arguments were rejected)."""
        self.latency_s = latency_s
        """Wall time spent on the call, backoff included."""
        self.effect_unknown = effect_unknown
        """True when a non-idempotent tool started and did not finish cleanly: a person must check."""
        self.cause = cause
        super().__init__(f"tool {tool!r}: {message}")

    @property
    def started(self) -> bool:
        """Whether the tool's own code ran at least once."""
        return self.attempts > 0
