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

(The project-wide settings model was being introduced in ``casepilot/settings.py`` by
another change at the time this was written; these endpoint settings stand alone until they
can move there.)
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, SecretStr
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
    """The endpoints configured in the environment (``CASEPILOT_ENDPOINTS__<NAME>__<FIELD>``)."""

    model_config = SettingsConfigDict(env_prefix="CASEPILOT_", env_nested_delimiter="__", extra="ignore")

    endpoints: dict[str, EndpointSettings] = Field(default_factory=dict)


def configured_endpoints(env: Mapping[str, str] | None = None) -> dict[str, EndpointSettings]:
    """Every endpoint by name: those of ``CASEPILOT_ENDPOINTS__…`` plus ``default`` from the OpenAI variables.

    ``env`` defaults to ``os.environ`` (a mapping given here is read instead of it, for tests
    and embedding).
    """
    source = os.environ if env is None else env
    endpoints = dict(LLMSettings().endpoints) if env is None else dict(_settings_from(env).endpoints)
    if DEFAULT_ENDPOINT not in endpoints:
        key = source.get("OPENAI_API_KEY")
        endpoints[DEFAULT_ENDPOINT] = EndpointSettings(
            base_url=source.get("OPENAI_BASE_URL") or None,
            api_key=SecretStr(key) if key else None,
            model=source.get("CASEPILOT_MODEL") or DEFAULT_MODEL,
        )
    return endpoints


class _Endpoints(BaseModel):
    endpoints: dict[str, EndpointSettings]


def _settings_from(env: Mapping[str, str]) -> _Endpoints:
    """The endpoints of ``env`` rather than of the process environment (same names as ``LLMSettings``)."""
    nested: dict[str, dict[str, str]] = {}
    prefix = "casepilot_endpoints__"
    for name, value in env.items():
        lowered = name.lower()
        if not lowered.startswith(prefix):
            continue
        endpoint, _, field = lowered[len(prefix):].partition("__")
        if endpoint and field:
            nested.setdefault(endpoint, {})[field] = value
    return _Endpoints.model_validate({"endpoints": nested})


def llm_configured(env: Mapping[str, str] | None = None) -> bool:
    """Whether a model is configured: ``CASEPILOT_MODEL``, ``OPENAI_API_KEY``, ``OPENAI_BASE_URL`` or any
    ``CASEPILOT_ENDPOINTS__…`` variable (a local server needs only its URL)."""
    source = os.environ if env is None else env
    if any(source.get(name) for name in ("CASEPILOT_MODEL", "OPENAI_API_KEY", "OPENAI_BASE_URL")):
        return True
    return any(name.upper().startswith("CASEPILOT_ENDPOINTS__") and value for name, value in source.items())
