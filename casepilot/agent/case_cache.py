"""A bounded cache of loaded cases, shared by the threads of one process.

Why a cache: rebuilding a case (parsing its state, rebuilding the CMMN engine) costs more
than the step that follows, so the loop reuses the copy it wrote last. Why bounded: a
per-thread dict without eviction kept every case a process ever worked (+29 KB per case,
329 MB after 1,000 cases). This one evicts the least recently used copies beyond a number
of cases and an approximate number of bytes (``CacheLimits``).

Why lending: a cached copy is mutable (nodes change its engine and facts in place), so it
is never handed to two threads at once. ``get`` takes a copy out of the shared pool and
lends it to the calling thread, which keeps its few borrowed copies (``per_thread``) to
itself; borrowing one more gives the thread's least recently used copy back to the pool.
A thread that asks for a case another thread holds gets nothing (it reads the store). A
copy that another worker has moved on from is never *worked*: callers compare its version
with the store's, and a step checks it again (``ConcurrencyConflict`` on a stale copy).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["CacheLimits", "CaseCache"]

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class CacheLimits:
    """How many loaded cases a process keeps, and about how many bytes of them.

    The defaults keep a busy worker's working set (a few hundred cases at a few KB to a
    few hundred KB each) and bound the worst case at ~64 MB. ``per_thread`` is how many
    copies one thread keeps lent to itself (the cases it is working now); those count
    towards the limits once given back.
    """

    max_cases: int = 512
    max_bytes: int = 64 * 1024 * 1024
    per_thread: int = 4

    @classmethod
    def from_env(cls) -> CacheLimits:
        """``CASEPILOT_CASE_CACHE_CASES`` and ``CASEPILOT_CASE_CACHE_MB`` (``casepilot.settings``) set the limits."""
        from casepilot.settings import load_settings

        settings = load_settings()
        return cls(max_cases=settings.case_cache_cases, max_bytes=settings.case_cache_mb * 1024 * 1024,
                   per_thread=cls().per_thread)


class CaseCache(Generic[_T]):
    """An LRU pool of case copies plus the copies lent to each thread (see the module docstring)."""

    def __init__(self, limits: CacheLimits, *, weigh: Callable[[_T], int], version: Callable[[_T], int]) -> None:
        self.limits = limits
        self._weigh = weigh
        self._version = version
        self._lock = threading.Lock()
        self._pool: OrderedDict[str, tuple[_T, int]] = OrderedDict()
        self._bytes = 0
        self._local = threading.local()
        self.evictions = 0
        """Copies dropped to stay within the limits (for benchmarks and tests)."""

    # -- the calling thread's borrowed copies ----------------------------------------------------

    def _mine(self) -> OrderedDict[str, _T]:
        mine: OrderedDict[str, _T] | None = getattr(self._local, "cases", None)
        if mine is None:
            mine = self._local.cases = OrderedDict()
        return mine

    def get(self, key: str) -> _T | None:
        """The calling thread's copy of ``key``, borrowing it from the pool if needed; None if none."""
        mine = self._mine()
        found = mine.get(key)
        if found is not None:
            mine.move_to_end(key)
            return found
        with self._lock:
            entry = self._pool.pop(key, None)
            if entry is not None:
                self._bytes -= entry[1]
        if entry is None:
            return None
        self._lend(key, entry[0])
        return entry[0]

    def put(self, key: str, value: _T) -> None:
        """Keep ``value`` as the calling thread's copy of ``key`` (the copy it just wrote)."""
        with self._lock:
            stale = self._pool.pop(key, None)  # an older copy given back by another thread
            if stale is not None:
                self._bytes -= stale[1]
        self._lend(key, value)

    def discard(self, key: str) -> None:
        """Forget the calling thread's copy of ``key`` (it may be half changed)."""
        self._mine().pop(key, None)

    def _lend(self, key: str, value: _T) -> None:
        mine = self._mine()
        mine[key] = value
        mine.move_to_end(key)
        while len(mine) > max(self.limits.per_thread, 1):
            old_key, old = mine.popitem(last=False)
            self._give_back(old_key, old)

    def release(self) -> None:
        """Give every copy the calling thread holds back to the pool (e.g. when it goes idle)."""
        mine = self._mine()
        while mine:
            key, value = mine.popitem(last=False)
            self._give_back(key, value)

    def _give_back(self, key: str, value: _T) -> None:
        weight = self._weigh(value)
        with self._lock:
            current = self._pool.get(key)
            if current is not None:
                if self._version(current[0]) > self._version(value):
                    return  # another thread gave back a newer copy meanwhile
                self._bytes -= current[1]
                del self._pool[key]
            if self.limits.max_cases <= 0 or weight > self.limits.max_bytes:
                self.evictions += 1
                return
            self._pool[key] = (value, weight)
            self._bytes += weight
            while len(self._pool) > self.limits.max_cases or self._bytes > self.limits.max_bytes:
                _, (_, dropped) = self._pool.popitem(last=False)
                self._bytes -= dropped
                self.evictions += 1

    # -- introspection -----------------------------------------------------------------------------

    @property
    def pooled(self) -> int:
        """Copies in the shared pool (not counting those lent to threads)."""
        with self._lock:
            return len(self._pool)

    @property
    def pooled_bytes(self) -> int:
        """The approximate bytes of the copies in the shared pool."""
        with self._lock:
            return self._bytes

    def held(self) -> list[str]:
        """The keys the calling thread holds, least recently used first."""
        return list(self._mine())
