"""Options offered to planners: kinds, stage names, and what is never offered."""

from __future__ import annotations

import datetime as dt
from types import MappingProxyType

from pydantic import BaseModel

from casepilot.agent.engine import EngineCase
from casepilot.agent.options import build_options
from casepilot.tools import BindingSet, ToolRegistry, tool
from casepilot.tools.binding import ToolBinding
from tests.cmmn.runtime._models import MANUAL, case_of

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


class NoArgs(BaseModel):
    pass


class Done(BaseModel):
    ok: bool


@tool(name="check", side_effect="read_only")
def check(args: NoArgs) -> Done:
    """Check something."""
    return Done(ok=True)


BODY = (
    '<planItem id="p_top" definitionRef="t_top"/>'
    '<planItem id="p_stage" definitionRef="st"/>'
    '<planItem id="p_human" definitionRef="h"/>'
    '<stage id="st" name="Review">'
    '  <planItem id="p_in" definitionRef="t_in"/>'
    f'  <planItem id="p_manual" definitionRef="t_manual">{MANUAL}</planItem>'
    '  <planningTable id="pt"><discretionaryItem id="di" definitionRef="t_extra"/></planningTable>'
    '</stage>'
    '<task id="t_top" name="Top task"/><task id="t_in" name="Inner task"/>'
    '<task id="t_manual" name="Manual task"/><task id="t_extra" name="Extra task"/>'
    '<humanTask id="h" name="Human"/>'
)


def test_options_name_the_stage_of_nested_items_and_none_at_the_top() -> None:
    engine = EngineCase.load(case_of(BODY), EngineCase.start(case_of(BODY), {}, T0)[0].dump())
    bindings = BindingSet(MappingProxyType({
        d: ToolBinding(task=d, tool="check", definition_id=d) for d in ("t_top", "t_in", "t_human")}))
    options, provenance = build_options(engine, bindings, ToolRegistry([check]), {}, {})
    by_label = {o.label: o for o in options}
    assert by_label["Top task"].kind == "run_task" and by_label["Top task"].stage is None
    assert by_label["Inner task"].kind == "run_task" and by_label["Inner task"].stage == "Review"
    assert by_label["Manual task"].kind == "start" and by_label["Manual task"].stage == "Review"
    assert by_label["Extra task"].kind == "plan" and by_label["Extra task"].stage == "Review"
    assert "Human" not in by_label  # people complete human tasks through the inbox
    assert options[-1].id == "wait"
    assert set(provenance) == {by_label["Top task"].id, by_label["Inner task"].id}
