"""Builders for small CMMN documents used by the parser tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

CMMN11 = "http://www.omg.org/spec/CMMN/20151109/MODEL"
CMMN10 = "http://www.omg.org/spec/CMMN/20131201/MODEL"
FLOWABLE = "http://flowable.org/cmmn"
CAMUNDA = "http://camunda.org/schema/1.0/cmmn"


def build(plan: str, *, case_extra: str = "", defs_extra: str = "", ns: str = CMMN11, plan_attrs: str = "") -> str:
    """A definitions document with one case whose plan model holds ``plan``."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<definitions xmlns="{ns}" xmlns:flowable="{FLOWABLE}" xmlns:camunda="{CAMUNDA}" '
        'xmlns:cmmndi="http://www.omg.org/spec/CMMN/20151109/CMMNDI" id="defs" targetNamespace="http://x">\n'
        f'<case id="c1" name="Case one">\n{case_extra}\n'
        f'<casePlanModel id="cpm" name="Plan" {plan_attrs}>\n{plan}\n</casePlanModel>\n'
        f"</case>\n{defs_extra}\n</definitions>\n"
    )


@pytest.fixture
def cmmn() -> Callable[..., str]:
    """The ``build`` function, as a fixture."""
    return build
