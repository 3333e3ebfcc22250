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
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Engine, Row, Select, and_, bindparam, delete, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from casepilot.errors import CaseDataErased, NotFound, StoreError

from ._canonical import as_utc
from ._engine import active_connection, session_scope, upsert
from ._tables import VaultEntryRow, VaultKeyRow

__all__ = ["KeyStore", "SqlKeyStore", "Vault"]

_NONCE_BYTES = 12
_KEYS = VaultKeyRow.__table__  # type: ignore[attr-defined]
_ENTRIES = VaultEntryRow.__table__  # type: ignore[attr-defined]

_KEY_AND_ENTRIES = (
    sa_select(_KEYS.c.key, _ENTRIES.c.token, _ENTRIES.c.nonce, _ENTRIES.c.ciphertext)
    .select_from(_KEYS.outerjoin(_ENTRIES, and_(
        _ENTRIES.c.case_id == _KEYS.c.case_id, _ENTRIES.c.token.in_(bindparam("tokens", expanding=True)))))
    .where(_KEYS.c.case_id == bindparam("case_id"))
)
"""A case's key (no row: none was ever made; NULL: shredded) and its values among ``tokens``."""
_TOKENS = (sa_select(_ENTRIES.c.token).where(_ENTRIES.c.case_id == bindparam("case_id"))
           .order_by(_ENTRIES.c.created_at, _ENTRIES.c.token))


def _read(engine: Engine, statement: Select[Any], params: dict[str, Any]) -> Sequence[Row[Any]]:
    """One read statement: in this thread's open step if there is one (it sees the step's own
    vault writes), else on PostgreSQL without a transaction around it — a single statement
    reads one snapshot anyway, and BEGIN and ROLLBACK were two of its three round trips."""
    conn = active_connection(engine)
    if conn is not None:
        return conn.execute(statement, params).all()
    options = {"isolation_level": "AUTOCOMMIT"} if engine.dialect.name == "postgresql" else {}
    with engine.connect().execution_options(**options) as own:
        return own.execute(statement, params).all()


@runtime_checkable
class KeyStore(Protocol):
    """Where per-case data keys live. Implement it over a KMS to keep keys out of the database."""

    def get_or_create(self, case_id: str) -> bytes:
        """The case's key, created on first use; raises ``CaseDataErased`` (a ``StoreError``) once shredded."""
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
        # Not waiting for the disk: a key is only used by a step that commits (durably) after it.
        with session_scope(self._engine, write=True, durable=False) as session:
            return self.get_or_create_in(session, case_id)

    def get_or_create_in(self, session: Session, case_id: str) -> bytes:
        """``get_or_create`` in ``session``'s transaction (a session on this key store's engine)."""
        upsert(
            session,
            _KEYS,
            {"case_id": case_id, "key": AESGCM.generate_key(bit_length=256), "created_at": self._clock()},
            keys=["case_id"],
        )
        row = session.get(VaultKeyRow, case_id, populate_existing=True)
        assert row is not None
        if row.key is None:
            raise CaseDataErased(f"the personal data of case {case_id} was erased (its vault key was shredded): "
                                 "nothing personal can be stored for it any more — leave the personal data out, "
                                 "or continue the matter in a new case")
        return bytes(row.key)

    def get(self, case_id: str) -> bytes | None:
        with session_scope(self._engine, write=False) as session:
            return self.get_in(session, case_id)

    def get_in(self, session: Session, case_id: str) -> bytes | None:
        """``get`` in ``session``'s transaction (a session on this key store's engine)."""
        row = session.get(VaultKeyRow, case_id)
        return None if row is None or row.key is None else bytes(row.key)

    def uses(self, engine: Engine) -> bool:
        """Whether the keys are in ``engine``'s database (a vault there reads them in its own transaction)."""
        return self._engine is engine

    def shredded_at(self, case_id: str) -> datetime | None:
        with session_scope(self._engine, write=False) as session:
            row = session.get(VaultKeyRow, case_id)
            return None if row is None or row.shredded_at is None else as_utc(row.shredded_at)

    def shred(self, case_id: str) -> bool:
        now = self._clock()
        with session_scope(self._engine, write=True) as session:
            # Record the shred even without a key: none may ever be created for this case afterwards.
            upsert(session, _KEYS, {"case_id": case_id, "key": None, "created_at": now, "shredded_at": now},
                   keys=["case_id"])
            done = session.connection().execute(
                update(_KEYS)
                .where(_KEYS.c.case_id == case_id, _KEYS.c.key.is_not(None))
                .values(key=None, shredded_at=now)
            )
            return int(done.rowcount) == 1


class Vault:
    """Encrypted pseudonym values per case: ``put``/``get``/``tokens``/``shred``.

    Called while a step is open in the same thread, the vault joins that step's
    transaction: the pseudonyms commit (or roll back) together with the step.
    """

    def __init__(self, engine: Engine, keys: KeyStore, clock: Callable[[], datetime]) -> None:
        self._engine = engine
        self.keys = keys
        self._clock = clock

    @staticmethod
    def _aad(case_id: str, token: str) -> bytes:
        return f"casepilot-vault\x1f{case_id}\x1f{token}".encode()

    def _keys_here(self) -> SqlKeyStore | None:
        """The key store when its keys are in the vault's own database: one transaction then reads
        (or writes) a case's key and its values together, where each took a transaction of its own."""
        keys = self.keys
        return keys if isinstance(keys, SqlKeyStore) and keys.uses(self._engine) else None

    def put(self, case_id: str, token: str, plaintext: str) -> None:
        """Store (or replace) the value behind ``token`` in ``case_id``."""
        if not token:
            raise ValueError("a vault token must not be empty")
        here = self._keys_here()
        # Not waiting for the disk (``relax_durability``): the token is stored in the history or
        # the case only by a later step, whose durable commit makes this one durable too.
        with session_scope(self._engine, write=True, durable=False) as session:
            key = here.get_or_create_in(session, case_id) if here is not None else self.keys.get_or_create(case_id)
            nonce = os.urandom(_NONCE_BYTES)
            ciphertext = AESGCM(key).encrypt(nonce, plaintext.encode("utf-8"), self._aad(case_id, token))
            upsert(
                session,
                _ENTRIES,
                {"case_id": case_id, "token": token, "nonce": nonce, "ciphertext": ciphertext,
                 "created_at": self._clock()},
                keys=["case_id", "token"],
                update=["nonce", "ciphertext"],
            )

    def get(self, case_id: str, token: str) -> str:
        """The plaintext behind ``token``; ``NotFound`` if unknown or shredded."""
        key = self.keys.get(case_id)
        if key is None:
            when = self.keys.shredded_at(case_id)
            if when is not None:
                raise NotFound(f"the vault of case {case_id} was shredded at {when.isoformat()}: {token} is gone")
            raise NotFound(f"token {token} is not in the vault of case {case_id}")
        with session_scope(self._engine, write=False) as session:
            row = session.get(VaultEntryRow, (case_id, token))
            if row is None:
                raise NotFound(f"token {token} is not in the vault of case {case_id}")
            try:
                plain = AESGCM(key).decrypt(bytes(row.nonce), bytes(row.ciphertext), self._aad(case_id, token))
            except InvalidTag as exc:
                raise StoreError(f"vault entry {token} of case {case_id} does not decrypt: it was altered") from exc
            return plain.decode("utf-8")

    def get_many(self, case_id: str, tokens: Iterable[str]) -> dict[str, str]:
        """``get`` for several tokens in one key lookup and one query (an in-process tool's arguments);
        one statement when the keys are in the vault's own database."""
        wanted = list(dict.fromkeys(tokens))
        if not wanted:
            return {}
        rows: dict[str, Any]  # token -> its row (``nonce``, ``ciphertext``)
        if self._keys_here() is not None:
            found = _read(self._engine, _KEY_AND_ENTRIES, {"case_id": case_id, "tokens": wanted})
            key = found[0].key if found else None
            rows = {row.token: row for row in found if row.token is not None}
        else:
            key = self.keys.get(case_id)
            with session_scope(self._engine, write=False) as session:
                rows = {row.token: row for row in session.exec(
                    select(VaultEntryRow).where(VaultEntryRow.case_id == case_id, col(VaultEntryRow.token).in_(wanted)))}
        if key is None:
            return {token: self.get(case_id, token) for token in wanted[:1]}  # raises, saying why
        plain: dict[str, str] = {}
        for token in wanted:
            row = rows.get(token)
            if row is None:
                raise NotFound(f"token {token} is not in the vault of case {case_id}")
            try:
                clear = AESGCM(bytes(key)).decrypt(bytes(row.nonce), bytes(row.ciphertext), self._aad(case_id, token))
            except InvalidTag as exc:
                raise StoreError(f"vault entry {token} of case {case_id} does not decrypt: it was altered") from exc
            plain[token] = clear.decode("utf-8")
        return plain

    def tokens(self, case_id: str) -> list[str]:
        """The case's tokens in issue order; empty after a shred."""
        return [row.token for row in _read(self._engine, _TOKENS, {"case_id": case_id})]

    def shred(self, case_id: str) -> int:
        """Crypto-shred the case: destroy its key, then drop the now unreadable ciphertexts.

        The key goes first: if the process dies in between, what remains cannot be
        decrypted. Returns the number of values erased.
        """
        self.keys.shred(case_id)
        with session_scope(self._engine, write=True) as session:
            done = session.connection().execute(delete(_ENTRIES).where(_ENTRIES.c.case_id == case_id))
            return int(done.rowcount)
