"""Embedding casepilot's orchestrator in a service — the example the README shows; the tests run it.

Run: ``python examples/embedding.py [DATABASE_URL]`` (default: a SQLite file in a temporary
folder; ``postgresql+psycopg://user@host/db`` works the same).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from casepilot.agent import Orchestrator, Person
from casepilot.demo.tools import CLAIM_TOOLS
from casepilot.store import Store
from casepilot.tools import ToolRegistry
from casepilot.tools.builtin import builtin_tools

BUNDLE = Path(__file__).parent / "claims"  # CMMN and BPMN models, bindings, DMN guardrails, policies
ANN = Person("ann", frozenset({"senior analyst"}))


def handle_claim(store_url: str, letter: str, claim_number: str, payee: str, iban: str) -> str:
    """Work one claim to its end; a senior analyst approves when the guardrail asks for one.
    The payment process (payment.bpmn) pays ``payee`` at ``iban``; above 1,000 it would wait for a claims manager."""
    registry = ToolRegistry([*builtin_tools(), *CLAIM_TOOLS])  # typed tools (pydantic models)
    with Store.from_url(store_url) as store:
        orch = Orchestrator(store, registry)  # offline RulePlanner unless OPENAI_BASE_URL is set
        try:
            orch.deploy(BUNDLE)  # validated; a new version only when the content changed
            claim = {"letter": letter, "claim_id": claim_number, "payee": payee, "iban": iban}
            case = orch.start_case("claim-triage", claim, business_key=claim_number)
            outcome = orch.run(case.id)  # stops when done, or waiting for people (outcome.pending)
            for task in orch.pending(case.id, role="senior analyst"):
                orch.decide(task.id, ANN, "approve", "documents verified by phone")
            if outcome.pending:
                outcome = orch.run(case.id)  # resumes — in this process or in any other worker
            print(orch.chat(case.id, "person:ann", "What is the status?"))
            return outcome.case_state
        finally:
            orch.close()


if __name__ == "__main__":
    url = sys.argv[1] if len(sys.argv) > 1 else f"sqlite:///{tempfile.mkdtemp()}/cases.db"
    letter = "I am furious. Mary Jones, +44 20 7946 0958, wants the EUR 800 for the broken mirror now."
    print(handle_claim(url, letter, "CLM-4711", "Mary Jones", "GB82WEST12345698765432"))
