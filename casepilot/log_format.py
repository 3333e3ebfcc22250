"""One JSON object per log line (``CASEPILOT_LOG_FORMAT=json``), for log shippers that parse JSON.

Each line has ``time`` (ISO-8601 UTC), ``level``, ``logger`` and ``message``, the traceback as
``exception`` when there is one, and every extra a call passes
(``log.info("ran", extra={"case_id": case.id})`` adds ``"case_id": "…"``), so a case's lines
can be found by field instead of by pattern. Values JSON cannot hold are written as text.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

__all__ = ["JsonFormatter"]

_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """Format a record as one line of JSON (see the module docstring for the fields)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_") and key not in line:
                line[key] = value
        return json.dumps(line, default=str, ensure_ascii=False)
