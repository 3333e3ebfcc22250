"""The case a retrieval tool runs for, when the loop calls it.

The ``retrieve`` tool routes each call by a DMN decision (``casepilot.rag.Router``) on the
case's definition, stage and the kinds of personal data present. A binding rarely maps
those into the tool's arguments, so the loop sets them around the call
(``retrieval_context``): the route then follows the case, and the route, its rule ids and
the citations come back in the tool's result, which ``record`` writes with the call.

Only tools tagged ``rag`` (what ``retrieve_tool`` builds) get a context; any other call
pays nothing for it.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING

from casepilot.agent.model_routing import pii_types_in
from casepilot.tools.builtin.retrieve import RetrievalContext, retrieval_context

if TYPE_CHECKING:
    from casepilot.agent.context import LoadedCase
    from casepilot.agent.facts import StartedCall
    from casepilot.tools import ToolRegistry

__all__ = ["RETRIEVAL_TAG", "case_context", "retrieval_scope"]

RETRIEVAL_TAG = "rag"


def case_context(loaded: LoadedCase, stage: str | None = None) -> RetrievalContext:
    """The retrieval context of ``loaded``: its definition, ``stage`` (else its first active stage) and
    the PII types whose pseudonyms its case file holds."""
    engine = loaded.engine
    assert engine is not None
    if stage is None:
        stage = next((v.name for v in engine.items() if v.kind == "stage" and v.state == "active"), None)
    return RetrievalContext(definition=loaded.bundle.key, stage=stage, pii_types=pii_types_in(engine.variables()))


def retrieval_scope(registry: ToolRegistry, loaded: LoadedCase, call: StartedCall) -> AbstractContextManager[None]:
    """Around the loop's call ``call``: the case's retrieval context for a retrieval tool, else nothing."""
    if RETRIEVAL_TAG not in registry.get(call.tool).tags:
        return nullcontext()
    stage = call.option.get("stage")
    return retrieval_context(case_context(loaded, str(stage) if stage else None))
