"""``CASEPILOT_LOG_FORMAT=json``: casepilot's log lines as one JSON object each, extras included."""

from __future__ import annotations

import io
import json
import logging

import pytest

from casepilot.settings import SettingsError, configure_logging, load_settings, log_formatter


def test_the_environment_chooses_json_and_a_bad_value_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().log_format == "text"
    monkeypatch.setenv("CASEPILOT_LOG_FORMAT", "json")
    assert load_settings().log_format == "json"
    monkeypatch.setenv("CASEPILOT_LOG_FORMAT", "yaml")
    with pytest.raises(SettingsError, match="CASEPILOT_LOG_FORMAT='yaml'"):
        load_settings()


def test_json_lines_carry_time_level_logger_message_extras_and_the_traceback(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASEPILOT_LOG_FORMAT", "json")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(log_formatter(load_settings()))
    log = logging.getLogger("casepilot.test_log_format")
    log.addHandler(handler)
    monkeypatch.setattr(log, "propagate", False)
    monkeypatch.setattr(log, "level", logging.INFO)
    try:
        log.info("case %s ran %d steps", "c-1", 3, extra={"case_id": "c-1", "steps": 3})
        try:
            raise ValueError("tool broke")
        except ValueError:
            log.exception("tool failed", extra={"case_id": "c-1", "tool": "pay_claim"})
    finally:
        log.removeHandler(handler)

    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first.pop("time").endswith("+00:00")
    assert first == {"level": "INFO", "logger": "casepilot.test_log_format", "message": "case c-1 ran 3 steps",
                     "case_id": "c-1", "steps": 3}
    assert second["level"] == "ERROR" and second["tool"] == "pay_claim" and second["case_id"] == "c-1"
    assert second["exception"].startswith("Traceback") and "ValueError: tool broke" in second["exception"]


def test_configure_logging_writes_json_to_stderr(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    casepilot = logging.getLogger("casepilot")
    # as in a fresh process: no handlers anywhere (pytest's own are put back afterwards)
    monkeypatch.setattr(logging.getLogger(), "handlers", [])
    monkeypatch.setattr(casepilot, "handlers", [])
    monkeypatch.setattr(casepilot, "level", casepilot.level)
    monkeypatch.setenv("CASEPILOT_LOG_FORMAT", "json")

    configure_logging()
    logging.getLogger("casepilot.worker").warning("lease lost", extra={"case_id": "c-9"})

    (line,) = capsys.readouterr().err.splitlines()
    record = json.loads(line)
    assert (record["level"], record["logger"], record["message"], record["case_id"]) == (
        "WARNING", "casepilot.worker", "lease lost", "c-9")
    # text stays the default
    assert log_formatter(load_settings(log_format="text")).format(
        logging.LogRecord("casepilot", logging.INFO, "", 0, "hello", None, None)) == "INFO casepilot: hello"
