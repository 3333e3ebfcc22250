"""Domain tools of the motor-claim example (``examples/claims``).

They are deliberately simple but real: ``extract_claim`` reads the claimed amount out of a
customer's letter with a pattern and reports how sure it is; ``approve_payment`` books a
payment (non-idempotent: after a crash it goes to a person, never runs twice);
``send_rejection`` drafts the letter that leaves the company (an external tool, so its
arguments are redacted).
"""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal

from pydantic import BaseModel, Field

from casepilot.tools import Tool, tool

__all__ = ["CLAIM_TOOLS", "approve_payment", "extract_claim", "send_rejection"]

_AMOUNT = re.compile(
    r"(?:(?P<cur1>EUR|USD|GBP|CHF|€|\$|£)\s?(?P<num1>\d{1,3}(?:[.,' ]\d{3})*(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?))"
    r"|(?:(?P<num2>\d{1,3}(?:[.,' ]\d{3})*(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?)\s?(?P<cur2>EUR|USD|GBP|CHF|euros?|dollars?|pounds?|€|\$|£))",
    re.IGNORECASE,
)
_SYMBOLS = {"€": "EUR", "$": "USD", "£": "GBP", "euro": "EUR", "euros": "EUR", "dollar": "USD", "dollars": "USD",
            "pound": "GBP", "pounds": "GBP"}


def _number(text: str) -> Decimal:
    cleaned = text.replace("'", "").replace(" ", "")
    if re.search(r"[.,]\d{1,2}$", cleaned):
        whole, frac = cleaned[:-3 if cleaned[-3] in ".," else -2], cleaned[-2:].lstrip(".,")
        return Decimal(re.sub(r"[.,]", "", whole) + "." + frac)
    return Decimal(re.sub(r"[.,]", "", cleaned))


class ExtractClaimArgs(BaseModel):
    text: str = Field(description="the customer's letter")


class ExtractClaimResult(BaseModel):
    amount: Decimal | None = Field(description="the claimed amount, if one was found")
    currency: str | None
    confidence: float = Field(ge=0, le=1, description="how sure the extraction is")
    amounts_found: int


@tool(name="extract_claim")
def extract_claim(args: ExtractClaimArgs) -> ExtractClaimResult:
    """Extract the claimed amount and currency from a customer's letter, with a confidence score."""
    matches = list(_AMOUNT.finditer(args.text))
    if not matches:
        return ExtractClaimResult(amount=None, currency=None, confidence=0.0, amounts_found=0)
    values = []
    for m in matches:
        num = m.group("num1") or m.group("num2")
        cur = (m.group("cur1") or m.group("cur2") or "").lower()
        values.append((_number(num), _SYMBOLS.get(cur, cur.upper())))
    amount, currency = max(values, key=lambda v: v[0])
    distinct = {v[0] for v in values}
    # One amount is unambiguous; several different amounts make the pick a guess.
    confidence = 0.95 if len(distinct) == 1 else max(0.4, 0.9 - 0.15 * (len(distinct) - 1))
    return ExtractClaimResult(amount=amount, currency=currency, confidence=confidence, amounts_found=len(values))


class PaymentArgs(BaseModel):
    amount: Decimal = Field(gt=0)
    currency: str = "EUR"
    reference: str = Field(description="the case or claim reference")


class PaymentResult(BaseModel):
    payment_id: str
    amount: Decimal
    currency: str


@tool(name="approve_payment", side_effect="non_idempotent")
def approve_payment(args: PaymentArgs) -> PaymentResult:
    """Book the payment of an approved claim (moves money: never repeated automatically)."""
    payment_id = "PAY-" + hashlib.sha256(f"{args.reference}|{args.amount}|{args.currency}".encode()).hexdigest()[:10].upper()
    return PaymentResult(payment_id=payment_id, amount=args.amount, currency=args.currency)


class RejectionArgs(BaseModel):
    letter: str = Field(description="the customer's original letter, quoted in the reply")
    reason: str = "the claim is not covered by the policy"


class RejectionResult(BaseModel):
    sent_text: str


@tool(name="send_rejection", side_effect="non_idempotent")
def send_rejection(args: RejectionArgs) -> RejectionResult:
    """Send the customer a rejection letter (leaves the company: its arguments are redacted)."""
    quoted = args.letter.strip().replace("\n", " ")
    return RejectionResult(sent_text=f"We are sorry: {args.reason}. Regarding your letter: “{quoted[:200]}”")


CLAIM_TOOLS: tuple[Tool[ExtractClaimArgs, ExtractClaimResult] | Tool[PaymentArgs, PaymentResult] | Tool[RejectionArgs, RejectionResult], ...] = (
    extract_claim,
    approve_payment,
    send_rejection,
)
