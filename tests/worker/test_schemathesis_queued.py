"""schemathesis against the routes that answer differently when workers work the cases.

``tests/api/test_schemathesis`` fuzzes every route of the in-process service. With workers
(``casepilot serve`` on PostgreSQL) starting, running and streaming a case take other paths —
the run is queued and answered 202, or followed in the history while a worker works it
(``casepilot.api.queued``, ``queued_stream``) — so the routes that change cases (every ``POST``:
deciding, acting and chatting queue runs too) get their own pass here, with a real worker
process working what the requests queue (a stream ends when the case stops), behind the
sign-on proxy, with the same configuration, seed and ``--checks all``.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from casepilot.agent.orchestrator import Orchestrator
from casepilot.agent.rule_planner import RulePlanner
from casepilot.api import create_app
from casepilot.api.app import queued_orchestrator
from casepilot.api.identity import TrustedHeaders
from casepilot.store import Store
from tests.api._browser import serving
from tests.api.test_schemathesis import MAX_EXAMPLES, ROLES, SEED, _config, _world
from tests.worker import _tools
from tests.worker.conftest import Workers


@pytest.mark.postgres
def test_schemathesis_finds_nothing_on_the_routes_that_queue_work(pg_url: str, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(_tools.ENV_URL, "postgresql://" + pg_url.split("://", 1)[1])
    folder = _tools.claims_bundle(tmp_path / "claims")
    claim_files = {p.name: p.read_text(encoding="utf-8") for p in folder.iterdir() if p.is_file()}
    store = Store.from_url(pg_url)
    orch = Orchestrator(store, _tools.registry(), RulePlanner())
    config = tmp_path / "schemathesis.toml"
    workers = Workers(pg_url, tmp_path / "workers.log")
    started = time.monotonic()
    try:
        config.write_text(_config("proxy", _world(orch, claim_files)), encoding="utf-8")
        app = create_app(queued_orchestrator(orch), identity=TrustedHeaders(), queue=True)
        posts = sum(1 for path in app.openapi()["paths"].values() for method in path if method == "post")
        workers.start(1)
        with serving(app) as url:
            run = subprocess.run(
                [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run",
                 f"{url}/openapi.json", "--include-method", "POST", "--checks", "all",
                 "--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED), "--workers", "1",
                 "--generation-database", "none", "--no-color", "--request-timeout", "60",
                 "-H", "X-Forwarded-User: ann", "-H", f"X-Forwarded-Groups: {ROLES}"],
                capture_output=True, text=True, timeout=900, cwd=tmp_path, check=False)
    finally:
        if workers.supervisor is not None:
            workers.stop()
        orch.close()
        store.close()
    output = run.stdout + run.stderr
    assert run.returncode == 0, f"schemathesis (queued routes) found problems:\n{output[-20_000:]}"
    assert f"Tested: {posts}" in output and re.search(rf"Selected: {posts}/\d+", output), output[-3_000:]
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert f"✅ {phase}" in output, output[-3_000:]
    print(f"schemathesis (queued routes): {time.monotonic() - started:.0f}s\n{output[-1_500:]}")
