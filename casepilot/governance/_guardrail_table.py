"""What a guardrail decision table can say, checked at deploy, and what it left unsaid at run time.

The DMN engine evaluates a guardrail like any decision. Governance needs three things the
engine, rightly, does not do for an ordinary decision:

* **At deploy**: every verdict the table can return is one the Governor understands
  (``outputValues`` of the verdict output and every rule's literal verdict), and every role
  a rule routes to exists in the bundle — a typo (``"deny"``, ``"senior analist"``) is a
  deploy error naming the file, the table and the rule, not a checkpoint nobody (or anybody)
  can answer.
* **At run time, errors**: FEEL treats an input entry that cannot be evaluated
  (``"abc" < 0.75``) as *no match*, so a table falls through to its catch-all ``allow``.
  For a guardrail that is failing open; this module re-checks the entries of the table
  with their messages so that any such error is seen.
* **At run time, missing inputs**: an input that is null (``amount`` for a tool with no
  amount) can keep a stricter rule from matching. When a stricter rule than the one that
  decided would have been reachable had the input been there, the input is *decisive* and
  the bundle's fallback applies instead of the lenient answer.

This is a small reading of the table's definition (``casepilot.dmn`` parses it; FEEL
compiles each cell); it does not re-implement hit policies: the engine's answer stands
unless an error or a decisive missing input overrides it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from casepilot.dmn import feel
from casepilot.dmn._fastpath import simple_path, split_top_level
from casepilot.dmn._model import DecisionTableDef, LiteralDef
from casepilot.dmn._parse import parse_definitions
from casepilot.errors import DefinitionError, ExpressionError

__all__ = ["RANK", "VERDICTS", "TableAnalysis", "TableReading", "analyse_guardrail"]

VERDICTS: frozenset[str] = frozenset({"allow", "block", "require_human"})
RANK: dict[str, int] = {"allow": 0, "require_human": 1, "block": 2}


def _string_literal(text: str) -> str | bool | None:
    """The string a FEEL cell holds literally; ``None`` for ``null``; ``False`` when it is not a literal."""
    stripped = text.strip()
    if stripped in ("null", ""):
        return None
    if len(stripped) >= 2 and stripped[0] == '"' and stripped[-1] == '"' and '"' not in stripped[1:-1]:
        return stripped[1:-1]
    return False


@dataclass(frozen=True, slots=True)
class _Rule:
    id: str
    line: int | None
    tests: tuple[tuple[int, Any, Any], ...]
    """(input column, compiled unary tests, null probe) for every entry that is not ``-``; the probe
    is ``value in (entry)`` as an expression, which is null where the test could not be decided."""
    verdict: str | None
    """The rule's literal verdict, when it has one."""


@dataclass(frozen=True, slots=True)
class TableReading:
    """What the re-check of one evaluation found."""

    errors: tuple[str, ...]
    """Entries or inputs that could not be evaluated (each one fails the guardrail closed)."""
    missing: tuple[str, ...]
    """Inputs that were null and kept a stricter rule from matching (decisive)."""
    stricter_rules: tuple[str, ...]
    """The rules a decisive missing input kept from matching."""
    explained: frozenset[str]
    """Engine messages that are only the echo of a missing input (not errors in themselves)."""


@dataclass(frozen=True, slots=True)
class TableAnalysis:
    """The parts of a guardrail decision table governance reads."""

    decision: str
    table_id: str
    first_hit: bool
    inputs: tuple[tuple[str, tuple[str, ...] | None, Any], ...]
    """Per input column: its label, its simple path (or None) and its compiled expression."""
    rules: tuple[_Rule, ...]

    def read(self, inputs: Mapping[str, Any], decided_rules: Sequence[str], decided_kind: str) -> TableReading:
        """Re-check one evaluation: errors in cells, and decisive missing inputs.

        ``decided_rules`` are the rules the engine matched and ``decided_kind`` the verdict the
        policy would give; a rule stricter than that verdict which matches on every input that
        is present, but has a test on a missing one, makes that input decisive.
        """
        values: list[Any] = []
        absent: list[bool] = []
        errors: list[str] = []
        explained: set[str] = set()
        for label, path, compiled in self.inputs:
            if path is not None and path[0] in inputs:
                value: Any = inputs
                for seg in path:
                    value = value.get(seg) if isinstance(value, Mapping) else None
                values.append(value)
                absent.append(value is None)
                if value is None and compiled is not None:
                    _, messages = compiled.evaluate_with_messages(dict(inputs))
                    explained.update(str(m) for m in messages)
                continue
            value, messages = compiled.evaluate_with_messages(dict(inputs)) if compiled is not None else (None, [])
            if messages:
                errors.append(f"input {label!r}: " + "; ".join(str(m) for m in messages))
                explained.update(str(m) for m in messages)
            values.append(value)
            absent.append(value is None)
        last = len(self.rules)
        if self.first_hit and decided_rules:
            ids = [r.id for r in self.rules]
            last = min((ids.index(r) for r in decided_rules if r in ids), default=last)
        missing: dict[str, None] = {}
        stricter: list[str] = []
        for position, rule in enumerate(self.rules):
            present_ok = True
            blocked_by: list[int] = []
            for col, tests, probe in rule.tests:
                if absent[col]:
                    if not tests.matches(None, inputs):
                        blocked_by.append(col)
                    continue
                try:
                    ok, messages = tests.matches_with_messages(values[col], inputs)
                    if not ok and not messages and probe is not None:
                        decided, messages = probe.evaluate_with_messages({**inputs, _PROBE: values[col]})
                        if decided is None and not messages:
                            messages = [f"{tests.source.strip()} cannot be decided for the value {values[col]!r}"]
                except ExpressionError as exc:
                    ok, messages = False, [str(exc)]
                if messages:
                    errors.append(f"rule {rule.id!r}, input {self.inputs[col][0]!r}: " + "; ".join(messages))
                if not ok:
                    present_ok = False
            if (
                present_ok
                and blocked_by
                and position < last
                and rule.verdict is not None
                and RANK.get(rule.verdict, 2) > RANK.get(decided_kind, 0)
            ):
                stricter.append(rule.id)
                for col in blocked_by:
                    missing[self.inputs[col][0]] = None
        return TableReading(tuple(dict.fromkeys(errors)), tuple(missing), tuple(stricter), frozenset(explained))


_PROBE = "cp_guardrail_input_value"


def _probe(text: str, names: frozenset[str]) -> Any:
    """The entry as a FEEL expression: its three-valued answer for the input value.

    A unary test that cannot be decided (``"high" > 10000``, ``matches(?, "[")``) is simply
    *no match* for the DMN engine; as an expression it is null, which is how governance tells
    an error from a miss. An entry that uses ``?`` becomes that expression with ``?`` bound to
    the value; any other entry becomes ``value in (entry)``; ``not(…)`` is probed on its inner
    tests (null either way). An entry that cannot be written this way gets no probe.
    """
    inner = text.strip()
    if inner.startswith("not(") and inner.endswith(")"):
        inner = inner[4:-1]
    uses_value = _outside_strings(inner, "?")
    expression = _replace_outside_strings(inner, "?", _PROBE) if uses_value else f"{_PROBE} in ({inner})"
    try:
        return feel.compile_expression(expression, known_names=names | {_PROBE})
    except ExpressionError:
        return None


def _outside_strings(text: str, needle: str) -> bool:
    return _replace_outside_strings(text, needle, "\0") != text


def _replace_outside_strings(text: str, needle: str, replacement: str) -> str:
    out: list[str] = []
    in_string = False
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == '"' and (i == 0 or text[i - 1] != "\\"):
            in_string = not in_string
        if not in_string and text.startswith(needle, i):
            out.append(replacement)
            i += len(needle)
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _verdict_column(table: DecisionTableDef) -> int | None:
    if len(table.outputs) == 1:
        return 0
    return next((i for i, o in enumerate(table.outputs) if (o.name or "") == "verdict"), None)


def _role_column(table: DecisionTableDef) -> int | None:
    return next((i for i, o in enumerate(table.outputs) if (o.name or "") == "role"), None)


def analyse_guardrail(
    path: Path, decision: str, *, known_roles: frozenset[str] | None, operator_role: str | None
) -> tuple[TableAnalysis | None, list[DefinitionError]]:
    """Read the guardrail ``decision`` of the DMN file at ``path``; return its analysis and deploy problems.

    ``known_roles``: the roles that exist in the bundle (``None``: do not check role names).
    A rule that requires a person without naming a role is a problem only when the bundle
    has no operator role to send it to.
    """
    file = str(path)
    definitions = parse_definitions(path, file=file)
    found = next((d for d in definitions.decisions if decision in (d.name, d.id)), None)
    if found is None:
        return None, []
    problems: list[DefinitionError] = []
    expression = found.expression
    if isinstance(expression, LiteralDef):
        literal = _string_literal(expression.text)
        if isinstance(literal, str) and literal not in VERDICTS:
            problems.append(DefinitionError(
                f"guardrail {decision!r} returns {literal!r}, which is not a verdict; use one of "
                f"{', '.join(sorted(VERDICTS))}", file=file, line=expression.line, element=found.id))
        return None, problems
    if not isinstance(expression, DecisionTableDef):
        return None, problems
    table = expression
    table_name = f"{decision!r} (table {table.id or found.id})"
    verdict_col = _verdict_column(table)
    role_col = _role_column(table)
    if verdict_col is None:
        problems.append(DefinitionError(
            f"guardrail table {table_name} has several outputs but none named 'verdict'", file=file,
            line=table.line, element=found.id))
        return None, problems
    allowed = table.outputs[verdict_col].output_values
    if allowed and allowed.strip():
        for part in split_top_level(allowed):
            literal = _string_literal(part)
            if literal is False or literal is None or literal not in VERDICTS:
                problems.append(DefinitionError(
                    f"guardrail table {table_name}: output value {part.strip()} of the verdict is not a verdict; "
                    f"the Governor understands {', '.join(sorted(VERDICTS))}", file=file,
                    line=table.outputs[verdict_col].line, element=table.outputs[verdict_col].id or found.id))
    names = frozenset({*_input_names(definitions), *(r.lstrip('#') for r in found.required_inputs),
                       *(d.name for d in definitions.decisions), *(b.name for b in definitions.bkms)})
    rules: list[_Rule] = []
    for rule in table.rules:
        outputs = rule.output_entries
        raw = outputs[verdict_col] if verdict_col < len(outputs) else "null"
        literal = _string_literal(raw)
        verdict: str | None = None
        if literal is False:
            verdict = None  # computed: checked when it is evaluated
        elif literal is None or literal not in VERDICTS:
            problems.append(DefinitionError(
                f"guardrail table {table_name}, rule {rule.id!r}: verdict {raw.strip()} is not one of "
                f"{', '.join(sorted(VERDICTS))}", file=file, line=rule.line, element=rule.id))
        else:
            verdict = literal
        if verdict == "require_human":
            role_raw = outputs[role_col] if role_col is not None and role_col < len(outputs) else "null"
            role = _string_literal(role_raw)
            if role is None and operator_role is None:
                problems.append(DefinitionError(
                    f"guardrail table {table_name}, rule {rule.id!r} requires a person but names no role, and the "
                    "bundle has no governance.operator_role to send it to: name a role in the rule or set "
                    "operator_role in casepilot.yaml", file=file, line=rule.line, element=rule.id))
            elif isinstance(role, str) and known_roles is not None and role not in known_roles:
                problems.append(DefinitionError(
                    f"guardrail table {table_name}, rule {rule.id!r} routes to role {role!r}, which does not exist "
                    f"in the bundle (roles: {', '.join(sorted(known_roles)) or 'none'}); add it to governance.roles "
                    "in casepilot.yaml or fix the name", file=file, line=rule.line, element=rule.id))
        tests: list[tuple[int, Any, Any]] = []
        for col, text in enumerate(rule.input_entries[: len(table.inputs)]):
            if text.strip() in ("-", ""):
                continue
            try:
                tests.append((col, feel.compile_unary_tests(text, known_names=names), _probe(text, names)))
            except ExpressionError as exc:
                problems.append(DefinitionError(
                    f"guardrail table {table_name}, rule {rule.id!r}: input entry {text.strip()!r} does not "
                    f"compile: {exc}", file=file, line=rule.line, element=rule.id))
        rules.append(_Rule(rule.id, rule.line, tuple(tests), verdict))
    inputs: list[tuple[str, tuple[str, ...] | None, Any]] = []
    for clause in table.inputs:
        label = clause.label or clause.expression.strip()
        try:
            compiled = feel.compile_expression(clause.expression, known_names=names)
        except ExpressionError as exc:
            problems.append(DefinitionError(
                f"guardrail table {table_name}: input expression {clause.expression.strip()!r} does not compile: "
                f"{exc}", file=file, line=clause.line, element=clause.id or found.id))
            compiled = None
        inputs.append((label, simple_path(clause.expression), compiled))
    if found.required_decisions or found.required_knowledge:
        # Input expressions may read other decisions' results, which only the engine computes:
        # the deploy checks above hold, and at run time any engine error still blocks.
        return None, problems
    analysis = TableAnalysis(decision, table.id or found.id, table.hit_policy == "F", tuple(inputs), tuple(rules))
    return analysis, problems


def _input_names(definitions: Any) -> list[str]:
    return [i.name for i in definitions.input_data]


def free_input_names(analysis: TableAnalysis) -> frozenset[str]:
    """The guardrail inputs (and paths into them) the table's input expressions read."""
    found: set[str] = set()
    for _, path, compiled in analysis.inputs:
        if path is not None:
            found.add(".".join(path))
        elif compiled is not None:
            found.update(compiled.free_names)
    return frozenset(found)
