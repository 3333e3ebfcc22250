"""The store's durable vault plugs into the Pseudonymizer (SQLite file in a temp dir)."""

from __future__ import annotations

from pathlib import Path

import pytest

from casepilot.errors import NotFound
from casepilot.governance.pii import PiiDetector, Pseudonymizer, PseudonymVault
from casepilot.store import Store


def test_store_vault_round_trip_consistency_and_erasure(tmp_path: Path, detector: PiiDetector) -> None:
    with Store.from_url(f"sqlite:///{tmp_path / 'cases.db'}") as store:
        vault: PseudonymVault = store.vault
        first = Pseudonymizer(vault, detector=detector, policy={"officer"})
        redacted = first.redact_text("Anna Berg wrote from anna@example.org", "case-9").text
        assert redacted == "<PERSON_1> wrote from <EMAIL_ADDRESS_1>"
        # A new process (new Pseudonymizer) continues the case from the durable vault.
        later = Pseudonymizer(vault, detector=detector, policy={"officer"})
        assert later.redact_text("anna@example.org and Ole Hansen", "case-9").text == (
            "<EMAIL_ADDRESS_1> and <PERSON_2>"
        )
        assert later.reveal(redacted, "case-9", {"officer"}, actor="u-1").text == (
            "Anna Berg wrote from anna@example.org"
        )
        later.shred("case-9")
        with pytest.raises(NotFound, match="shredded"):
            later.reveal(redacted, "case-9", {"officer"}, actor="u-1")
