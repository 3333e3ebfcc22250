"""``casepilot worker`` as a user starts it: its tools come from the deployed bundles, its
database from ``--db`` or the settings, and a database it cannot work on is one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from casepilot.cli import app
from casepilot.store import Store
from casepilot.worker.cli import load_registry

ROOT = Path(__file__).resolve().parents[2]


def test_without_tools_option_the_worker_runs_the_tools_the_deployed_bundles_name(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/cases.db"
    with Store.from_url(url) as store:
        assert "pay_claim" not in load_registry(None)(store)  # nothing deployed: built-in tools only
    assert CliRunner().invoke(app, ["deploy", str(ROOT / "examples" / "claims"), "--db", url]).exit_code == 0
    with Store.from_url(url) as store:
        registry = load_registry(None)(store)
        assert {"pay_claim", "validate_payment", "send_payment_confirmation", "send_rejection", "extract_claim",
                "sentiment"} <= set(registry.names())


def test_a_worker_refuses_a_sqlite_database_from_the_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CASEPILOT_DATABASE_URL", f"sqlite:///{tmp_path}/cases.db")
    result = CliRunner().invoke(app, ["worker"])
    assert result.exit_code != 0
    assert "casepilot worker needs a PostgreSQL database" in result.output
    assert "sqlite" in result.output
