"""casepilot's settings: one model read from the environment and a ``.env`` file, for the CLI,
the service, workers and notebooks alike.

Every variable is ``CASEPILOT_<FIELD>`` (``CASEPILOT_DATABASE_URL``, ``CASEPILOT_DATA_DIR``…),
except the OpenAI ones, which keep their usual names. A value passed on the command line wins
over the environment, which wins over ``.env`` in the working folder::

    from casepilot.settings import Settings
    settings = Settings()                  # or Settings(database_url="postgresql+psycopg://…")
    store = settings.open_store()

Language-model endpoints beyond the default one are configured by ``casepilot.agent.llm_endpoints``
(``CASEPILOT_ENDPOINTS__<NAME>__<FIELD>``); the fields here are what this module reports.

``announce`` logs, at the start of every run, serve and worker, which store, planner, model and
identity mode are in use — the first thing to check when a case behaves unexpectedly.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import AliasChoices, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "SettingsError", "announce", "configure_logging", "describe_planner", "load_settings",
           "log_formatter", "safe_url"]

log = logging.getLogger("casepilot")

DEFAULT_DEPLOYER_ROLE = "deployer"


def _default_data_dir() -> Path:
    return platformdirs.user_data_path("casepilot", appauthor=False)


class Settings(BaseSettings):
    """Where cases live, which model plans, who may deploy, how people are identified."""

    model_config = SettingsConfigDict(
        env_prefix="CASEPILOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True)

    database_url: str | None = None
    """SQLAlchemy URL of the store (``sqlite:///…`` or ``postgresql+psycopg://…``); default: a SQLite
    file in ``data_dir``, the same wherever the command runs."""
    data_dir: Path = Field(default_factory=_default_data_dir)
    """Where the default SQLite database lives (the user data folder, e.g. ``~/.local/share/casepilot``)."""
    deployer_role: str = DEFAULT_DEPLOYER_ROLE
    """The role a person needs to deploy definitions over the HTTP API."""
    model: str | None = None
    """The language model the planner uses (``CASEPILOT_MODEL``); none: the offline RulePlanner,
    unless an OpenAI key or endpoint is set."""
    openai_api_key: SecretStr | None = Field(default=None, validation_alias=AliasChoices("OPENAI_API_KEY"))
    openai_base_url: str | None = Field(default=None, validation_alias=AliasChoices("OPENAI_BASE_URL"))
    log_level: str = "INFO"
    """Level of casepilot's log lines (``DEBUG``, ``INFO``, ``WARNING``…)."""
    log_format: Literal["text", "json"] = "text"
    """``text``: ``LEVEL logger: message`` lines; ``json``: one JSON object per line with time,
    level, logger, message and the call's extras such as ``case_id`` (``casepilot.log_format``)."""
    max_xml_bytes: int = Field(default=20 * 1024 * 1024, ge=1)
    """Largest CMMN or DMN document accepted, in bytes."""
    snapshot_every: int = Field(default=1000, ge=1)
    """A full state snapshot at least every this many steps of a case (the steps between record
    their changes; a snapshot comes sooner once they outweigh the last one — ``casepilot.store._step``)."""
    case_cache_cases: int = Field(default=512, ge=0)
    """How many loaded cases a process keeps (0: none)."""
    case_cache_mb: int = Field(default=64, ge=0)
    """About how many megabytes of loaded cases a process keeps."""
    db_pool_size: int = Field(default=5, ge=1, le=1000)
    """Connections a process keeps open to a PostgreSQL store (``CASEPILOT_DB_POOL_SIZE``); a
    worker uses about one per job it works at once plus two, and raises it to that by itself."""
    db_max_overflow: int = Field(default=10, ge=0, le=1000)
    """Connections opened beyond the pool under a burst, closed again after (``CASEPILOT_DB_MAX_OVERFLOW``).
    PostgreSQL's ``max_connections`` must cover every process's pool plus overflow."""
    embedding_model: str | None = None
    """An OpenAI-compatible embedding model for ``casepilot rag`` (none: the offline default)."""

    @property
    def default_database_url(self) -> str:
        return f"sqlite:///{self.data_dir.expanduser().resolve() / 'casepilot.db'}"

    def resolved_database_url(self, override: str | None = None) -> str:
        """``override`` (``--db``), else ``database_url``, else the SQLite file in ``data_dir``."""
        return override or self.database_url or self.default_database_url

    def resolved_deployer_role(self, override: str | None = None) -> str:
        return (override or self.deployer_role or "").strip() or DEFAULT_DEPLOYER_ROLE

    def open_store(self, override: str | None = None, **kwargs: Any) -> Any:
        """Open the store (a ``casepilot.store.Store``), creating the folder of a SQLite file."""
        from casepilot.store import Store

        url = self.resolved_database_url(override)
        if url.startswith("sqlite:///"):
            path = url.removeprefix("sqlite:///")
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
        return Store.from_url(url, **kwargs)


class SettingsError(ValueError):
    """A variable (or ``.env`` line) casepilot cannot use; the message names it and says why."""


def _variable(field: str) -> str:
    info = Settings.model_fields.get(field)
    alias = info.validation_alias if info is not None else None
    if isinstance(alias, AliasChoices) and alias.choices and isinstance(alias.choices[0], str):
        return alias.choices[0]
    return f"CASEPILOT_{field.upper()}"


def load_settings(**overrides: Any) -> Settings:
    """``Settings(**overrides)``, with every bad variable named in one ``SettingsError``."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = [f"{_variable(str(e['loc'][0]))}={e.get('input')!r}: {e['msg']}" for e in exc.errors()]
        raise SettingsError("casepilot settings: " + "; ".join(problems)) from None


def safe_url(url: str) -> str:
    """The URL with its password hidden, for logs."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy reads: say so rather than echo it
        return "(unreadable database URL)"


def describe_planner(planner: object) -> tuple[str, str]:
    """(planner, model) in words, from the planner object itself."""
    name = type(planner).__name__
    model = getattr(planner, "model", None)
    if model is None:
        return name, "none (offline: set CASEPILOT_MODEL or OPENAI_API_KEY for a language model)"
    client = getattr(planner, "client", None)
    base = getattr(client, "base_url", None)
    return name, f"{model}" + (f" at {base}" if base else "")


def announce(what: str, *, url: str, planner: object | None = None, identity: str = "from the requests",
             extra: str = "") -> str:
    """Log (INFO, logger ``casepilot``) which store, planner, model and identity mode ``what`` uses."""
    parts = [f"store {safe_url(url)}"]
    if planner is not None:
        name, model = describe_planner(planner)
        parts += [f"planner {name}", f"model {model}"]
    parts.append(f"identity {identity}")
    line = f"{what}: " + "; ".join(parts) + (f"; {extra}" if extra else "")
    log.info(line)
    return line


def configure_logging(settings: Settings | None = None) -> None:
    """Send casepilot's log lines to stderr at ``log_level`` in ``log_format`` (once; an application's own
    logging wins)."""
    root = logging.getLogger("casepilot")
    settings = settings or load_settings()
    root.setLevel(settings.log_level.upper())
    if not root.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(log_formatter(settings))
        root.addHandler(handler)


def log_formatter(settings: Settings) -> logging.Formatter:
    """The formatter ``log_format`` names: plain lines, or one JSON object per line."""
    if settings.log_format == "json":
        from casepilot.log_format import JsonFormatter

        return JsonFormatter()
    return logging.Formatter("%(levelname)s %(name)s: %(message)s")
