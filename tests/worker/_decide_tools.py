"""The kill-point claim tools of ``_kill_tools``, with every tool execution counted by process.

For the tests of decisions behind ``casepilot serve`` with workers: a person decides a payment
process's item in the server, and the process must run on in a worker, never in the server.
Every ``ToolRegistry.invoke`` — the one way casepilot runs a tool, for a CMMN task's call and a
BPMN service task's alike — inserts ``(tool, pid)`` into ``tool_invocations`` (autocommit,
before the tool runs) of the database named by ``CASEPILOT_TOOL_RUNS_URL``; a test compares
the process ids with its own (the server's, when the app is served in the test process).

One more kill point than ``_kill_tools``'s (same variables): ``decided:run_on`` — a worker
dies when it is about to run a process on from its stored state (``ProcessRunner.resume``),
i.e. right after it took the run that a person's recorded decision queued, before anything of
the process ran.

Light to import: worker processes load it with ``--tools tests.worker._decide_tools:registry``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from casepilot.tools import ToolOutcome, ToolRegistry
from casepilot.tools.builtin import builtin_tools
from tests.worker import _kill_tools, _tools

TABLE = "CREATE TABLE IF NOT EXISTS tool_invocations (id bigserial PRIMARY KEY, tool text NOT NULL, pid int NOT NULL)"
SPEC = "tests.worker._decide_tools"
RUN_ON = "decided:run_on"
"""The kill point inside a worker, before a process runs on from a recorded decision."""

CLAIM_TOOLS = _kill_tools.CLAIM_TOOLS
"""What the claims bundle names in ``tools:`` (``_storm.claims_bundle(folder, SPEC)``)."""


class CountingRegistry(ToolRegistry):
    """A registry that records which process executes each tool, before it runs."""

    def invoke(
        self, name: str, arguments: Mapping[str, Any] | BaseModel, *, timeout: float | None = None
    ) -> ToolOutcome[BaseModel]:
        _tools._conn().execute(
            "INSERT INTO tool_invocations (tool, pid) VALUES (%s, %s)", (name, os.getpid())
        )
        return super().invoke(name, arguments, timeout=timeout)


def _die_before_running_on() -> None:
    from casepilot.bpmn.runner import ProcessRunner

    resume = ProcessRunner.resume.__func__  # type: ignore[attr-defined]

    def resume_or_die(cls: type[ProcessRunner], *args: Any, **kwargs: Any) -> ProcessRunner:
        _kill_tools.die_at(RUN_ON)
        runner: ProcessRunner = resume(cls, *args, **kwargs)
        return runner

    ProcessRunner.resume = classmethod(resume_or_die)  # type: ignore[method-assign,assignment]


if os.environ.get(_kill_tools.ENV_POINT) == RUN_ON:
    _die_before_running_on()


def registry() -> ToolRegistry:
    """``casepilot worker --tools tests.worker._decide_tools:registry`` (and the server's, in the test)."""
    return CountingRegistry([*builtin_tools(), *CLAIM_TOOLS])
