"""``keepable``: a tool's result made fit for the store, the hash chain and the checkpoint, or
refused with a reason a tool author can act on (issue 15)."""

from __future__ import annotations

from typing import Any

import pytest

from casepilot.agent._keepable import MAX_DEPTH, Unkeepable, keepable
from casepilot.api._body import MAX_DEPTH as BODY_MAX_DEPTH
from casepilot.store._canonical import canonical_json


def _nested(levels: int) -> Any:
    value: Any = "leaf"
    for _ in range(levels):
        value = [value]
    return value


def test_plain_results_are_untouched() -> None:
    value = {"a": [1, 2.5, True, None, "text 😀"], "big": 2**70, "small": -(2**200)}
    kept = keepable(value)
    assert kept.value == value and kept.changed == ()
    assert canonical_json(kept.value)


def test_the_depth_limit_is_the_apis() -> None:
    assert MAX_DEPTH == BODY_MAX_DEPTH
    assert keepable(_nested(MAX_DEPTH)).value == _nested(MAX_DEPTH)
    with pytest.raises(Unkeepable, match=rf"nested deeper than {MAX_DEPTH} levels.*flatter"):
        keepable(_nested(MAX_DEPTH + 1))
    with pytest.raises(Unkeepable):
        keepable(_nested(100_000))  # iterative: no RecursionError


def test_text_and_numbers_are_repaired_and_named() -> None:
    kept = keepable({"a/b": ["ok", "x\x00"], "c\ud800": float("inf"), "t": ("\udfff",)})

    assert kept.value == {"a/b": ["ok", "x\ufffd"], "c\ufffd": None, "t": ["\ufffd"]}
    assert kept.changed == (
        "/a~1b/1: a NUL character replaced with U+FFFD",
        "/c\ufffd (the name): a lone UTF-16 surrogate replaced with U+FFFD",
        "/c\ufffd: a number that is not finite (inf), kept as null",
        "/t/0: a lone UTF-16 surrogate replaced with U+FFFD",
    )
    assert canonical_json(kept.value)
    assert keepable("\ud800").changed == ("the result: a lone UTF-16 surrogate replaced with U+FFFD",)


def test_many_repairs_are_counted_not_listed() -> None:
    kept = keepable(["\x00"] * 50)
    assert len(kept.changed) == 21 and kept.changed[-1] == "… and 30 more like these"


def test_a_number_python_cannot_write_is_refused() -> None:
    with pytest.raises(Unkeepable, match=r"more than 4300 digits.*as text"):
        keepable({"n": 10**5000})
    assert keepable(10**4000).value == 10**4000
