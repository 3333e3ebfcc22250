"""The JSON work of every agent step, done by ``orjson``, gives what the ``json`` module gave.

``jsonable`` makes the JSON copy of arguments, results and what the planner saw that the
history records; ``digest_of`` fingerprints each observation. Both take ``orjson``'s fast path
only where its result is the same: these properties hold them to the ``json`` module's result
on any nested data — decimals, temporals, non-text keys, integers beyond 64 bits, NaN and the
infinities, lone surrogates, sets, dataclasses, enums.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casepilot.agent._node_helpers import digest_of
from casepilot.agent.privacy import _json_default, _jsonable_walk, jsonable
from casepilot.governance.actions import canonical_json


@dataclass(frozen=True)
class Point:
    x: int


class Colour(Enum):
    RED = "red"


class Level(StrEnum):
    HIGH = "high"


def json_module_copy(value: Any) -> Any:
    """``jsonable`` as the ``json`` module alone makes it (what the step did before ``orjson``)."""
    try:
        return json.loads(json.dumps(value, default=_json_default, allow_nan=False))
    except (TypeError, ValueError):
        return _jsonable_walk(value)


def same(a: Any, b: Any) -> bool:
    """Equal, NaN equal to NaN, and of the same types all the way down (1 is not 1.0 here)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), st.floats(),
    st.text(st.characters(codec="utf-8") | st.sampled_from(["\ud800", "\udfff", "\x00", "\u2028"])),
    st.decimals(allow_nan=False, places=4), st.datetimes(timezones=st.just(dt.UTC) | st.none()), st.dates(),
    st.timedeltas(max_value=dt.timedelta(days=9999)), st.builds(Point, st.integers()),
    st.sampled_from([Colour.RED, Level.HIGH]), st.frozensets(st.integers(0, 3), max_size=2),
)
keys = st.text(max_size=8) | st.integers(-5, 5) | st.floats(allow_nan=False, allow_infinity=False)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
                      | st.dictionaries(keys, inner, max_size=4), max_leaves=24)


@settings(max_examples=400, deadline=None)
@given(values)
def test_jsonable_gives_what_the_json_module_gives(value: Any) -> None:
    assert same(jsonable(value), json_module_copy(value))


def test_jsonable_keeps_what_orjson_would_change() -> None:
    big, inf = {"n": 2**64 + 1}, {"x": [1.0, math.inf]}
    assert jsonable(big) == big and type(jsonable(big)["n"]) is int  # orjson refuses it: json keeps it exact
    assert jsonable(inf) == inf  # orjson would write null; the history's encoder refuses it later, as before
    assert jsonable({"when": dt.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC), "amount": Decimal("800.00"),
                     "where": Point(1), 7: "seven"}) == {
        "when": "2026-01-02T03:04:05.000006+00:00", "amount": "800.00", "where": "Point(x=1)", "7": "seven"}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.text()
    | st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15).filter(
        lambda f: f == 0 or abs(f) >= 1e-4)
    | st.decimals(allow_nan=False, places=2),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=24)


@settings(max_examples=400, deadline=None)
@given(json_values)
def test_an_observation_digest_is_the_sha256_of_its_canonical_json(value: Any) -> None:
    """Floats written without an exponent (which ``orjson`` writes differently) and everything else:
    the same bytes as ``canonical_json``, so the same digest as before."""
    assert digest_of(value) == hashlib.sha256(canonical_json(value).encode()).hexdigest()


def test_a_digest_is_taken_of_what_orjson_refuses_too() -> None:
    for value in ({"n": 2**70}, {"x": {1: "a", 2: "b"}}):
        assert digest_of(value) == hashlib.sha256(canonical_json(value).encode()).hexdigest()
    assert digest_of({"n": 2**70}) != digest_of({"n": 2**70 + 1})
    with pytest.raises(TypeError):  # keys that cannot be sorted, as canonical_json always refused them
        digest_of({"x": {1: "a", "b": 2}})


def test_a_digest_writes_temporals_decimals_and_sets_as_canonical_json_does() -> None:
    value = {"at": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC), "day": dt.date(2026, 1, 2), "time": dt.time(3, 4),
             "amount": Decimal("800.00"), "tags": {"a"}, "frozen": frozenset({"b"})}
    assert digest_of(value) == hashlib.sha256(canonical_json(value).encode()).hexdigest()
