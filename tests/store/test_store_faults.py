"""A worker killed with SIGKILL leaves either its whole step or nothing."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from casepilot.store import Store
from tests.store._store_helpers import advance, new_case

ROOT = Path(__file__).resolve().parents[2]


def _run_child(url: str, case_id: str, mode: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.store._kill_child", url, case_id, mode],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _assert_consistent(store: Store, case_id: str) -> None:
    case = store.case(case_id)
    events = store.history(case_id)
    assert len(events) == case.last_seq
    assert store.verify(case_id).ok
    assert store.rebuild_state(case_id) == case.state
    advance(store, case_id)  # the case is not left locked
    assert store.verify(case_id).ok


@pytest.mark.parametrize("mode", ["mid-step", "before-commit"])
def test_killed_before_commit_leaves_nothing(store: Store, store_url: str, mode: str) -> None:
    case = new_case(store)
    child = _run_child(store_url, case.id, mode)
    out, err = child.communicate(timeout=60)
    assert child.returncode == -signal.SIGKILL, err
    assert out.strip() in ("events flushed", "writes done")
    assert store.case(case.id) == case
    assert len(store.history(case.id)) == 1
    _assert_consistent(store, case.id)


def test_killed_after_commit_keeps_the_whole_step(store: Store, store_url: str) -> None:
    case = new_case(store)
    child = _run_child(store_url, case.id, "after-commit")
    _out, err = child.communicate(timeout=60)
    assert child.returncode == -signal.SIGKILL, err
    after = store.case(case.id)
    assert (after.version, after.last_seq, after.state["n"]) == (2, 5, 1)
    assert [e.kind for e in store.history(case.id)][1:] == ["plan", "tool_call_started", "tool_call_completed", "state"]
    _assert_consistent(store, case.id)


def test_killed_at_an_arbitrary_moment_of_a_busy_worker(store: Store, store_url: str) -> None:
    case = new_case(store)
    child = _run_child(store_url, case.id, "loop")
    assert child.stdout is not None
    for line in child.stdout:
        if int(line) >= 5:
            break
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=60)
    after = store.case(case.id)
    assert after.state["n"] >= 5
    assert after.last_seq == 1 + 4 * after.state["n"]  # whole steps only
    _assert_consistent(store, case.id)
