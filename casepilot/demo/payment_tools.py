"""The claim payment's tools (``payment.bpmn`` of ``examples/claims``) and the demo bank they talk to.

The payment process validates the payee and amount, pays, and confirms; these are the three
service tasks' tools:

* ``validate_payment`` (read-only): is there a payee, is the IBAN well formed (ISO 13616
  length and mod-97 check digits), is the amount positive? Problems are *answers*, not
  failures: the process routes them to a claims handler who corrects the data.
* ``pay_claim`` (**non-idempotent**, tagged ``moves_money``, target ``iban``): a transfer at
  the bank. Run twice, it pays twice — so after a crash it goes to the operator role, never
  runs again by itself. A bank that refuses the transfer raises the BPMN error the model
  catches (``ServiceError`` with the bank's code: the transfer had no effect), and the
  process's error boundary event waits and retries, then hands it to the payments desk.
* ``send_payment_confirmation`` (idempotent): the payment advice to the claimant, sent once
  per transfer however often it is asked for.

The bank is :class:`DemoBank`: a deterministic in-memory stand-in for the outside world, so the
demo and the tests can see exactly what was paid (``transfers``) and can tell it to refuse the
next transfers (``fail_next``) to exercise the retry path. ``BANK`` is the one the registered
tools (``PAYMENT_TOOLS``) use; :func:`payment_tools` binds the same tools to another bank.
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass, field
from decimal import Decimal

from pydantic import BaseModel, Field

from casepilot.tools import NO_RETRY, Tool

__all__ = ["BANK", "PAYMENT_TOOLS", "BankRefusal", "DemoBank", "Transfer", "iban_problem", "payment_tools"]

_IBAN_LENGTHS = {"AT": 20, "BE": 16, "CH": 21, "DE": 22, "DK": 18, "ES": 24, "FI": 18, "FR": 27, "GB": 22,
                 "IE": 22, "IT": 27, "LU": 20, "NL": 18, "NO": 15, "PL": 28, "PT": 25, "SE": 24}
"""ISO 13616 lengths of the countries the demo knows; another country's IBAN is checked by its digits only."""


def iban_problem(iban: str) -> str | None:
    """Why ``iban`` is not a well-formed IBAN (None: it is): shape, country length, mod-97 check digits."""
    compact = re.sub(r"\s+", "", iban).upper()
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}", compact):
        return "the IBAN is not two letters, two check digits and 11 to 30 letters or digits"
    expected = _IBAN_LENGTHS.get(compact[:2])
    if expected is not None and len(compact) != expected:
        return f"a {compact[:2]} IBAN has {expected} characters, this one {len(compact)}"
    digits = "".join(str(int(c, 36)) for c in compact[4:] + compact[:4])
    if int(digits) % 97 != 1:
        return "the IBAN's check digits are wrong (a typing error?)"
    return None


@dataclass(frozen=True, slots=True)
class Transfer:
    """One transfer the bank made."""

    transfer_id: str
    payee: str
    iban: str
    amount: Decimal
    reference: str | None


class BankRefusal(Exception):
    """The bank refused a transfer (``code``); nothing was paid."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(f"the bank refused the transfer: {code}")


@dataclass
class DemoBank:
    """A bank that pays into a ledger and can be told to refuse: what ``pay_claim`` moves money in.

    Deterministic: a transfer's id is a digest of its reference, account, amount and how many
    transfers with that reference were made before (so paying twice shows as two ids).
    """

    transfers: list[Transfer] = field(default_factory=list)
    advices: dict[str, str] = field(default_factory=dict)
    """Payment advices sent to payees, by transfer id (one per transfer)."""
    refusals: list[str] = field(default_factory=list)
    """Codes the next transfers are refused with, in order (``fail_next``)."""
    requests: list[str | None] = field(default_factory=list)
    """The reference of every transfer asked for, refused ones included, in order."""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def fail_next(self, *codes: str) -> None:
        """Refuse the next ``len(codes)`` transfers with these codes (e.g. ``bank_unavailable``)."""
        with self._lock:
            self.refusals.extend(codes)

    def transfer(self, payee: str, iban: str, amount: Decimal, reference: str | None) -> Transfer:
        """Pay ``amount`` to ``payee`` at ``iban``, or raise :class:`BankRefusal` (nothing paid)."""
        with self._lock:
            self.requests.append(reference)
            if self.refusals:
                raise BankRefusal(self.refusals.pop(0))
            earlier = sum(1 for t in self.transfers if t.reference == reference)
            digest = hashlib.sha256(f"{reference}|{iban}|{amount}|{earlier}".encode()).hexdigest()[:10].upper()
            made = Transfer(f"TR-{digest}", payee, iban, amount, reference)
            self.transfers.append(made)
            return made

    def advise(self, transfer_id: str, payee: str, amount: Decimal) -> str:
        """Send the payee the advice of ``transfer_id`` once; returns its message id."""
        with self._lock:
            if transfer_id not in self.advices:
                self.advices[transfer_id] = f"Dear {payee}, we have transferred {amount} to you ({transfer_id})."
            return f"ADV-{transfer_id.removeprefix('TR-')}"

    def reset(self) -> None:
        """Forget every transfer, advice and planned refusal."""
        with self._lock:
            self.transfers.clear()
            self.advices.clear()
            self.refusals.clear()
            self.requests.clear()


BANK = DemoBank()
"""The bank the registered payment tools use (``casepilot demo``, the claims example)."""


class ValidatePaymentArgs(BaseModel):
    payee: str | None = Field(default=None, description="who is to be paid")
    iban: str | None = Field(default=None, description="the account to pay into")
    amount: Decimal | None = Field(default=None, description="how much")


class PaymentValidation(BaseModel):
    ok: bool
    problems: list[str] = Field(default_factory=list, description="what a person must correct")


class PayClaimArgs(BaseModel):
    payee: str = Field(min_length=1)
    iban: str = Field(min_length=1)
    amount: Decimal = Field(gt=0)
    reference: str | None = Field(default=None, description="the claim's reference, on the transfer")


class PaymentReceipt(BaseModel):
    transfer_id: str
    amount: Decimal


class ConfirmationArgs(BaseModel):
    payee: str
    amount: Decimal
    receipt: str = Field(description="the transfer id the confirmation is for")


class PaymentConfirmation(BaseModel):
    sent: bool
    message_id: str


def payment_tools(bank: DemoBank) -> tuple[Tool[ValidatePaymentArgs, PaymentValidation],
                                           Tool[PayClaimArgs, PaymentReceipt],
                                           Tool[ConfirmationArgs, PaymentConfirmation]]:
    """The three payment tools, working on ``bank``."""

    def validate(args: ValidatePaymentArgs) -> PaymentValidation:
        problems = []
        if not (args.payee or "").strip():
            problems.append("no payee")
        if not (args.iban or "").strip():
            problems.append("no IBAN")
        elif (bad := iban_problem(args.iban or "")) is not None:
            problems.append(bad)
        if args.amount is None:
            problems.append("no amount")
        elif args.amount <= 0:
            problems.append("the amount must be positive")
        return PaymentValidation(ok=not problems, problems=problems)

    def pay(args: PayClaimArgs) -> PaymentReceipt:
        from casepilot.bpmn.runner import ServiceError  # SpiffWorkflow only where processes run

        try:
            made = bank.transfer(args.payee, args.iban, args.amount, args.reference)
        except BankRefusal as refused:
            raise ServiceError(refused.code, str(refused)) from None
        return PaymentReceipt(transfer_id=made.transfer_id, amount=made.amount)

    def confirm(args: ConfirmationArgs) -> PaymentConfirmation:
        return PaymentConfirmation(sent=True, message_id=bank.advise(args.receipt, args.payee, args.amount))

    return (
        Tool(name="validate_payment", description="Check a payment's payee, IBAN and amount before it is made.",
             args_model=ValidatePaymentArgs, result_model=PaymentValidation, side_effect="read_only", func=validate),
        # The process draws the retries (error boundary, timer): the registry never repeats a transfer.
        Tool(name="pay_claim", description="Transfer a claim's amount to the payee's account (moves money).",
             args_model=PayClaimArgs, result_model=PaymentReceipt, side_effect="non_idempotent", retry=NO_RETRY,
             func=pay, tags=("moves_money",), targets=("iban",)),
        Tool(name="send_payment_confirmation", description="Send the payee the advice of a transfer (once per transfer).",
             args_model=ConfirmationArgs, result_model=PaymentConfirmation, side_effect="idempotent", func=confirm),
    )


PAYMENT_TOOLS = payment_tools(BANK)
"""The payment tools on the demo's ``BANK`` (part of ``CLAIM_TOOLS``)."""
