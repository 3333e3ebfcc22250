"""The plan diagram (``casepilot.viz``): every plan item drawn with its current state, sentries
between them, the model's DI coordinates when it has them, names escaped."""

from __future__ import annotations

import re
from pathlib import Path

from lxml import etree

from casepilot.cmmn.parser import parse_bytes, parse_file
from casepilot.demo.run import EXAMPLE
from casepilot.viz import plan_diagram

CLAIMS = EXAMPLE / "claim-triage.cmmn"
CAMUNDA_DI = (Path(__file__).resolve().parents[1] / "corpora/cmmn/camunda7/models/org/camunda/bpm/engine/test/"
              "cmmn/sentry/SentryExitCriteriaTest.testExitStage.cmmn")


def _svg(markup: str) -> etree._Element:
    return etree.fromstring(markup.encode())


class _View:
    def __init__(self, element_id: str, state: str) -> None:
        self.element_id, self.state = element_id, state


def test_the_bare_model_is_laid_out_left_to_right_by_its_sentries() -> None:
    definitions = parse_file(CLAIMS)
    diagram = plan_diagram(definitions.case(), definitions=definitions)
    assert diagram.placement == "layout"
    assert set(diagram.states) == {"cpm_claim", "pi_extract", "pi_sentiment", "pi_assessment", "pi_review", "pi_pay",
                                   "pi_reject", "di_documents", "pi_settled", "pi_withdraw"}
    assert diagram.states["di_documents"] == "not planned" and diagram.states["pi_pay"] == "not started"
    root = _svg(diagram.svg)
    ns = {"s": "http://www.w3.org/2000/svg"}

    def box(ident: str) -> float:
        group = root.find(f".//s:g[@data-element='{ident}']", ns)
        assert group is not None
        shape = group.find("s:rect", ns) if group.find("s:rect", ns) is not None else group.find("s:path", ns)
        assert shape is not None
        return float(shape.get("x") or re.findall(r"[\d.]+", shape.get("d") or "")[0])

    assert box("pi_extract") < box("pi_assessment") < box("pi_settled")  # the stage waits on both tasks
    assert box("pi_review") < box("pi_pay")  # payment waits on the review's completion
    on_parts = {(p.get("data-from"), p.get("data-to")) for p in root.iterfind(".//s:path[@class='on-part']", ns)}
    assert {("pi_extract", "pi_assessment"), ("pi_sentiment", "pi_assessment"), ("pi_review", "pi_pay"),
            ("pi_pay", "pi_settled"), ("pi_withdraw", "cpm_claim")} <= on_parts
    assert len(root.findall(".//s:path[@class='sentry']", ns)) >= 6


def test_states_come_from_the_running_case() -> None:
    definitions = parse_file(CLAIMS)
    items = [_View("pi_extract", "completed"), _View("pi_assessment", "active"), _View("pi_review", "active"),
             _View("pi_review", "completed")]  # a repeated item shows its latest instance
    diagram = plan_diagram(definitions.case(), items, "active", definitions=definitions)
    assert diagram.states["pi_extract"] == "Completed" and diagram.states["pi_review"] == "Completed"
    assert diagram.states["cpm_claim"] == "Active"
    assert 'data-element="pi_review" data-state="Completed"' in diagram.svg
    assert diagram._repr_svg_() == diagram.svg and diagram.svg in diagram._repr_html_()


def test_the_models_own_di_coordinates_are_used() -> None:
    definitions = parse_file(CAMUNDA_DI, strict_extensions=False)
    diagram = plan_diagram(definitions.case(), definitions=definitions)
    assert diagram.placement == "di"
    rect = _svg(diagram.svg).find(".//{*}g[@data-element='PI_HumanTask_1']/{*}rect")
    assert rect is not None and (float(rect.get("width", 0)), float(rect.get("height", 0))) == (100.0, 80.0)


def test_names_are_text_never_markup() -> None:
    xml = CLAIMS.read_bytes().replace(b'name="Score sentiment"', b'name="&lt;script&gt;alert(1)&lt;/script&gt;"')
    definitions = parse_bytes(xml)
    svg = plan_diagram(definitions.case(), definitions=definitions).svg
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    _svg(svg)  # well-formed
