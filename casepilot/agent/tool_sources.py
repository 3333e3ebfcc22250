"""Which tools a process needs for the definitions in a store: the registries of the CLI, the
service and the worker, built from the bundles' own ``tools:``.

A deployed definition holds its manifest and the tool modules it ships, so a command that works
a case (``run``, ``decide``, ``act``…) finds the case's tools from the case alone — in any
folder, with no ``--tools``. The code comes from the store, which only a folder deploy (an
operator's files) can fill with new code: ``load_files`` refuses code it has not seen.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from casepilot.agent.bundle import load_files
from casepilot.errors import DefinitionError
from casepilot.store import Store
from casepilot.tools import ToolRegistry, add_tools, resolve_bundle_tools

__all__ = ["base_registry", "registry_for_case", "registry_for_definitions", "registry_for_store"]

log = logging.getLogger(__name__)


def base_registry() -> ToolRegistry:
    """The built-in tools (OCR, sentiment, summarise): what every bundle may bind without naming."""
    from casepilot.tools.builtin import builtin_tools

    return ToolRegistry(builtin_tools())


def _add_definition(store: Store, registry: ToolRegistry, key: str, version: int | None, seen: set[str]) -> None:
    definition = store.definition(key, version)
    marker = f"{definition.key}@{definition.version}"
    if marker in seen:
        return
    seen.add(marker)
    add_tools(registry, resolve_bundle_tools(definition.files), origin=f"{definition.key} v{definition.version}")
    bundle = load_files(definition.files, registry)
    for child in bundle.case_tasks.values():  # child cases run in the same process
        _add_definition(store, registry, child.key, None, seen)


def registry_for_definitions(
    store: Store, keys: Iterable[tuple[str, int | None]], base: ToolRegistry | None = None
) -> ToolRegistry:
    """``base`` (default: the built-ins) plus the tools of each ``(key, version)`` (``None``: the
    latest) and of the definitions its case tasks start. ``DefinitionError`` when one cannot load."""
    registry = base if base is not None else base_registry()
    seen: set[str] = set()
    for key, version in keys:
        _add_definition(store, registry, key, version, seen)
    return registry


def registry_for_case(store: Store, case_id: str, base: ToolRegistry | None = None) -> ToolRegistry:
    """The tools to work ``case_id``: its definition version's, and its child cases'."""
    case = store.case(case_id)
    return registry_for_definitions(store, [(case.definition_key, case.definition_version)], base)


def registry_for_store(store: Store, base: ToolRegistry | None = None) -> ToolRegistry:
    """The tools of the latest version of every deployed definition (a service or worker at start).

    A definition whose tools cannot be loaded is logged and left out: its cases fail closed
    (unknown tool) while the others are served.
    """
    registry = base if base is not None else base_registry()
    seen: set[str] = set()
    for summary in store.definitions():
        try:
            _add_definition(store, registry, summary.key, summary.version, seen)
        except DefinitionError as exc:
            log.warning("the tools of definition %s v%s are not loaded: %s", summary.key, summary.version, exc)
    return registry
