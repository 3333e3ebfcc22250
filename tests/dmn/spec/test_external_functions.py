"""DMN 1.5 §10.3.2.13.3 externally defined functions: Java static methods of the standard
classes are mapped (as JVM engines run them); other classes and PMML give null with a
message naming what was asked."""

from __future__ import annotations

from decimal import Decimal

import pytest

from casepilot.dmn import DecisionModel
from casepilot.dmn.feel import compile_expression, to_feel_string
from tests.dmn._dmn import decision, definitions, literal


def java(params: str, cls: str, signature: str, call: str) -> tuple[object, list[str]]:
    text = (
        f'{{f: function({params}) external {{java: {{class: "{cls}", method signature: "{signature}"}}}}, '
        f"r: {call}}}.r"
    )
    return compile_expression(text).evaluate_with_messages({})


@pytest.mark.parametrize(
    ("params", "cls", "signature", "call", "expected"),
    [
        ("a, b", "java.lang.Math", "max(double, double)", "f(3, 4.5)", "4.5"),
        ("a, b", "java.lang.Math", "min(int, int)", "f(3, 4)", "3"),
        ("a", "java.lang.Math", "sqrt(double)", "f(2)", "1.4142135623730951"),
        ("a", "java.lang.Math", "abs(int)", "f(-5)", "5"),
        ("a", "java.lang.Math", "abs(int)", "f(-2147483648)", "-2147483648"),
        ("a", "java.lang.Math", "round(double)", "f(-2.5)", "-2"),
        ("a", "java.lang.Math", "floor(double)", "f(2.7)", "2"),
        ("a, b", "java.lang.Math", "pow(double, double)", "f(2, 10)", "1024"),
        ("a", "java.lang.Math", "cos(double)", "f(0)", "1"),
        ("a", "java.lang.Math", "toDegrees(double)", "f(0)", "0"),
        ("s", "java.lang.Integer", "valueOf(java.lang.String)", 'f("42")', "42"),
        ("s", "java.lang.Integer", "parseInt(String)", 'f("-7")', "-7"),
        ("s, r", "java.lang.Integer", "parseInt(java.lang.String, int)", 'f("ff", 16)', "255"),
        ("a", "java.lang.Integer", "toString(int)", "f(12)", '"12"'),
        ("a", "java.lang.Long", "toHexString(long)", "f(255)", '"ff"'),
        ("a, b", "java.lang.Long", "sum(long, long)", "f(9223372036854775807, 1)", "-9223372036854775808"),
        ("s", "java.lang.Double", "valueOf(java.lang.String)", 'f("1.5")', "1.5"),
        ("s", "java.lang.Double", "parseDouble(java.lang.String)", 'f("1e3")', "1000"),
        ("a", "java.lang.Double", "toString(double)", "f(1)", '"1.0"'),
        ("a", "java.lang.String", "valueOf(int)", "f(12)", '"12"'),
        ("s", "java.lang.Float", "valueOf(java.lang.String)", 'f("1.5")', "1.5"),
        ("s", "java.lang.Float", "parseFloat(java.lang.String)", 'f("0.1")', "0.10000000149011612"),
        ("s", "java.lang.Short", "parseShort(java.lang.String)", 'f("-7")', "-7"),
        ("s", "java.lang.Byte", "valueOf(java.lang.String)", 'f("127")', "127"),
        ("a", "java.lang.String", "valueOf(double)", "f(1.5)", '"1.5"'),
        # Double.toString: plain between 10^-3 and 10^7, scientific outside
        ("a", "java.lang.String", "valueOf(double)", "f(0.001)", '"0.001"'),
        ("a", "java.lang.String", "valueOf(double)", "f(0.0001)", '"1.0E-4"'),
        ("a", "java.lang.String", "valueOf(double)", "f(12345678.5)", '"1.23456785E7"'),
        ("a", "java.lang.Double", "toString(double)", "f(-1E+20)", '"-1.0E20"'),
        # float overloads work in single precision
        ("a", "java.lang.String", "valueOf(float)", "f(0.1)", '"0.1"'),
        ("a", "java.lang.Float", "toString(float)", "f(1E+10)", '"1.0E10"'),
        ("a", "java.lang.Math", "abs(float)", "f(-1.5)", "1.5"),
        ("a, b", "java.lang.Math", "max(float, float)", "f(0.5, 0.25)", "0.5"),
        ("a", "java.lang.Math", "sqrt(java.lang.Float)", "f(0.25)", "0.5"),
        (
            "t, a",
            "java.lang.String",
            "format(java.lang.String, [Ljava.lang.Object;)",
            'f("%s and %d", ["x", 2])',
            '"x and 2"',
        ),
        (
            "t, a",
            "java.lang.String",
            "format(java.lang.String, java.lang.Object...)",
            'f("%.2f", [1.239])',
            '"1.24"',
        ),
    ],
)
def test_mapped_java_methods(params: str, cls: str, signature: str, call: str, expected: str) -> None:
    value, messages = java(params, cls, signature, call)
    assert messages == []
    assert to_feel_string(value) == to_feel_string(compile_expression(expected).evaluate({}))
    assert isinstance(value, (Decimal, str))


@pytest.mark.parametrize(
    ("params", "cls", "signature", "call", "why"),
    [
        ("a", "java.lang.System", "exit(int)", "f(1)", "java.lang.System.exit(int) is not available"),
        ("a", "java.lang.Math", "nosuch(double)", "f(1)", "java.lang.Math.nosuch(double) is not available"),
        ("a", "java.lang.Math", "max(double, double)", "f(1)", "the function declares 1"),
        ("a", "java.lang.Math", "max double", "f(1)", "not a Java method signature"),
        ("s", "java.lang.Integer", "parseInt(java.lang.String)", 'f("x1")', "NumberFormatException"),
        ("s", "java.lang.Integer", "parseInt(java.lang.String)", 'f("3000000000")', "out of range"),
        ("s", "java.lang.Byte", "parseByte(java.lang.String)", 'f("128")', "out of range"),
        ("a, b", "java.lang.Math", "addExact(int, int)", "f(2147483647, 1)", "overflow"),
        ("a", "java.lang.Math", "sqrt(double)", 'f("x")', "cannot be passed as Java double"),
        ("a, b", "java.lang.Math", "max(double, double)", "f(1, 2, 3)", "takes 2 arguments"),
    ],
)
def test_unmapped_or_failing_java_gives_null_with_a_reason(
    params: str, cls: str, signature: str, call: str, why: str
) -> None:
    value, messages = java(params, cls, signature, call)
    assert value is None
    assert any(why in m for m in messages), messages


def test_math_random_takes_no_arguments() -> None:
    value, messages = java("", "java.lang.Math", "random()", "f()")
    assert messages == [] and isinstance(value, Decimal) and 0 <= value < 1


def test_null_arguments_give_null_without_calling() -> None:
    value, _ = java("a", "java.lang.Math", "sqrt(double)", "f(null)")
    assert value is None


def test_pmml_externals_are_refused_clearly() -> None:
    text = '{f: function(a) external {pmml: {document: "doc", model: "m"}}, r: f(1)}.r'
    value, messages = compile_expression(text).evaluate_with_messages({})
    assert value is None
    assert any("PMML" in m and "not supported" in m for m in messages)


def _boxed(kind: str, cls: str, signature: str) -> str:
    body = (
        "<context>"
        f'<contextEntry><variable name="class"/>{literal(repr(cls).replace(chr(39), chr(34)))}</contextEntry>'
        f'<contextEntry><variable name="method signature"/>{literal(chr(34) + signature + chr(34))}</contextEntry>'
        "</context>"
    )
    fn = f'<functionDefinition kind="{kind}"><formalParameter name="a"/><formalParameter name="b"/>{body}</functionDefinition>'
    bkm = (
        f'<businessKnowledgeModel id="bkm_max" name="max java"><variable name="max java"/>'
        f'<encapsulatedLogic kind="{kind}"><formalParameter name="a"/><formalParameter name="b"/>{body}'
        "</encapsulatedLogic></businessKnowledgeModel>"
    )
    ctx = f'<context><contextEntry><variable name="f"/>{fn}</contextEntry><contextEntry>{literal("f(2, 7)")}</contextEntry></context>'
    return definitions(
        bkm + decision("Boxed", ctx) + decision("Via BKM", literal("max java(10, 3)"), knowledge=["bkm_max"])
    )


def test_boxed_java_function_definition_and_bkm() -> None:
    model = DecisionModel.from_xml(_boxed("Java", "java.lang.Math", "max(double, double)").encode())
    assert model.evaluate("Boxed").value == Decimal(7)
    assert model.evaluate("Via BKM").value == Decimal(10)


def test_boxed_pmml_and_unmapped_java_are_null_with_an_unsupported_message() -> None:
    pmml = DecisionModel.from_xml(_boxed("PMML", "x", "y").encode()).evaluate("Boxed")
    assert pmml.value is None
    assert any(m.kind == "unsupported" and "PMML" in m.text for m in pmml.messages)
    other = DecisionModel.from_xml(_boxed("Java", "java.util.Collections", "max(double, double)").encode())
    result = other.evaluate("Via BKM")
    assert result.value is None
    assert any("java.util.Collections.max" in m.text for m in result.messages)
