"""The claim payment's tools (``payment.bpmn`` of ``examples/claims``) and the demo bank they talk to.

The payment process validates the payee and amount, pays, and confirms; these are the three
service tasks' tools:

* ``validate_payment`` (read-only): is there a payee, is the IBAN well formed (ISO 13616
  length and mod-97 check digits), is the amount positive and in whole cents? Problems are
  *answers*, not failures: the process routes them to a claims handler who corrects the data.
* ``pay_claim`` (**non-idempotent**, tagged ``moves_money``, target ``iban``): a transfer at
  the bank. Run twice, it pays twice — so after a crash it goes to the operator role, never
  runs again by itself. A bank that refuses the transfer raises a typed :class:`BankRefusal`
  whose ``code`` the tool throws as the BPMN error (``ServiceError``: the transfer had no
  effect); the model catches each code it knows with its own error boundary event
  (:data:`BANK_ERROR_CODES`): ``bank_unavailable`` waits a minute and pays again,
  ``declined`` goes to the payments desk. Any other error — a guardrail's ``blocked``, an
  unknown bank code — is caught by none of them and fails the process (fail closed).
* ``send_payment_confirmation`` (idempotent): the payment advice to the claimant, sent once
  per transfer however often it is asked for.

Money is :data:`Money`: a ``Decimal`` with at most two places, kept in cents exactly
(``1250.5`` is paid as ``1250.50``; ``1000.005`` or a float's ``0.30000000000000004`` is
refused, never rounded). The bank takes nothing but a ``Decimal``.

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
from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from casepilot.tools import NO_RETRY, Tool

__all__ = ["BANK", "BANK_ERROR_CODES", "CENT", "PAYMENT_TOOLS", "BankRefusal", "BankUnavailable", "DemoBank", "Money",
           "Transfer", "TransferDeclined", "iban_problem", "payment_tools"]

CENT = Decimal("0.01")


def _in_cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT)


Money = Annotated[Decimal, Field(decimal_places=2, allow_inf_nan=False), AfterValidator(_in_cents)]
"""An amount of money: a ``Decimal`` of at most two places, held with exactly two (``800`` → ``800.00``)."""

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
    """The bank refused a transfer (``code``, the BPMN error ``pay_claim`` throws); nothing was paid."""

    code: str = "refused"

    def __init__(self, code: str | None = None) -> None:
        self.code = code or type(self).code
        super().__init__(f"the bank refused the transfer: {self.code}")


class BankUnavailable(BankRefusal):
    """The bank could not take the transfer now (down, timed out before accepting it): try again later."""

    code = "bank_unavailable"


class TransferDeclined(BankRefusal):
    """The bank declined this transfer (account closed or blocked…): trying again will not help; a person must."""

    code = "declined"


BANK_ERRORS: dict[str, type[BankRefusal]] = {cls.code: cls for cls in (BankUnavailable, TransferDeclined)}
BANK_ERROR_CODES = tuple(BANK_ERRORS)
"""The codes the bank refuses with and ``payment.bpmn`` catches, each with its own error boundary event."""


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
        """Refuse the next ``len(codes)`` transfers with these codes (``bank_unavailable``, ``declined``;
        another code is a refusal the payment process does not know)."""
        with self._lock:
            self.refusals.extend(codes)

    def transfer(self, payee: str, iban: str, amount: Decimal, reference: str | None) -> Transfer:
        """Pay ``amount`` to ``payee`` at ``iban``, or raise :class:`BankRefusal` (nothing paid)."""
        with self._lock:
            self.requests.append(reference)
            if not isinstance(amount, Decimal):  # a bank moves cents, never a float's approximation
                raise TypeError(f"the bank takes amounts as Decimal, not {type(amount).__name__} ({amount!r})")
            if self.refusals:
                code = self.refusals.pop(0)
                raise BANK_ERRORS.get(code, BankRefusal)(code)
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
    amount: Decimal | None = Field(default=None, description="how much (checked for whole cents: a problem, not a failure)")


class PaymentValidation(BaseModel):
    ok: bool
    problems: list[str] = Field(default_factory=list, description="what a person must correct")


class PayClaimArgs(BaseModel):
    payee: str = Field(min_length=1)
    iban: str = Field(min_length=1)
    amount: Annotated[Money, Field(gt=0)]
    reference: str | None = Field(default=None, description="the claim's reference, on the transfer")


class PaymentReceipt(BaseModel):
    transfer_id: str
    amount: Money


class ConfirmationArgs(BaseModel):
    payee: str
    amount: Money
    receipt: str = Field(description="the transfer id the confirmation is for")


class PaymentConfirmation(BaseModel):
    sent: bool
    message_id: str


def _whole_cents(amount: Decimal) -> bool:
    try:
        return amount.is_finite() and amount == amount.quantize(CENT)
    except InvalidOperation:  # too many digits to hold in cents
        return False


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
        elif not _whole_cents(args.amount):
            problems.append(f"the amount {args.amount} is not in whole cents (at most two decimal places)")
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
