"""AgentDojo's tools as casepilot tools, acting on one AgentDojo environment at a time.

Every function of a suite (``agentdojo.functions_runtime.Function``) becomes a
``casepilot.tools.Tool`` whose argument model is the function's own pydantic ``parameters``
model (built by AgentDojo's ``make_function`` from the signature and docstring), whose
description is the function's docstring, and whose side-effect class and tags come from
``labels``. The call itself goes through AgentDojo's ``FunctionsRuntime.run_function``, so
the tool does exactly what it does in AgentDojo's own benchmark — including returning an
error message as its result instead of raising (that is what a model sees there).

The environment is swapped per case (``Workbench.use``): the registry is built once per
suite and deployed once, the world it acts on is fresh for every user task.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from agentdojo.agent_pipeline.tool_execution import tool_result_to_str
from agentdojo.functions_runtime import FunctionCall, FunctionsRuntime, TaskEnvironment
from agentdojo.task_suite.task_suite import TaskSuite
from pydantic import BaseModel, Field

from bench.agentdojo.labels import RECORD_FIELDS, ToolLabel
from casepilot.tools import NO_RETRY, Tool, ToolRegistry

__all__ = ["ToolText", "Workbench", "build_registry", "record_values"]


class ToolText(BaseModel):
    """A tool's result as AgentDojo shows it to a model: YAML text, or the error message.

    ``outputs`` repeats every earlier result of the same tool in the case, so that the case
    file (where the binding maps it) keeps everything the tools returned — as a model's
    context would — and provenance can find a value in any of them, not only the latest.
    """

    output: str = Field(description="the tool's result (YAML) or its error message")
    outputs: list[str] = Field(description="every result of this tool in this case so far, oldest first")
    records: list[str | int] = Field(description="every record value (labels.RECORD_FIELDS, or the whole result of "
                                     "a directory tool) this tool returned in this case so far")


@dataclass
class Workbench:
    """The environment the suite's tools act on now, and the calls that actually ran on it.

    ``trace`` is what AgentDojo's ``utility_from_traces`` / ``security_from_traces`` read: the
    calls that reached the environment (a call governance blocked or parked never appears).
    """

    runtime: FunctionsRuntime
    environment: TaskEnvironment | None = None
    trace: list[FunctionCall] = field(default_factory=list)
    outputs: dict[str, list[str]] = field(default_factory=dict)
    """Per tool, the texts it returned on the current environment."""
    records: dict[str, list[str | int]] = field(default_factory=dict)
    """Per tool, the record values (who reads an item, which item it is) it returned on the current environment."""
    directories: frozenset[str] = frozenset()
    """The tools whose whole result is the account's directory (``ToolLabel.directory``)."""

    @contextmanager
    def use(self, environment: TaskEnvironment) -> Iterator[list[FunctionCall]]:
        """Act on ``environment`` inside the block; yields the trace of calls that ran."""
        self.environment, self.trace, self.outputs, self.records = environment, [], {}, {}
        try:
            yield self.trace
        finally:
            self.environment = None

    def call(self, name: str, arguments: Mapping[str, Any]) -> ToolText:
        """Run one AgentDojo function on the current environment; its text result (or error)."""
        if self.environment is None:
            raise RuntimeError(f"tool {name!r} called outside Workbench.use(): no environment to act on")
        self.trace.append(FunctionCall(function=name, args=dict(arguments)))
        result, error = self.runtime.run_function(self.environment, name, dict(arguments))
        text = error if error is not None else tool_result_to_str(result)
        seen = self.outputs.setdefault(name, [])
        seen.append(text)
        found = self.records.setdefault(name, [])
        if error is None:
            found.extend(v for v in record_values(result, whole=name in self.directories) if v not in found)
        return ToolText(output=text, outputs=list(seen), records=list(found))


def record_values(value: Any, *, whole: bool) -> Iterator[str | int]:
    """The values of ``value`` (a tool's raw result) that sit in a record field (``RECORD_FIELDS``): strings
    and integers, each element of a list, each key of a mapping (``shared_with``: address -> permission).
    With ``whole`` (a directory tool), every string or integer in it."""
    if isinstance(value, BaseModel):
        value = value.model_dump()
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, str | int):
        if whole:
            yield value
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if str(key) in RECORD_FIELDS:
                yield from record_values(list(item) if isinstance(item, Mapping) else item, whole=True)
            else:
                yield from record_values(item, whole=whole)
    elif isinstance(value, list | tuple | set):
        for item in value:
            yield from record_values(item, whole=whole)


def _tool(bench: Workbench, name: str, label: ToolLabel) -> Tool[Any, ToolText]:
    function = bench.runtime.functions[name]
    params: type[BaseModel] = function.parameters

    def run(args: BaseModel) -> ToolText:
        # Only the arguments the planner wrote: AgentDojo fills its own defaults, as it does for a model.
        return bench.call(name, args.model_dump(exclude_unset=True))

    return Tool(
        name=name,
        description=function.description,
        args_model=params,
        result_model=ToolText,
        side_effect=label.side_effect,
        tags=label.tags,
        targets=label.targets,
        # In-memory functions: run in the caller's thread, and never retried (a retry of a
        # failed call is the planner's business, as it is in AgentDojo).
        timeout=None,
        retry=NO_RETRY,
        func=run,
    )


def build_registry(suite: TaskSuite[Any], labels: Mapping[str, ToolLabel]) -> tuple[ToolRegistry, Workbench]:
    """A registry with one casepilot tool per function of ``suite``, and the workbench they act on."""
    bench = Workbench(FunctionsRuntime(suite.tools),
                      directories=frozenset(name for name, label in labels.items() if label.directory))
    registry = ToolRegistry(_tool(bench, f.name, labels[f.name]) for f in suite.tools)
    return registry, bench
