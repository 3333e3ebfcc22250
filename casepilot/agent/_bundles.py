"""Deployed bundles, loaded once per process, and the governor that judges a bundle's cases.

Why a cache: a definition version never changes (it is keyed by its content hash), and loading
it — parsing the CMMN and DMN files, compiling FEEL, building the governor — costs far more
than a step. So each ``(key, version)`` is loaded once and shared by every case on it, in
every thread (a bundle is immutable once loaded).
"""

from __future__ import annotations

import threading

from casepilot.agent.bundle import CaseBundle, load_files
from casepilot.agent.privacy import CasePrivacy
from casepilot.governance.governor import Governor
from casepilot.store import Store
from casepilot.tools import ToolRegistry

__all__ = ["BundleCache"]


class BundleCache:
    """Bundles by ``(key, version)``, thread-safe; ``governor_for`` picks the governor of a bundle's cases."""

    def __init__(self, store: Store, registry: ToolRegistry, *, privacy: CasePrivacy | None = None,
                 governor: Governor | None = None) -> None:
        self.store = store
        self.registry = registry
        self.privacy = privacy
        """Redacts what a bundle's loading records (passed to ``load_files``)."""
        self.governor = governor
        """When set, used for every case instead of each bundle's own governor."""
        self._bundles: dict[tuple[str, int], CaseBundle] = {}
        self._processes: dict[tuple[str, int, str], CaseBundle] = {}
        self._lock = threading.Lock()

    def bundle(self, key: str, version: int, *, process: str | None = None) -> CaseBundle:
        """The bundle of definition ``key`` at ``version``, loaded on first use; with ``process``,
        as a case of that BPMN process started on its own sees it (``_process_cases.process_bundle``).

        Two threads may load the same version at once; the first one stored wins, so every
        caller gets the same object.
        """
        cached = self._bundles.get((key, version))
        if cached is None:
            definition = self.store.definition(key, version)
            cached = load_files(definition.files, self.registry, redactor=self.privacy)
            with self._lock:
                cached = self._bundles.setdefault((key, version), cached)
        if process is None:
            return cached
        wrapped = self._processes.get((key, version, process))
        if wrapped is None:
            from casepilot.agent._process_cases import process_bundle

            with self._lock:
                wrapped = self._processes.setdefault((key, version, process), process_bundle(cached, process))
        return wrapped

    def governor_for(self, bundle: CaseBundle) -> Governor:
        return self.governor or bundle.governor
