"""What a tool is: name, description, typed argument and result models, side-effect class, limits.

A ``Tool`` is an immutable definition; running it is the registry's job (``_execute``).
The side-effect class is what the orchestrator and governance reason about: read-only
and idempotent tools may be retried (here, with backoff) and re-run after a crash;
a non-idempotent tool is never retried automatically and a crashed call goes to a person.
"""

from __future__ import annotations

import random
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeAlias, TypeVar

from pydantic import BaseModel

from casepilot.errors import DefinitionError

__all__ = [
    "DEFAULT_RETRY",
    "NO_RETRY",
    "RetryPolicy",
    "SideEffect",
    "Tool",
    "ToolOutcome",
]

SideEffect: TypeAlias = Literal["read_only", "idempotent", "non_idempotent"]
"""``read_only``: changes nothing; ``idempotent``: repeating it has the effect of doing it once;
``non_idempotent``: each call changes the world again (a payment, an e-mail)."""

A = TypeVar("A", bound=BaseModel)
R = TypeVar("R", bound=BaseModel)
R_co = TypeVar("R_co", bound=BaseModel, covariant=True)

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
"""Tool names must be valid function names for OpenAI-style function calling."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff for read-only and idempotent tools (ignored for non-idempotent ones).

    The wait before attempt ``n + 1`` is ``initial_delay * multiplier ** (n - 1)``, capped at
    ``max_delay``, then spread by ``±jitter`` (a fraction) so that many cases retrying the
    same failing service do not hit it in lockstep.
    """

    max_attempts: int = 3
    """Total attempts including the first; 1 means no retry."""
    initial_delay: float = 0.2
    multiplier: float = 2.0
    max_delay: float = 5.0
    jitter: float = 0.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("RetryPolicy.max_attempts must be at least 1")
        if self.initial_delay < 0 or self.max_delay < 0 or self.multiplier < 1:
            raise ValueError("RetryPolicy delays must be >= 0 and multiplier >= 1")
        if not 0 <= self.jitter < 1:
            raise ValueError("RetryPolicy.jitter is a fraction in [0, 1)")

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        base = min(self.initial_delay * self.multiplier ** (attempt - 1), self.max_delay)
        if self.jitter:
            base *= 1 + self.jitter * (2 * rand() - 1)
        return base


DEFAULT_RETRY = RetryPolicy()
NO_RETRY = RetryPolicy(max_attempts=1)

SyncImpl: TypeAlias = Callable[[A], R | Mapping[str, Any]]
AsyncImpl: TypeAlias = Callable[[A], Awaitable[R | Mapping[str, Any]]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Tool(Generic[A, R]):
    """A typed tool. Give ``func`` (sync), ``afunc`` (async) or both.

    The implementation receives a validated ``args_model`` instance and returns a
    ``result_model`` instance or anything ``result_model.model_validate`` accepts; the
    registry validates the result either way, so a tool cannot smuggle an untyped value
    into the case file.
    """

    name: str
    description: str
    args_model: type[A]
    result_model: type[R]
    side_effect: SideEffect = "read_only"
    timeout: float | None = 30.0
    """Seconds per attempt; ``None`` runs without a limit (in the caller's thread)."""
    retry: RetryPolicy = DEFAULT_RETRY
    func: SyncImpl[A, R] | None = field(default=None, repr=False)
    afunc: AsyncImpl[A, R] | None = field(default=None, repr=False)
    tags: tuple[str, ...] = ()
    """Labels for governance: what the tool lets leave the user's control (``sends_externally``,
    ``moves_money`` …); guardrails read them as ``tool_tags``."""
    targets: tuple[str, ...] = ()
    """The arguments that decide *where* the effect lands — who receives a message, which account
    is paid, which URL is fetched, who is given access — as opposed to what it carries. A
    guardrail can then ask a person only when a target came from an untrusted source
    (``untrusted_targets``): a reply to someone the user named may quote a document; a payment
    to an account a document named may not go unseen."""
    message_fields: tuple[str, ...] = ()
    """The arguments whose text leaves the case as a message to someone outside it (a letter's
    body, an e-mail's text). The loop passes that text through the bundle's output rail — the
    same ``message`` verdict a chat answer gets (``casepilot.agent.chat_rail``) — before the call
    runs; a refused message blocks the call. Name only text the case's side writes (what a
    model or the binding composes), not the customer's own words quoted back to them."""

    def __post_init__(self) -> None:
        problems: list[DefinitionError] = []
        if not _NAME.match(self.name):
            problems.append(DefinitionError(f"tool name {self.name!r} must match {_NAME.pattern}"))
        for label, model in (("args_model", self.args_model), ("result_model", self.result_model)):
            if not (isinstance(model, type) and issubclass(model, BaseModel)):
                problems.append(
                    DefinitionError(f"{label} must be a pydantic BaseModel subclass, got {model!r}")
                )
        if self.func is None and self.afunc is None:
            problems.append(DefinitionError("a tool needs func (sync) or afunc (async)"))
        if self.timeout is not None and self.timeout <= 0:
            problems.append(DefinitionError(f"timeout must be positive or None, got {self.timeout}"))
        if self.side_effect not in ("read_only", "idempotent", "non_idempotent"):
            problems.append(DefinitionError(f"unknown side_effect {self.side_effect!r}"))
        if isinstance(self.args_model, type) and issubclass(self.args_model, BaseModel):
            unknown = [t for t in self.targets if t not in self.args_model.model_fields]
            if unknown:
                problems.append(DefinitionError(
                    f"targets {unknown} are not arguments of the tool (it has {sorted(self.args_model.model_fields)})"))
            unknown = [f for f in self.message_fields if f not in self.args_model.model_fields]
            if unknown:
                problems.append(DefinitionError(
                    f"message_fields {unknown} are not arguments of the tool "
                    f"(it has {sorted(self.args_model.model_fields)})"))
        if problems:
            raise DefinitionError(f"invalid tool {self.name!r}", element="tool", problems=problems)

    @property
    def retryable(self) -> bool:
        """Whether failures may be retried automatically (never for non-idempotent tools)."""
        return self.side_effect != "non_idempotent"

    @property
    def max_attempts(self) -> int:
        """Attempts the registry makes: the policy's for retryable tools, else exactly one."""
        return self.retry.max_attempts if self.retryable else 1

    def openai_schema(self) -> dict[str, Any]:
        """The OpenAI function-calling description of this tool, from the argument model."""
        parameters = self.args_model.model_json_schema()
        parameters.pop("title", None)
        parameters.setdefault("properties", {})
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": parameters},
        }


@dataclass(frozen=True, slots=True)
class ToolOutcome(Generic[R_co]):
    """A successful call: the validated arguments and result, with attempts and latency."""

    tool: str
    side_effect: SideEffect
    arguments: Mapping[str, Any]
    """The validated arguments in JSON form — what the history records."""
    result: R_co
    attempts: int
    latency_s: float
    """Wall time of the whole call, retries and backoff included."""

    def output(self) -> dict[str, Any]:
        """The result in JSON form, for the history and for ``apply_results``."""
        return self.result.model_dump(mode="json")
