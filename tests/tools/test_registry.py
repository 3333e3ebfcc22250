"""ToolRegistry: validation, timeouts, retries with backoff, typed errors, schemas."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
from pydantic import BaseModel, Field

from casepilot.errors import DefinitionError, ToolError
from casepilot.tools import (
    Executor,
    RetryPolicy,
    Tool,
    ToolCallError,
    ToolRegistry,
    tool,
)


class AddArgs(BaseModel):
    a: int
    b: int = Field(default=1, ge=0)


class AddResult(BaseModel):
    total: int


@tool(timeout=5)
def add(args: AddArgs) -> AddResult:
    """Add two integers.

    Longer text that is not part of the description."""
    return AddResult(total=args.a + args.b)


class Flaky:
    """Fails ``failures`` times, then answers; counts calls."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    def __call__(self, args: AddArgs) -> AddResult:
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionError(f"service down (call {self.calls})")
        return AddResult(total=args.a)


def make(func: Flaky, side_effect: str, attempts: int = 3) -> Tool[AddArgs, AddResult]:
    return Tool(
        name="flaky",
        description="d",
        args_model=AddArgs,
        result_model=AddResult,
        side_effect=side_effect,  # type: ignore[arg-type]
        retry=RetryPolicy(max_attempts=attempts, initial_delay=0.1, multiplier=2.0, max_delay=1.0),
        func=func,
    )


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def registry(sleeps: list[float]) -> ToolRegistry:
    return ToolRegistry([add], executor=Executor(sleep=sleeps.append))


@pytest.fixture
def gate() -> Iterator[threading.Event]:
    """An event that blocking tools wait on; set at teardown so abandoned threads end."""
    event = threading.Event()
    yield event
    event.set()


def test_decorator_reads_models_and_first_docstring_paragraph() -> None:
    assert add.name == "add"
    assert add.description == "Add two integers."
    assert add.args_model is AddArgs and add.result_model is AddResult
    assert add.side_effect == "read_only" and add.timeout == 5


def test_invoke_validates_and_returns_outcome(registry: ToolRegistry) -> None:
    outcome = registry.invoke("add", {"a": 2, "b": "3"})
    assert outcome.result == AddResult(total=5)
    assert outcome.arguments == {"a": 2, "b": 3}
    assert outcome.attempts == 1 and outcome.tool == "add" and outcome.side_effect == "read_only"
    assert outcome.latency_s >= 0
    assert outcome.output() == {"total": 5}


def test_invoke_accepts_an_argument_model(registry: ToolRegistry) -> None:
    assert registry.invoke("add", AddArgs(a=1, b=1)).result.model_dump() == {"total": 2}


def test_invalid_arguments_never_call_the_tool() -> None:
    calls = Flaky(0)
    reg = ToolRegistry([make(calls, "read_only")])
    with pytest.raises(ToolCallError) as info:
        reg.invoke("flaky", {"a": "not a number", "b": -1})
    err = info.value
    assert err.kind == "invalid_arguments" and err.tool == "flaky" and not err.started
    assert "a: Input should be a valid integer" in err.message and "b: Input should be greater" in err.message
    assert "not a number" not in str(err), "values (possibly PII) must not leak into messages"
    assert calls.calls == 0


def test_unknown_arguments_are_rejected(registry: ToolRegistry) -> None:
    with pytest.raises(
        ToolCallError, match="unknown arguments c, the tool was not called; it takes: a, b"
    ) as info:
        registry.invoke("add", {"a": 1, "c": 2})
    assert info.value.kind == "invalid_arguments"


def test_unknown_tool_suggests_close_names(registry: ToolRegistry) -> None:
    with pytest.raises(ToolCallError, match="did you mean 'add'") as info:
        registry.invoke("ad", {})
    assert info.value.kind == "unknown_tool"
    assert isinstance(info.value, ToolError)


def test_idempotent_tool_is_retried_with_exponential_backoff(sleeps: list[float]) -> None:
    flaky = Flaky(2)
    reg = ToolRegistry([make(flaky, "idempotent")], executor=Executor(sleep=sleeps.append))
    outcome = reg.invoke("flaky", {"a": 7})
    assert outcome.result.model_dump() == {"total": 7}
    assert outcome.attempts == 3 and flaky.calls == 3
    assert sleeps == pytest.approx([0.1, 0.2])


def test_retries_stop_after_max_attempts(sleeps: list[float]) -> None:
    flaky = Flaky(10)
    reg = ToolRegistry([make(flaky, "read_only", attempts=4)], executor=Executor(sleep=sleeps.append))
    with pytest.raises(ToolCallError) as info:
        reg.invoke("flaky", {"a": 1})
    err = info.value
    assert err.kind == "failed" and err.attempts == 4 and flaky.calls == 4
    assert "ConnectionError: service down (call 4)" in err.message and "after 4 attempts" in err.message
    assert isinstance(err.cause, ConnectionError) and not err.effect_unknown
    assert sleeps == pytest.approx([0.1, 0.2, 0.4])


def test_non_idempotent_tool_is_never_retried(sleeps: list[float]) -> None:
    flaky = Flaky(1)
    reg = ToolRegistry([make(flaky, "non_idempotent")], executor=Executor(sleep=sleeps.append))
    with pytest.raises(ToolCallError) as info:
        reg.invoke("flaky", {"a": 1})
    assert flaky.calls == 1 and sleeps == []
    assert info.value.effect_unknown and info.value.started
    assert "not idempotent" in info.value.message


def test_tool_error_raised_by_a_tool_is_permanent(sleeps: list[float]) -> None:
    calls: list[int] = []

    def refuse(args: AddArgs) -> AddResult:
        calls.append(args.a)
        raise ToolError("document is encrypted")

    t = Tool(name="refuse", description="", args_model=AddArgs, result_model=AddResult, func=refuse)
    reg = ToolRegistry([t], executor=Executor(sleep=sleeps.append))
    with pytest.raises(ToolCallError, match="document is encrypted") as info:
        reg.invoke("refuse", {"a": 1})
    assert calls == [1] and sleeps == [] and info.value.kind == "failed"


def test_invalid_result_is_a_tool_error() -> None:
    def wrong(args: AddArgs) -> AddResult:
        return {"total": "many"}  # type: ignore[return-value]

    t = Tool(name="wrong", description="", args_model=AddArgs, result_model=AddResult, func=wrong)
    with pytest.raises(
        ToolCallError, match=r"invalid result: total: Input should be a valid integer"
    ) as info:
        ToolRegistry([t]).invoke("wrong", {"a": 1})
    assert info.value.kind == "invalid_result" and info.value.attempts == 1


def test_sync_tool_times_out(gate: threading.Event, sleeps: list[float]) -> None:
    def hang(args: AddArgs) -> AddResult:
        gate.wait(10)
        return AddResult(total=0)

    t = Tool(
        name="hang",
        description="",
        args_model=AddArgs,
        result_model=AddResult,
        side_effect="non_idempotent",
        timeout=30,
        func=hang,
    )
    reg = ToolRegistry([t], executor=Executor(sleep=sleeps.append))
    with pytest.raises(ToolCallError, match=r"no answer within 0\.05 s") as info:
        reg.invoke("hang", {"a": 1}, timeout=0.05)
    assert info.value.kind == "timeout" and info.value.effect_unknown and sleeps == []


def test_timed_out_idempotent_tool_is_retried(gate: threading.Event, sleeps: list[float]) -> None:
    calls: list[int] = []

    def slow_first(args: AddArgs) -> AddResult:
        calls.append(1)
        if len(calls) == 1:
            gate.wait(10)
        return AddResult(total=len(calls))

    t = Tool(
        name="slow",
        description="",
        args_model=AddArgs,
        result_model=AddResult,
        side_effect="idempotent",
        timeout=0.05,
        retry=RetryPolicy(max_attempts=2, initial_delay=0),
        func=slow_first,
    )
    outcome = ToolRegistry([t], executor=Executor(sleep=sleeps.append)).invoke("slow", {"a": 1})
    assert outcome.attempts == 2 and outcome.result.model_dump() == {"total": 2}


def test_async_tool_runs_with_invoke_and_ainvoke() -> None:
    @tool(name="aadd")
    async def aadd(args: AddArgs) -> AddResult:
        await asyncio.sleep(0)
        return AddResult(total=args.a * 10)

    reg = ToolRegistry([aadd, add])
    assert reg.invoke("aadd", {"a": 2}).result.model_dump() == {"total": 20}
    assert asyncio.run(reg.ainvoke("aadd", {"a": 3})).result.model_dump() == {"total": 30}
    assert asyncio.run(reg.ainvoke("add", {"a": 3})).result.model_dump() == {"total": 4}


def test_async_tool_timeout_cancels() -> None:
    cancelled: list[bool] = []

    async def forever(args: AddArgs) -> AddResult:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise
        return AddResult(total=0)

    t = Tool(
        name="forever",
        description="",
        args_model=AddArgs,
        result_model=AddResult,
        afunc=forever,
        retry=RetryPolicy(1),
    )
    with pytest.raises(ToolCallError) as info:
        asyncio.run(ToolRegistry([t]).ainvoke("forever", {"a": 1}, timeout=0.05))
    assert info.value.kind == "timeout" and cancelled == [True]


def test_async_retries_use_async_sleep() -> None:
    waited: list[float] = []

    async def record(delay: float) -> None:
        waited.append(delay)

    flaky = Flaky(1)
    reg = ToolRegistry([make(flaky, "idempotent")], executor=Executor(async_sleep=record))
    outcome = asyncio.run(reg.ainvoke("flaky", {"a": 5}))
    assert outcome.attempts == 2 and waited == pytest.approx([0.1])


def test_registration_rules() -> None:
    reg = ToolRegistry([add])
    with pytest.raises(DefinitionError, match="already registered"):
        reg.register(add)
    reg.register(add, replace=True)
    assert reg.names() == ["add"] and "add" in reg and len(reg) == 1 and list(reg) == [add]


def test_tool_definition_problems_are_reported_together() -> None:
    with pytest.raises(DefinitionError) as info:
        Tool(name="bad name!", description="", args_model=AddArgs, result_model=dict, timeout=0)  # type: ignore[arg-type]
    text = str(info.value)
    assert "must match" in text and "result_model must be a pydantic" in text
    assert "needs func" in text and "timeout must be positive" in text
    assert len(info.value.problems) == 4


def test_decorator_requires_model_annotations() -> None:
    with pytest.raises(DefinitionError, match="exactly one argument"):
        tool()(lambda a, b: None)

    def plain(x: int) -> int:
        return x

    with pytest.raises(DefinitionError, match="cannot make a tool") as info:
        tool()(plain)
    assert len(info.value.problems) == 2


def test_openai_schema_comes_from_the_argument_model(registry: ToolRegistry) -> None:
    schema = add.openai_schema()
    assert schema == {
        "type": "function",
        "function": {
            "name": "add",
            "description": "Add two integers.",
            "parameters": {
                "type": "object",
                "properties": {
                    "a": {"title": "A", "type": "integer"},
                    "b": {"default": 1, "minimum": 0, "title": "B", "type": "integer"},
                },
                "required": ["a"],
            },
        },
    }
    assert registry.openai_schemas() == [schema]


def test_retry_policy_delays() -> None:
    policy = RetryPolicy(initial_delay=1, multiplier=3, max_delay=5, jitter=0.5)
    assert [policy.delay(n, rand=lambda: 0.5) for n in (1, 2, 3)] == [1, 3, 5]
    assert policy.delay(1, rand=lambda: 0.0) == 0.5 and policy.delay(1, rand=lambda: 1.0) == 1.5
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
