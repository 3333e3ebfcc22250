"""The counting claim tools of ``_tools``, with one SIGKILL of the worker at a chosen point.

``CASEPILOT_KILL_AT`` names the point, ``CASEPILOT_KILL_MARKER`` a file: the first worker to
reach the point creates the file and SIGKILLs itself; every later one (the supervisor's
replacement) goes on. The points of the payment process (``payment.bpmn``):

* ``<tool>:batch`` — right after the batch recording ``<tool>``'s outcome committed, before
  the next call's batch (the process waits on nobody, with a service call no batch recorded);
* ``pay_claim:before`` / ``pay_claim:after`` — inside the transfer, before / after the money
  moved (counted in ``tool_runs``): the "run it again?" checkpoint for the operator role;
* ``send_payment_confirmation:before`` — inside the idempotent confirmation: it runs again.

Only this module's import is light: worker processes load it with
``--tools tests.worker._kill_tools:registry``.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

from casepilot.demo import payment_tools as payment
from casepilot.tools import NO_RETRY, ToolRegistry, tool
from casepilot.tools.builtin import builtin_tools
from tests.worker import _tools

ENV_POINT = "CASEPILOT_KILL_AT"
ENV_MARKER = "CASEPILOT_KILL_MARKER"
ENV_FAIL = "CASEPILOT_FAIL_PAYMENT"
"""A file: while it does not exist, ``pay_claim`` creates it and fails before the transfer with an
error that says nothing of its effect (a dropped connection) — the runner must ask the operator again."""
SPEC = "tests.worker._kill_tools"


def die_at(point: str) -> None:
    """SIGKILL this process if ``point`` is the chosen one and no worker died there yet."""
    if os.environ.get(ENV_POINT) != point:
        return
    try:
        os.close(os.open(Path(os.environ[ENV_MARKER]), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return
    os.kill(os.getpid(), signal.SIGKILL)


def _die_after_batches() -> None:
    """Make every process batch of this worker a kill point (``<tool>:batch``) once it committed."""
    from casepilot.agent import _process_tasks

    write = _process_tasks.CaseStepSink.write

    def write_then_maybe_die(self: Any, batch: Any) -> None:
        write(self, batch)
        for event in batch.events:
            if event.kind == "tool_call_completed":
                die_at(f"{event.payload.get('tool')}:batch")

    _process_tasks.CaseStepSink.write = write_then_maybe_die  # type: ignore[method-assign]


if os.environ.get(ENV_POINT, "").endswith(":batch"):
    _die_after_batches()


@tool(name="pay_claim", side_effect="non_idempotent", retry=NO_RETRY, tags=("moves_money",), targets=("iban",))
def pay_claim(args: payment.PayClaimArgs) -> payment.PaymentReceipt:
    """``_tools.pay_claim`` (counted in ``tool_runs``), a kill point before and after the transfer."""
    die_at("pay_claim:before")
    if os.environ.get(ENV_FAIL):
        try:
            os.close(os.open(Path(os.environ[ENV_FAIL]), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            pass
        else:
            raise ConnectionError("the connection to the bank dropped")
    assert _tools.pay_claim.func is not None
    result = _tools.pay_claim.func(args)
    assert isinstance(result, payment.PaymentReceipt)
    die_at("pay_claim:after")
    return result


@tool(name="send_payment_confirmation", side_effect="idempotent")
def send_payment_confirmation(args: payment.ConfirmationArgs) -> payment.PaymentConfirmation:
    """The demo's confirmation, a kill point before it is sent."""
    die_at("send_payment_confirmation:before")
    assert _tools.SEND_PAYMENT_CONFIRMATION.func is not None
    result = _tools.SEND_PAYMENT_CONFIRMATION.func(args)
    assert isinstance(result, payment.PaymentConfirmation)
    return result


CLAIM_TOOLS = (_tools.extract_claim, _tools.send_rejection, _tools.VALIDATE_PAYMENT, pay_claim,
               send_payment_confirmation)
"""What the claims bundle names in ``tools:`` (``_storm.claims_bundle(folder, SPEC)``)."""


def registry() -> ToolRegistry:
    """``casepilot worker --tools tests.worker._kill_tools:registry``."""
    return ToolRegistry([*builtin_tools(), *CLAIM_TOOLS])
