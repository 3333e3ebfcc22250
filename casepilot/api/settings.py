"""What ``app_from_settings`` needs to build an orchestrator: where the cases live, which tools exist."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from casepilot.api.access import DEFAULT_DEPLOYER_ROLE
from casepilot.api.identity import TrustedHeaders
from casepilot.store import DEFAULT_URL, Store
from casepilot.tools import ToolRegistry

__all__ = ["ENV_DATABASE_URL", "ENV_DEPLOYER_ROLE", "ApiSettings", "default_registry", "registry_with_documents"]

ENV_DATABASE_URL = "CASEPILOT_DATABASE_URL"
ENV_DEPLOYER_ROLE = "CASEPILOT_DEPLOYER_ROLE"


def default_registry() -> ToolRegistry:
    """The built-in tools; each bundle brings its own (``tools:`` in its ``casepilot.yaml``)."""
    from casepilot.agent.tool_sources import base_registry

    return base_registry()


def registry_with_documents(path: Path) -> Callable[[], ToolRegistry]:
    """The built-in tools plus ``retrieve`` over the Chroma collections in ``path`` (``casepilot rag``)."""

    def build() -> ToolRegistry:
        from casepilot.rag import DocumentStore, Retriever
        from casepilot.tools.builtin import builtin_tools

        retriever = Retriever(DocumentStore(path))
        return ToolRegistry(builtin_tools(retriever=retriever))

    return build


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """Settings of a served app; read when the app is built, never at import."""

    database_url: str | None = None
    """SQLAlchemy URL; default ``$CASEPILOT_DATABASE_URL``, else a SQLite file under ``.casepilot/``."""
    registry: Callable[[], ToolRegistry] = field(default=default_registry)
    """Builds the tool registry the bundles' bindings are checked against."""
    identity: TrustedHeaders | None = None
    """Take people's names and roles from a sign-on proxy's headers (None: from the requests)."""
    deployer_role: str | None = None
    """The role a person needs to deploy definitions (which replace the guardrails and roles of
    every later case); default ``$CASEPILOT_DEPLOYER_ROLE``, else ``deployer``."""

    def resolved_url(self) -> str:
        return self.database_url or os.environ.get(ENV_DATABASE_URL) or DEFAULT_URL

    def resolved_deployer_role(self) -> str:
        return (self.deployer_role or os.environ.get(ENV_DEPLOYER_ROLE) or "").strip() or DEFAULT_DEPLOYER_ROLE

    def open_store(self) -> Store:
        """Open the store, creating the folder of a relative SQLite path (the default one)."""
        url = self.resolved_url()
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        return Store.from_url(url)

    deployed_tools: bool = True
    """Also load the tools of every definition already in the store (their ``tools:``), so that
    the service works the cases deployed from the CLI; a bundle uploaded later may use only
    tools and code the service has loaded (see ``casepilot.tools.bundle_tools``)."""

    def make_registry(self) -> ToolRegistry:
        registry = self.registry()
        if self.deployed_tools:
            from casepilot.agent.tool_sources import registry_for_store

            with self.open_store() as store:
                registry = registry_for_store(store, registry)
        return registry
