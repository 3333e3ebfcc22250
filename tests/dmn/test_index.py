"""Column indexes of large tables must find exactly the rules a full scan finds."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import pytest

import casepilot.dmn._table as table_mod
from casepilot.dmn import DecisionModel
from casepilot.dmn._index import build_index

from ._dmn import decision, definitions, input_data, table

NUMERIC = [
    "-",
    "5",
    "-2.5",
    "< 10",
    "<= 10",
    "> 3",
    ">= 18",
    "[1..5]",
    "(1..5)",
    "]0..10[",
    "[5..10)",
    "1, [3..4], > 20",
]
STRINGS = ["-", '"a"', '"b"', '"a", "c"', '"d","e","a"']
MIXED = ["-", "5", '"a"', "null", "true"]
VALUES: list[Any] = [
    None,
    "a",
    "b",
    "e",
    "z",
    True,
    *(Decimal(x) for x in ("-3", "-2.5", "0", "1", "3", "4", "5", "7.5", "10", "18", "25")),
]


def _model(entries: list[list[str]]) -> DecisionModel:
    rules = [(row, [f'"r{i}"']) for i, row in enumerate(entries)]
    logic = table("COLLECT", ["n", "s", "m"], ["out"], rules)
    body = input_data("n") + input_data("s") + input_data("m") + decision("D", logic, inputs=["n", "s", "m"])
    return DecisionModel.from_xml(definitions(body).encode())


@pytest.mark.parametrize("seed", range(4))
def test_indexed_and_scanned_tables_match_the_same_rules(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rnd = random.Random(seed)
    entries = [[rnd.choice(NUMERIC), rnd.choice(STRINGS), rnd.choice(MIXED)] for _ in range(60)]
    indexed = _model(entries)
    monkeypatch.setattr(table_mod, "_INDEX_MIN_RULES", 10**9)
    scanned = _model(entries)
    for _ in range(150):
        inputs = {"n": rnd.choice(VALUES), "s": rnd.choice(VALUES), "m": rnd.choice(VALUES)}
        a, b = indexed.evaluate("D", inputs), scanned.evaluate("D", inputs)
        assert a.value == b.value, inputs
        assert a.rule_ids == b.rule_ids, inputs


def test_only_simple_columns_are_indexed() -> None:
    assert build_index(0, ["-", "5", "[1..2]"]) is not None
    assert build_index(0, ["-", '"a"', '"b", "c"']) is not None
    assert build_index(0, ["-", "5", '"a"']) is None
    assert build_index(0, ["-", "null"]) is None
    assert build_index(0, ["-", "-"]) is None
    ix = build_index(0, ["> 3", "[1..5]", "-", "5"])
    assert ix is not None
    assert ix.candidates(Decimal(5)) == 0b1111
    assert ix.candidates(Decimal(2)) == 0b0110
    assert ix.candidates(Decimal(0)) == 0b0100
    assert ix.candidates("5") == 0b0100
