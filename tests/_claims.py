"""What a test needs to work a flagship claim (``examples/claims``) to its end.

The claim is paid by the BPMN process ``payment`` (the case's process task "Pay claim"): it
validates the payee and IBAN the claim form gives with the letter (``claim_id``, ``payee``,
``iban``; without them a claims handler must correct the payment first), lets
``payment-approval.dmn`` say who approves (a claims manager above 1,000), pays with
``pay_claim`` (non-idempotent: a transfer at the bank, referenced by ``claim_id``) and confirms.

* :func:`claim` — the case variables of a demo letter plus its claimant's payment details;
* :data:`SMALL_LETTER` — the straight-through letter claiming 950 instead of 1,250.50, paid
  without any person (for tests about workers, queues and crashes rather than about people);
* :func:`manager_approves` — the claims manager's approval a payment above 1,000 waits for.

Light to import (no pytest): subprocesses of the worker and restart tests load it too.
"""

from __future__ import annotations

from typing import Any

from casepilot.agent.orchestrator import Orchestrator, Person
from casepilot.demo.run import CLAIMANTS, LETTERS

__all__ = ["MANAGER", "PAY_TO", "SMALL_AMOUNT", "SMALL_LETTER", "claim", "manager_approves"]

PAY_TO = {"payee": CLAIMANTS["straight-through"]["payee"], "iban": CLAIMANTS["straight-through"]["iban"]}
"""Where the claim form says to pay: a well-formed IBAN, so the payment's validation passes."""

SMALL_AMOUNT = "950.00"
SMALL_LETTER = LETTERS["straight-through"].replace("EUR 1,250.50", f"EUR {SMALL_AMOUNT}")
"""The straight-through letter for a claim the payment pays without a claims manager (≤ 1,000)."""
if "EUR 1,250.50" not in LETTERS["straight-through"]:
    raise RuntimeError("the demo's straight-through letter no longer claims EUR 1,250.50: update tests/_claims.py")

MANAGER = Person("max", {"claims manager"})


def claim(label_or_letter: str, claim_id: str, **more: Any) -> dict[str, Any]:
    """The variables a claim case starts with: the letter (a key of ``LETTERS``, ``"small"`` for
    :data:`SMALL_LETTER`, or a letter's text), its ``claim_id`` (the transfer's reference, what
    ``pay_claim`` is counted by) and where to pay; ``more`` adds or overrides variables."""
    letter = SMALL_LETTER if label_or_letter == "small" else LETTERS.get(label_or_letter, label_or_letter)
    return {"letter": letter, "claim_id": claim_id, **PAY_TO, **more}


def manager_approves(orch: Orchestrator, case_id: str, person: Person = MANAGER) -> None:
    """Decide the one open item of ``case_id``: the payment process's approval by a claims manager."""
    [task] = orch.pending(case_id)
    assert (task.role, task.plan_item) == ("claims manager", "approve"), (task.role, task.plan_item, task.prompt)
    orch.decide(task.id, person, "complete", values={"approved": True})
