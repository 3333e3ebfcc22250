"""Regression: after a SIGKILL inside a non-idempotent tool call, the next run must not call the
tool again (it once resumed the loop's checkpoint at ``act``); the call goes to a person."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.agent.conftest import OrchFactory
from tests.agent.test_crash_safety import _case, _kill_inside_call, check_handed_to_person, gate  # noqa: F401


def test_killed_non_idempotent_call_goes_to_a_person_not_run_again(
    make_orch: OrchFactory, tmp_path: Path, db_url: str, gate: Path, spawned: list[subprocess.Popen[bytes]]  # noqa: F811
) -> None:
    _key, case_id = _case(make_orch, tmp_path, "slow_payment")
    _kill_inside_call(spawned, db_url, case_id, gate, "slow_payment")
    check_handed_to_person(make_orch, case_id, gate)
