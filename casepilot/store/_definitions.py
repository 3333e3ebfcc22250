"""Versioned definition bundles: deploy, fetch, list.

A deploy creates a new version only when the bundle's content hash differs from the
latest version under the key, so re-deploying on every start is harmless. The store
does not parse CMMN: a bundle is opaque files plus metadata.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from casepilot.errors import NotFound, StoreError

from ._canonical import digest, dumps_text
from ._convert import definition_summary, definition_version
from ._engine import write_connection
from ._tables import DefinitionFileRow, DefinitionRow
from .models import DefinitionBundle, DefinitionSummary, DefinitionVersion

__all__ = ["bundle_hash", "deploy", "find_row", "get_definition", "list_definitions"]

_DEPLOY_ATTEMPTS = 5


def _as_bytes(content: str | bytes) -> bytes:
    return content.encode("utf-8") if isinstance(content, str) else content


def bundle_hash(bundle: DefinitionBundle) -> str:
    """Content hash of the canonical bundle: file names with the sha256 of their bytes, and the metadata.

    Text is hashed as its UTF-8 bytes, so the same file given as ``str`` or ``bytes`` hashes alike.
    """
    files = {name: hashlib.sha256(_as_bytes(content)).hexdigest() for name, content in bundle.files.items()}
    return digest({"files": files, "metadata": bundle.metadata})


def deploy(engine: Engine, key: str, bundle: DefinitionBundle, now: Callable[[], datetime]) -> DefinitionVersion:
    if not key or len(key) > 200:
        raise ValueError("a definition key is 1 to 200 characters")
    if not bundle.files:
        raise ValueError("a definition bundle needs at least one file")
    if any(not name for name in bundle.files):
        raise ValueError("every file in a definition bundle needs a name")
    content_hash = bundle_hash(bundle)
    for _ in range(_DEPLOY_ATTEMPTS):
        try:
            return _deploy_once(engine, key, bundle, content_hash, now)
        except IntegrityError:
            continue  # another deployer took this version number: look again
    raise StoreError(f"could not deploy {key!r}: too many concurrent deploys of the same key")


def _deploy_once(
    engine: Engine, key: str, bundle: DefinitionBundle, content_hash: str, now: Callable[[], datetime]
) -> DefinitionVersion:
    with write_connection(engine) as conn, conn.begin(), Session(bind=conn) as session:
        latest = session.exec(
            select(DefinitionRow).where(DefinitionRow.key == key).order_by(col(DefinitionRow.version).desc()).limit(1)
        ).first()
        if latest is not None and latest.content_hash == content_hash:
            return _load(session, latest)
        row = DefinitionRow(
            key=key,
            version=1 if latest is None else latest.version + 1,
            content_hash=content_hash,
            meta_json=dumps_text(bundle.metadata),
            deployed_at=now(),
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        files = [
            DefinitionFileRow(definition_id=row.id, name=name, is_text=isinstance(content, str), content=_as_bytes(content))
            for name, content in bundle.files.items()
        ]
        session.add_all(files)
        session.flush()
        return definition_version(row, files)


def _load(session: Session, row: DefinitionRow) -> DefinitionVersion:
    files = list(
        session.exec(
            select(DefinitionFileRow).where(DefinitionFileRow.definition_id == row.id).order_by(col(DefinitionFileRow.name))
        )
    )
    return definition_version(row, files)


def find_row(session: Session, key: str, version: int | None) -> DefinitionRow:
    query = select(DefinitionRow).where(DefinitionRow.key == key)
    if version is None:
        query = query.order_by(col(DefinitionRow.version).desc()).limit(1)
    else:
        query = query.where(DefinitionRow.version == version)
    row = session.exec(query).first()
    if row is None:
        what = f"definition {key!r}" if version is None else f"definition {key!r} version {version}"
        raise NotFound(f"{what} is not deployed")
    return row


def get_definition(engine: Engine, key: str, version: int | None = None) -> DefinitionVersion:
    with Session(engine) as session:
        return _load(session, find_row(session, key, version))


def list_definitions(engine: Engine, key: str | None = None) -> list[DefinitionSummary]:
    """All versions of ``key`` (oldest first), or the latest version of every key."""
    with Session(engine) as session:
        if key is not None:
            rows = session.exec(
                select(DefinitionRow).where(DefinitionRow.key == key).order_by(col(DefinitionRow.version))
            ).all()
        else:
            latest = (
                select(DefinitionRow.key, func.max(DefinitionRow.version).label("v"))
                .group_by(col(DefinitionRow.key))
                .subquery()
            )
            rows = session.exec(
                select(DefinitionRow)
                .join(latest, (col(DefinitionRow.key) == latest.c.key) & (col(DefinitionRow.version) == latest.c.v))
                .order_by(col(DefinitionRow.key))
            ).all()
        return [definition_summary(r) for r in rows]
