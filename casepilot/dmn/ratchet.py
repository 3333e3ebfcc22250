"""The TCK pass-rate ratchet: a JSON file of minimum rates that only ever goes up.

``tests/dmn/test_tck.py`` fails when a measured rate drops below the file;
``casepilot dmn tck … --update-ratchet FILE`` raises the file to what was measured
and never lowers an entry, so progress is locked in and regressions are caught.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path

__all__ = ["load_ratchet", "update_ratchet"]


def load_ratchet(path: Path) -> dict[str, dict[str, float]]:
    """The ratchet file's content (empty if the file does not exist)."""
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {str(k): {str(m): float(r) for m, r in v.items()} for k, v in data.items()}


def update_ratchet(path: Path, measured: Mapping[str, Mapping[str, float]]) -> bool:
    """Raise entries of ``path`` to ``measured`` where higher; return True if anything changed."""
    current = load_ratchet(path)
    changed = False
    for label, rates in measured.items():
        entry = current.setdefault(label, {})
        for metric, rate in rates.items():
            value = math.floor(float(rate) * 1_000_000) / 1_000_000  # never above what was measured
            if value > entry.get(metric, -1.0):
                entry[metric] = value
                changed = True
    if changed or not path.exists():
        path.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return changed
