"""Hostile and broken XML is refused quickly with a DefinitionError naming file and line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from casepilot.cmmn.parser import parse_bytes, parse_file
from casepilot.errors import DefinitionError

Builder = Callable[..., str]
CMMN = "http://www.omg.org/spec/CMMN/20151109/MODEL"


def test_xxe_file_entity_is_refused_and_not_expanded(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    doc = (
        f'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "file://{secret}">]>\n'
        f'<definitions xmlns="{CMMN}"><case id="c"><casePlanModel id="p" name="&x;"/></case></definitions>'
    )
    with pytest.raises(DefinitionError) as err:
        parse_bytes(doc.encode(), file="xxe.cmmn")
    assert "DOCTYPE" in str(err.value)
    assert "TOP-SECRET" not in str(err.value)
    assert err.value.file == "xxe.cmmn"
    assert err.value.line == 2


def test_xxe_network_entity_is_refused() -> None:
    doc = (
        '<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "http://127.0.0.1:9/evil">]>\n'
        f'<definitions xmlns="{CMMN}"><case id="c"><casePlanModel id="p" name="&x;"/></case></definitions>'
    )
    with pytest.raises(DefinitionError, match="entities"):
        parse_bytes(doc.encode())


def test_billion_laughs_is_refused() -> None:
    entities = "".join(f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    doc = (
        f'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY l0 "lol">{entities}]>\n'
        f'<definitions xmlns="{CMMN}"><case id="c"><casePlanModel id="p" name="&l9;"/></case></definitions>'
    )
    with pytest.raises(DefinitionError, match="DOCTYPE"):
        parse_bytes(doc.encode())


def test_entity_declared_after_a_long_prologue_is_refused() -> None:
    doc = (
        '<?xml version="1.0"?>\n' + "<!-- padding -->\n" * 400
        + '<!DOCTYPE d [<!ENTITY x "y">]>\n'
        f'<definitions xmlns="{CMMN}"><case id="c"><casePlanModel id="p" name="&x;"/></case></definitions>'
    )
    with pytest.raises(DefinitionError, match="entities"):
        parse_bytes(doc.encode())


def test_oversized_bytes_are_refused(cmmn: Builder) -> None:
    doc = cmmn('<humanTask id="h"/>').encode()
    with pytest.raises(DefinitionError, match="over the limit"):
        parse_bytes(doc, file="big.cmmn", max_bytes=100)


def test_oversized_file_is_refused_before_reading(tmp_path: Path, cmmn: Builder) -> None:
    path = tmp_path / "big.cmmn"
    path.write_text(cmmn("<!--" + "x" * 5000 + "-->"))
    with pytest.raises(DefinitionError, match="over the limit") as err:
        parse_file(path, max_bytes=1000)
    assert err.value.file == str(path)


def test_malformed_xml_names_file_and_line() -> None:
    doc = f'<definitions xmlns="{CMMN}">\n<case id="c">\n<casePlanModel id="p">\n</case></definitions>'
    with pytest.raises(DefinitionError, match="malformed XML") as err:
        parse_bytes(doc.encode(), file="broken.cmmn")
    assert err.value.file == "broken.cmmn"
    assert err.value.line == 4


def test_missing_file_is_a_definition_error(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match="cannot read"):
        parse_file(tmp_path / "nope.cmmn")


def test_foreign_root_is_refused() -> None:
    with pytest.raises(DefinitionError, match="not a CMMN model"):
        parse_bytes(b'<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"/>')


def test_definitions_without_a_case_are_refused() -> None:
    with pytest.raises(DefinitionError, match="no <case>"):
        parse_bytes(f'<definitions xmlns="{CMMN}" id="d"/>'.encode())


def test_text_input_is_accepted(cmmn: Builder) -> None:
    defs = parse_bytes(cmmn('<humanTask id="h"/>'))
    assert defs.case().plan_model.id == "cpm"
