"""The counting claim tools of ``_tools``, each made slow by a random delay (the crash bench).

A fixed 50 ms pause before a payment (``_tools``: ``pay_claim``, the payment process's transfer) lets kills land inside calls; a longer run
should also meet calls that are slow in different places. Every claim tool here sleeps a
random time drawn from ``CASEPILOT_TOOL_DELAY_RANGE`` (``"0.05-0.3"`` seconds, uniform).
The non-idempotent ones sleep half of it before their effect is counted in ``tool_runs`` and
half after: a worker killed in the second half has moved the money but not yet told
casepilot, the case a recovery checkpoint must catch without paying again.

Only this module's import is light (no pytest, no harness): worker processes load it with
``--tools tests.worker._slow_tools:registry``, and the deployed bundle names ``CLAIM_TOOLS``.
"""

from __future__ import annotations

import os
import random
import time

from casepilot.demo import payment_tools as payment
from casepilot.demo import tools as claim
from casepilot.tools import NO_RETRY, ToolRegistry, tool
from casepilot.tools.builtin import builtin_tools
from tests.worker import _tools

ENV_DELAY_RANGE = "CASEPILOT_TOOL_DELAY_RANGE"
SPEC = "tests.worker._slow_tools"


def parse_range(text: str) -> tuple[float, float]:
    """``"0.05-0.3"`` → (0.05, 0.3); a single number is a fixed delay. ValueError on nonsense."""
    low, sep, high = text.strip().partition("-")
    bounds = (float(low), float(high) if sep else float(low))
    if not 0 <= bounds[0] <= bounds[1]:
        raise ValueError(f"a range is low-high with 0 <= low <= high, got {text!r}")
    return bounds


def _delay() -> float:
    low, high = parse_range(os.environ.get(ENV_DELAY_RANGE) or "0")
    return random.uniform(low, high)


@tool(name="extract_claim")
def extract_claim(args: claim.ExtractClaimArgs) -> claim.ExtractClaimResult:
    """Extract the claim, slowly."""
    time.sleep(_delay())
    assert _tools.extract_claim.func is not None
    result = _tools.extract_claim.func(args)
    assert isinstance(result, claim.ExtractClaimResult)
    return result


@tool(name="pay_claim", side_effect="non_idempotent", retry=NO_RETRY, tags=("moves_money",), targets=("iban",))
def pay_claim(args: payment.PayClaimArgs) -> payment.PaymentReceipt:
    """Transfer the claim's amount (counted in ``tool_runs`` half-way through its delay)."""
    half = _delay() / 2
    time.sleep(half)
    assert _tools.pay_claim.func is not None
    result = _tools.pay_claim.func(args)  # counts the execution
    assert isinstance(result, payment.PaymentReceipt)
    time.sleep(half)
    return result


@tool(name="send_rejection", side_effect="non_idempotent")
def send_rejection(args: claim.RejectionArgs) -> claim.RejectionResult:
    """Send the rejection letter (counted in ``tool_runs`` half-way through its delay)."""
    half = _delay() / 2
    time.sleep(half)
    assert _tools.send_rejection.func is not None
    result = _tools.send_rejection.func(args)
    assert isinstance(result, claim.RejectionResult)
    time.sleep(half)
    return result


CLAIM_TOOLS = (extract_claim, send_rejection, _tools.VALIDATE_PAYMENT, pay_claim, _tools.SEND_PAYMENT_CONFIRMATION)


def registry() -> ToolRegistry:
    """``casepilot worker --tools tests.worker._slow_tools:registry``."""
    return ToolRegistry([*builtin_tools(), *CLAIM_TOOLS])
