"""``Store``: the one entry point to casepilot's persistence (SQLite or PostgreSQL by URL)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Literal, TypeVar

from sqlalchemy import Engine

from casepilot.errors import ConcurrencyConflict, HistoryTampered

from . import _cases, _claims, _definitions, _leases, _migrate, _search
from ._canonical import utc_iso
from ._engine import make_engine
from ._search import CasePage, CaseQuery
from ._step import Step, open_step
from ._step_head import StaleVersion, StepHead
from .history import replay_state, verify_rows
from .models import (
    Actor,
    Anchor,
    CaseRecord,
    DefinitionBundle,
    DefinitionSummary,
    DefinitionVersion,
    HistoryEvent,
    HumanTask,
    JsonObject,
    TaskStatus,
    VerifyReport,
)
from .vault import KeyStore, SqlKeyStore, Vault

__all__ = ["DEFAULT_URL", "Store"]

DEFAULT_URL = "sqlite:///.casepilot/casepilot.db"
"""Where the CLI keeps cases when neither ``--db`` nor ``CASEPILOT_DATABASE_URL`` says otherwise."""

_RETRIES = 5
DEFAULT_SNAPSHOT_EVERY = 1000
"""A full state snapshot at least every this many steps (``CASEPILOT_SNAPSHOT_EVERY``); sooner
once the deltas since the last snapshot outweigh it (see ``_step``). Loading a case replays
fewer deltas than this, and fewer bytes of them than its snapshot holds."""


def _snapshot_every_from_settings() -> int:
    """``CASEPILOT_SNAPSHOT_EVERY`` from the environment or ``.env`` (``casepilot.settings``)."""
    from casepilot.settings import load_settings

    return load_settings().snapshot_every


_T = TypeVar("_T")


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _uuid() -> str:
    return uuid.uuid4().hex


class Store:
    """Definitions, cases, history, human tasks and the pseudonym vault over one database.

    Thread-safe (a connection pool per engine); share one ``Store`` per process.
    ``clock`` and ``new_id`` are injectable so tests and replays are deterministic.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        key_engine: Engine | None = None,
        keys: KeyStore | None = None,
        clock: Callable[[], datetime] = _utcnow,
        new_id: Callable[[], str] = _uuid,
        migrate: bool = True,
        snapshot_every: int | None = None,
    ) -> None:
        self.engine = engine
        """The SQLAlchemy engine — for administration and tests; application code uses the methods."""
        self._key_engine = key_engine
        self._clock = clock
        self._new_id = new_id
        self.snapshot_every = snapshot_every if snapshot_every is not None else _snapshot_every_from_settings()
        """A full state snapshot at least every this many steps that record only their changes
        (``Step.save_changes``); sooner once their deltas outweigh the last snapshot."""
        if self.snapshot_every < 1:
            raise ValueError("snapshot_every must be 1 or more")
        if migrate:
            _migrate.ensure_schema(engine)
            if key_engine is not None:
                _migrate.ensure_schema(key_engine)
        self.vault = Vault(engine, keys or SqlKeyStore(key_engine or engine, clock), clock)
        """The pseudonym vault (keys in ``key_url``'s database when one was given)."""

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        key_url: str | None = None,
        keys: KeyStore | None = None,
        clock: Callable[[], datetime] = _utcnow,
        new_id: Callable[[], str] = _uuid,
        migrate: bool = True,
        snapshot_every: int | None = None,
        pool_size: int | None = None,
    ) -> Store:
        """Open ``sqlite:///path`` or ``postgresql+psycopg://user@host/db``; migrates an empty database.

        ``pool_size``: connections kept open to PostgreSQL (default ``CASEPILOT_DB_POOL_SIZE``).

        ``key_url`` puts the vault's keys in a separate database, so that a copy of the main
        database never holds both ciphertexts and keys; ``keys`` plugs in any other
        ``KeyStore`` (e.g. one backed by a KMS).
        """
        if key_url is not None and keys is not None:
            raise ValueError("give either key_url or keys, not both")
        return cls(
            make_engine(url, **({"pool_size": pool_size} if pool_size is not None else {})),
            key_engine=None if key_url is None else make_engine(key_url),
            keys=keys,
            clock=clock,
            new_id=new_id,
            migrate=migrate,
            snapshot_every=snapshot_every,
        )

    @property
    def url(self) -> str:
        """The database URL (with its password), e.g. to point a LangGraph checkpointer at the same database."""
        return self.engine.url.render_as_string(hide_password=False)

    @property
    def sqlite_path(self) -> Path | None:
        """The database file of a file-backed SQLite store (None for PostgreSQL or in-memory)."""
        url = self.engine.url
        if self.backend != "sqlite" or not url.database or url.database == ":memory:":
            return None
        return Path(url.database)

    @property
    def postgres_conninfo(self) -> str | None:
        """A libpq URL (``postgresql://…``) of a PostgreSQL store, for psycopg users (e.g. a checkpointer)."""
        if self.backend != "postgresql":
            return None
        return self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)

    @property
    def backend(self) -> Literal["sqlite", "postgresql"]:
        return "postgresql" if self.engine.dialect.name == "postgresql" else "sqlite"

    def close(self) -> None:
        """Release pooled connections."""
        self.engine.dispose()
        if self._key_engine is not None:
            self._key_engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def upgrade(self) -> tuple[str | None, str | None]:
        """Apply pending migrations; returns (revision before, revision after)."""
        result = _migrate.upgrade(self.engine)
        if self._key_engine is not None:
            _migrate.upgrade(self._key_engine)
        return result

    # -- definitions ------------------------------------------------------------------------------

    def deploy(self, key: str, bundle: DefinitionBundle) -> DefinitionVersion:
        """Deploy a bundle under ``key``: a new version only if its content hash changed."""
        return _definitions.deploy(self.engine, key, bundle, self._clock)

    def definition(self, key: str, version: int | None = None) -> DefinitionVersion:
        """A deployed version (the latest when ``version`` is None); ``NotFound`` otherwise."""
        return _definitions.get_definition(self.engine, key, version)

    def definitions(self, key: str | None = None) -> list[DefinitionSummary]:
        """Every version of ``key``, or the latest version of every key."""
        return _definitions.list_definitions(self.engine, key)

    # -- cases ------------------------------------------------------------------------------------

    def create_case(
        self,
        definition_key: str,
        state: JsonObject,
        *,
        definition_version: int | None = None,
        business_key: str | None = None,
        tenant: str | None = None,
        case_id: str | None = None,
        actor: Actor = "system",
    ) -> CaseRecord:
        """Start a case on a definition version (the latest by default); records ``case_created``."""
        return _cases.create_case(
            self.engine,
            case_id=case_id or self._new_id(),
            definition_key=definition_key,
            definition_version=definition_version,
            state=state,
            business_key=business_key,
            tenant=tenant,
            actor=actor,
            now=self._clock(),
        )

    def llm_spend(self, definition_key: str) -> tuple[int, Decimal, int]:
        """What every case of ``definition_key`` spent on language models: (tokens, cost, calls), the cost exact."""
        return _cases.llm_spend(self.engine, definition_key)

    # -- leases: one worker per case ---------------------------------------------------------------

    def acquire_lease(self, case_id: str, owner: str, ttl_seconds: float) -> bool:
        """Take the lease on ``case_id`` for ``owner`` (free, expired or already theirs); False if held.

        Expiry uses this store's clock: workers on several machines need synchronised clocks
        (NTP), and a ``ttl_seconds`` well above the skew.
        """
        from datetime import timedelta

        return _leases.acquire(self.engine, case_id, owner, now=self._clock(), ttl=timedelta(seconds=ttl_seconds))

    def renew_lease(self, case_id: str, owner: str, ttl_seconds: float) -> bool:
        """Extend ``owner``'s lease; False when it is no longer theirs."""
        from datetime import timedelta

        return _leases.renew(self.engine, case_id, owner, now=self._clock(), ttl=timedelta(seconds=ttl_seconds))

    def release_lease(self, case_id: str, owner: str) -> None:
        """Give ``owner``'s lease on ``case_id`` back."""
        _leases.release(self.engine, case_id, owner)

    def lease_holder(self, case_id: str) -> str | None:
        """Who holds a live lease on ``case_id``, if anyone."""
        return _leases.holder(self.engine, case_id, now=self._clock())

    def case_version(self, case_id: str) -> int:
        """The case's optimistic-concurrency version only (a cheap check that a cached copy is current)."""
        return _cases.case_version(self.engine, case_id)

    def case(self, case_id: str) -> CaseRecord:
        """The case with its current state (for reading; a worker uses ``load_case``)."""
        return _cases.get_case(self.engine, case_id)

    def load_case(self, case_id: str) -> CaseRecord:
        """The case to work on, checked against its hash chain first.

        Raises ``StateTampered`` (a ``HistoryTampered``) when its stored state, the events since
        its last snapshot or its inbox rows do not match the chain — edited outside casepilot —
        so that no worker acts on them; ``NotFound`` when there is no such case.
        """
        return _cases.load_case(self.engine, case_id)

    def cases(
        self,
        *,
        tenant: str | None = None,
        business_key: str | None = None,
        definition_key: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[CaseRecord]:
        """Cases oldest first, ``limit`` of them after skipping ``offset`` (to page through)."""
        return _cases.list_cases(
            self.engine, tenant=tenant, business_key=business_key, definition_key=definition_key, limit=limit,
            offset=offset,
        )

    def search_cases(self, query: CaseQuery) -> CasePage:
        """Cases for people: by business key or case-file value (pseudonyms match, never clear
        text), state and definition, sorted and paged (see ``_search``)."""
        return _search.search_cases(self.engine, query)

    def step(self, case_id: str, expected_version: int, *, head: StepHead | None = None) -> AbstractContextManager[Step]:
        """Unit of work on one case: ``with store.step(id, case.version) as step: …``.

        Raises ``ConcurrencyConflict`` if the case is not at ``expected_version`` (another
        worker applied a step first) and ``NotFound`` if it does not exist. On normal exit
        the state, events and inbox changes commit together; on an exception nothing does.

        ``head``: the ``next_head`` of the step this caller wrote last on the case; on PostgreSQL
        the step then skips reading and locking the case row first (``_step_head``'s docstring) and a
        version that is no longer current fails at commit instead, with the same exception.
        """
        return open_step(self.engine, case_id, expected_version, self._clock, self._new_id, self.snapshot_every,
                         head)

    # -- history ----------------------------------------------------------------------------------

    def history(self, case_id: str, *, after_seq: int = 0, limit: int | None = None) -> list[HistoryEvent]:
        """Events of a case in order (``after_seq`` and ``limit`` page through long histories)."""
        self.case(case_id)
        events: list[HistoryEvent] = []
        for event in _cases.iter_events(self.engine, case_id, after_seq=after_seq):
            if limit is not None and len(events) >= limit:
                break
            events.append(event)
        return events

    def iter_history(self, case_id: str, *, after_seq: int = 0) -> Iterator[HistoryEvent]:
        """Stream a case's events page by page (for histories too long to hold in memory)."""
        return _cases.iter_events(self.engine, case_id, after_seq=after_seq)

    def anchors(self, *, definition_key: str | None = None) -> Iterator[Anchor]:
        """The chain head of every case, to keep outside the database (see ``Anchor``)."""
        taken = self._clock()
        for case_id, seq, head in _cases.anchors(self.engine, definition_key=definition_key):
            yield Anchor(case_id=case_id, seq=seq, hash=head, taken_at=taken)

    def verify(self, case_id: str, *, anchor: Anchor | None = None) -> VerifyReport:
        """Check the hash chain up to the head recorded on the case row.

        Events beyond that head are accepted only if the case has meanwhile moved past
        them (a step committed during the check); otherwise they were inserted behind
        the store's back. With an ``anchor`` taken earlier, the anchored event must still be
        there with the same hash: a history cut back to before it — and a case row rewritten
        to match — fails.
        """
        report = self._verify_chain(case_id)
        if not report.ok or anchor is None:
            return report
        if anchor.case_id != case_id:
            raise ValueError(f"the anchor is for case {anchor.case_id}, not {case_id}")
        stored = _cases.event_hash(self.engine, case_id, anchor.seq)
        if stored == anchor.hash:
            return report
        when = utc_iso(anchor.taken_at)
        problem = (f"event {anchor.seq}, the chain head anchored at {when}, is gone: the history was cut back"
                   if stored is None else
                   f"event {anchor.seq} differs from the one anchored at {when}: the history was rewritten")
        return VerifyReport(case_id=case_id, ok=False, events_checked=report.events_checked,
                            first_bad_seq=anchor.seq, problem=problem)

    def _verify_chain(self, case_id: str) -> VerifyReport:
        case = self.case(case_id)
        report = verify_rows(
            case_id, _cases.iter_event_rows(self.engine, case_id), last_seq=case.last_seq, head_hash=case.head_hash
        )
        if report.ok:
            problem = _cases.rows_problem(self.engine, case_id)
            if problem is not None:
                return VerifyReport(case_id=case_id, ok=False, events_checked=report.events_checked,
                                    first_bad_seq=problem[0], problem=problem[1])
        if report.ok:
            beyond = _cases.max_seq(self.engine, case_id)
            if beyond > case.last_seq and beyond > self.case(case_id).last_seq:
                return VerifyReport(
                    case_id=case_id,
                    ok=False,
                    events_checked=report.events_checked,
                    first_bad_seq=case.last_seq + 1,
                    problem=f"event {case.last_seq + 1} was inserted after the chain head recorded on the case",
                )
        return report

    def verify_or_raise(self, case_id: str) -> VerifyReport:
        """``verify``, raising ``HistoryTampered`` (naming the first bad event) when it fails."""
        report = self.verify(case_id)
        if not report.ok:
            raise HistoryTampered(
                f"history of case {case_id} does not verify: {report.problem}",
                case_id=case_id,
                sequence=report.first_bad_seq,
            )
        return report

    def rebuild_state(self, case_id: str) -> JsonObject:
        """The case state replayed from its history (equals ``case(id).state`` unless tampered)."""
        return replay_state(self.iter_history(case_id))

    # -- human tasks ------------------------------------------------------------------------------

    def task(self, task_id: str) -> HumanTask:
        return _cases.get_task(self.engine, task_id)

    def tasks(
        self,
        *,
        status: TaskStatus | None = "open",
        role: str | None = None,
        case_id: str | None = None,
        expired_before: datetime | None = None,
        limit: int = 100,
    ) -> list[HumanTask]:
        """The inbox: open tasks by default, filtered by role or case.

        ``expired_before=now`` lists tasks whose expiry has passed (for a sweeper that
        closes them with ``step.close_task(id, "expired")``).
        """
        return _cases.list_tasks(
            self.engine, status=status, role=role, case_id=case_id, expired_before=expired_before, limit=limit
        )

    def claim_task(self, task_id: str, person: str) -> tuple[str, datetime]:
        """``person`` takes the open item ``task_id`` (see ``_claims``): (person, since);
        ``ConcurrencyConflict`` when someone else holds it or it is no longer open."""
        return _claims.claim(self.engine, task_id, person, self._clock())

    def release_task(self, task_id: str) -> str | None:
        """Drop the claim on ``task_id``; who held it."""
        return _claims.release(self.engine, task_id)

    def task_claims(self, task_ids: list[str]) -> dict[str, tuple[str, datetime]]:
        """The claims on those of ``task_ids`` still open: task id -> (person, since)."""
        return _claims.claims(self.engine, task_ids)

    def decide_task(self, task_id: str, *, decided_by: str, decision: str, comment: str | None = None) -> HumanTask:
        """Decide a task in its own step (retrying if the case moves meanwhile)."""
        task = self.task(task_id)

        def apply(step: Step) -> HumanTask:
            return step.decide_task(task_id, decided_by=decided_by, decision=decision, comment=comment)

        return self._retrying(task.case_id, apply)

    # -- retention --------------------------------------------------------------------------------

    def erase(self, case_id: str, *, actor: Actor = "system", reason: str | None = None) -> HistoryEvent:
        """Crypto-shred the case's PII and record an ``erasure`` event; the history stays verifiable."""
        self.case(case_id)
        erased = self.vault.shred(case_id)
        shredded_at = self.vault.keys.shredded_at(case_id)

        def record(step: Step) -> HistoryEvent:
            return step.append(
                "erasure",
                actor=actor,
                payload={
                    "vault_key_shredded": True,
                    "values_erased": erased,
                    "shredded_at": None if shredded_at is None else shredded_at.isoformat(),
                    "reason": reason,
                },
            )

        return self._retrying(case_id, record)

    def _retrying(self, case_id: str, apply: Callable[[Step], _T]) -> _T:
        for _ in range(_RETRIES):
            version = self.case(case_id).version
            try:
                with self.step(case_id, version) as step:
                    result = apply(step)
                return result
            except StaleVersion:
                continue
        raise ConcurrencyConflict(f"case {case_id} kept changing; gave up after {_RETRIES} attempts")
