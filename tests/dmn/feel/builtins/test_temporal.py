"""Temporal functions, the injectable clock, is() and not()."""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest

from casepilot.dmn.feel.builtins import current_time, set_clock, use_clock
from casepilot.dmn.feel.values import YearMonthDuration
from tests.dmn.feel.builtins._helpers import D, call, call_named

UTC = dt.UTC
FIXED = dt.datetime(2024, 2, 29, 23, 30, tzinfo=UTC)


def test_use_clock_fixes_now_and_today() -> None:
    with use_clock(FIXED):
        assert call("now") == FIXED
        assert call("today") == dt.date(2024, 2, 29)
        assert current_time() == FIXED
    assert call("now") != FIXED


def test_use_clock_with_a_provider_and_nesting() -> None:
    ticks = iter([FIXED, FIXED + dt.timedelta(hours=1)])
    with use_clock(lambda: next(ticks)):
        assert call("now") == FIXED
        with use_clock(dt.datetime(2000, 1, 1, tzinfo=UTC)):
            assert call("today") == dt.date(2000, 1, 1)
        assert call("now") == FIXED + dt.timedelta(hours=1)


def test_set_clock_is_process_wide_and_use_clock_wins() -> None:
    previous = set_clock(lambda: FIXED)
    try:
        seen: list[dt.datetime] = []
        worker = threading.Thread(target=lambda: seen.append(call("now")))
        worker.start()
        worker.join()
        assert seen == [FIXED]
        with use_clock(dt.datetime(1999, 1, 1, tzinfo=UTC)):
            assert call("now").year == 1999
    finally:
        set_clock(previous)
    assert set_clock(None) is previous
    set_clock(previous)


def test_system_clock_is_aware() -> None:
    now = call("now")
    assert isinstance(now, dt.datetime) and now.utcoffset() == dt.timedelta(0)
    assert isinstance(call("today"), dt.date)
    assert call("now", 123) is None
    assert call("today", 123) is None


@pytest.mark.parametrize(
    ("day", "weekday"),
    [
        (dt.date(2021, 1, 11), "Monday"),
        (dt.date(2021, 1, 12), "Tuesday"),
        (dt.date(2021, 1, 13), "Wednesday"),
        (dt.date(2021, 1, 14), "Thursday"),
        (dt.date(2021, 1, 15), "Friday"),
        (dt.date(2021, 1, 16), "Saturday"),
        (dt.date(2021, 1, 17), "Sunday"),
        (dt.datetime(2019, 9, 17, 10, 10, 10), "Tuesday"),
    ],
)
def test_day_of_week(day: dt.date, weekday: str) -> None:
    assert call("day of week", day) == weekday


def test_calendar_functions() -> None:
    assert call("day of year", dt.date(2019, 9, 17)) == D(260)
    assert call("day of year", dt.date(2020, 12, 31)) == D(366)
    assert call("month of year", dt.date(2019, 9, 17)) == "September"
    assert [call("month of year", dt.date(2021, m, 1)) for m in (1, 12)] == ["January", "December"]
    assert call("week of year", dt.date(2019, 9, 17)) == D(38)
    assert call("week of year", dt.date(2003, 12, 29)) == D(1)  # ISO week of the next year
    assert call("week of year", dt.date(2005, 1, 1)) == D(53)
    assert call("week of year", dt.datetime(2019, 9, 17, 1)) == D(38)
    assert call_named("day of week", date=dt.date(2019, 9, 17)) == "Tuesday"
    assert call_named("month of year", date=dt.datetime(2019, 9, 17, 10)) == "September"
    for fn in ("day of year", "day of week", "month of year", "week of year"):
        assert call(fn, None) is None
        assert call(fn, "2019-09-17") is None
        assert call(fn, dt.time(1)) is None
        assert call(fn) is None
        assert call(fn, dt.date(1970, 1, 1), dt.date(1970, 1, 1)) is None
        assert call_named(fn, value=dt.date(1970, 1, 1)) is None


def test_is() -> None:
    assert call("is", dt.date(2012, 12, 25), dt.date(2012, 12, 25)) is True
    assert call("is", dt.date(2012, 12, 25), dt.time(23, 0, 50)) is False
    assert call("is", dt.time(23, 0, 50, tzinfo=UTC), dt.time(23, 0, 50)) is False
    assert (
        call("is", dt.time(23, 0, 50, tzinfo=UTC), dt.time(23, 0, 50, tzinfo=dt.timezone(dt.timedelta(0))))
        is True
    )
    plus_one = dt.timezone(dt.timedelta(hours=1))
    same_instant = (dt.datetime(2012, 12, 25, 12, tzinfo=plus_one), dt.datetime(2012, 12, 25, 11, tzinfo=UTC))
    assert call("is", *same_instant) is False  # = would say true
    paris = dt.datetime(2012, 12, 25, 12, tzinfo=ZoneInfo("Europe/Paris"))
    assert call("is", paris, dt.datetime(2012, 12, 25, 12, tzinfo=plus_one)) is False
    assert call("is", paris, dt.datetime(2012, 12, 25, 12, tzinfo=ZoneInfo("Europe/Paris"))) is True
    assert call("is", dt.date(2012, 12, 25), dt.datetime(2012, 12, 25)) is False
    assert call("is", D(1), D("1.0")) is True
    assert call("is", D(1), "1") is False
    assert call("is", YearMonthDuration(12), YearMonthDuration(12)) is True
    assert call("is", YearMonthDuration(12), dt.timedelta(days=365)) is False
    assert call("is", None, None) is True
    assert call("is", None, D(1)) is False
    assert call("is", [D(1)], [D(1)]) is True
    assert call_named("is", value1="a", value2="a") is True
    assert call("is", "a") is None


def test_not() -> None:
    assert call("not", True) is False
    assert call("not", False) is True
    assert call("not", None) is None
    assert call("not", 1) is None
    assert call("not", "true") is None
    assert call_named("not", negand=False) is True
    assert call_named("not", value=False) is None
    assert call("not", True, True) is None
