"""The hardened model client against the scripted OpenAI-protocol server (the real ``openai`` code path).

Retries 429/5xx/timeouts/dropped connections with exponential backoff and jitter, honours
``Retry-After``, never retries an error that would repeat, stays within the call's deadline,
and says what failed. Waits are checked through an injected ``sleep``/``clock``, never timed.
"""

from __future__ import annotations

import pytest

from casepilot.agent.llm_client import LLMCallFailed, LLMClient
from casepilot.agent.llm_endpoints import EndpointSettings
from tests._openai_server import Reply, scripted_openai

MESSAGES = [{"role": "user", "content": "hello"}]


class FakeTime:
    """A clock that moves only when the client sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def client(url: str, fake: FakeTime, jitter: float = 1.0, **settings: object) -> LLMClient:
    endpoint = EndpointSettings.model_validate({"base_url": url, "model": "m", "backoff": 0.5, **settings})
    return LLMClient({"primary": endpoint}, sleep=fake.sleep, clock=fake.clock, jitter=lambda: jitter)


def test_transient_failures_are_retried_with_exponential_backoff() -> None:
    fake = FakeTime()
    replies = [Reply.error(500, "boom"), Reply.error(502, "bad gateway"), Reply(drop=True), Reply(text="hi")]
    with scripted_openai(replies) as server:
        completion = client(server.url, fake, max_retries=3).complete("primary", model="m", messages=MESSAGES)
    assert completion.message.content == "hi"
    assert len(server.received) == 4
    assert completion.attempts == 4
    assert [(f.kind, f.status) for f in completion.retried] == [
        ("server_error", 500), ("server_error", 502), ("connection", None)]
    assert fake.waits == [0.5, 1.0, 2.0]  # 0.5 * 2**n, full jitter share


def test_jitter_spreads_the_wait_between_half_and_all_of_it() -> None:
    fake = FakeTime()
    with scripted_openai([Reply.error(503, "busy"), Reply.error(503, "busy"), Reply(text="ok")]) as server:
        client(server.url, fake, jitter=0.0).complete("primary", model="m", messages=MESSAGES)
    assert fake.waits == [0.25, 0.5]


def test_a_429_waits_as_long_as_retry_after_asks() -> None:
    fake = FakeTime()
    replies = [Reply.error(429, "slow down", retry_after="3"), Reply(text="ok")]
    with scripted_openai(replies) as server:
        completion = client(server.url, fake).complete("primary", model="m", messages=MESSAGES)
    assert fake.waits == [3.0]
    assert completion.retried[0].kind == "rate_limited"
    assert completion.retried[0].status == 429
    assert completion.retried[0].message == "slow down"


def test_an_error_that_would_repeat_is_not_retried_and_says_what_failed() -> None:
    fake = FakeTime()
    replies = [Reply.error(400, "model 'nope' does not exist"), Reply(text="never")]
    with scripted_openai(replies) as server, pytest.raises(LLMCallFailed) as info:
        client(server.url, fake).complete("primary", model="nope", messages=MESSAGES)
    failure = info.value.failure
    assert (failure.kind, failure.status, failure.endpoint, failure.model, failure.attempts) == (
        "client_error", 400, "primary", "nope", 1)
    assert failure.message == "model 'nope' does not exist"
    assert "HTTP 400" in str(info.value) and "'primary'" in str(info.value)
    assert len(server.received) == 1
    assert fake.waits == []


def test_retries_end_after_max_retries() -> None:
    fake = FakeTime()
    with scripted_openai([Reply.error(503, "overloaded") for _ in range(5)]) as server, \
            pytest.raises(LLMCallFailed) as info:
        client(server.url, fake, max_retries=2).complete("primary", model="m", messages=MESSAGES)
    assert len(server.received) == 3
    assert info.value.failure.attempts == 3
    assert info.value.failure.status == 503
    assert len(info.value.retried) == 2


def test_the_deadline_bounds_attempts_and_waits() -> None:
    fake = FakeTime()
    replies = [Reply.error(503, "overloaded") for _ in range(10)]
    with scripted_openai(replies) as server, pytest.raises(LLMCallFailed) as info:
        client(server.url, fake, max_retries=10, backoff=2.0, max_backoff=60.0, deadline=5.0).complete(
            "primary", model="m", messages=MESSAGES)
    # t=0 fails, waits 2 (t=2), fails; the next wait (4) would end past the deadline (5): not taken
    assert fake.waits == [2.0]
    assert len(server.received) == 2
    failure = info.value.failure
    assert failure.kind == "deadline"
    assert failure.status == 503
    assert "deadline of 5s" in failure.message and "server_error" in failure.message


def test_a_slow_answer_times_out_and_is_retried() -> None:
    fake = FakeTime()
    with scripted_openai([Reply(delay=1.0, text="late"), Reply(text="in time")]) as server:
        completion = client(server.url, fake, timeout=0.2).complete("primary", model="m", messages=MESSAGES)
    assert completion.message.content == "in time"
    assert [f.kind for f in completion.retried] == ["timeout"]


def test_log_probabilities_are_asked_for_and_returned_when_the_endpoint_is_set_so() -> None:
    fake = FakeTime()
    with scripted_openai([Reply(text="yes", logprobs=[("y", -0.1), ("es", -0.2)])]) as server:
        completion = client(server.url, fake, logprobs=True).complete(
            "primary", model="m", messages=MESSAGES, temperature=0.0, max_tokens=5)
    assert server.received[0]["logprobs"] is True
    assert (server.received[0]["temperature"], server.received[0]["max_tokens"]) == (0.0, 5)
    assert completion.logprobs is not None
    assert [(t.token, t.logprob) for t in completion.logprobs] == [("y", -0.1), ("es", -0.2)]
