"""Imports between models, DMN versions, malformed and hostile XML, evaluation error paths."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from casepilot.dmn import DecisionModel
from casepilot.errors import DefinitionError

from ._dmn import DMN11, DMN13, decision, definitions, input_data, literal, table

LIB_NS = "urn:lib"
LIB = definitions(
    '<itemDefinition name="tPerson"><itemComponent name="name"><typeRef>string</typeRef></itemComponent></itemDefinition>'
    + input_data("Person name", "string")
    + decision("Greeting", literal('"Hello, " + Person name'), inputs=["Person name"])
    + '<businessKnowledgeModel id="bkm_hi" name="Say hi"><variable name="Say hi"/>'
    '<encapsulatedLogic><formalParameter name="p" typeRef="tPerson"/>'
    + literal('"Hi " + p.name')
    + "</encapsulatedLogic></businessKnowledgeModel>",
    ns=LIB_NS,
    name="lib",
)

MAIN = definitions(
    f'<import name="lib" namespace="{LIB_NS}" importType="https://www.omg.org/spec/DMN/20230324/MODEL/"/>'
    + input_data("who", "lib.tPerson")
    + f'<decision id="d_use" name="use"><variable name="use" typeRef="string"/>'
    f'<informationRequirement><requiredDecision href="{LIB_NS}#d_Greeting"/></informationRequirement>'
    f'<informationRequirement><requiredInput href="#i_who"/></informationRequirement>'
    f'<knowledgeRequirement><requiredKnowledge href="{LIB_NS}#bkm_hi"/></knowledgeRequirement>'
    + literal('lib.Greeting + " / " + lib.Say hi(who)')
    + "</decision>",
    ns="urn:main",
    name="main",
)


def test_imported_decisions_bkms_and_types_are_reached_through_the_import_name() -> None:
    m = DecisionModel.from_xml([MAIN.encode(), LIB.encode()])
    r = m.evaluate("use", {"who": {"name": "Ann"}, "lib": {"Person name": "Bob"}})
    assert r.value == "Hello, Bob / Hi Ann"
    assert r.results["lib.Greeting"] == "Hello, Bob"
    assert m.evaluate("lib.Greeting", {"lib": {"Person name": "Cy"}}).value == "Hello, Cy"


def test_imports_can_be_given_as_a_separate_argument_and_from_files(tmp_path: Path) -> None:
    (tmp_path / "main.dmn").write_text(MAIN, encoding="utf-8")
    (tmp_path / "lib.dmn").write_text(LIB, encoding="utf-8")
    m = DecisionModel.from_xml(tmp_path / "main.dmn", imports=[tmp_path / "lib.dmn"])
    assert m.evaluate("use", {"who": {"name": "A"}, "lib": {"Person name": "B"}}).value == "Hello, B / Hi A"


def test_missing_import_is_a_definition_error() -> None:
    with pytest.raises(DefinitionError, match="not among the loaded models"):
        DecisionModel.from_xml(MAIN.encode())


@pytest.mark.parametrize("dmn", [DMN11, DMN13])
def test_older_dmn_namespaces_are_read(dmn: str) -> None:
    body = input_data("x", "number") + decision(
        "D", table("UNIQUE", ["x"], ["o"], [(["> 1"], ['"big"'])]), inputs=["x"]
    )
    m = DecisionModel.from_xml(definitions(body, dmn=dmn).encode())
    assert m.evaluate("D", {"x": 5}).value == "big"


def test_dmn11_qname_type_refs_are_understood() -> None:
    body = input_data("x", "feel:number") + decision(
        "D", literal("x + 1"), inputs=["x"], type_ref="feel:number"
    )
    xml = definitions(body, dmn=DMN11, extra='xmlns:feel="http://www.omg.org/spec/FEEL/20140401"')
    assert DecisionModel.from_xml(xml.encode()).evaluate("D", {"x": 1}).value == Decimal(2)


def test_every_problem_is_reported_with_file_and_line(tmp_path: Path) -> None:
    body = (
        '<decision id="a" name=""><variable name="a"/></decision>\n'
        + decision("D", table("SOMETIMES", ["x"], ["o"], [(["1", "2"], ['"a"'])]))
        + "\n"
        + decision("E", literal("1 +"), decisions=["missing"])
    )
    path = tmp_path / "bad.dmn"
    path.write_text(definitions(body), encoding="utf-8")
    with pytest.raises(DefinitionError) as info:
        DecisionModel.from_xml(path)
    err = info.value
    text = str(err)
    assert len(err.problems) >= 3
    assert all(p.file == str(path) and p.line is not None for p in err.problems)
    assert "without a name" in text
    assert "SOMETIMES" in text
    assert "input entries" in text


def test_expression_syntax_errors_are_definition_errors_when_strict_and_null_when_lenient() -> None:
    body = decision("E", literal("1 +")) + decision("F", literal("2"))
    xml = definitions(body).encode()
    with pytest.raises(DefinitionError, match="does not compile"):
        DecisionModel.from_xml(xml)
    m = DecisionModel.from_xml(xml, strict=False)
    r = m.evaluate("E")
    assert r.value is None
    assert r.messages[0].kind == "feel-error"
    assert m.evaluate("F").value == Decimal(2)


def test_not_dmn_and_malformed_xml() -> None:
    with pytest.raises(DefinitionError, match="not a DMN model"):
        DecisionModel.from_xml(b"<definitions xmlns='urn:other'/>")
    with pytest.raises(DefinitionError, match="malformed XML") as info:
        DecisionModel.from_xml(b"<definitions>\n<decision>\n</definitions>")
    assert info.value.line is not None


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<definitions xmlns="https://www.omg.org/spec/DMN/20230324/MODEL/" namespace="x" name="x">
<decision id="d" name="d"><literalExpression><text>"&xxe;"</text></literalExpression></decision></definitions>"""

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<definitions xmlns="https://www.omg.org/spec/DMN/20230324/MODEL/" namespace="x" name="x">&lol3;</definitions>"""


@pytest.mark.parametrize("payload", [XXE, LAUGHS], ids=["xxe", "billion-laughs"])
def test_hostile_xml_is_refused(payload: bytes) -> None:
    with pytest.raises(DefinitionError, match="DOCTYPE"):
        DecisionModel.from_xml(payload)


def test_oversized_documents_are_refused_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    import casepilot._xml as xml_mod

    monkeypatch.setattr(xml_mod, "MAX_XML_BYTES", 1000)
    big = definitions("<!--" + "x" * 5000 + "-->").encode()
    with pytest.raises(DefinitionError, match="over the limit"):
        DecisionModel.from_xml(big)


def test_runtime_errors_give_null_and_messages_never_exceptions() -> None:
    body = input_data("x", "number") + decision("D", literal("x / 0 + y"), inputs=["x"])
    r = DecisionModel.from_xml(definitions(body).encode()).evaluate("D", {"x": 1})
    assert r.value is None
    assert not r.ok
    assert all(m.kind == "feel-error" for m in r.errors)


def _importing(ns: str, name: str, imports: dict[str, str], body: str) -> bytes:
    tags = "".join(
        f'<import name="{p}" namespace="{n}" importType="{DMN15_NS}"/>' for p, n in imports.items()
    )
    return definitions(tags + body, ns=ns, name=name).encode()


DMN15_NS = "https://www.omg.org/spec/DMN/20230324/MODEL/"


def _requires(ns: str, target: str) -> str:
    return f'<informationRequirement><requiredDecision href="{ns}#{target}"/></informationRequirement>'


def test_a_model_imported_on_two_paths_gets_the_inputs_of_each_path() -> None:
    model_a = _importing(
        "urn:a",
        "A",
        {},
        input_data("Person name", "string")
        + decision("Greet", literal('"Hello, " + Person name'), inputs=["Person name"]),
    )

    def model_b(ns: str, label: str) -> bytes:
        body = (
            f'<decision id="d_says" name="{label} says"><variable name="{label} says" typeRef="string"/>'
            + _requires("urn:a", "d_Greet")
            + literal(f'"{label}: " + modelA.Greet')
            + "</decision>"
        )
        return _importing(ns, label, {"modelA": "urn:a"}, body)

    model_c = _importing(
        "urn:c",
        "C",
        {"Model B": "urn:b", "Model B2": "urn:b2"},
        '<decision id="d_c" name="C"><variable name="C"/>'
        + _requires("urn:b", "d_says")
        + _requires("urn:b2", "d_says")
        + literal('Model B.B says + "; " + Model B2.B2 says')
        + "</decision>",
    )
    m = DecisionModel.from_xml([model_c, model_b("urn:b", "B"), model_b("urn:b2", "B2"), model_a])
    inputs = {"Model B": {"modelA": {"Person name": "Ann"}}, "Model B2": {"modelA": {"Person name": "Bo"}}}
    r = m.evaluate("C", inputs)
    assert r.value == "B: Hello, Ann; B2: Hello, Bo"
    assert r.results["Model B.modelA.Greet"] == "Hello, Ann"
    assert m.import_prefix("urn:b2") == "Model B2"


def test_imports_are_found_by_location_next_to_the_importing_file(tmp_path: Path) -> None:
    main = MAIN.replace('importType="', 'locationURI="lib/lib.dmn" importType="')
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "lib.dmn").write_text(LIB, encoding="utf-8")
    (tmp_path / "main.dmn").write_text(main, encoding="utf-8")
    m = DecisionModel.from_xml(tmp_path / "main.dmn")
    assert m.evaluate("use", {"who": {"name": "A"}, "lib": {"Person name": "B"}}).value == "Hello, B / Hi A"
    escaping = MAIN.replace('importType="', 'locationURI="../lib.dmn" importType="')
    (tmp_path / "lib" / "escape.dmn").write_text(escaping, encoding="utf-8")
    (tmp_path / "lib.dmn").write_text(LIB, encoding="utf-8")
    with pytest.raises(DefinitionError, match="not among the loaded models"):
        DecisionModel.from_xml(tmp_path / "lib" / "escape.dmn")
