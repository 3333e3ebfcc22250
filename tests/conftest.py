"""Fixtures every test folder may use."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator

import pytest


@pytest.fixture
def spawned() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Child processes a test starts (workers it may SIGKILL): any still running at the end are
    killed — only those, never another test's."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
