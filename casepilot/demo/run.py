"""``casepilot demo``: the flagship claim-triage case run end to end on embedded defaults.

SQLite, the offline RulePlanner and models shipped in wheels (spaCy for PII, VADER for
sentiment): nothing is downloaded. Two claims are worked: one settles straight through;
the other is routed by the DMN guardrail's conditions to a senior analyst, whose decision
(made here by a scripted person) resumes the case. The history of each is verified.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from casepilot.agent.orchestrator import Orchestrator, Person
from casepilot.agent.timeline import HIDDEN_KINDS, describe_event
from casepilot.demo.tools import CLAIM_TOOLS
from casepilot.store import Store
from casepilot.tools import ToolRegistry
from casepilot.tools.builtin import builtin_tools

__all__ = ["EXAMPLE", "LETTERS", "demo_registry", "run_demo"]

EXAMPLE = Path(__file__).resolve().parent / "claims"
"""The claim-triage bundle; it ships inside the package (``examples/claims`` in the repository
points here), so ``casepilot demo`` works from an installed wheel."""

LETTERS = {
    "straight-through": (
        "Dear claims team, my name is John Smith and my parked car was hit on 3 May. "
        "The garage quotes EUR 1,250.50 for the repair. You can reach me at john.smith@example.com. "
        "Thank you for your help!"
    ),
    "senior-review": (
        "This is the third time I write. Nobody answers my calls and I am furious. "
        "Mary Jones, phone +44 20 7946 0958, wants the EUR 800 for the broken mirror now."
    ),
}


def demo_registry() -> ToolRegistry:
    """The built-in tools plus the claim example's domain tools."""
    return ToolRegistry([*builtin_tools(), *CLAIM_TOOLS])


def _timeline(console: Console, store: Store, case_id: str) -> None:
    table = Table(title=f"history of case {case_id[:8]}…", show_lines=False)
    for col in ("#", "kind", "actor", "what"):
        table.add_column(col)
    for event in store.history(case_id):
        if event.kind in HIDDEN_KINDS:
            continue
        what = describe_event(event, width=100)
        table.add_row(str(event.seq), event.kind, event.actor, what)
    console.print(table)


def run_demo(db_url: str | None = None, *, console: Console | None = None, verbose: bool = True) -> dict[str, str]:
    """Run both demo claims; returns case id -> final state."""
    console = console or Console()
    if db_url is None:
        db_url = f"sqlite:///{tempfile.mkdtemp(prefix='casepilot-demo-')}/demo.db"
    store = Store.from_url(db_url)
    orch = Orchestrator(store, demo_registry())
    try:
        with console.status("deploying examples/claims (parsing CMMN, DMN, bindings)…"):
            version = orch.deploy(EXAMPLE)
        console.print(f"[bold]deployed[/bold] {version.key} v{version.version} ({version.content_hash[:12]}) into {db_url}")
        results: dict[str, str] = {}
        for label, letter in LETTERS.items():
            console.rule(f"[bold]{label}")
            with console.status("loading the offline PII and sentiment models…"):
                case = orch.start_case(version.key, {"letter": letter, "policy": "POL-2026-0042"}, business_key=label)
            outcome = orch.run(case.id)
            console.print(f"run stopped: [bold]{outcome.reason}[/bold] after {outcome.steps} steps")
            for task in outcome.pending:
                analyst = Person("Ann Analyst", {task.role or "senior analyst"})
                console.print(f"inbox: {task.prompt!r} for a {task.role} → {analyst.name} decides 'approve'")
                orch.decide(task.id, analyst, "approve", "customer's documents verified by phone")
            if outcome.pending:
                outcome = orch.run(case.id)
                console.print(f"resumed: [bold]{outcome.reason}[/bold] after {outcome.steps} more steps")
            if verbose:
                _timeline(console, store, case.id)
            report = store.verify(case.id)
            console.print(f"history verified: {report.ok} ({report.events_checked} events, hash-chained)")
            console.print("the agent answers: " + orch.chat(case.id, "person:Ann Analyst", "What is the status?"))
            results[case.id] = outcome.case_state
        return results
    finally:
        orch.close()
        store.close()
