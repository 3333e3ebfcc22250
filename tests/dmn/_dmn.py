"""Small builders for DMN XML used by the DMN tests (keeps each test readable)."""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

DMN15 = "https://www.omg.org/spec/DMN/20230324/MODEL/"
DMN11 = "http://www.omg.org/spec/DMN/20151101/dmn.xsd"
DMN13 = "https://www.omg.org/spec/DMN/20191111/MODEL/"


def definitions(
    body: str, *, ns: str = "urn:test", name: str = "test", dmn: str = DMN15, extra: str = ""
) -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<definitions xmlns="{dmn}" namespace="{ns}" name="{name}" '
        f'id="defs" {extra}>\n{body}\n</definitions>\n'
    )


def input_data(name: str, type_ref: str | None = None) -> str:
    tr = f' typeRef="{type_ref}"' if type_ref else ""
    return f'<inputData id="i_{_id(name)}" name="{name}"><variable name="{name}"{tr}/></inputData>'


def _id(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name)


def decision(
    name: str,
    logic: str,
    *,
    inputs: Sequence[str] = (),
    decisions: Sequence[str] = (),
    knowledge: Sequence[str] = (),
    type_ref: str | None = None,
) -> str:
    tr = f' typeRef="{type_ref}"' if type_ref else ""
    reqs = "".join(
        f'<informationRequirement><requiredDecision href="#d_{_id(d)}"/></informationRequirement>'
        for d in decisions
    )
    reqs += "".join(
        f'<informationRequirement><requiredInput href="#i_{_id(i)}"/></informationRequirement>'
        for i in inputs
    )
    reqs += "".join(
        f'<knowledgeRequirement><requiredKnowledge href="#{k}"/></knowledgeRequirement>' for k in knowledge
    )
    return f'<decision id="d_{_id(name)}" name="{name}"><variable name="{name}"{tr}/>{reqs}{logic}</decision>'


def literal(text: str, type_ref: str | None = None) -> str:
    tr = f' typeRef="{type_ref}"' if type_ref else ""
    return f"<literalExpression{tr}><text>{escape(text)}</text></literalExpression>"


def table(
    hit_policy: str,
    inputs: Sequence[str],
    outputs: Sequence[str | tuple[str, str]],
    rules: Sequence[tuple[Sequence[str], Sequence[str]]],
    *,
    aggregation: str | None = None,
    output_values: Sequence[str | None] = (),
    input_values: Sequence[str | None] = (),
    defaults: Sequence[str | None] = (),
) -> str:
    agg = f' aggregation="{aggregation}"' if aggregation else ""
    parts = [f'<decisionTable hitPolicy="{hit_policy}"{agg}>']
    for n, expr in enumerate(inputs):
        iv = input_values[n] if n < len(input_values) else None
        ivx = f"<inputValues><text>{escape(iv)}</text></inputValues>" if iv else ""
        parts.append(
            f'<input id="in{n}"><inputExpression><text>{escape(expr)}</text></inputExpression>{ivx}</input>'
        )
    for n, out in enumerate(outputs):
        oname, otype = (out, "") if isinstance(out, str) else out
        ov = output_values[n] if n < len(output_values) else None
        ovx = f"<outputValues><text>{escape(ov)}</text></outputValues>" if ov else ""
        dv = defaults[n] if n < len(defaults) else None
        dvx = f"<defaultOutputEntry><text>{escape(dv)}</text></defaultOutputEntry>" if dv else ""
        tr = f' typeRef="{otype}"' if otype else ""
        parts.append(f'<output id="out{n}" name="{oname}"{tr}>{ovx}{dvx}</output>')
    for r, (ins, outs) in enumerate(rules):
        parts.append(f'<rule id="r{r + 1}">')
        parts.extend(f"<inputEntry><text>{escape(t)}</text></inputEntry>" for t in ins)
        parts.extend(f"<outputEntry><text>{escape(t)}</text></outputEntry>" for t in outs)
        parts.append("</rule>")
    parts.append("</decisionTable>")
    return "".join(parts)
