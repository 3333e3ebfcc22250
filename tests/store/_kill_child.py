"""Child process for the SIGKILL fault tests: runs steps and dies mid-way (``python -m``)."""

from __future__ import annotations

import os
import signal
import sys

from sqlalchemy import event

from casepilot.store import Store


def _step(store: Store, case_id: str) -> None:
    case = store.case(case_id)
    with store.step(case_id, case.version) as step:
        step.append("plan", actor="agent", payload={"n": case.state["n"]})
        step.append("tool_call_started", payload={"tool": "ocr"})
        step.append("tool_call_completed", payload={"tool": "ocr", "ok": True})
        step.save_state({**case.state, "n": case.state["n"] + 1})


def main(url: str, case_id: str, mode: str) -> None:
    store = Store.from_url(url)
    if mode == "before-commit":
        # Every write of the step has reached the database; die before COMMIT is sent.
        @event.listens_for(store.engine, "commit")
        def _die(_conn: object) -> None:
            print("writes done", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

        _step(store, case_id)
    elif mode == "mid-step":
        case = store.case(case_id)
        with store.step(case_id, case.version) as step:
            step.append("plan", actor="agent", payload={"n": case.state["n"]})
            step.flush()
            print("events flushed", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
    elif mode == "after-commit":
        _step(store, case_id)
        print("committed", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    elif mode == "loop":
        done = 0
        while True:
            _step(store, case_id)
            done += 1
            print(done, flush=True)
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
