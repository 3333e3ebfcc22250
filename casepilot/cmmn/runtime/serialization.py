"""Versioned JSON snapshots of a case instance (DESIGN.md, example 9).

The snapshot is plain data: the case definition is referenced by id (the caller supplies the
frozen ``Case`` on load), instances, sentry memory, case file states, variables (FEEL values
tagged, see ``state.encode_value``), the case clock and the id / event counters. Derived
indexes are rebuilt on load, so ``from_json(to_json(x)).to_json() == to_json(x)``.
Older schema versions are upgraded by the functions in ``MIGRATIONS``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from casepilot.cmmn.definitions import Case
from casepilot.cmmn.runtime import sentries
from casepilot.cmmn.runtime.machine import CaseMachine
from casepilot.cmmn.runtime.model import index_for
from casepilot.cmmn.runtime.state import ItemInstance, decode_value, encode_value
from casepilot.errors import DefinitionError

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "dump", "dump_changes", "load", "to_text"]

SCHEMA_VERSION = 1
"""Version written by :func:`dump`; bump it and add a migration when the layout changes."""

MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}
"""version -> function upgrading a snapshot of that version to the next one."""


def _header(m: CaseMachine) -> dict[str, Any]:
    head = {
        "schema": SCHEMA_VERSION,
        "case": m.case.id,
        "id": m.id,
        "now": m.now.isoformat(),
        "seq": m.seq,
        "eventSeq": m.event_seq,
        "variables": {k: encode_value(v) for k, v in m.variables.items()},
        "caseFile": dict(m.case_file),
    }
    if m.case_file_refs:  # optional, so snapshots without references read as before
        head["caseFileRefs"] = {k: list(v) for k, v in m.case_file_refs.items()}
    return head


def dump(m: CaseMachine) -> dict[str, Any]:
    """The snapshot of a machine as plain JSON data (everything it holds: forgets what changed)."""
    m.touched.clear()
    return {**_header(m), "items": [inst.to_dict() for inst in m.items.values()]}


def dump_changes(m: CaseMachine) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """What changed since the last ``dump``/``dump_changes``/``load``: the snapshot without its
    items, and the changed or new items (in snapshot order) — each as ``dump`` would write it.

    Putting the changed items into the previous snapshot's ``items`` by ``id`` (appending new
    ones) gives ``dump``'s snapshot: the machine never removes an instance. Costs what changed,
    not the size of the case.
    """
    changed = sorted(m.touched, key=m.order.__getitem__)
    m.touched.clear()
    return _header(m), [m.items[i].to_dict() for i in changed]


def to_text(data: dict[str, Any]) -> str:
    """Canonical JSON text of a snapshot (sorted keys, no spaces)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def load(case: Case, data: dict[str, Any] | str, ids: Callable[[], str] | None = None) -> CaseMachine:
    """Rebuild a machine from a snapshot made for ``case``."""
    snap: dict[str, Any] = json.loads(data) if isinstance(data, str) else dict(data)
    version = int(snap.get("schema", 0))
    while version < SCHEMA_VERSION:
        if version not in MIGRATIONS:
            raise DefinitionError(f"case snapshot schema {version} cannot be upgraded to {SCHEMA_VERSION}")
        snap = MIGRATIONS[version](snap)
        version = int(snap.get("schema", version + 1))
    if version != SCHEMA_VERSION:
        raise DefinitionError(f"case snapshot schema {version} is newer than this runtime ({SCHEMA_VERSION})")
    if snap.get("case") != case.id:
        raise DefinitionError(f"snapshot is of case {snap.get('case')!r}, not of {case.id!r}")
    m = CaseMachine(case, index_for(case), str(snap["id"]), dt.datetime.fromisoformat(snap["now"]), ids)
    m.seq = int(snap["seq"])
    m.event_seq = int(snap["eventSeq"])
    m.variables = {str(k): decode_value(v) for k, v in snap["variables"].items()}
    m.case_file = {str(k): str(v) for k, v in snap["caseFile"].items()}
    m.case_file_refs = {str(k): [str(t) for t in v] for k, v in (snap.get("caseFileRefs") or {}).items()}
    for raw in snap["items"]:
        inst = ItemInstance.from_dict(raw)
        if inst.element not in m.ix.items:
            raise DefinitionError(
                f"snapshot names element {inst.element!r}, which case {case.id!r} does not have"
            )
        if inst.parent is None:
            m.root = inst.id
        m.register(inst)
    sentries.rebuild_armed(m)
    m.touched.clear()
    return m
