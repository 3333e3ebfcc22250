"""``casepilot serve``'s app with workers (queue mode) under uvicorn, in the test process, with the
claims bundle whose tool executions ``_decide_tools`` counts by process: the server side of the
tests that prove the server runs no tool (``test_process_decide_queued``, ``test_chat_confirm_queued``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
import pytest

from casepilot.api import app_from_settings
from casepilot.api.settings import ApiSettings
from tests.api._browser import serving
from tests.worker import _decide_tools, _storm, _tools
from tests.worker.conftest import libpq


@contextmanager
def queued_service(pg_url: str, monkeypatch: pytest.MonkeyPatch, folder: Path) -> Iterator[str]:
    """The service's base URL, the bundle deployed (no model configured: the offline planner)."""
    monkeypatch.setenv(_tools.ENV_URL, libpq(pg_url))
    for name in ("CASEPILOT_MODEL", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    with psycopg.connect(libpq(pg_url), autocommit=True) as conn:
        conn.execute(_decide_tools.TABLE)
    app = app_from_settings(ApiSettings(database_url=pg_url, registry=_decide_tools.registry), queue=True)
    with serving(app) as url:
        bundle = _storm.claims_bundle(folder, _decide_tools.SPEC)
        files = {p.name: p.read_text(encoding="utf-8") for p in bundle.iterdir() if p.is_file()}
        assert httpx.post(f"{url}/definitions", json={"files": files}, timeout=60).status_code == 201
        yield url
