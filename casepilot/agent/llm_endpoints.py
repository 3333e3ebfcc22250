"""Which OpenAI-compatible endpoints exist, by name: settings read from the environment.

A model routing decision (``casepilot.agent.model_routing``) names an endpoint — ``onprem``,
``cloud``, ``fallback`` — and this module says where that is. Endpoints are operator
settings, not part of a case bundle: a bundle says *which kind* of endpoint a call may go
to, the deployment says *where* it is. An endpoint a decision names but the deployment does
not configure is never guessed at: the call fails closed.

From the environment (pydantic-settings, ``__`` separates the levels; names are
lower-cased)::

    CASEPILOT_ENDPOINTS__ONPREM__BASE_URL=http://10.0.0.5:8000/v1   # vLLM, no key needed
    CASEPILOT_ENDPOINTS__ONPREM__MODEL=qwen2.5-7b-instruct
    CASEPILOT_ENDPOINTS__ONPREM__LOGPROBS=true
    CASEPILOT_ENDPOINTS__CLOUD__BASE_URL=https://api.openai.com/v1
    CASEPILOT_ENDPOINTS__CLOUD__API_KEY=sk-...

The endpoint ``default`` is built from the OpenAI client's own variables when it is not
configured explicitly: ``OPENAI_BASE_URL``, ``OPENAI_API_KEY`` and ``CASEPILOT_MODEL``.
Setting ``OPENAI_BASE_URL`` alone (a local vLLM, Ollama or llama.cpp server needs no key)
is enough to plan with a model.

Like ``casepilot.settings.Settings``, these are read from the environment and from a ``.env``
file in the working folder (the environment wins), so one ``.env`` configures the store, the
default model and the named endpoints alike.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_ENDPOINT", "DEFAULT_MODEL", "EndpointSettings", "LLMSettings", "configured_endpoints",
           "llm_configured"]

DEFAULT_ENDPOINT = "default"
DEFAULT_MODEL = "gpt-4o-mini"


class EndpointSettings(BaseModel):
    """One OpenAI-compatible endpoint and how casepilot calls it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str | None = None
    """``None``: the ``openai`` client's default (api.openai.com)."""
    api_key: SecretStr | None = None
    """``None``: no key (local servers accept any)."""
    model: str | None = None
    """The model used on this endpoint when neither the route nor the definition names one."""
    timeout: float = Field(default=60.0, gt=0)
    """Seconds one attempt may take."""
    deadline: float = Field(default=120.0, gt=0)
    """Seconds one call may take, its retries and their waits included."""
    max_retries: int = Field(default=3, ge=0)
    """Retries after a 429, a 5xx, a timeout or a dropped connection (then the fallback route)."""
    backoff: float = Field(default=0.5, ge=0)
    """The first retry waits about this long (seconds); each further one twice as long, with jitter."""
    max_backoff: float = Field(default=8.0, ge=0)
    logprobs: bool = False
    """Ask for log-probabilities, so a choice's confidence comes from them (see ``llm_planner``)."""
    samples: int = Field(default=1, ge=1, le=16)
    """Ask for this many answers at once (``n``); without log-probabilities a choice's confidence is
    then the share of answers that agree with it. Costs the completion tokens of every answer."""


class LLMSettings(BaseSettings):
    """The endpoints configured in the environment or ``.env`` (``CASEPILOT_ENDPOINTS__<NAME>__<FIELD>``),
    and the OpenAI client's variables the ``default`` endpoint is built from."""

    model_config = SettingsConfigDict(env_prefix="CASEPILOT_", env_nested_delimiter="__", env_file=".env",
                                      env_file_encoding="utf-8", extra="ignore", populate_by_name=True)

    endpoints: dict[str, EndpointSettings] = Field(default_factory=dict)
    model: str | None = None
    openai_api_key: SecretStr | None = Field(default=None, validation_alias=AliasChoices("OPENAI_API_KEY"))
    openai_base_url: str | None = Field(default=None, validation_alias=AliasChoices("OPENAI_BASE_URL"))


def configured_endpoints(env: Mapping[str, str] | None = None) -> dict[str, EndpointSettings]:
    """Every endpoint by name: those of ``CASEPILOT_ENDPOINTS__…`` plus ``default`` from the OpenAI variables.

    ``env`` defaults to the process environment and ``.env`` (a mapping given here is read
    instead of both, for tests and embedding).
    """
    settings = LLMSettings() if env is None else _settings_from(env)
    endpoints = dict(settings.endpoints)
    if DEFAULT_ENDPOINT not in endpoints:
        endpoints[DEFAULT_ENDPOINT] = EndpointSettings(
            base_url=settings.openai_base_url or None,
            api_key=settings.openai_api_key if settings.openai_api_key and settings.openai_api_key.get_secret_value()
            else None,
            model=settings.model or DEFAULT_MODEL,
        )
    return endpoints


def _settings_from(env: Mapping[str, str]) -> LLMSettings:
    """The settings of ``env`` rather than of the process environment and ``.env`` (same names as ``LLMSettings``)."""
    nested: dict[str, dict[str, str]] = {}
    prefix = "casepilot_endpoints__"
    for name, value in env.items():
        lowered = name.lower()
        if not lowered.startswith(prefix):
            continue
        endpoint, _, field = lowered[len(prefix):].partition("__")
        if endpoint and field:
            nested.setdefault(endpoint, {})[field] = value
    return LLMSettings.model_construct(
        endpoints={name: EndpointSettings.model_validate(fields) for name, fields in nested.items()},
        model=env.get("CASEPILOT_MODEL") or None,
        openai_api_key=SecretStr(key) if (key := env.get("OPENAI_API_KEY")) else None,
        openai_base_url=env.get("OPENAI_BASE_URL") or None,
    )


def llm_configured(env: Mapping[str, str] | None = None) -> bool:
    """Whether a model is configured: ``CASEPILOT_MODEL``, ``OPENAI_API_KEY``, ``OPENAI_BASE_URL`` or any
    ``CASEPILOT_ENDPOINTS__…`` variable (a local server needs only its URL), in the environment or ``.env``."""
    settings = LLMSettings() if env is None else _settings_from(env)
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
    return bool(settings.model or key or settings.openai_base_url or settings.endpoints)
