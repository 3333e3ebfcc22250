"""Runner for the DMN TCK (https://github.com/dmn-tck/tck) test-case format.

Each TCK folder holds one or more ``.dmn`` models and ``*-test-*.xml`` files of
``<testCase>`` elements (testCases.xsd). A test case gives input values (scalars
typed by ``xsi:type``, contexts as ``component``, lists as ``list/item``, null as
``xsi:nil``) and expected results for decisions — or, with ``type="decisionService"``
and ``invocableName``, for a decision service. Results are compared by FEEL
equality, lists by position, contexts by their keys; numbers exactly, except that an
expected number written with 8 or more fraction digits (a cut irrational result) matches
an actual value within one unit of its last digit or 1e-12 relative (``_within_last_digit``).

A test case counts as *non-null* when at least one of its expected results is not
null: the rate over those cases cannot be inflated by an engine that returns null
for everything it does not understand.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from lxml import etree

from casepilot._xml import parse_xml
from casepilot.dmn._types import FeelType, describe
from casepilot.dmn.model import DecisionModel
from casepilot.errors import CasepilotError, DefinitionError

__all__ = ["CaseOutcome", "FolderSummary", "TckReport", "discover", "run_tck"]

_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_PRECISE_DIGITS = 8
_RELATIVE = Decimal("1e-12")
_NUMERIC = {"decimal", "double", "float", "integer", "int", "long", "short", "byte", "nonNegativeInteger"}


@dataclass(frozen=True, slots=True)
class CaseOutcome:
    """One ``<testCase>``: passed or not, and what differed."""

    folder: str
    file: str
    case_id: str
    passed: bool
    non_null: bool
    failures: tuple[str, ...] = ()
    """One entry per failing result node: ``name: expected X, got Y [messages]``."""

    @property
    def line(self) -> str:
        """The one-line summary of a failing case (``folder/case: …``)."""
        return f"{self.folder}/{self.case_id}: " + " | ".join(self.failures)


@dataclass(slots=True)
class FolderSummary:
    passed: int = 0
    failed: int = 0
    non_null_passed: int = 0
    non_null_total: int = 0
    failures: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TckReport:
    """All outcomes of a run, with the two pass rates the project tracks."""

    outcomes: tuple[CaseOutcome, ...]

    @property
    def passed(self) -> int:
        return sum(o.passed for o in self.outcomes)

    @property
    def failed(self) -> int:
        return len(self.outcomes) - self.passed

    @property
    def rate_all(self) -> float:
        return self.passed / len(self.outcomes) if self.outcomes else 1.0

    @property
    def rate_non_null(self) -> float:
        nn = [o for o in self.outcomes if o.non_null]
        return sum(o.passed for o in nn) / len(nn) if nn else 1.0

    def folders(self) -> dict[str, FolderSummary]:
        out: dict[str, FolderSummary] = {}
        for o in self.outcomes:
            s = out.setdefault(o.folder, FolderSummary())
            if o.passed:
                s.passed += 1
            else:
                s.failed += 1
                s.failures.append(o.line)
            if o.non_null:
                s.non_null_total += 1
                s.non_null_passed += o.passed
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "failed": self.failed,
            "rate_all": round(self.rate_all, 6),
            "rate_non_null": round(self.rate_non_null, 6),
            "folders": {k: asdict(v) for k, v in sorted(self.folders().items())},
        }


def discover(paths: Iterable[str | Path]) -> list[Path]:
    """The TCK case folders (those holding ``*-test-*.xml``) under ``paths``, sorted."""
    found: set[Path] = set()
    for p in map(Path, paths):
        if p.is_file():
            found.add(p.parent)
            continue
        for test in p.rglob("*-test-*.xml"):
            found.add(test.parent)
    return sorted(found)


# -- reading values ----------------------------------------------------------------------------------
def _local(el: etree._Element) -> str:
    return el.tag.rsplit("}", 1)[-1] if isinstance(el.tag, str) else ""


def _kids(el: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in el if _local(c) == name]


def _nil(el: etree._Element) -> bool:
    return el.get(f"{{{_XSI}}}nil") == "true"


def _scalar(text: str, xtype: str | None, hint: FeelType | None) -> Any:
    from casepilot.dmn import feel

    kind = xtype.split(":")[-1] if xtype else None
    if kind is None and hint is not None and hint.kind == "base":
        kind = {
            "number": "decimal",
            "boolean": "boolean",
            "date": "date",
            "time": "time",
            "date and time": "dateTime",
            "days and time duration": "duration",
            "years and months duration": "duration",
        }.get(hint.base or "")
    if kind is None or kind == "string":
        return text
    t = text.strip()
    if kind in _NUMERIC:
        try:
            return Decimal(t)
        except InvalidOperation:
            return None
    if kind == "boolean":
        return t == "true" if t in ("true", "false") else None
    parser = {
        "date": feel.parse_date,
        "time": feel.parse_time,
        "dateTime": feel.parse_date_and_time,
        "duration": feel.parse_duration,
        "dayTimeDuration": feel.parse_duration,
        "yearMonthDuration": feel.parse_duration,
    }.get(kind)
    if parser is None:
        return text
    try:
        return parser(t)
    except (CasepilotError, ValueError):
        return None


def read_value(el: etree._Element, hint: FeelType | None = None) -> Any:
    """A valueType element (inputNode, expected, component, item) → FEEL value."""
    if _nil(el):
        return None
    for c in el:
        tag = _local(c)
        if tag == "value":
            if _nil(c):
                return None
            return _scalar(c.text or "", c.get(f"{{{_XSI}}}type"), hint)
        if tag == "list":
            if _nil(c):
                return None
            elem = hint.element if hint is not None and hint.kind == "list" else None
            return [read_value(i, elem) for i in _kids(c, "item")]
    comps = _kids(el, "component")
    if comps:
        types = dict(hint.components or ()) if hint is not None and hint.kind == "context" else {}
        return {c.get("name") or "": read_value(c, types.get(c.get("name") or "")) for c in comps}
    return None


# -- comparing -----------------------------------------------------------------------------------------
def same(expected: Any, actual: Any) -> bool:
    """TCK equality: FEEL equality with exact numbers, lists by position, contexts by keys."""
    from casepilot.dmn import feel

    if expected is None:
        return actual is None
    if actual is None:
        return False
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(same(e, a) for e, a in zip(expected, actual, strict=True))
        )
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and set(actual) == set(expected)
            and all(same(v, actual[k]) for k, v in expected.items())
        )
    if isinstance(expected, str) and not isinstance(actual, str):
        return False
    try:
        if feel.feel_equal(expected, actual) is True:
            return True
    except Exception:
        return False
    return _within_last_digit(expected, actual)


def _within_last_digit(expected: Any, actual: Any) -> bool:
    """Irrational results are written in the TCK as some engine computed them in binary
    floating point, cut to 15–17 significant digits (rounded or truncated). When the expected
    number has at least ``_PRECISE_DIGITS`` fraction digits, the actual value may differ from
    it by less than one unit in its last digit or by a relative 1e-12 (double-precision
    error); shorter expected numbers — the vast majority — are compared exactly."""
    if not (isinstance(expected, Decimal) and isinstance(actual, Decimal)) or not expected.is_finite():
        return False
    exponent = expected.as_tuple().exponent
    if not isinstance(exponent, int) or -exponent < _PRECISE_DIGITS or not actual.is_finite():
        return False
    diff = abs(actual - expected)
    return diff < Decimal(1).scaleb(exponent) or diff <= abs(expected) * _RELATIVE


def _show(value: Any) -> str:
    return describe(value) if not isinstance(value, str) else json.dumps(value, ensure_ascii=False)


# -- running -----------------------------------------------------------------------------------------
def _prefix(model: DecisionModel, namespace: str | None) -> str | None:
    """The import name for a test node's ``namespace`` attribute (None: the main model's own)."""
    if not namespace or namespace == model.namespace:
        return None
    return model.import_prefix(namespace)


class _FolderRun:
    def __init__(self, folder: Path, root: Path | None) -> None:
        self.folder = folder
        self.label = (
            str(folder.relative_to(root)) if root is not None and folder.is_relative_to(root) else folder.name
        )
        self.models: dict[str, DecisionModel | DefinitionError] = {}

    def model(self, model_name: str | None) -> DecisionModel | DefinitionError:
        dmns = sorted(self.folder.glob("*.dmn"))
        key = model_name or (dmns[0].name if dmns else "")
        hit = self.models.get(key)
        if hit is not None:
            return hit
        main = self.folder / key
        result: DecisionModel | DefinitionError
        if not main.is_file():
            result = DefinitionError(f"model {key!r} not found in {self.folder}")
        else:
            others = [d for d in dmns if d != main]
            try:
                result = DecisionModel.from_xml([main, *others], strict=False)
            except DefinitionError as exc:
                try:
                    result = DecisionModel.from_xml(main, strict=False)
                except DefinitionError:
                    result = exc
        self.models[key] = result
        return result

    def run_file(self, test_file: Path) -> list[CaseOutcome]:
        root = parse_xml(test_file)
        mn = [c for c in root if _local(c) == "modelName"]
        model = self.model((mn[0].text or "").strip() if mn else None)
        out = []
        for case in _kids(root, "testCase"):
            out.append(self.run_case(test_file, case, model))
        return out

    def run_case(
        self, test_file: Path, case: etree._Element, model: DecisionModel | DefinitionError
    ) -> CaseOutcome:
        case_id = case.get("id") or case.get("name") or "?"
        results = _kids(case, "resultNode")
        expected = {
            r.get("name") or "": read_value(e[0]) if (e := _kids(r, "expected")) else None for r in results
        }
        namespaces = {r.get("name") or "": r.get("namespace") for r in results}
        non_null = any(v is not None for v in expected.values())
        if isinstance(model, DefinitionError):
            msg = f"model does not load: {model}".splitlines()[0]
            return CaseOutcome(self.label, test_file.name, case_id, False, non_null, (msg,))
        inputs: dict[str, Any] = {}
        for node in _kids(case, "inputNode"):
            name = node.get("name") or ""
            prefix = _prefix(model, node.get("namespace"))
            if prefix:  # an input of an imported model: nested under the import name
                nested = inputs.setdefault(prefix, {})
                if isinstance(nested, dict):
                    nested[name] = read_value(node)
            else:
                inputs[name] = read_value(node, model.input_type(name))
        failures = []
        kind = case.get("type") or "decision"
        service_result = None
        if kind == "decisionService":
            service_result = model.evaluate_service(case.get("invocableName") or "", inputs)
        for name, want in expected.items():
            if service_result is not None:
                r = service_result
                # A service with several output decisions gives a context of them; with one, its value.
                got = r.value[name] if isinstance(r.value, dict) and name in r.value else r.value
            else:
                prefix = _prefix(model, namespaces.get(name))
                r = model.evaluate(f"{prefix}.{name}" if prefix else name, inputs)
                got = r.value
            if not same(want, got):
                errs = "; ".join(str(m) for m in r.errors[:3])
                failures.append(
                    f"{name}: expected {_show(want)}, got {_show(got)}" + (f" [{errs}]" if errs else "")
                )
        return CaseOutcome(self.label, test_file.name, case_id, not failures, non_null, tuple(failures))


def run_tck(paths: Sequence[str | Path], *, on_folder: Callable[[Path], None] | None = None) -> TckReport:
    """Run every TCK folder found under ``paths`` and return the report (``on_folder`` is told of
    each folder done: the CLI's progress bar)."""
    outcomes: list[CaseOutcome] = []
    roots = [Path(p) for p in paths]
    for folder in discover(paths):
        if on_folder is not None:
            on_folder(folder)
        root = next((r for r in roots if folder.is_relative_to(r) and r != folder), None)
        base = root.parent if root is not None else None
        runner = _FolderRun(folder, base)
        for test_file in sorted(folder.glob("*-test-*.xml")):
            try:
                outcomes.extend(runner.run_file(test_file))
            except DefinitionError as exc:
                outcomes.append(CaseOutcome(runner.label, test_file.name, "*", False, True, (str(exc),)))
    return TckReport(tuple(outcomes))
