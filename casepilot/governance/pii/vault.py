"""Where pseudonym mappings live: a per-case vault that keeps plaintext encrypted.

The pseudonymiser only needs four operations, so it talks to a small
:class:`PseudonymVault` protocol; ``casepilot.store`` provides the durable,
database-backed vault and :class:`InMemoryVault` serves tests and notebooks.

Crypto-shredding: every case has its own data key and each plaintext is
encrypted under it (Fernet: AES-128-CBC + HMAC-SHA256). ``shred(case_id)``
destroys the key, so every value of that case becomes unrecoverable at once even
if ciphertext survives in backups — the way to honour an erasure request
without rewriting an append-only history.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from cryptography.fernet import Fernet, InvalidToken

from casepilot.errors import NotFound

__all__ = ["BatchPseudonymVault", "InMemoryVault", "PseudonymVault", "PseudonymsShredded", "UnknownPseudonym",
           "reveal_tokens"]


class UnknownPseudonym(NotFound):
    """A token that the case's vault never issued."""

    def __init__(self, case_id: str, token: str) -> None:
        self.case_id = case_id
        self.token = token
        super().__init__(f"case {case_id!r} has no pseudonym {token!r}")


class PseudonymsShredded(NotFound):
    """The case's key was erased: its personal data can no longer be revealed (by design)."""

    def __init__(self, case_id: str) -> None:
        self.case_id = case_id
        super().__init__(
            f"the pseudonym key of case {case_id!r} was shredded; its personal data is "
            "unrecoverable and cannot be revealed"
        )


@runtime_checkable
class PseudonymVault(Protocol):
    """Per-case store of ``token -> plaintext``; implementations keep plaintext encrypted.

    ``get`` raises :class:`~casepilot.errors.NotFound` for a token the case never had
    and after ``shred`` (here: the subclasses :class:`UnknownPseudonym` and
    :class:`PseudonymsShredded`); ``put`` after ``shred`` must fail as well — an
    erased case takes no new PII. ``casepilot.store``'s vault fits this protocol.
    """

    def put(self, case_id: str, token: str, plaintext: str) -> None:
        """Store ``plaintext`` under ``token`` for the case (idempotent for the same pair)."""
        ...

    def get(self, case_id: str, token: str) -> str:
        """Return the plaintext behind ``token``."""
        ...

    def tokens(self, case_id: str) -> list[str]:
        """Every token issued for the case, in issue order (empty for an unknown case)."""
        ...

    def shred(self, case_id: str) -> object:
        """Destroy the case key: all of the case's plaintext becomes unrecoverable.

        The return value is not used (the store's vault returns how many entries died).
        """
        ...


@runtime_checkable
class BatchPseudonymVault(Protocol):
    """A vault that also reads several tokens at once (one key and one entry lookup, not one per token)."""

    def get_many(self, case_id: str, tokens: Iterable[str]) -> dict[str, str]:
        """The plaintext behind each of ``tokens``; fails like ``get`` for any one it cannot return."""
        ...


def reveal_tokens(vault: PseudonymVault, case_id: str, tokens: Iterable[str]) -> dict[str, str]:
    """``token -> plaintext`` for ``tokens``, in one read when the vault can (``BatchPseudonymVault``)."""
    wanted = list(dict.fromkeys(tokens))
    if not wanted:
        return {}
    if isinstance(vault, BatchPseudonymVault):
        return vault.get_many(case_id, wanted)
    return {token: vault.get(case_id, token) for token in wanted}


class InMemoryVault:
    """A process-local :class:`PseudonymVault` with one Fernet key per case.

    Plaintext is encrypted even in memory so that the shredding semantics (key gone
    ⇒ data gone) are the same as the store's vault and tests exercise them for real.
    """

    def __init__(self) -> None:
        self._keys: dict[str, Fernet] = {}
        self._cipher: dict[str, dict[str, bytes]] = {}
        self._shredded: set[str] = set()

    def _key(self, case_id: str) -> Fernet:
        if case_id in self._shredded:
            raise PseudonymsShredded(case_id)
        key = self._keys.get(case_id)
        if key is None:
            key = self._keys[case_id] = Fernet(Fernet.generate_key())
            self._cipher[case_id] = {}
        return key

    def put(self, case_id: str, token: str, plaintext: str) -> None:
        """Encrypt and keep ``plaintext`` under ``token``."""
        key = self._key(case_id)
        self._cipher[case_id][token] = key.encrypt(plaintext.encode("utf-8"))

    def get(self, case_id: str, token: str) -> str:
        """Decrypt the value behind ``token``."""
        key = self._key(case_id)
        blob = self._cipher[case_id].get(token)
        if blob is None:
            raise UnknownPseudonym(case_id, token)
        try:
            return key.decrypt(blob).decode("utf-8")
        except InvalidToken as exc:  # pragma: no cover - only on memory corruption
            raise PseudonymsShredded(case_id) from exc

    def get_many(self, case_id: str, tokens: Iterable[str]) -> dict[str, str]:
        """``get`` for each of ``tokens``."""
        return {token: self.get(case_id, token) for token in tokens}

    def tokens(self, case_id: str) -> list[str]:
        """Tokens of the case in issue order."""
        if case_id in self._shredded:
            return []
        return list(self._cipher.get(case_id, {}))

    def shred(self, case_id: str) -> None:
        """Forget the key and the ciphertext of the case."""
        self._keys.pop(case_id, None)
        self._cipher.pop(case_id, None)
        self._shredded.add(case_id)
