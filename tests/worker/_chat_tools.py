"""``_decide_tools`` (every tool execution counted by process) with kill points around carrying out
a confirmed chat proposal in a worker (``casepilot.agent.chat_queued``), same variables as
``_kill_tools``:

* ``chat:before`` — the worker dies when it is about to carry out the person's confirmed option
  (``Orchestrator.run_option``), right after it took the run the confirmation queued;
* ``chat:answer`` — the worker dies after the option was carried out (its plan and verdict
  committed), before it answered the person and removed the request.

Light to import: worker processes load it with ``--tools tests.worker._chat_tools:registry``.
"""

from __future__ import annotations

import os
from typing import Any

from casepilot.tools import ToolRegistry
from tests.worker import _decide_tools, _kill_tools

SPEC = "tests.worker._chat_tools"
BEFORE = "chat:before"
ANSWER = "chat:answer"


def _die_around_carrying_out() -> None:
    from casepilot.agent import chat_queued
    from casepilot.agent.orchestrator import Orchestrator

    run_option = Orchestrator.run_option
    answer = chat_queued._answer

    def run_option_or_die(self: Orchestrator, *args: Any, **kwargs: Any) -> str:
        _kill_tools.die_at(BEFORE)
        return run_option(self, *args, **kwargs)

    def answer_or_die(*args: Any, **kwargs: Any) -> None:
        _kill_tools.die_at(ANSWER)
        answer(*args, **kwargs)

    Orchestrator.run_option = run_option_or_die  # type: ignore[method-assign]
    chat_queued._answer = answer_or_die


if os.environ.get(_kill_tools.ENV_POINT) in (BEFORE, ANSWER):
    _die_around_carrying_out()


def registry() -> ToolRegistry:
    """``casepilot worker --tools tests.worker._chat_tools:registry``."""
    return _decide_tools.registry()
