"""Child process of the crash tests: starts the payment as a case of its own in a SQLite store;
the tool named on the command line writes a marker file and hangs until the parent kills it.

    python -m tests.bpmn._crash_child SQLITE_URL TOOL MARKER
"""

from __future__ import annotations

import sys
from pathlib import Path

from casepilot.bpmn.store_sink import start_process_case
from casepilot.store import Store

from ._payment import CLAIM, Bank, payment_definitions
from .test_bpmn_store import OPERATOR, allow, deploy


def main() -> None:
    url, tool, marker = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    store = Store.from_url(url)
    deploy(store)
    bank = Bank(hang_file=marker, hang_tool=tool)
    start_process_case(store, "payment", payment_definitions(), "payment", tools=bank.registry(), govern=allow,
                       data=CLAIM, operator_role=OPERATOR)
    raise SystemExit("the tool was expected to hang")


if __name__ == "__main__":
    main()
