"""The CLI as an operator meets it: ``--help`` without the heavy stacks, ``cases`` and
``definitions`` lists, a readable ``history``, one default database wherever the command runs,
settings from the environment and ``.env``, and a run that says what it uses."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from casepilot import cli
from casepilot.cli import app
from casepilot.settings import Settings

runner = CliRunner()
HEAVY = ("chromadb", "presidio_analyzer", "langgraph", "spacy", "openai", "fastapi")


@pytest.fixture(autouse=True)
def _no_model_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    """What these tests read in the logs assumes the offline planner and default roles."""
    for name in ("CASEPILOT_MODEL", "OPENAI_API_KEY", "OPENAI_BASE_URL", "CASEPILOT_DEPLOYER_ROLE"):
        monkeypatch.delenv(name, raising=False)


def _ok(*args: str, env: dict[str, str] | None = None) -> str:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200", **(env or {})})
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.output


@pytest.mark.parametrize("words", [["--help"], ["run", "--help"], ["deploy", "--help"]])
def test_help_loads_no_heavy_stack(words: list[str]) -> None:
    code = (
        f"import sys\nfrom casepilot.cli import main\nsys.argv = ['casepilot', *{words!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print('LOADED', sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 0, done.stderr
    assert "LOADED []" in done.stdout, done.stdout
    if words != ["--help"]:
        assert f"Usage: casepilot {words[0]}" in done.stdout
        return
    for name in ("init", "deploy", "run", "cases", "definitions", "history", "serve", "cmmn", "dmn", "rag"):
        assert f" {name} " in done.stdout, name


def test_each_listed_help_line_is_the_commands_own() -> None:
    """``_HELP`` cannot drift: each line is the first paragraph of the command's own help."""
    for name, module in cli._lazy_commands().items():
        command = cli._load(name, module)
        own = " ".join((command.help or "").split("\n\n")[0].split())
        assert own == cli._HELP[name][1], name


def test_a_command_still_runs_and_shows_its_own_help() -> None:
    assert "Usage: casepilot serve" in " ".join(_ok("serve", "--help").split())
    assert "Run scenario files" in _ok("cmmn", "--help")
    unknown = runner.invoke(app, ["nonsense"])
    assert unknown.exit_code != 0 and "No such command" in unknown.output


@pytest.fixture
def worked(tmp_path: Path) -> tuple[list[str], str, str]:
    """A database with the init scaffold deployed and two cases: one completed, one waiting."""
    _ok("init", "loan", "--in", str(tmp_path))
    db = ["--db", f"sqlite:///{tmp_path}/ops.db"]
    _ok("deploy", str(tmp_path / "loan"), *db)
    done = _ok("start", "loan", "--vars", json.dumps({"applicant": "A", "income": 60000, "amount": 1000}),
               "--business-key", "APP-1", *db).strip()
    _ok("run", done, *db)
    waiting = _ok("start", "loan", "--vars", json.dumps({"applicant": "B", "income": 1000, "amount": 9000}),
                  "--business-key", "APP-2", *db).strip()
    _ok("run", waiting, *db)
    return db, done, waiting


def test_cases_and_definitions_as_tables_and_json(worked: tuple[list[str], str, str]) -> None:
    db, done, waiting = worked
    table = _ok("cases", *db)
    assert done in table and waiting in table and "APP-1" in table and "loan v1" in table
    rows = {row["id"]: row for row in json.loads(_ok("cases", "--json", *db))}
    assert (rows[done]["state"], rows[done]["open_inbox_items"]) == ("completed", 0)
    assert (rows[waiting]["state"], rows[waiting]["open_inbox_items"]) == ("active", 1)
    assert [r["id"] for r in json.loads(_ok("cases", "--json", "--state", "active", *db))] == [waiting]
    # the limit counts cases in the state asked for, not cases read: the waiting case is the second
    assert [r["id"] for r in json.loads(_ok("cases", "--json", "--state", "active", "--limit", "1", *db))] == [waiting]
    assert [r["id"] for r in json.loads(_ok("cases", "--json", "--limit", "1", *db))] == [done]
    assert [r["id"] for r in json.loads(_ok("cases", "--json", "--business-key", "APP-1", *db))] == [done]
    assert "loan" in _ok("definitions", *db)
    (definition,) = json.loads(_ok("definitions", "--json", *db))
    assert (definition["key"], definition["version"]) == ("loan", 1)
    assert definition["description"].startswith("An application is scored")


def test_history_reads_like_the_demo_timeline(worked: tuple[list[str], str, str]) -> None:
    db, done, _ = worked
    shown = _ok("history", done, *db)
    assert "chose 'Score application'" in shown and "allow: the tool only reads" in shown
    assert "Offer sent" in shown and "state digest" not in shown
    events = json.loads(_ok("history", done, "--json", *db))
    assert {"case_created", "state", "plan", "verdict"} <= {e["kind"] for e in events}


def test_the_default_database_does_not_depend_on_the_working_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CASEPILOT_DATABASE_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("CASEPILOT_DATA_DIR", raising=False)
    assert Settings().default_database_url == f"sqlite:///{tmp_path / 'xdg' / 'casepilot' / 'casepilot.db'}"
    _ok("init", "loan", "--in", str(tmp_path))
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    monkeypatch.chdir(one)
    _ok("deploy", str(tmp_path / "loan"))
    monkeypatch.chdir(two)
    assert json.loads(_ok("definitions", "--json"))[0]["key"] == "loan"
    assert (tmp_path / "xdg" / "casepilot" / "casepilot.db").is_file()
    assert not (one / ".casepilot").exists() and not (two / ".casepilot").exists()


def test_settings_come_from_the_environment_and_a_dot_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CASEPILOT_DATABASE_URL", "CASEPILOT_DATA_DIR", "CASEPILOT_DEPLOYER_ROLE", "CASEPILOT_MODEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(
        f"CASEPILOT_DATA_DIR={tmp_path / 'data'}\nCASEPILOT_DEPLOYER_ROLE=release managers\n", encoding="utf-8")
    settings = Settings()
    assert settings.resolved_database_url() == f"sqlite:///{tmp_path / 'data' / 'casepilot.db'}"
    assert settings.resolved_deployer_role() == "release managers"
    monkeypatch.setenv("CASEPILOT_DEPLOYER_ROLE", "platform")  # the environment wins over .env
    assert Settings().resolved_deployer_role() == "platform"
    assert Settings().resolved_database_url("sqlite:///x.db") == "sqlite:///x.db"  # --db wins over both
    from casepilot.api.settings import ApiSettings

    assert ApiSettings().resolved_url() == f"sqlite:///{tmp_path / 'data' / 'casepilot.db'}"


def test_a_run_says_which_store_planner_model_and_identity_it_uses(
        worked: tuple[list[str], str, str], caplog: pytest.LogCaptureFixture) -> None:
    db, _, waiting = worked
    with caplog.at_level(logging.INFO, logger="casepilot"):
        _ok("run", waiting, *db)
    (line,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("casepilot run")]
    assert f"store {db[1]}" in line and "planner RulePlanner" in line and "model none (offline" in line
    assert "identity as given by --as/--role" in line


def test_the_console_script_logs_the_run_to_stderr(worked: tuple[list[str], str, str], tmp_path: Path) -> None:
    db, _, waiting = worked
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CASEPILOT_", "OPENAI_"))}
    done = subprocess.run([sys.executable, "-c", "from casepilot.cli import main; main()", "run", waiting, *db],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert "INFO casepilot: casepilot run" in done.stderr and "planner RulePlanner" in done.stderr
    assert "waiting_for_people" in done.stdout


def test_a_bad_setting_is_named_with_what_is_wrong(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from casepilot.settings import SettingsError, load_settings

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CASEPILOT_MAX_XML_BYTES", "lots")
    monkeypatch.setenv("CASEPILOT_SNAPSHOT_EVERY", "0")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert "CASEPILOT_MAX_XML_BYTES='lots'" in message and "valid integer" in message
    assert "CASEPILOT_SNAPSHOT_EVERY='0'" in message and "greater than or equal to 1" in message
    monkeypatch.delenv("CASEPILOT_MAX_XML_BYTES")
    monkeypatch.delenv("CASEPILOT_SNAPSHOT_EVERY")
    (tmp_path / ".env").write_text("CASEPILOT_CASE_CACHE_CASES=7\nCASEPILOT_CASE_CACHE_MB=3\n", encoding="utf-8")
    from casepilot.agent.case_cache import CacheLimits

    limits = CacheLimits.from_env()  # .env reaches every knob, not only the CLI's
    assert (limits.max_cases, limits.max_bytes) == (7, 3 * 1024 * 1024)


def test_the_service_says_what_it_uses_when_it_starts(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from casepilot.api import ApiSettings, app_from_settings
    from casepilot.api.identity import TrustedHeaders

    url = f"sqlite:///{tmp_path}/served.db"
    with caplog.at_level(logging.INFO, logger="casepilot"):
        app_from_settings(ApiSettings(database_url=url, identity=TrustedHeaders(user="X-Forwarded-User")))
    (line,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("casepilot service")]
    assert f"store {url}" in line and "planner RulePlanner" in line and "model none" in line
    assert "identity from the sign-on proxy's headers X-Forwarded-User / X-Forwarded-Groups" in line
    assert "deployer role 'deployer'" in line
