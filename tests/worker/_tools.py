"""The claim tools, counting every real execution outside casepilot (for the worker tests).

``pay_claim`` (the payment process's service task: a transfer at the bank) and
``send_rejection`` move money or send letters: a test must be able to tell how often they
*really* ran, whatever casepilot's history says. Each execution inserts a row into
``tool_runs`` of the database named by ``CASEPILOT_TOOL_RUNS_URL`` (autocommit, before the
result is returned): a worker killed right after the insert still counts. ``pay_claim`` counts
by the claim's reference (``claim_id``: what the process passes as the transfer's reference).
``CASEPILOT_TOOL_DELAY`` (seconds) makes the non-idempotent tools slow, so that kills land
inside calls too. ``validate_payment`` and ``send_payment_confirmation`` are the demo's own
(read-only and idempotent: nothing to count).
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import psycopg

from casepilot.demo import payment_tools as payment
from casepilot.demo import tools as claim
from casepilot.errors import ToolError
from casepilot.tools import NO_RETRY, ToolRegistry, tool
from casepilot.tools.builtin import builtin_tools

ENV_URL = "CASEPILOT_TOOL_RUNS_URL"
ENV_DELAY = "CASEPILOT_TOOL_DELAY"
TABLE = "CREATE TABLE IF NOT EXISTS tool_runs (id bigserial PRIMARY KEY, tool text NOT NULL, reference text NOT NULL, pid int NOT NULL, at timestamptz NOT NULL DEFAULT now())"

_local = threading.local()


def _conn() -> psycopg.Connection[Any]:
    url = os.environ[ENV_URL]
    conn: psycopg.Connection[Any] | None = getattr(_local, "conn", None)
    if conn is None or conn.closed or getattr(_local, "url", None) != url:  # each test has its own database
        if conn is not None:
            conn.close()
        conn = _local.conn = psycopg.connect(url, autocommit=True)
        _local.url = url
    return conn


def record(tool_name: str, reference: str) -> None:
    _conn().execute("INSERT INTO tool_runs (tool, reference, pid) VALUES (%s, %s, %s)",
                    (tool_name, reference, os.getpid()))


def _pause() -> None:
    delay = float(os.environ.get(ENV_DELAY) or 0)
    if delay:
        time.sleep(delay)


FLAKY = {"failures": 0, "calls": 0}
"""``extract_claim`` fails while ``failures`` > 0 (each call counts one down), in this process."""


@tool(name="extract_claim")
def extract_claim(args: claim.ExtractClaimArgs) -> claim.ExtractClaimResult:
    """Extract the claim (failing the first ``FLAKY["failures"]`` times)."""
    FLAKY["calls"] += 1
    if FLAKY["failures"] > 0:
        FLAKY["failures"] -= 1
        raise ToolError("the extraction service is down")
    assert claim.extract_claim.func is not None
    result = claim.extract_claim.func(args)
    assert isinstance(result, claim.ExtractClaimResult)
    return result


VALIDATE_PAYMENT, _DEMO_PAY_CLAIM, SEND_PAYMENT_CONFIRMATION = payment.PAYMENT_TOOLS


@tool(name="pay_claim", side_effect="non_idempotent", retry=NO_RETRY, tags=("moves_money",), targets=("iban",))
def pay_claim(args: payment.PayClaimArgs) -> payment.PaymentReceipt:
    """Transfer a claim's amount to the payee (counted in ``tool_runs`` by the claim's reference)."""
    _pause()
    record("pay_claim", args.reference or "")
    assert _DEMO_PAY_CLAIM.func is not None
    result = _DEMO_PAY_CLAIM.func(args)
    assert isinstance(result, payment.PaymentReceipt)
    return result


@tool(name="send_rejection", side_effect="non_idempotent")
def send_rejection(args: claim.RejectionArgs) -> claim.RejectionResult:
    """Send the rejection letter (counted in ``tool_runs``, by the letter's first 40 characters)."""
    _pause()
    record("send_rejection", args.letter[:40])
    assert claim.send_rejection.func is not None
    result = claim.send_rejection.func(args)
    assert isinstance(result, claim.RejectionResult)
    return result


def registry() -> ToolRegistry:
    """``casepilot worker --tools tests.worker._tools:registry``."""
    return ToolRegistry([*builtin_tools(), *CLAIM_TOOLS])


CLAIM_TOOLS = (extract_claim, send_rejection, VALIDATE_PAYMENT, pay_claim, SEND_PAYMENT_CONFIRMATION)
"""What a copy of the claims bundle names in ``tools:`` (``claims_bundle``)."""


def claims_bundle(folder: Path) -> Path:
    """A copy of ``examples/claims`` in ``folder`` whose tools are these counting ones."""
    from casepilot.demo.run import EXAMPLE

    shutil.copytree(EXAMPLE, folder, dirs_exist_ok=True)
    manifest = folder / "casepilot.yaml"
    manifest.write_text(re.sub(r"casepilot\.demo\.tools:CLAIM_TOOLS", "tests.worker._tools:CLAIM_TOOLS",
                               manifest.read_text(encoding="utf-8")), encoding="utf-8")
    return folder
