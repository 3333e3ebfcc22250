"""``ToolRegistry``: the tools an orchestrator may call, by name, and the one way to call them.

The orchestrator's ``act`` step calls ``invoke``/``ainvoke`` with a name and arguments
(from a binding or from the planner); it gets back a ``ToolOutcome`` or a
``ToolCallError`` — never a raw exception — so that every call ends in one history event.
The planner reads ``openai_schemas()``. Register tools at start-up; the registry is not
meant to change while cases run.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from langchain_core.tools import BaseTool
from pydantic import BaseModel

from casepilot.errors import DefinitionError

from ._errors import ToolCallError
from ._execute import Executor
from ._model import Tool, ToolOutcome
from .langchain import from_langchain

__all__ = ["ToolRegistry"]


class ToolRegistry:
    """Tools by name, with validated, time-limited, retried execution."""

    def __init__(
        self, tools: Iterable[Tool[Any, Any] | BaseTool] = (), *, executor: Executor | None = None
    ) -> None:
        self._tools: dict[str, Tool[Any, Any]] = {}
        self._executor = executor or Executor()
        for t in tools:
            self.register(t)

    # ------------------------------------------------------------------ registration

    def register(self, tool: Tool[Any, Any] | BaseTool, *, replace: bool = False) -> Tool[Any, Any]:
        """Add ``tool``; a LangChain ``BaseTool`` is wrapped with ``from_langchain`` defaults.

        Registering a second tool under a taken name is an error unless ``replace`` is true.
        """
        wrapped = from_langchain(tool) if isinstance(tool, BaseTool) else tool
        if not isinstance(wrapped, Tool):
            raise DefinitionError(
                f"cannot register {tool!r}: expected a casepilot Tool or a LangChain BaseTool"
            )
        if wrapped.name in self._tools and not replace:
            raise DefinitionError(f"a tool named {wrapped.name!r} is already registered")
        self._tools[wrapped.name] = wrapped
        return wrapped

    # ------------------------------------------------------------------ lookup

    def get(self, name: str) -> Tool[Any, Any]:
        """The tool called ``name``; ``ToolCallError(kind="unknown_tool")`` with suggestions if none."""
        try:
            return self._tools[name]
        except KeyError:
            raise ToolCallError(self._unknown_message(name), tool=name, kind="unknown_tool") from None

    def _unknown_message(self, name: str) -> str:
        close = difflib.get_close_matches(name, list(self._tools), n=3)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        known = ", ".join(sorted(self._tools)) or "none"
        return f"no such tool{hint} (registered: {known})"

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self) -> Iterator[Tool[Any, Any]]:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    def names(self) -> list[str]:
        """Registered tool names, sorted."""
        return sorted(self._tools)

    def openai_schemas(self, names: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """OpenAI function-calling schemas of the named tools (all tools, sorted, by default)."""
        chosen = self.names() if names is None else list(names)
        return [self.get(n).openai_schema() for n in chosen]

    # ------------------------------------------------------------------ execution

    def invoke(
        self, name: str, arguments: Mapping[str, Any] | BaseModel, *, timeout: float | None = None
    ) -> ToolOutcome[BaseModel]:
        """Validate ``arguments``, run the tool (timeout per attempt, retries if idempotent), validate the result.

        ``timeout`` overrides the tool's own limit for this call. Raises ``ToolCallError``.
        """
        return self._executor.invoke(self.get(name), arguments, timeout)

    async def ainvoke(
        self, name: str, arguments: Mapping[str, Any] | BaseModel, *, timeout: float | None = None
    ) -> ToolOutcome[BaseModel]:
        """Like ``invoke``, on the running event loop (sync tools run in a thread)."""
        return await self._executor.ainvoke(self.get(name), arguments, timeout)
