"""Typed tools for the orchestrator: registry, execution, CMMN bindings, built-in tools.

* ``Tool`` / ``@tool`` — a name, a description, pydantic argument and result models, a
  side-effect class, a timeout and a retry policy; ``tool.openai_schema()`` for planners.
* ``ToolRegistry`` — ``invoke`` / ``ainvoke`` validate, time-limit, retry (idempotent and
  read-only tools only) and validate the result; failures are ``ToolCallError``.
  LangChain ``BaseTool``s register as they are.
* ``load_bindings`` — which tool runs which CMMN task (``casepilot:tool`` attributes or
  ``bindings.yaml``), checked against the registry; ``build_arguments`` (with provenance)
  and ``apply_results`` map case-file variables to and from a call.
* ``resolve_bundle_tools`` / ``bundle_registry`` — the tools a bundle names in ``tools:`` of
  its ``casepilot.yaml`` (bundle code or installed modules, entry points), one place for the
  CLI, the service, the worker and the Python API.
* ``casepilot.tools.builtin`` — offline OCR, sentiment, summarisation, DMN decisions.
"""

from __future__ import annotations

from ._decorator import tool
from ._errors import ToolCallError, ToolErrorKind
from ._execute import Executor
from ._model import DEFAULT_RETRY, NO_RETRY, RetryPolicy, SideEffect, Tool, ToolOutcome
from .binding import (
    ArgumentSource,
    BindingSet,
    BoundArguments,
    FromCaseFile,
    LiteralValue,
    Provenance,
    ToolBinding,
    Trust,
    apply_results,
    build_arguments,
    result_provenance,
)
from .binding_loader import BINDABLE_KINDS, BINDING_FILE, EXTENSION_NS, load_bindings
from .bundle_tools import ENTRY_POINT_GROUP, add_tools, bundle_registry, resolve_bundle_tools, resolve_tools
from .langchain import LangChainResult, from_langchain
from .registry import ToolRegistry

__all__ = [
    "BINDABLE_KINDS",
    "BINDING_FILE",
    "DEFAULT_RETRY",
    "ENTRY_POINT_GROUP",
    "EXTENSION_NS",
    "NO_RETRY",
    "ArgumentSource",
    "BindingSet",
    "BoundArguments",
    "Executor",
    "FromCaseFile",
    "LangChainResult",
    "LiteralValue",
    "Provenance",
    "RetryPolicy",
    "SideEffect",
    "Tool",
    "ToolBinding",
    "ToolCallError",
    "ToolErrorKind",
    "ToolOutcome",
    "ToolRegistry",
    "Trust",
    "add_tools",
    "apply_results",
    "build_arguments",
    "bundle_registry",
    "from_langchain",
    "load_bindings",
    "resolve_bundle_tools",
    "resolve_tools",
    "result_provenance",
    "tool",
]
