"""The named endpoints and the default model are read from ``.env`` too, like ``casepilot.settings``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from casepilot.agent.llm_endpoints import configured_endpoints, llm_configured

_MODEL_VARIABLES = ("OPENAI_BASE_URL", "OPENAI_API_KEY", "CASEPILOT_MODEL")


@pytest.fixture
def clean_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder of its own, with no model variable in the environment."""
    for name in [*_MODEL_VARIABLES, *(n for n in os.environ if n.upper().startswith("CASEPILOT_ENDPOINTS__"))]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_endpoints_and_the_default_model_come_from_dotenv(clean_folder: Path) -> None:
    assert not llm_configured()
    (clean_folder / ".env").write_text(
        "CASEPILOT_ENDPOINTS__ONPREM__BASE_URL=http://10.0.0.5:8000/v1\n"
        "CASEPILOT_ENDPOINTS__ONPREM__MODEL=qwen2.5-7b-instruct\n"
        "CASEPILOT_ENDPOINTS__ONPREM__MAX_RETRIES=1\n"
        "OPENAI_BASE_URL=http://127.0.0.1:11434/v1\n"
        "CASEPILOT_MODEL=llama3.1\n", encoding="utf-8")
    assert llm_configured()
    found = configured_endpoints()
    assert set(found) == {"onprem", "default"}
    assert (found["onprem"].base_url, found["onprem"].model, found["onprem"].max_retries) == (
        "http://10.0.0.5:8000/v1", "qwen2.5-7b-instruct", 1)
    assert (found["default"].base_url, found["default"].model, found["default"].api_key) == (
        "http://127.0.0.1:11434/v1", "llama3.1", None)


def test_the_environment_wins_over_dotenv(clean_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (clean_folder / ".env").write_text("OPENAI_BASE_URL=http://from-dotenv:1/v1\nOPENAI_API_KEY=sk-dotenv\n",
                                       encoding="utf-8")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://from-env:2/v1")
    default = configured_endpoints()["default"]
    assert default.base_url == "http://from-env:2/v1"
    assert default.api_key is not None and default.api_key.get_secret_value() == "sk-dotenv"


def test_an_explicit_mapping_ignores_the_environment_and_dotenv(clean_folder: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    (clean_folder / ".env").write_text("CASEPILOT_ENDPOINTS__ONPREM__BASE_URL=http://10.0.0.5:8000/v1\n",
                                       encoding="utf-8")
    monkeypatch.setenv("CASEPILOT_MODEL", "from-env")
    found = configured_endpoints({"CASEPILOT_ENDPOINTS__CLOUD__MODEL": "gpt-4o"})
    assert set(found) == {"cloud", "default"}
    assert found["default"].model == "gpt-4o-mini" and found["default"].base_url is None
    assert not llm_configured({})
