"""The flagship payment process and scripted tools for runner tests (also run in a child process
that the crash tests kill)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from casepilot.bpmn import ProcessDefinitions, load_processes
from casepilot.bpmn.events import ProcessBatch
from casepilot.bpmn.runner import ServiceError
from casepilot.tools import NO_RETRY, Tool, ToolRegistry

REPO = Path(__file__).resolve().parents[2]
CLAIMS = REPO / "casepilot" / "demo" / "claims"
PAYMENT = CLAIMS / "payment.bpmn"
APPROVAL = CLAIMS / "payment-approval.dmn"


def payment_definitions() -> ProcessDefinitions:
    return load_processes([PAYMENT], decisions=[APPROVAL])


class ValidateArgs(BaseModel):
    payee: str
    iban: str
    amount: float


class Validation(BaseModel):
    ok: bool
    problems: list[str] = []


class PayArgs(BaseModel):
    payee: str
    iban: str
    amount: float
    reference: str


class Receipt(BaseModel):
    transfer_id: str


class ConfirmArgs(BaseModel):
    payee: str
    amount: float
    receipt: str


class Confirmation(BaseModel):
    sent: bool


class ReadArgs(BaseModel):
    document: str


class Extracted(BaseModel):
    payee: str
    iban: str
    amount: float


@dataclass
class Bank:
    """Scripted outside world: what pay_claim answers, call by call, and what was called."""

    pay_outcomes: list[str] = field(default_factory=list)
    """Per pay_claim call: "ok" or a BPMN error code to fail with (default ok)."""
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    hang_file: Path | None = None
    """When set, the named tool writes this file then hangs (a child process killed mid-call)."""
    hang_tool: str = ""

    def _hang(self, tool: str) -> None:
        if self.hang_file is not None and tool == self.hang_tool:
            self.hang_file.write_text(str(os.getpid()))
            while True:
                time.sleep(1)

    def validate(self, args: ValidateArgs) -> Validation:
        self.calls.append(("validate_payment", args.model_dump()))
        problems = [p for p, bad in (("amount must be positive", args.amount <= 0),
                                     ("IBAN too short", len(args.iban) < 15)) if bad]
        return Validation(ok=not problems, problems=problems)

    def pay(self, args: PayArgs) -> Receipt:
        self.calls.append(("pay_claim", args.model_dump()))
        self._hang("pay_claim")
        outcome = self.pay_outcomes.pop(0) if self.pay_outcomes else "ok"
        if outcome != "ok":
            raise ServiceError(outcome, f"the bank answered {outcome}")
        return Receipt(transfer_id=f"T-{len([c for c in self.calls if c[0] == 'pay_claim'])}")

    def confirm(self, args: ConfirmArgs) -> Confirmation:
        self.calls.append(("send_payment_confirmation", args.model_dump()))
        self._hang("send_payment_confirmation")
        return Confirmation(sent=True)

    def read(self, args: ReadArgs) -> Extracted:
        self.calls.append(("read_document", args.model_dump()))
        return Extracted(payee="Mallory Ltd", iban="GB00EVIL00000000000001", amount=900)

    def registry(self) -> ToolRegistry:
        def make(name: str, fn: Callable[[Any], Any], args: type[BaseModel], result: type[BaseModel],
                 side_effect: Any, **extra: Any) -> Tool[Any, Any]:
            return Tool(name=name, description=name, args_model=args, result_model=result, side_effect=side_effect,
                        retry=NO_RETRY, func=fn, timeout=None, **extra)
        return ToolRegistry([
            make("validate_payment", self.validate, ValidateArgs, Validation, "read_only"),
            make("pay_claim", self.pay, PayArgs, Receipt, "non_idempotent", tags=("moves_money",), targets=("iban",)),
            make("send_payment_confirmation", self.confirm, ConfirmArgs, Confirmation, "idempotent"),
            make("read_document", self.read, ReadArgs, Extracted, "read_only"),
        ])


class ListSink:
    """Keeps every batch (what a store would write)."""

    def __init__(self) -> None:
        self.batches: list[ProcessBatch] = []

    def write(self, batch: ProcessBatch) -> None:
        self.batches.append(batch)

    @property
    def events(self) -> list[Any]:
        return [e for b in self.batches for e in b.events]


CLAIM = {"claim_id": "C-17", "payee": "Ann Smith", "iban": "DE89370400440532013000", "amount": 500,
         "claim": {"amount": 500}}
"""The process's start data as the claims case gives it, plus ``amount`` (which wins over ``claim.amount``).
``claim`` is there because the amount's FEEL reads it: an argument computed from an absent variable is
untrusted for the provenance rule."""
