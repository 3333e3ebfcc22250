"""``casepilot show CASE``: where a case stands, in a terminal — what the case page shows first.

Its state and kind (a CMMN case, or a BPMN process started on its own), its plan items, its
BPMN processes with the elements holding a token (``--svg FILE`` writes a process's diagram,
drawn from its BPMN DI with the tokens marked), its case file (pseudonymised, as stored) and
its open inbox items with their roles. The history is ``casepilot history CASE``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from rich.markup import escape
from rich.table import Table

from casepilot.agent._process_cases import process_views
from casepilot.agent.privacy import jsonable
from casepilot.errors import NotFound

if TYPE_CHECKING:
    from rich.console import Console

    from casepilot.agent.orchestrator import Orchestrator

__all__ = ["print_case"]


def print_case(orch: Orchestrator, case_id: str, console: Console, *, svg: Path | None = None,
               process: str | None = None) -> None:
    """Print the case (see the module docstring); with ``svg``, write a process's diagram there."""
    loaded = orch.runtime.load(case_id)
    record, engine = loaded.record, loaded.engine
    kind = f"BPMN process {loaded.facts.process}" if loaded.facts.process else "CMMN case"
    console.print(f"[bold]{escape(record.definition_key)}[/bold] v{record.definition_version} · {kind} · "
                  f"{engine.state if engine is not None else 'starting'}"
                  + (f" · {escape(record.business_key)}" if record.business_key else ""), highlight=False)
    if engine is not None and not loaded.facts.process:  # a process's one-task plan says nothing more
        items = Table("plan item", "kind", "state", title="plan")
        for item in engine.items():
            items.add_row(escape(item.name), item.kind, item.state)
        console.print(items)
    views = process_views(loaded, with_svg=svg is not None)
    for view in views:
        tokens = ", ".join(view.active) or "none"
        console.print(f"process {escape(view.process_id)} ({escape(view.instance_id)}): {view.status}; tokens at "
                      f"{escape(tokens)}" + (f"; next timer {view.next_timer}" if view.next_timer else ""),
                      highlight=False)
    variables = engine.variables() if engine is not None else {}
    if variables:
        console.print("case file: " + escape(json.dumps(jsonable(variables), ensure_ascii=False, sort_keys=True)),
                      highlight=False)
    for task in orch.pending(case_id):
        console.print(f"waiting: {escape(task.prompt)} — for {escape(task.role or 'the operator')} ({task.id})",
                      highlight=False)
    if svg is not None:
        chosen = next((v for v in views if process is None or v.instance_id == process), None)
        if chosen is None:
            raise NotFound(f"case {case_id} runs no BPMN process" + (f" as {process!r}" if process else "")
                           + (f"; its processes: {', '.join(v.instance_id for v in views)}" if views else ""))
        if chosen.svg is None:
            raise NotFound(f"process {chosen.process_id!r} has no diagram: its BPMN file carries no BPMN DI "
                           "(draw it in a modeler such as bpmn.io)")
        svg.write_text(chosen.svg, encoding="utf-8")
        console.print(f"wrote the diagram of {escape(chosen.process_id)} to {escape(str(svg))}", highlight=False)
