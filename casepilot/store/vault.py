"""The pseudonym vault: reversible pseudonymisation with crypto-shredding.

Each case gets its own random 256-bit data key; values are encrypted with AES-GCM
(a fresh 96-bit nonce per value, the case id and token bound in as associated data
so a ciphertext cannot be moved to another token or case). Keys live apart from the
ciphertexts — another table, or another database / a KMS behind ``KeyStore`` — so
shredding a case's key makes every copy of its ciphertexts (replicas, backups)
unreadable: the PII is gone everywhere while the history, which only ever held
tokens, stays intact and verifiable.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from typing import Protocol, runtime_checkable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Engine, delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from casepilot.errors import NotFound, StoreError

from ._canonical import as_utc
from ._engine import write_connection
from ._tables import VaultEntryRow, VaultKeyRow

__all__ = ["KeyStore", "SqlKeyStore", "Vault"]

_NONCE_BYTES = 12


@runtime_checkable
class KeyStore(Protocol):
    """Where per-case data keys live. Implement it over a KMS to keep keys out of the database."""

    def get_or_create(self, case_id: str) -> bytes:
        """The case's key, created on first use; raises ``StoreError`` once shredded."""
        ...

    def get(self, case_id: str) -> bytes | None:
        """The case's key, or ``None`` if it never existed or was shredded."""
        ...

    def shredded_at(self, case_id: str) -> datetime | None:
        """When the case's key was shredded, or ``None``."""
        ...

    def shred(self, case_id: str) -> bool:
        """Destroy the case's key for good (idempotent); True if a live key was destroyed."""
        ...


class SqlKeyStore:
    """Keys in the ``vault_keys`` table of a database (the store's own, or a separate key database)."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self._engine = engine
        self._clock = clock

    def get_or_create(self, case_id: str) -> bytes:
        for _ in range(3):
            with Session(self._engine) as session:
                row = session.get(VaultKeyRow, case_id)
                if row is not None:
                    if row.key is None:
                        raise StoreError(f"the vault key of case {case_id} was shredded: nothing can be stored for it")
                    return bytes(row.key)
            try:
                with write_connection(self._engine) as conn, conn.begin(), Session(bind=conn) as session:
                    key = AESGCM.generate_key(bit_length=256)
                    session.add(VaultKeyRow(case_id=case_id, key=key, created_at=self._clock()))
                    session.flush()
                    return key
            except IntegrityError:
                continue  # created concurrently: read it
        raise StoreError(f"could not create the vault key of case {case_id}")

    def get(self, case_id: str) -> bytes | None:
        with Session(self._engine) as session:
            row = session.get(VaultKeyRow, case_id)
            return None if row is None or row.key is None else bytes(row.key)

    def shredded_at(self, case_id: str) -> datetime | None:
        with Session(self._engine) as session:
            row = session.get(VaultKeyRow, case_id)
            return None if row is None or row.shredded_at is None else as_utc(row.shredded_at)

    def shred(self, case_id: str) -> bool:
        with write_connection(self._engine) as conn, conn.begin(), Session(bind=conn) as session:
            row = session.get(VaultKeyRow, case_id, with_for_update=True)
            now = self._clock()
            if row is None:
                # Record the shred anyway: no key may ever be created for this case afterwards.
                session.add(VaultKeyRow(case_id=case_id, key=None, created_at=now, shredded_at=now))
                session.flush()
                return False
            if row.key is None:
                return False
            row.key = None
            row.shredded_at = now
            session.add(row)
            session.flush()
            return True


class Vault:
    """Encrypted pseudonym values per case: ``put``/``get``/``tokens``/``shred``."""

    def __init__(self, engine: Engine, keys: KeyStore, clock: Callable[[], datetime]) -> None:
        self._engine = engine
        self.keys = keys
        self._clock = clock

    @staticmethod
    def _aad(case_id: str, token: str) -> bytes:
        return f"casepilot-vault\x1f{case_id}\x1f{token}".encode()

    def put(self, case_id: str, token: str, plaintext: str) -> None:
        """Store (or replace) the value behind ``token`` in ``case_id``."""
        if not token:
            raise ValueError("a vault token must not be empty")
        key = self.keys.get_or_create(case_id)
        nonce = os.urandom(_NONCE_BYTES)
        ciphertext = AESGCM(key).encrypt(nonce, plaintext.encode("utf-8"), self._aad(case_id, token))
        with write_connection(self._engine) as conn, conn.begin(), Session(bind=conn) as session:
            row = session.get(VaultEntryRow, (case_id, token))
            if row is None:
                row = VaultEntryRow(case_id=case_id, token=token, nonce=nonce, ciphertext=ciphertext,
                                    created_at=self._clock())
            else:
                row.nonce = nonce
                row.ciphertext = ciphertext
            session.add(row)
            session.flush()

    def get(self, case_id: str, token: str) -> str:
        """The plaintext behind ``token``; ``NotFound`` if unknown or shredded."""
        key = self.keys.get(case_id)
        if key is None:
            when = self.keys.shredded_at(case_id)
            if when is not None:
                raise NotFound(f"the vault of case {case_id} was shredded at {when.isoformat()}: {token} is gone")
            raise NotFound(f"token {token} is not in the vault of case {case_id}")
        with Session(self._engine) as session:
            row = session.get(VaultEntryRow, (case_id, token))
            if row is None:
                raise NotFound(f"token {token} is not in the vault of case {case_id}")
            try:
                plain = AESGCM(key).decrypt(bytes(row.nonce), bytes(row.ciphertext), self._aad(case_id, token))
            except InvalidTag as exc:
                raise StoreError(f"vault entry {token} of case {case_id} does not decrypt: it was altered") from exc
            return plain.decode("utf-8")

    def tokens(self, case_id: str) -> list[str]:
        """The case's tokens (sorted); empty after a shred."""
        with Session(self._engine) as session:
            rows = session.exec(
                select(VaultEntryRow.token).where(VaultEntryRow.case_id == case_id).order_by(col(VaultEntryRow.token))
            ).all()
            return list(rows)

    def shred(self, case_id: str) -> int:
        """Crypto-shred the case: destroy its key, then drop the now unreadable ciphertexts.

        The key goes first: if the process dies in between, what remains cannot be
        decrypted. Returns the number of values erased.
        """
        self.keys.shred(case_id)
        with write_connection(self._engine) as conn, conn.begin():
            done = conn.execute(delete(VaultEntryRow).where(col(VaultEntryRow.case_id) == case_id))
            return int(done.rowcount)
