"""What ``app_from_settings`` needs to build an orchestrator: where the cases live, which tools exist.

Unset fields come from ``casepilot.settings.Settings`` (the environment and ``.env``), like the
CLI's; opening the store logs which store, planner, model and identity mode the service uses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from casepilot.api.access import DEFAULT_DEPLOYER_ROLE
from casepilot.api.identity import TrustedHeaders
from casepilot.settings import announce, load_settings
from casepilot.store import Store
from casepilot.tools import ToolRegistry

__all__ = ["ENV_DATABASE_URL", "ENV_DEPLOYER_ROLE", "ApiSettings", "default_registry", "registry_with_documents"]

ENV_DATABASE_URL = "CASEPILOT_DATABASE_URL"
ENV_DEPLOYER_ROLE = "CASEPILOT_DEPLOYER_ROLE"


def default_registry() -> ToolRegistry:
    """The built-in tools; each bundle brings its own (``tools:`` in its ``casepilot.yaml``)."""
    from casepilot.agent.tool_sources import base_registry

    return base_registry()


def registry_with_documents(path: Path | str, routing: Path | str | None = None) -> Callable[[], ToolRegistry]:
    """The built-in tools plus ``retrieve`` over the Chroma collections in ``path`` (``casepilot rag``;
    a folder, or a Chroma server's ``http://host:port``), routed per call by a DMN decision.

    ``routing`` is the routing table (a DMN file with decision ``Route``, see ``casepilot.rag.Router``;
    the example is ``casepilot.rag.EXAMPLE_ROUTING``). Without one, a call searches the collection
    its binding names — a table naming collections nobody ingested would fail every call of a
    deployment that never asked for routing. With one, the loop and the chat give each call the
    case's definition, stage and kinds of personal data, so the table decides which collection a
    case searches, and with which embedding; the route and its rule ids are recorded with the
    call. A route to ``openai`` embeddings searches with them only when ``CASEPILOT_EMBEDDING_MODEL``
    configures them; otherwise the call fails closed (nothing is searched).
    """

    def build() -> ToolRegistry:
        from casepilot.rag import DocumentStore, Retriever, Router
        from casepilot.rag.embeddings import OpenAIEmbeddings, embedding_function_from_env
        from casepilot.tools.builtin import builtin_tools, retrieve_tool

        router = Router(routing) if routing is not None else None
        documents = DocumentStore(path)
        name = "openai" if isinstance(documents.embedding_function, OpenAIEmbeddings) else "wordllama"
        retrievers = {}
        configured = embedding_function_from_env()
        if isinstance(configured, OpenAIEmbeddings) and name != "openai":
            retrievers["openai"] = Retriever(DocumentStore(path, embedding_function=configured))
        tool = retrieve_tool(Retriever(documents), router=router, retrievers=retrievers, embedding=name)
        return ToolRegistry([*builtin_tools(), tool])

    return build


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """Settings of a served app; read when the app is built, never at import."""

    database_url: str | None = None
    """SQLAlchemy URL; default ``$CASEPILOT_DATABASE_URL``, else a SQLite file in the user data folder."""
    registry: Callable[[], ToolRegistry] = field(default=default_registry)
    """Builds the tool registry the bundles' bindings are checked against."""
    identity: TrustedHeaders | None = None
    """Take people's names and roles from a sign-on proxy's headers (None: from the requests)."""
    deployer_role: str | None = None
    """The role a person needs to deploy definitions (which replace the guardrails and roles of
    every later case); default ``$CASEPILOT_DEPLOYER_ROLE``, else ``deployer``."""

    def resolved_url(self) -> str:
        return load_settings().resolved_database_url(self.database_url)

    def resolved_deployer_role(self) -> str:
        return load_settings().resolved_deployer_role(self.deployer_role) or DEFAULT_DEPLOYER_ROLE

    def open_store(self) -> Store:
        """Open the store (creating the folder of a SQLite file) and log what the service uses."""
        store = self._store()
        identity = (f"from the sign-on proxy's headers {self.identity.user} / {self.identity.roles}"
                    if self.identity is not None else "as each request claims (no sign-on proxy)")
        from casepilot.agent.orchestrator import default_planner

        announce("casepilot service", url=store.url, planner=default_planner(), identity=identity,
                 extra=f"deployer role {self.resolved_deployer_role()!r}")
        return store

    def _store(self) -> Store:
        store: Store = load_settings().open_store(self.database_url)
        return store

    deployed_tools: bool = True
    """Also load the tools of every definition already in the store (their ``tools:``), so that
    the service works the cases deployed from the CLI; a bundle uploaded later may use only
    tools and code the service has loaded (see ``casepilot.tools.bundle_tools``)."""

    def make_registry(self) -> ToolRegistry:
        registry = self.registry()
        if self.deployed_tools:
            from casepilot.agent.tool_sources import registry_for_store

            with self._store() as store:
                registry = registry_for_store(store, registry)
        return registry
