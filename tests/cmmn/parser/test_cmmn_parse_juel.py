"""``${…}`` conditions are compiled strictly at load time by ``casepilot.dmn.feel.juel``.

A plain comparison parses; a call into an engine (method call, ``vars:`` or any other
function) is refused as a named vendor construct; a malformed expression is an invalid model.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from casepilot.cmmn._parse_vendor import VENDOR_CONSTRUCTS, vendor_construct
from casepilot.cmmn.parser import parse_bytes
from casepilot.errors import DefinitionError

Builder = Callable[..., str]


def _guarded(condition: str) -> str:
    return (
        '<planItem id="p" definitionRef="t"><entryCriterion sentryRef="s"/></planItem><task id="t" name="T"/>'
        f'<sentry id="s"><ifPart><condition><![CDATA[{condition}]]></condition></ifPart></sentry>'
    )


def _timer(expression: str) -> str:
    return (
        '<planItem id="p" definitionRef="tl"/><timerEventListener id="tl">'
        f"<timerExpression><![CDATA[{expression}]]></timerExpression></timerEventListener>"
    )


@pytest.mark.parametrize(
    "condition",
    ["${amount > 100}", "${a.b >= 3 && !done}", "${status == 'open' || empty reason}", "#{x eq 1}",
     "${ approved }", "${a['k'] != null ? a['k'] > 1 : false}"],
)
def test_plain_juel_conditions_parse_and_evaluate(cmmn: Builder, condition: str) -> None:
    defs = parse_bytes(cmmn(_guarded(condition)))
    sentry = defs.case().plan_model.sentries[0]
    assert sentry.if_part is not None and sentry.if_part.condition is not None
    assert sentry.if_part.condition.body == "${" + condition[2:]  # JUEL's deferred #{…} reads as ${…}


@pytest.mark.parametrize(
    ("condition", "construct"),
    [
        ("${vars:getOrDefault('a', false)}", "Flowable expression function (vars:/variables:/cmmn:)"),
        ("${caseInstance.getVariable('a') > 1}", "JUEL method call (engine objects and beans)"),
        ("${list.size() > 0}", "JUEL method call (engine objects and beans)"),
        ("${fn:contains(a, 'x')}", "JUEL function call"),
        ("${isValid(a)}", "JUEL function call"),
    ],
)
def test_engine_calls_are_refused_by_name(cmmn: Builder, condition: str, construct: str) -> None:
    with pytest.raises(DefinitionError) as err:
        parse_bytes(cmmn(_guarded(condition)), file="c.cmmn")
    names = [vendor_construct(p.message) for p in err.value.problems]
    assert names == [construct]
    assert construct in VENDOR_CONSTRUCTS
    assert condition in err.value.problems[0].message


@pytest.mark.parametrize("condition", ["${amount >}", "${a instanceof B}", "${(a > 1}", "${a[b] > 1}"])
def test_malformed_juel_is_an_invalid_model(cmmn: Builder, condition: str) -> None:
    with pytest.raises(DefinitionError) as err:
        parse_bytes(cmmn(_guarded(condition)), file="c.cmmn")
    (problem,) = err.value.problems
    assert vendor_construct(problem.message) is None
    assert "does not compile" in problem.message and problem.line is not None


def test_lenient_mode_keeps_engine_calls(cmmn: Builder) -> None:
    defs = parse_bytes(cmmn(_guarded("${isValid(a)}")), strict_extensions=False)
    assert defs.case().plan_model.sentries[0].id == "s"


def test_juel_timer_expressions_are_compiled(cmmn: Builder) -> None:
    assert parse_bytes(cmmn(_timer("${delay}"))).case().id == "c1"
    with pytest.raises(DefinitionError) as err:
        parse_bytes(cmmn(_timer("${delay +}")), file="t.cmmn")
    assert "timer expression" in err.value.problems[0].message
    assert vendor_construct(err.value.problems[0].message) is None
    with pytest.raises(DefinitionError) as err:
        parse_bytes(cmmn(_timer("${dates.next()}")), file="t.cmmn")
    assert vendor_construct(err.value.problems[0].message) == "JUEL method call (engine objects and beans)"
