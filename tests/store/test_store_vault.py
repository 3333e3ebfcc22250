"""The pseudonym vault: AES-GCM per case, keys apart, crypto-shredding, erasure on record."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from casepilot.errors import NotFound, StoreError
from casepilot.store import KeyStore, Store
from tests.store._store_helpers import advance, new_case


def test_put_get_tokens(store: Store) -> None:
    store.vault.put("c1", "<PERSON_1>", "Ann Smith")
    store.vault.put("c1", "<IBAN_1>", "DE89 3704 0044 0532 0130 00")
    store.vault.put("c2", "<PERSON_1>", "Bob Jones")
    assert store.vault.get("c1", "<PERSON_1>") == "Ann Smith"
    assert store.vault.get("c2", "<PERSON_1>") == "Bob Jones"
    assert store.vault.tokens("c1") == ["<PERSON_1>", "<IBAN_1>"]  # issue order
    store.vault.put("c1", "<PERSON_1>", "Ann Smith-Jones")
    assert store.vault.get("c1", "<PERSON_1>") == "Ann Smith-Jones"
    with pytest.raises(NotFound):
        store.vault.get("c1", "<PERSON_9>")
    with pytest.raises(NotFound):
        store.vault.get("c3", "<PERSON_1>")


def test_get_many_reads_a_cases_values_at_once_and_fails_like_get(store: Store) -> None:
    store.vault.put("c1", "<PERSON_1>", "Ann Smith")
    store.vault.put("c1", "<IBAN_1>", "DE89 3704 0044 0532 0130 00")
    store.vault.put("c2", "<PERSON_1>", "Bob Jones")
    assert store.vault.get_many("c1", ["<IBAN_1>", "<PERSON_1>", "<IBAN_1>"]) == {
        "<IBAN_1>": "DE89 3704 0044 0532 0130 00", "<PERSON_1>": "Ann Smith"}
    assert store.vault.get_many("c2", ["<PERSON_1>"]) == {"<PERSON_1>": "Bob Jones"}  # each case its own
    assert store.vault.get_many("c1", []) == {}
    with pytest.raises(NotFound, match="<PERSON_9>"):
        store.vault.get_many("c1", ["<PERSON_1>", "<PERSON_9>"])
    with pytest.raises(NotFound):
        store.vault.get_many("c3", ["<PERSON_1>"])  # no key was ever made for c3
    with store.engine.begin() as conn:  # a value altered at rest does not decrypt
        conn.execute(text("UPDATE vault_entries SET nonce = (SELECT nonce FROM vault_entries WHERE case_id = 'c2') "
                          "WHERE case_id = 'c1' AND token = '<PERSON_1>'"))
    with pytest.raises(StoreError, match="altered"):
        store.vault.get_many("c1", ["<PERSON_1>"])
    store.vault.shred("c1")
    with pytest.raises(NotFound, match="shredded"):
        store.vault.get_many("c1", ["<IBAN_1>"])


def test_get_many_inside_a_step_sees_the_steps_own_values(store: Store) -> None:
    case = new_case(store)
    with store.step(case.id, case.version) as step:
        store.vault.put(case.id, "<PERSON_1>", "Ann Smith")
        assert store.vault.get_many(case.id, ["<PERSON_1>"]) == {"<PERSON_1>": "Ann Smith"}
        assert store.vault.tokens(case.id) == ["<PERSON_1>"]
        step.append("chat_message", payload={"text": "claim filed by <PERSON_1>"})
    assert store.vault.get_many(case.id, ["<PERSON_1>"]) == {"<PERSON_1>": "Ann Smith"}


def test_values_are_encrypted_at_rest_and_bound_to_their_token(store: Store) -> None:
    store.vault.put("c1", "<PERSON_1>", "Ann Smith")
    store.vault.put("c1", "<PERSON_2>", "Bob Jones")
    with store.engine.begin() as conn:
        blobs = conn.execute(text("SELECT ciphertext FROM vault_entries")).scalars().all()
        assert all(b"Ann" not in bytes(b) and b"Bob" not in bytes(b) for b in blobs)
        # Move PERSON_2's ciphertext onto PERSON_1: the associated data no longer matches.
        conn.execute(text(
            "UPDATE vault_entries SET ciphertext = (SELECT ciphertext FROM vault_entries WHERE token = '<PERSON_2>'), "
            "nonce = (SELECT nonce FROM vault_entries WHERE token = '<PERSON_2>') WHERE token = '<PERSON_1>'"))
    with pytest.raises(StoreError, match="altered"):
        store.vault.get("c1", "<PERSON_1>")


def test_shred_destroys_the_key_for_good(store: Store) -> None:
    store.vault.put("c1", "<PERSON_1>", "Ann Smith")
    with store.engine.begin() as conn:
        backup = conn.execute(text("SELECT nonce, ciphertext FROM vault_entries")).one()
    assert store.vault.shred("c1") == 1
    assert store.vault.tokens("c1") == []
    assert store.vault.keys.get("c1") is None
    assert store.vault.keys.shredded_at("c1") is not None
    with pytest.raises(NotFound, match="shredded"):
        store.vault.get("c1", "<PERSON_1>")
    with pytest.raises(StoreError, match="shredded"):
        store.vault.put("c1", "<PERSON_2>", "again")
    # A backup of the ciphertext is useless: the only key is gone from the key table.
    with store.engine.begin() as conn:
        assert conn.execute(text("SELECT key FROM vault_keys WHERE case_id = 'c1'")).scalar_one() is None
    assert backup.ciphertext
    assert store.vault.shred("c1") == 0  # idempotent


def test_shredding_a_case_without_vault_still_blocks_future_keys(store: Store) -> None:
    store.vault.shred("never-used")
    with pytest.raises(StoreError, match="shredded"):
        store.vault.put("never-used", "<X>", "x")


def test_keys_can_live_in_a_separate_database(store_url: str, tmp_path: Path) -> None:
    key_url = f"sqlite:///{tmp_path / 'keys.db'}"
    with Store.from_url(store_url, key_url=key_url) as store:
        store.vault.put("c1", "<PERSON_1>", "Ann Smith")
        assert store.vault.get("c1", "<PERSON_1>") == "Ann Smith"
        with store.engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM vault_keys")).scalar_one() == 0
            assert conn.execute(text("SELECT count(*) FROM vault_entries")).scalar_one() == 1
        store.vault.shred("c1")
    with Store.from_url(key_url) as keys_db, keys_db.engine.begin() as conn:
        row = conn.execute(text("SELECT key, shredded_at FROM vault_keys WHERE case_id = 'c1'")).one()
        assert row.key is None and row.shredded_at is not None


def test_erase_shreds_and_keeps_a_verifiable_record(store: Store) -> None:
    case = new_case(store)
    store.vault.put(case.id, "<PERSON_1>", "Ann Smith")
    advance(store, case.id, 2)
    event = store.erase(case.id, actor="person:dpo", reason="GDPR art. 17 request #42")
    assert (event.kind, event.actor) == ("erasure", "person:dpo")
    assert event.payload["vault_key_shredded"] is True and event.payload["values_erased"] == 1
    assert event.payload["reason"] == "GDPR art. 17 request #42"
    assert store.history(case.id)[-1] == event
    assert store.verify(case.id).ok
    with pytest.raises(NotFound):
        store.vault.get(case.id, "<PERSON_1>")
    with pytest.raises(NotFound):
        store.erase("missing")


def test_vault_writes_inside_a_step_join_its_transaction(store: Store) -> None:
    case = new_case(store)
    with store.step(case.id, case.version) as step:
        store.vault.put(case.id, "<PERSON_1>", "Ann Smith")  # would wait on SQLite's write lock otherwise
        assert store.vault.get(case.id, "<PERSON_1>") == "Ann Smith"
        step.append("chat_message", payload={"text": "claim filed by <PERSON_1>"})
    assert store.vault.get(case.id, "<PERSON_1>") == "Ann Smith"

    current = store.case(case.id)
    with pytest.raises(RuntimeError, match="abort"), store.step(case.id, current.version):
        store.vault.put(case.id, "<PERSON_2>", "Bob Jones")
        raise RuntimeError("abort")
    assert store.vault.tokens(case.id) == ["<PERSON_1>"]


def test_concurrent_first_puts_share_one_key(store: Store) -> None:
    import threading

    barrier = threading.Barrier(4)

    def put(i: int) -> None:
        barrier.wait()
        store.vault.put("c1", f"<T_{i}>", f"value {i}")

    threads = [threading.Thread(target=put, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [store.vault.get("c1", f"<T_{i}>") for i in range(4)] == [f"value {i}" for i in range(4)]


class _KmsStandIn:
    """A KeyStore kept outside the database, as a KMS would be."""

    def __init__(self) -> None:
        self.keys: dict[str, bytes | None] = {}

    def get_or_create(self, case_id: str) -> bytes:
        if case_id in self.keys and self.keys[case_id] is None:
            raise StoreError("shredded")
        key = self.keys.setdefault(case_id, bytes(range(32)) if case_id == "c1" else bytes(32))
        assert key is not None
        return key

    def get(self, case_id: str) -> bytes | None:
        return self.keys.get(case_id)

    def shredded_at(self, case_id: str) -> datetime | None:
        return datetime(2026, 1, 1, tzinfo=UTC) if case_id in self.keys and self.keys[case_id] is None else None

    def shred(self, case_id: str) -> bool:
        existed = self.keys.get(case_id) is not None
        self.keys[case_id] = None
        return existed


def test_a_key_store_outside_the_database_plugs_in(store_url: str) -> None:
    kms = _KmsStandIn()
    assert isinstance(kms, KeyStore)
    with Store.from_url(store_url, keys=kms) as store:
        store.vault.put("c1", "<PERSON_1>", "Ann Smith")
        assert store.vault.get("c1", "<PERSON_1>") == "Ann Smith"
        assert "c1" in kms.keys
        with store.engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM vault_keys")).scalar_one() == 0
        store.vault.shred("c1")
        with pytest.raises(NotFound, match="shredded"):
            store.vault.get("c1", "<PERSON_1>")
    with pytest.raises(ValueError, match="not both"):
        Store.from_url(store_url, keys=kms, key_url=store_url)
