"""``casepilot demo``: the flagship claim-triage case run end to end on embedded defaults.

SQLite, the offline RulePlanner and models shipped in wheels (spaCy for PII, VADER for
sentiment): nothing is downloaded. Two claims are worked: one settles straight through;
the other is routed by the DMN guardrail's conditions to a senior analyst, whose decision
(made here by a scripted person) resumes the case. Each claim is paid by the BPMN process
``payment.bpmn`` (the case's process task "Pay claim"): the first needs a claims manager's
approval (above 1,000, says ``payment-approval.dmn``), which a scripted manager gives; for
the second the demo bank refuses the first transfer, so the process's error boundary event
waits a minute (the demo's clock skips it) and pays on the retry. The history of each is
verified.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from casepilot.agent.orchestrator import Orchestrator, Person, RunOutcome
from casepilot.agent.timeline import HIDDEN_KINDS, describe_event
from casepilot.demo.payment_tools import DemoBank, payment_tools
from casepilot.demo.tools import extract_claim, send_rejection
from casepilot.store import HumanTask, Store
from casepilot.tools import ToolRegistry
from casepilot.tools.builtin import builtin_tools

__all__ = ["CLAIMANTS", "EXAMPLE", "LETTERS", "demo_registry", "run_demo"]

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

CLAIMANTS: dict[str, dict[str, str]] = {
    "straight-through": {"claim_id": "CLM-2026-0042", "policy": "POL-2026-0042", "payee": "John Smith",
                         "iban": "DE89370400440532013000"},
    "senior-review": {"claim_id": "CLM-2026-0043", "policy": "POL-2026-0043", "payee": "Mary Jones",
                      "iban": "GB82WEST12345698765432"},
}
"""What the claim form gives with each letter: the claim and policy numbers and where to pay —
the policyholder's account on file (trusted: it comes with the request, not from the letter)."""

BANK_REFUSES = {"senior-review": "bank_unavailable"}
"""Claims whose first transfer the demo bank refuses, to show the payment process's retry."""

PEOPLE: dict[str, tuple[Person, str, dict[str, Any]]] = {
    "senior analyst": (Person("Ann Analyst", {"senior analyst"}), "approve", {}),
    "claims manager": (Person("Max Manager", {"claims manager"}), "complete", {"approved": True}),
}
"""The scripted people: who answers an inbox item of a role, with which choice and form values."""


def demo_registry(bank: DemoBank | None = None) -> ToolRegistry:
    """The built-in tools plus the claim example's domain tools (the payment's on ``bank``, else the demo's ``BANK``)."""
    from casepilot.demo.payment_tools import BANK

    return ToolRegistry([*builtin_tools(), extract_claim, send_rejection,
                         *payment_tools(bank if bank is not None else BANK)])


@dataclass
class _Clock:
    """Real time, plus what the demo skipped (a process's back-off timer) so nobody waits a minute."""

    skipped: dt.timedelta = dt.timedelta(0)

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.skipped


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


def _answer(console: Console, orch: Orchestrator, task: HumanTask) -> bool:
    """The scripted person of the item's role decides it; False when the demo has nobody for that role."""
    person, choice, values = PEOPLE.get(task.role or "", (None, "", {}))
    if person is None:
        console.print(f"inbox: {task.prompt!r} for a {task.role or 'operator'} — nobody in the demo answers it")
        return False
    given = ", ".join(f"{k}={v}" for k, v in values.items())
    console.print(f"inbox: {task.prompt!r} for a {task.role} → {person.name} decides {choice!r}"
                  + (f" ({given})" if given else ""))
    comment = "customer's documents verified by phone" if choice == "approve" else None
    orch.decide(task.id, person, choice, comment, values=values or None)
    return True


def _work(console: Console, orch: Orchestrator, clock: _Clock, case_id: str, outcome: RunOutcome) -> RunOutcome:
    """Answer the inbox and wait out the process's timers until the case ends or nobody can go on."""
    for _ in range(6):
        if outcome.case_state != "active":
            break
        if outcome.pending:
            if not all([_answer(console, orch, task) for task in outcome.pending]):
                break
        elif outcome.reason == "waiting_for_events" and _payment_waits(orch, case_id):
            clock.skipped += dt.timedelta(minutes=1)
            console.print("the payment process waits a minute before it pays again — the demo's clock skips it")
        else:
            break
        outcome = orch.run(case_id)
        console.print(f"resumed: [bold]{outcome.reason}[/bold] after {outcome.steps} more steps")
    return outcome


def _payment_waits(orch: Orchestrator, case_id: str) -> bool:
    """The case's payment process waits on a timer (its back-off after a refused transfer)."""
    entries: Mapping[str, Any] = orch.runtime.load(case_id).facts.processes
    return any(e.get("next_timer") for e in entries.values())


def run_demo(db_url: str | None = None, *, console: Console | None = None, verbose: bool = True,
             bank: DemoBank | None = None) -> dict[str, str]:
    """Run both demo claims; returns case id -> final state. ``bank``: the bank the payments go
    to (a fresh :class:`DemoBank` when not given; a test passes its own to see the transfers)."""
    console = console or Console()
    if db_url is None:
        db_url = f"sqlite:///{tempfile.mkdtemp(prefix='casepilot-demo-')}/demo.db"
    bank = bank if bank is not None else DemoBank()
    clock = _Clock()
    store = Store.from_url(db_url)
    orch = Orchestrator(store, demo_registry(bank), clock=clock)
    try:
        with console.status("deploying examples/claims (parsing CMMN, BPMN, DMN, bindings)…"):
            version = orch.deploy(EXAMPLE)
        console.print(f"[bold]deployed[/bold] {version.key} v{version.version} ({version.content_hash[:12]}) into {db_url}")
        results: dict[str, str] = {}
        for label, letter in LETTERS.items():
            console.rule(f"[bold]{label}")
            if label in BANK_REFUSES:
                bank.fail_next(BANK_REFUSES[label])
                console.print(f"the demo bank will refuse this claim's first transfer ({BANK_REFUSES[label]})")
            with console.status("loading the offline PII and sentiment models…"):
                case = orch.start_case(version.key, {"letter": letter, **CLAIMANTS[label]}, business_key=label)
            outcome = orch.run(case.id)
            console.print(f"run stopped: [bold]{outcome.reason}[/bold] after {outcome.steps} steps")
            outcome = _work(console, orch, clock, case.id, outcome)
            if verbose:
                _timeline(console, store, case.id)
            paid = [t for t in bank.transfers if t.reference == CLAIMANTS[label]["claim_id"]]
            asked = bank.requests.count(CLAIMANTS[label]["claim_id"])
            console.print(f"paid: {', '.join(f'{t.transfer_id} ({t.amount:.2f})' for t in paid) or 'nothing'}"
                          f" (transfers asked of the bank: {asked})")
            report = store.verify(case.id)
            console.print(f"history verified: {report.ok} ({report.events_checked} events, hash-chained)")
            console.print("the agent answers: " + orch.chat(case.id, "person:Ann Analyst", "What is the status?"))
            results[case.id] = outcome.case_state
        return results
    finally:
        orch.close()
        store.close()
