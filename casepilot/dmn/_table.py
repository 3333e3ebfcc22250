"""Decision tables: compile once to per-column tests, evaluate with every hit policy.

Semantics follow DMN 1.5 §8.2 / §8.3: input expressions are evaluated once per
evaluation; a rule matches when every input entry matches its input value (``-``
always does); the hit policy turns the matching rules into the result:

* single hit — U (more than one match is an error), A (all matches must agree),
  P (highest priority by output-value order), F (first in rule order);
* multiple hit — R (rule order), O (priority order), C (any order) and the
  aggregations C+ (sum), C< (min), C> (max), C# (count).

With no match, any table yields its default output entries when it has them;
otherwise a single-hit table yields null, a collect table an empty list (C# 0, other
aggregations null). Output entries are
only evaluated for rules whose outputs are needed. Matched rule ids are recorded for
audit in the ``EvalContext``.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from casepilot.dmn._fastpath import split_top_level
from casepilot.dmn._feelbridge import Eval, FeelBridge, UnaryTest
from casepilot.dmn._index import ColumnIndex, build_index
from casepilot.dmn._model import DecisionTableDef
from casepilot.dmn._results import EvalContext
from casepilot.dmn._types import FeelType, TypeRegistry, coerce, describe
from casepilot.dmn.feel.values import FEEL_DECIMAL

__all__ = ["compile_table"]

_NO_PRIORITY = 1 << 30
_NO_SCOPE: dict[str, Any] = {}
_INDEX_MIN_RULES = 16
"""Tables with at least this many rules get column indexes (``_index``); smaller ones scan."""


def _feel_same(a: Any, b: Any) -> bool:
    from casepilot.dmn.feel import feel_equal

    try:
        return feel_equal(a, b) is True
    except Exception:
        return bool(a == b)


def _priority_tests(
    text: str | None, bridge: FeelBridge, owner: str, line: int | None, names: frozenset[str]
) -> list[UnaryTest]:
    if text is None or not text.strip():
        return []
    return [bridge.unary_tests(p, owner, line, names) for p in split_top_level(text) if p.strip()]


def compile_table(
    table: DecisionTableDef, owner: str, names: frozenset[str], bridge: FeelBridge, types: TypeRegistry
) -> Eval:
    """Compile ``table`` (the logic of decision/BKM ``owner``) into an evaluator."""
    inputs: list[Eval] = [bridge.expression(i.expression, owner, i.line, names) for i in table.inputs]
    input_checks: list[tuple[int, UnaryTest, str]] = []
    input_types: list[tuple[int, FeelType, Callable[[Any], bool]]] = []
    for idx, clause in enumerate(table.inputs):
        if clause.input_values and clause.input_values.strip():
            input_checks.append(
                (idx, bridge.unary_tests(clause.input_values, owner, clause.line, names), clause.input_values)
            )
        t = types.resolve(clause.type_ref)
        if t.check is not None:
            input_types.append((idx, t, t.check))
    n_out = len(table.outputs)
    out_names = tuple(o.name or table.output_label or owner for o in table.outputs)
    out_types = tuple(types.resolve(o.type_ref) for o in table.outputs)
    priorities = [_priority_tests(o.output_values, bridge, owner, o.line, names) for o in table.outputs]
    has_output_values = any(priorities)

    rule_ids = tuple(r.id for r in table.rules)
    rule_tests: list[tuple[tuple[int, UnaryTest], ...]] = []
    """Per rule, the (column, test) pairs to run; ``-`` entries are left out."""
    rule_outputs: list[tuple[Eval, ...]] = []
    for r in table.rules:
        tests = []
        for col, text in enumerate(r.input_entries[: len(inputs)]):
            stripped = text.strip()
            if stripped in ("-", ""):
                continue
            tests.append((col, bridge.unary_tests(text, owner, r.line, names)))
        rule_tests.append(tuple(tests))
        outs = tuple(bridge.expression(t, owner, r.line, names) for t in r.output_entries[:n_out])
        if len(outs) < n_out:
            outs = outs + tuple((lambda s, c: None) for _ in range(n_out - len(outs)))
        rule_outputs.append(outs)
    defaults: tuple[Eval | None, ...] = tuple(
        bridge.expression(o.default, owner, o.line, names)
        if o.default is not None and o.default.strip()
        else None
        for o in table.outputs
    )
    has_default = any(d is not None for d in defaults)
    hp = table.hit_policy
    first_only = hp == "F"
    indexes: tuple[ColumnIndex, ...] = ()
    if len(table.rules) >= _INDEX_MIN_RULES:
        built = [build_index(col, [r.input_entries[col] for r in table.rules]) for col in range(len(inputs))]
        indexes = tuple(ix for ix in built if ix is not None)
        if indexes:
            done = {ix.column for ix in indexes}
            rule_tests = [tuple(t for t in tests if t[0] not in done) for tests in rule_tests]
    all_rules = tuple(zip(range(len(rule_tests)), rule_tests, strict=True))
    every_rule = (1 << len(rule_tests)) - 1

    def output_of(index: int, scope: dict[str, Any], ctx: EvalContext) -> Any:
        evals = rule_outputs[index]
        if n_out == 1:
            v = evals[0](scope, ctx)
            t = out_types[0]
            if t.kind != "any":
                v, err = _coerce_output(v, t)
                if err:
                    ctx.error("type-mismatch", owner, f"output of rule {rule_ids[index]}: {err}")
            return v
        result: dict[str, Any] = {}
        for name, ev, t in zip(out_names, evals, out_types, strict=True):
            v = ev(scope, ctx)
            if t.kind != "any":
                v, err = _coerce_output(v, t)
                if err:
                    ctx.error("type-mismatch", owner, f"output {name!r} of rule {rule_ids[index]}: {err}")
            result[name] = v
        return result

    def priority(value: Any, scope: dict[str, Any]) -> tuple[int, ...]:
        values = (value,) if n_out == 1 else tuple(value.get(n) for n in out_names)
        key = []
        for v, tests in zip(values, priorities, strict=True):
            rank = _NO_PRIORITY
            for i, test in enumerate(tests):
                if test(v, scope):
                    rank = i
                    break
            key.append(rank)
        return tuple(key)

    def default_value(scope: dict[str, Any], ctx: EvalContext) -> Any:
        if not has_default:
            return None
        vals = [d(scope, ctx) if d is not None else None for d in defaults]
        return vals[0] if n_out == 1 else dict(zip(out_names, vals, strict=True))

    def evaluate(scope: dict[str, Any], ctx: EvalContext) -> Any:
        values = [ie(scope, ctx) for ie in inputs]
        for idx, t, check in input_types:
            v = values[idx]
            if v is not None and not check(v):
                cv, _ = coerce(v, t)
                if cv is None:
                    ctx.error(
                        "invalid-input", owner, f"input {idx + 1} value {describe(v)} is not a {t.name}"
                    )
                    return None
                values[idx] = cv
        for idx, allowed, text in input_checks:
            v = values[idx]
            if v is not None and not allowed(v, scope):
                ctx.error(
                    "invalid-input",
                    owner,
                    f"input {idx + 1} value {describe(v)} is not one of the input values {text}",
                )
                return None
        matched: list[int] = []
        if indexes:
            mask = every_rule
            for ix in indexes:
                mask &= ix.candidates(values[ix.column])
                if not mask:
                    break
            while mask:
                low = mask & -mask
                index = low.bit_length() - 1
                mask ^= low
                for col, test in rule_tests[index]:
                    if not test(values[col], scope):
                        break
                else:
                    matched.append(index)
                    if first_only:
                        break
        else:
            for index, tests in all_rules:
                for col, test in tests:
                    if not test(values[col], scope):
                        break
                else:
                    matched.append(index)
                    if first_only:
                        break
        if matched:
            ctx.matched(owner, [rule_ids[i] for i in matched])
        return _apply(matched, scope, ctx)

    def _apply(matched: list[int], scope: dict[str, Any], ctx: EvalContext) -> Any:
        if hp in ("U", "F", "A", "P"):
            if not matched:
                return default_value(scope, ctx)
            if hp == "F" or len(matched) == 1:
                return _checked(output_of(matched[0], scope, ctx), ctx)
            if hp == "U":
                ids = ", ".join(rule_ids[i] for i in matched)
                ctx.error("hit-policy-violation", owner, f"UNIQUE table matched more than one rule: {ids}")
                return None
            outs = [output_of(i, scope, ctx) for i in matched]
            if hp == "A":
                if all(_feel_same(outs[0], o) for o in outs[1:]):
                    return _checked(outs[0], ctx)
                ids = ", ".join(rule_ids[i] for i in matched)
                ctx.error(
                    "hit-policy-violation", owner, f"ANY table: matched rules {ids} give different outputs"
                )
                return None
            if not has_output_values:
                ctx.error("hit-policy-violation", owner, "PRIORITY table without output values to rank by")
                return None
            best = min(range(len(outs)), key=lambda k: priority(outs[k], scope))
            return _checked(outs[best], ctx)
        if not matched and has_default:
            return default_value(scope, ctx)
        outs = [output_of(i, scope, ctx) for i in matched]
        if hp == "O":
            if not has_output_values:
                ctx.error(
                    "hit-policy-violation", owner, "OUTPUT ORDER table without output values to rank by"
                )
                return None
            outs = [o for _, o in sorted(enumerate(outs), key=lambda p: (priority(p[1], scope), p[0]))]
        if hp in ("R", "O", "C"):
            return [_checked(o, ctx) for o in outs]
        return _aggregate(hp, outs, owner, ctx)

    single_tests = priorities[0] if n_out == 1 else []

    def _checked(value: Any, ctx: EvalContext) -> Any:
        if not has_output_values or value is None:
            return value
        if n_out == 1:
            for t in single_tests:
                if t(value, _NO_SCOPE):
                    return value
            ctx.error(
                "invalid-output", owner, f"output value {describe(value)} is not one of the output values"
            )
            return value
        values = tuple(value.get(n) for n in out_names)
        for name, v, tests in zip(out_names, values, priorities, strict=True):
            if tests and v is not None and not any(t(v, _NO_SCOPE) for t in tests):
                ctx.error(
                    "invalid-output",
                    owner,
                    f"output {name!r} value {describe(v)} is not one of the output values",
                )
        return value

    return evaluate


def _coerce_output(value: Any, t: FeelType) -> tuple[Any, str | None]:
    """Coerce one rule output; a collection type on an output clause types its items.

    Modellers often give the output clause of a collect table the type of the whole
    result (a list); a single item conforming to the element type is then accepted.
    """
    if (
        t.kind == "list"
        and t.element is not None
        and not isinstance(value, list)
        and t.element.conforms(value)
    ):
        return value, None
    return coerce(value, t)


def _aggregate(hp: str, outs: list[Any], owner: str, ctx: EvalContext) -> Any:
    if hp == "C#":
        return Decimal(len(outs))
    values = [o for o in outs if o is not None]
    if not values:
        return None
    try:
        if hp == "C+":
            if not all(v.__class__ is Decimal for v in values):
                raise TypeError("COLLECT SUM needs numbers")
            total = Decimal(0)
            for v in values:
                total = FEEL_DECIMAL.add(total, v)
            return total
        pick: Callable[[list[Any]], Any] = min if hp == "C<" else max
        kinds = {type(v) for v in values}
        if len(kinds) > 1:
            raise TypeError("values of different types cannot be compared")
        return pick(values)
    except TypeError as exc:
        ctx.error("hit-policy-violation", owner, f"cannot aggregate {[describe(v) for v in values]}: {exc}")
        return None
