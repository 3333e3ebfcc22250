"""One model call to a named OpenAI-compatible endpoint, surviving a flaky endpoint.

The ``openai`` SDK's own retries are off (``max_retries=0``): this client decides, so that
every attempt and wait is visible to the case history and bounded by one deadline.

* A 429, a 408/409, a 5xx, a timeout or a dropped connection is retried up to the
  endpoint's ``max_retries`` times, waiting ``backoff * 2**n`` seconds with jitter (half
  to all of it, so many workers do not retry in step), or what ``Retry-After`` asks for.
* The whole call — attempts and waits — stays within the endpoint's ``deadline``: an attempt
  gets at most the time left, and a wait that would end past the deadline is not taken.
* Any other error (400, 401, 404 …) is not retried: asking again would get the same answer.

When it gives up, ``LLMCallFailed`` carries a ``CallFailure`` with what a person needs to act:
the kind of failure, the HTTP status, the endpoint's message, which endpoint and model,
how many attempts. The caller then asks its router for a fallback route.

``sleep``, ``clock`` and ``jitter`` are injectable so tests can check the waits without waiting.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal, TypeAlias

import openai

from casepilot.agent.llm_endpoints import EndpointSettings

__all__ = ["CallFailure", "Completion", "FailureKind", "LLMCallFailed", "LLMClient", "TokenLogprob"]

FailureKind: TypeAlias = Literal[
    "rate_limited", "server_error", "timeout", "connection", "client_error", "bad_response", "deadline"
]
"""``rate_limited`` (429), ``server_error`` (5xx, 408, 409), ``timeout``, ``connection`` — retried;
``client_error`` (other 4xx), ``bad_response`` (not an OpenAI answer) — not retried;
``deadline``: the call's deadline passed before it could be answered."""

_TRANSIENT: frozenset[str] = frozenset({"rate_limited", "server_error", "timeout", "connection"})
_MESSAGE_LIMIT = 500


@dataclass(frozen=True, slots=True)
class CallFailure:
    """Why a model call failed, for the history, ``RunOutcome`` and the routing decision."""

    kind: FailureKind
    message: str
    endpoint: str
    model: str
    status: int | None = None
    attempts: int = 1

    @property
    def transient(self) -> bool:
        return self.kind in _TRANSIENT

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        status = f"HTTP {self.status} " if self.status is not None else ""
        return (f"{self.kind} from endpoint {self.endpoint!r} (model {self.model!r}) after {self.attempts} "
                f"attempt(s): {status}{self.message}")


class LLMCallFailed(Exception):
    """A model call failed for good (retries spent, deadline passed, or an error not worth retrying)."""

    def __init__(self, failure: CallFailure, retried: Sequence[CallFailure] = ()) -> None:
        super().__init__(str(failure))
        self.failure = failure
        self.retried = tuple(retried)


@dataclass(frozen=True, slots=True)
class TokenLogprob:
    token: str
    logprob: float


@dataclass(frozen=True, slots=True)
class Completion:
    """A successful call: the first choice's message, usage and what it took."""

    message: Any
    """``openai.types.chat.ChatCompletionMessage`` (``content``, ``tool_calls``)."""
    prompt_tokens: int
    completion_tokens: int
    latency_ms: float
    attempts: int
    retried: tuple[CallFailure, ...] = ()
    """The transient failures retried before this answer."""
    logprobs: tuple[TokenLogprob, ...] | None = None
    """Log-probabilities of the generated tokens, when the endpoint returned them."""
    samples: tuple[Any, ...] = ()
    """Every choice's message when several were asked for (``EndpointSettings.samples``), the first included."""


def _message(exc: openai.APIError) -> str:
    body = exc.body
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        text = inner.get("message") if isinstance(inner, Mapping) else inner
        if text:
            return str(text)[:_MESSAGE_LIMIT]
    return str(exc.message)[:_MESSAGE_LIMIT]


def classify(exc: openai.APIError) -> tuple[FailureKind, int | None, str]:
    """The failure kind, HTTP status and message of an ``openai`` error."""
    if isinstance(exc, openai.APITimeoutError):
        return "timeout", None, "the endpoint did not answer within the timeout"
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__
        return "connection", None, f"cannot connect to or lost the connection to the endpoint: {cause or exc}"[
            :_MESSAGE_LIMIT]
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        if status == 429:
            return "rate_limited", status, _message(exc)
        if status >= 500 or status in (408, 409):
            return "server_error", status, _message(exc)
        return "client_error", status, _message(exc)
    return "bad_response", None, _message(exc)


def _retry_after(exc: openai.APIError) -> float | None:
    """Seconds the endpoint asked to wait (``Retry-After`` / ``retry-after-ms``), if it did."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        raw = headers.get(name)
        if raw is None:
            continue
        try:
            seconds = float(raw) * scale
        except ValueError:
            continue
        if math.isfinite(seconds) and seconds >= 0:
            return seconds
    return None


def _logprobs(choice: Any) -> tuple[TokenLogprob, ...] | None:
    content = getattr(getattr(choice, "logprobs", None), "content", None)
    if not content:
        return None
    return tuple(TokenLogprob(str(t.token), float(t.logprob)) for t in content)


class LLMClient:
    """Calls endpoints by name (``configured_endpoints``) with retries, backoff and a deadline."""

    def __init__(
        self,
        endpoints: Mapping[str, EndpointSettings],
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.endpoints = dict(endpoints)
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter
        self._clients: dict[str, openai.OpenAI] = {}

    def has(self, endpoint: str) -> bool:
        return endpoint in self.endpoints

    @property
    def base_url(self) -> str | None:
        """The ``default`` endpoint's URL (for logs saying which model plans where)."""
        default = self.endpoints.get("default")
        return default.base_url if default is not None else None

    def _client(self, name: str) -> openai.OpenAI:
        client = self._clients.get(name)
        if client is None:
            settings = self.endpoints[name]
            key = settings.api_key.get_secret_value() if settings.api_key is not None else "not-needed"
            client = self._clients[name] = openai.OpenAI(
                base_url=settings.base_url, api_key=key, timeout=settings.timeout, max_retries=0)
        return client

    def backoff(self, settings: EndpointSettings, retry: int) -> float:
        """The wait before retry number ``retry`` (0-based): exponential, with jitter from half to all of it."""
        full = min(settings.max_backoff, settings.backoff * (2.0**retry))
        return float(full * (0.5 + 0.5 * self._jitter()))

    def complete(
        self,
        endpoint: str,
        *,
        model: str,
        messages: Sequence[Mapping[str, Any]],
        tools: Sequence[Mapping[str, Any]] | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> Completion:
        """One chat completion on ``endpoint`` (which must be configured); ``LLMCallFailed`` when it cannot be had."""
        settings = self.endpoints[endpoint]
        client = self._client(endpoint)
        request: dict[str, Any] = {"model": model, "messages": list(messages)}
        if tools:
            request.update(tools=list(tools), tool_choice="required")
        if temperature is not None:
            request["temperature"] = temperature
        if max_tokens is not None:
            request["max_tokens"] = max_tokens
        if settings.logprobs:
            request["logprobs"] = True
        if settings.samples > 1:
            request["n"] = settings.samples
        deadline = self._clock() + settings.deadline
        retried: list[CallFailure] = []
        attempt = 0
        while True:
            attempt += 1
            left = deadline - self._clock()
            if left <= 0:
                raise LLMCallFailed(self._deadline(endpoint, model, attempt - 1, retried), retried)
            started = time.perf_counter()
            try:
                response = client.chat.completions.create(**request, timeout=min(settings.timeout, left))
            except openai.APIError as exc:
                kind, status, text = classify(exc)
                failure = CallFailure(kind, text, endpoint, model, status, attempt)
                if not failure.transient or attempt > settings.max_retries:
                    raise LLMCallFailed(failure, retried) from exc
                wait = _retry_after(exc)
                wait = self.backoff(settings, attempt - 1) if wait is None else wait
                if self._clock() + wait >= deadline:
                    raise LLMCallFailed(self._deadline(endpoint, model, attempt, [*retried, failure]),
                                        [*retried, failure]) from exc
                retried.append(failure)
                self._sleep(wait)
                continue
            latency = (time.perf_counter() - started) * 1000
            choice = response.choices[0] if response.choices else None
            usage = response.usage
            return Completion(
                message=choice.message if choice is not None else None,
                prompt_tokens=usage.prompt_tokens if usage else 0,
                completion_tokens=usage.completion_tokens if usage else 0,
                latency_ms=latency,
                attempts=attempt,
                retried=tuple(retried),
                logprobs=_logprobs(choice),
                samples=tuple(c.message for c in response.choices) if settings.samples > 1 else (),
            )

    def _deadline(self, endpoint: str, model: str, attempts: int, retried: Sequence[CallFailure]) -> CallFailure:
        settings = self.endpoints[endpoint]
        last = retried[-1] if retried else None
        after = f"; last failure: {last.kind}" + (f" (HTTP {last.status})" if last and last.status else "") \
            if last else ""
        return CallFailure("deadline", f"no answer within the call's deadline of {settings.deadline:g}s{after}",
                           endpoint, model, last.status if last else None, attempts)
