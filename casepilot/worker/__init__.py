"""Workers on PostgreSQL: any number of processes, on any number of machines, working cases from one queue.

A case's work is a job in pgqueuer's table (``jobs``): run a case, fire a timer, expire a
checkpoint, retry a failed tool. A job is written by the same transaction as the state change
that makes it due (``schedule``), so neither is ever lost without the other. ``casepilot
worker`` (``runner``) takes jobs and works each case under its lease (one worker per case);
``casepilot serve`` on PostgreSQL only enqueues and answers at once (``casepilot.api``).
SQLite keeps the single in-process mode: no queue, no worker. Needs the ``postgres`` extra.

The names below are imported when first used, not with the package: ``casepilot worker
--processes N --metrics-port`` must choose prometheus_client's multiprocess mode before
anything imports that library, and the agent stack (which ``schedule`` needs) does.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from casepilot.worker import _requires as _requires  # first: the postgres extra, or one clear line

if TYPE_CHECKING:
    from casepilot.worker.jobs import ENTRYPOINTS, Job
    from casepilot.worker.schedule import JobScheduler

__all__ = ["ENTRYPOINTS", "Job", "JobScheduler"]

_LAZY = {"ENTRYPOINTS": "casepilot.worker.jobs", "Job": "casepilot.worker.jobs",
         "JobScheduler": "casepilot.worker.schedule"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
