"""Definitions are versioned by content hash; cases stay on the version they started with."""

from __future__ import annotations

import threading

import pytest

from casepilot.errors import NotFound
from casepilot.store import DefinitionBundle, Store, bundle_hash
from tests.store._store_helpers import CMMN, bundle, new_case


def test_first_deploy_is_version_1_and_round_trips_files(store: Store) -> None:
    deployed = store.deploy("claims", bundle(owner="ops"))
    assert (deployed.key, deployed.version) == ("claims", 1)
    fetched = store.definition("claims", 1)
    assert fetched.files == {"case.cmmn": CMMN, "rules.dmn": b"<dmn/>"}
    assert isinstance(fetched.files["rules.dmn"], bytes)
    assert fetched.metadata == {"owner": "ops"}
    assert fetched.content_hash == bundle_hash(bundle(owner="ops"))
    assert fetched.bundle == bundle(owner="ops")


def test_redeploying_the_same_content_keeps_the_version(store: Store) -> None:
    store.deploy("claims", bundle())
    again = store.deploy("claims", bundle())
    as_bytes = store.deploy(
        "claims", DefinitionBundle(files={"case.cmmn": CMMN.encode(), "rules.dmn": b"<dmn/>"})
    )
    assert again.version == 1
    assert as_bytes.version == 1
    assert [d.version for d in store.definitions("claims")] == [1]


def test_changed_content_or_metadata_creates_the_next_version(store: Store) -> None:
    store.deploy("claims", bundle())
    v2 = store.deploy("claims", bundle(CMMN.replace('id="c"', 'id="d"')))
    v3 = store.deploy("claims", bundle(CMMN.replace('id="c"', 'id="d"'), policy="strict"))
    v4 = store.deploy("claims", bundle())  # back to the first content: still a new version
    assert [v2.version, v3.version, v4.version] == [2, 3, 4]
    assert store.definition("claims").version == 4
    assert store.definition("claims", 2).files["case.cmmn"] == CMMN.replace('id="c"', 'id="d"')
    assert [d.version for d in store.definitions("claims")] == [1, 2, 3, 4]


def test_listing_without_key_gives_the_latest_of_each(store: Store) -> None:
    store.deploy("a", bundle())
    store.deploy("a", bundle(policy=1))
    store.deploy("b", bundle())
    assert [(d.key, d.version) for d in store.definitions()] == [("a", 2), ("b", 1)]


def test_unknown_definition_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound, match="'nope' is not deployed"):
        store.definition("nope")
    store.deploy("claims", bundle())
    with pytest.raises(NotFound, match="version 7"):
        store.definition("claims", 7)
    with pytest.raises(NotFound):
        store.create_case("nope", {})


def test_bad_bundles_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="at least one file"):
        store.deploy("claims", DefinitionBundle(files={}))
    with pytest.raises(ValueError, match="key"):
        store.deploy("", bundle())


def test_a_running_case_stays_on_its_version(store: Store) -> None:
    case = new_case(store)
    store.deploy("claims", bundle(policy="v2"))
    assert store.case(case.id).definition_version == 1
    newer = store.create_case("claims", {"n": 0})
    pinned = store.create_case("claims", {"n": 0}, definition_version=1)
    assert (newer.definition_version, pinned.definition_version) == (2, 1)


def test_concurrent_deploys_of_different_content_get_distinct_versions(store: Store) -> None:
    barrier = threading.Barrier(4)
    versions: list[int] = []
    errors: list[BaseException] = []

    def deploy(i: int) -> None:
        try:
            barrier.wait()
            versions.append(store.deploy("race", bundle(worker=i)).version)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=deploy, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(versions) == [1, 2, 3, 4]
