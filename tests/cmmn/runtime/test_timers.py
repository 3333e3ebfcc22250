"""Timer expressions: ISO-8601 durations, date-times and repeating intervals."""

from __future__ import annotations

import datetime as dt

import pytest

from casepilot.cmmn.runtime.timers import add_period, parse_duration_text, parse_timer

T0 = dt.datetime(2025, 1, 31, 9, 0, tzinfo=dt.UTC)


def test_duration_is_added_to_the_start() -> None:
    assert parse_timer("PT1H30M", T0).first == T0 + dt.timedelta(hours=1, minutes=30)
    assert parse_timer("P1DT2H", T0).first == T0 + dt.timedelta(days=1, hours=2)
    assert parse_timer("P2W", T0).first == T0 + dt.timedelta(weeks=2)


def test_months_are_calendar_months_clamped_to_month_end() -> None:
    assert parse_timer("P1M", T0).first == dt.datetime(2025, 2, 28, 9, 0, tzinfo=dt.UTC)
    assert add_period(T0, parse_duration_text("P1Y1MT1H")) == dt.datetime(2026, 2, 28, 10, 0, tzinfo=dt.UTC)


def test_date_time_is_absolute_and_takes_the_clock_zone_when_naive() -> None:
    assert parse_timer("2025-03-01T10:00:00Z", T0).first == dt.datetime(2025, 3, 1, 10, tzinfo=dt.UTC)
    assert parse_timer("2025-03-01T10:00:00", T0).first == dt.datetime(2025, 3, 1, 10, tzinfo=dt.UTC)


def test_repeating_intervals() -> None:
    sched = parse_timer("R3/PT1H", T0)
    assert (sched.first, sched.repeats) == (T0 + dt.timedelta(hours=1), 3)
    assert sched.period == (0, dt.timedelta(hours=1))
    assert parse_timer("R/PT5M", T0).repeats is None
    start = parse_timer("R2/2025-02-01T00:00:00Z/P1D", T0)
    assert start.first == dt.datetime(2025, 2, 1, tzinfo=dt.UTC) and start.repeats == 2


@pytest.mark.parametrize("bad", ["P", "PT", "1H", "R3/xyz"])
def test_malformed_expressions_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_timer(bad, T0)
