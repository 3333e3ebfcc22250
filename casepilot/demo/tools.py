"""Domain tools of the motor-claim example (``examples/claims``).

They are deliberately simple but real: ``extract_claim`` reads the claimed amount out of a
customer's letter (in the usual European and English notations, exactly, by the rules of
:mod:`casepilot.demo.amounts`) and reports how sure it is; ``send_rejection`` drafts the
letter that leaves the company (an external tool, so its arguments are redacted). The claim is
paid by the BPMN process ``payment.bpmn``, whose tools are in :mod:`casepilot.demo.payment_tools`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from casepilot.demo.amounts import pick_claim
from casepilot.demo.payment_tools import PAYMENT_TOOLS
from casepilot.tools import Tool, tool

__all__ = ["CLAIM_TOOLS", "extract_claim", "send_rejection"]


class ExtractClaimArgs(BaseModel):
    text: str = Field(description="the customer's letter")


class ExtractClaimResult(BaseModel):
    amount: Decimal | None = Field(description="the claimed amount, if one was found")
    currency: str | None = Field(description="its ISO 4217 code, if a currency marker said which")
    confidence: float = Field(ge=0, le=1, description="how sure the extraction is")
    amounts_found: int = Field(description="how many candidate amounts the letter holds (repeats included)")


@tool(name="extract_claim")
def extract_claim(args: ExtractClaimArgs) -> ExtractClaimResult:
    """Extract the claimed amount and currency from a customer's letter, with a confidence score.

    The amount decides the case's route (over 10,000 or confidence below 0.75 → senior
    analyst), so the reading rules, the choice among several amounts and the confidence
    scale are spelled out in :mod:`casepilot.demo.amounts`.
    """
    pick = pick_claim(args.text)
    return ExtractClaimResult(amount=pick.amount, currency=pick.currency, confidence=pick.confidence,
                              amounts_found=pick.candidates)


class RejectionArgs(BaseModel):
    letter: str = Field(description="the customer's original letter, quoted in the reply")
    reason: str = "the claim is not covered by the policy"


class RejectionResult(BaseModel):
    sent_text: str


@tool(name="send_rejection", side_effect="non_idempotent", message_fields=("reason",))
def send_rejection(args: RejectionArgs) -> RejectionResult:
    """Send the customer a rejection letter (leaves the company: its arguments are redacted).

    The reason is what the company says to the customer: it passes the bundle's output rail
    before the letter goes (``message_fields``); the customer's own letter, quoted back, does not.
    """
    quoted = args.letter.strip().replace("\n", " ")
    return RejectionResult(sent_text=f"We are sorry: {args.reason}. Regarding your letter: “{quoted[:200]}”")


CLAIM_TOOLS: tuple[Tool[Any, Any], ...] = (
    extract_claim,
    send_rejection,
    *PAYMENT_TOOLS,
)
"""The claims bundle's tools (``tools:`` in its manifest): the triage's and the payment process's."""
