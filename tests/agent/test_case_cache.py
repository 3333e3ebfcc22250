"""The bounded case cache: eviction by cases and bytes, copies lent to one thread at a time,
and the runtime's use of it (a stale copy is never worked)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest

from casepilot.agent.case_cache import CacheLimits, CaseCache
from tests._claims import claim
from tests.agent._support import CLAIMS
from tests.agent.conftest import OrchFactory


@dataclass
class Copy:
    key: str
    version: int = 1
    size: int = 10


def cache(**limits: int) -> CaseCache[Copy]:
    return CaseCache(CacheLimits(**limits), weigh=lambda c: c.size, version=lambda c: c.version)


def test_the_least_recently_used_copies_go_beyond_the_number_of_cases() -> None:
    c = cache(max_cases=3, per_thread=1)
    for key in "abcde":
        c.put(key, Copy(key))
    c.release()
    assert c.pooled == 3
    assert c.get("a") is None and c.get("b") is None
    assert c.get("c") is not None and c.get("e") is not None
    assert c.evictions == 2


def test_a_copy_used_again_is_kept_over_older_ones() -> None:
    c = cache(max_cases=2, per_thread=1)
    c.put("a", Copy("a"))
    c.put("b", Copy("b"))  # gives "a" back to the pool
    assert c.get("a") is not None  # borrows "a" again, gives "b" back
    c.put("c", Copy("c"))  # gives "a" back: the pool holds b, a — then c pushes out b
    c.release()
    assert sorted(k for k in "abc" if c.get(k) is not None) == ["a", "c"]


def test_bytes_bound_the_pool_too() -> None:
    c = cache(max_cases=100, max_bytes=25, per_thread=1)
    for key in "abcd":
        c.put(key, Copy(key, size=10))
    c.release()
    assert c.pooled == 2 and c.pooled_bytes == 20
    c.put("huge", Copy("huge", size=26))
    c.release()
    assert c.get("huge") is None  # bigger than the whole budget: never kept


def test_zero_cases_means_no_cache_beyond_the_thread_s_working_copies() -> None:
    c = cache(max_cases=0, per_thread=1)
    c.put("a", Copy("a"))
    assert c.get("a") is not None  # the copy the thread works right now
    c.put("b", Copy("b"))
    assert c.get("a") is None and c.pooled == 0


def test_a_copy_is_lent_to_one_thread_at_a_time() -> None:
    c = cache(max_cases=10, per_thread=2)
    c.put("a", Copy("a"))
    c.release()
    got: dict[str, Copy | None] = {}
    mine = c.get("a")
    assert mine is not None and c.pooled == 0

    def other() -> None:
        got["other"] = c.get("a")

    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert got["other"] is None  # this thread holds it: the other reads the store instead
    c.release()

    def other_again() -> None:
        got["again"] = c.get("a")

    t = threading.Thread(target=other_again)
    t.start()
    t.join()
    assert got["again"] is mine
    assert c.get("a") is None  # lent to the other thread, which ended without giving it back


def test_many_threads_never_hold_the_same_copy_at_once() -> None:
    c = cache(max_cases=4, per_thread=1)
    for key in "abcdef":
        c.put(key, Copy(key))
    c.release()
    holders: dict[int, str] = {}
    clash: list[str] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        for i in range(300):
            key = "abcdef"[(n + i) % 6]
            copy = c.get(key) or Copy(key)
            with lock:
                if id(copy) in holders and holders[id(copy)] != threading.current_thread().name:
                    clash.append(key)
                holders[id(copy)] = threading.current_thread().name
            c.put(key, copy)
            c.release()
            with lock:
                holders.pop(id(copy), None)

    threads = [threading.Thread(target=work, args=(n,), name=f"w{n}") for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert clash == []
    assert c.pooled <= 4


def test_an_older_copy_given_back_does_not_replace_a_newer_one() -> None:
    c = cache(max_cases=10, per_thread=1)
    c.put("a", Copy("a", version=5))
    c.release()
    old = Copy("a", version=3)

    def give_back_old() -> None:
        c._give_back("a", old)

    t = threading.Thread(target=give_back_old)
    t.start()
    t.join()
    got = c.get("a")
    assert got is not None and got.version == 5


def test_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASEPILOT_CASE_CACHE_CASES", "7")
    monkeypatch.setenv("CASEPILOT_CASE_CACHE_MB", "3")
    limits = CacheLimits.from_env()
    assert (limits.max_cases, limits.max_bytes) == (7, 3 * 1024 * 1024)
    monkeypatch.setenv("CASEPILOT_CASE_CACHE_CASES", "many")
    with pytest.raises(ValueError, match="CASEPILOT_CASE_CACHE_CASES"):
        CacheLimits.from_env()


def test_the_runtime_keeps_at_most_the_configured_cases(make_orch: OrchFactory) -> None:
    orch, _store = make_orch()
    orch.runtime.case_cache.limits = CacheLimits(max_cases=3, per_thread=2)
    orch.deploy(CLAIMS)
    ids = [orch.start_case("claim-triage", claim(f"The repair costs EUR {100 + i}.", f"CLM-CACHE-{i}")).id
           for i in range(8)]
    for case_id in ids:
        assert orch.run(case_id).reason == "completed"
    cache_ = orch.runtime.case_cache
    cache_.release()
    assert cache_.pooled <= 3
    assert cache_.evictions >= 8 - 3 - 2


def test_a_copy_moved_on_by_another_worker_is_not_reused(make_orch: OrchFactory) -> None:
    orch, store = make_orch()
    orch.deploy(CLAIMS)
    case_id = orch.start_case("claim-triage", claim("The repair costs EUR 300.", "CLM-CACHE-300")).id
    first = orch.runtime.load(case_id)
    assert orch.runtime.load(case_id) is first  # this thread's copy, still current
    other, _ = make_orch()
    with other.runtime.step(case_id) as (step, _loaded):
        step.append("chat_message", actor="person:ann", payload={"text": "hello"})
    again = orch.runtime.load(case_id)
    assert again is not first and again.fresh
    assert again.record.version == store.case(case_id).version
