from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from casepilot.rag import Document, DocumentStore

POLICIES = [
    Document(
        "motor-1",
        "Motor policy.\n\nHail damage to the insured car is covered up to the market value. "
        "Damage caused by a flood is covered only with the extended option.\n\n"
        "Theft of the car must be reported to the police within 24 hours.",
        title="Motor policy",
        source="policies/motor.pdf",
    ),
    Document(
        "home-1",
        "Home policy.\n\nA burst water pipe is covered, including the repair of walls and floors. "
        "Storm damage to the roof is covered after an excess of 200 euros.",
        title="Home policy",
        source="policies/home.pdf",
    ),
    Document(
        "travel-1",
        "Travel policy.\n\nLost luggage is reimbursed up to 1,000 euros per trip. "
        "Medical costs abroad are covered without limit; call the assistance line first.",
        title="Travel policy",
        source="policies/travel.pdf",
    ),
]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DocumentStore]:
    with DocumentStore(tmp_path / "chroma", chunk_size=200, chunk_overlap=40) as s:
        s.create_collection("policies")
        s.ingest("policies", POLICIES)
        yield s
