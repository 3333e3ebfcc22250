"""Moved to :mod:`casepilot.governance.pii.reveal` (shared by BPMN processes, CMMN conditions and
decision tasks); this name stays for the modules that still import it from here."""

from __future__ import annotations

from casepilot.governance.pii.reveal import (
    PersonalDataErased,
    Revealer,
    VaultRevealer,
    conceal,
    needs_detector,
    reveal_names,
    tokens_in,
)

__all__ = [
    "PersonalDataErased",
    "Revealer",
    "VaultRevealer",
    "conceal",
    "needs_detector",
    "reveal_names",
    "tokens_in",
]
