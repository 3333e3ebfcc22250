"""Shared fixtures: one detector (one spaCy load) for the whole session."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from casepilot.governance.pii import InMemoryVault, PiiDetector, Pseudonymizer, RevealEvent, default_detector


@pytest.fixture(scope="session")
def detector() -> PiiDetector:
    """The process-wide detector, loaded once."""
    return default_detector()


class FixedClock:
    """A clock that only moves when told."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def events() -> list[RevealEvent]:
    return []


@pytest.fixture
def vault() -> InMemoryVault:
    return InMemoryVault()


@pytest.fixture
def pseudo(
    vault: InMemoryVault, detector: PiiDetector, clock: FixedClock, events: list[RevealEvent]
) -> Iterator[Pseudonymizer]:
    yield Pseudonymizer(vault, detector=detector, policy={"case-officer"}, clock=clock, on_reveal=events.append)
