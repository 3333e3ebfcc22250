"""Running one tool call: validate, run with a timeout, retry with backoff, validate the result.

Sync implementations run on a daemon thread (``_threads``) when a timeout applies: Python cannot kill a
thread, so a timed-out call is abandoned (it may still finish in the background). That is
harmless for read-only and idempotent tools and exactly why a timed-out non-idempotent
call is reported with ``effect_unknown`` — the orchestrator must send it to a person.
Async implementations are cancelled on timeout by ``asyncio.wait_for``.

Only ``Exception`` is caught: ``KeyboardInterrupt``, ``SystemExit`` and task cancellation
pass through untouched. A ``ToolError`` raised by a tool itself is taken as a permanent
failure and not retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from casepilot.errors import ToolError

from ._errors import ToolCallError, ToolErrorKind
from ._model import Tool, ToolOutcome
from ._threads import shared_pool

__all__ = ["Executor", "describe_validation_error"]

T = TypeVar("T")
_MAX_ERRORS_SHOWN = 8


def describe_validation_error(error: ValidationError) -> str:
    """A short, PII-free rendering: field paths and messages, never the offending values."""
    parts = []
    for err in error.errors()[:_MAX_ERRORS_SHOWN]:
        loc = ".".join(str(p) for p in err["loc"]) or "(root)"
        parts.append(f"{loc}: {err['msg']}")
    more = error.error_count() - _MAX_ERRORS_SHOWN
    if more > 0:
        parts.append(f"… and {more} more")
    return "; ".join(parts)


def _run_in_thread(call: Callable[[], T], timeout: float | None) -> T:
    """Run ``call`` on a daemon thread (with the caller's context vars) and wait up to ``timeout``."""
    fut: Future[T] = Future()
    ctx = contextvars.copy_context()

    def target() -> None:
        if not fut.set_running_or_notify_cancel():
            return
        try:
            fut.set_result(ctx.run(call))
        except BaseException as exc:  # handed to the waiting caller, which decides
            fut.set_exception(exc)

    shared_pool().submit(target)
    return fut.result(timeout)


def _await_in_thread(call: Callable[[], T]) -> asyncio.Future[T]:
    """An asyncio future completed by ``call`` run in a daemon thread.

    Unlike ``asyncio.to_thread`` this does not use the loop's default executor, so a hung
    call that was abandoned on timeout cannot block the loop's shutdown.
    """
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[T] = loop.create_future()
    ctx = contextvars.copy_context()

    def settle(value: T | None, exc: BaseException | None) -> None:
        if fut.done():
            return
        if exc is not None:
            fut.set_exception(exc)
        else:
            fut.set_result(value)  # type: ignore[arg-type]

    def target() -> None:
        value: T | None = None
        error: BaseException | None = None
        try:
            value = ctx.run(call)
        except BaseException as exc:  # handed to the awaiting coroutine
            error = exc
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody waits any more
            loop.call_soon_threadsafe(settle, value, error)

    shared_pool().submit(target)
    return fut


def _unknown_keys(model: type[BaseModel], data: Mapping[str, Any]) -> set[str]:
    """Keys the model would silently drop: a planner sending them has misunderstood the tool."""
    if model.model_config.get("extra") == "allow":
        return set()
    known = set(model.model_fields)
    known.update(f.alias for f in model.model_fields.values() if f.alias)
    known.update(
        f.validation_alias for f in model.model_fields.values() if isinstance(f.validation_alias, str)
    )
    return {str(k) for k in data if k not in known}


@dataclass(frozen=True, slots=True)
class Executor:
    """Runs tool calls; the clock, sleep and randomness are injected for tests and simulations."""

    sleep: Callable[[float], None] = time.sleep
    async_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    clock: Callable[[], float] = time.perf_counter
    rand: Callable[[], float] = field(default=random.random)

    # ------------------------------------------------------------------ public

    def invoke(
        self, tool: Tool[Any, Any], arguments: Mapping[str, Any] | BaseModel, timeout: float | None
    ) -> ToolOutcome[BaseModel]:
        """Run ``tool`` synchronously; raises ``ToolCallError`` on any failure."""
        start = self.clock()
        args = self._validate_arguments(tool, arguments)
        limit = timeout if timeout is not None else tool.timeout
        attempt = 0
        while True:
            attempt += 1
            try:
                raw = self._attempt_sync(tool, args, limit)
            except Exception as exc:
                if self._give_up(tool, exc, attempt):
                    raise self._failure(tool, exc, attempt, start, limit) from exc
                self.sleep(tool.retry.delay(attempt, self.rand))
                continue
            return self._outcome(tool, args, raw, attempt, start)

    async def ainvoke(
        self, tool: Tool[Any, Any], arguments: Mapping[str, Any] | BaseModel, timeout: float | None
    ) -> ToolOutcome[BaseModel]:
        """Run ``tool`` on the running event loop; raises ``ToolCallError`` on any failure."""
        start = self.clock()
        args = self._validate_arguments(tool, arguments)
        limit = timeout if timeout is not None else tool.timeout
        attempt = 0
        while True:
            attempt += 1
            try:
                raw = await asyncio.wait_for(self._attempt_async(tool, args), limit)
            except Exception as exc:
                if self._give_up(tool, exc, attempt):
                    raise self._failure(tool, exc, attempt, start, limit) from exc
                await self.async_sleep(tool.retry.delay(attempt, self.rand))
                continue
            return self._outcome(tool, args, raw, attempt, start)

    # ------------------------------------------------------------------ steps

    @staticmethod
    def _validate_arguments(tool: Tool[Any, Any], arguments: Mapping[str, Any] | BaseModel) -> BaseModel:
        try:
            validated: BaseModel
            if isinstance(arguments, tool.args_model):
                validated = tool.args_model.model_validate(arguments.model_dump())
                return validated
            data = arguments.model_dump() if isinstance(arguments, BaseModel) else arguments
            unknown = _unknown_keys(tool.args_model, data)
            if unknown:
                raise ToolCallError(
                    f"unknown arguments {', '.join(sorted(unknown))}, the tool was not called; "
                    f"it takes: {', '.join(sorted(tool.args_model.model_fields)) or 'no arguments'}",
                    tool=tool.name,
                    kind="invalid_arguments",
                )
            validated = tool.args_model.model_validate(data)
            return validated
        except ValidationError as exc:
            raise ToolCallError(
                f"invalid arguments, the tool was not called: {describe_validation_error(exc)}",
                tool=tool.name,
                kind="invalid_arguments",
                cause=exc,
            ) from exc

    @staticmethod
    def _attempt_sync(tool: Tool[Any, Any], args: BaseModel, limit: float | None) -> object:
        func, afunc = tool.func, tool.afunc
        if func is not None:
            if limit is None:
                return func(args)
            return _run_in_thread(lambda: func(args), limit)
        assert afunc is not None

        async def run_async() -> object:
            return await afunc(args)

        return _run_in_thread(lambda: asyncio.run(run_async()), limit)

    @staticmethod
    async def _attempt_async(tool: Tool[Any, Any], args: BaseModel) -> object:
        if tool.afunc is not None:
            return await tool.afunc(args)
        func = tool.func
        assert func is not None
        return await _await_in_thread(lambda: func(args))

    @staticmethod
    def _give_up(tool: Tool[Any, Any], exc: Exception, attempt: int) -> bool:
        return isinstance(exc, ToolError) or attempt >= tool.max_attempts

    def _failure(
        self, tool: Tool[Any, Any], exc: Exception, attempts: int, start: float, limit: float | None
    ) -> ToolCallError:
        kind: ToolErrorKind
        if isinstance(exc, TimeoutError):
            kind, message = "timeout", f"no answer within {limit} s"
        else:
            kind, message = "failed", f"{type(exc).__name__}: {exc}"
        if attempts > 1:
            message += f" (after {attempts} attempts)"
        unknown = tool.side_effect == "non_idempotent"
        if unknown:
            message += "; it is not idempotent, so whether its effect happened is unknown"
        return ToolCallError(
            message,
            tool=tool.name,
            kind=kind,
            attempts=attempts,
            latency_s=self.clock() - start,
            effect_unknown=unknown,
            cause=exc,
        )

    def _outcome(
        self, tool: Tool[Any, Any], args: BaseModel, raw: object, attempts: int, start: float
    ) -> ToolOutcome[BaseModel]:
        try:
            result = tool.result_model.model_validate(raw)
        except ValidationError as exc:
            raise ToolCallError(
                f"returned an invalid result: {describe_validation_error(exc)}",
                tool=tool.name,
                kind="invalid_result",
                attempts=attempts,
                latency_s=self.clock() - start,
                cause=exc,
            ) from exc
        return ToolOutcome(
            tool=tool.name,
            side_effect=tool.side_effect,
            arguments=args.model_dump(mode="json"),
            result=result,
            attempts=attempts,
            latency_s=self.clock() - start,
        )
