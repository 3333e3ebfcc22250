"""Which vendor extensions casepilot refuses, and why.

Models made with Flowable or Camunda carry extension attributes and ``extensionElements``.
Most only describe the modeler's canvas, forms or assignment hints: they are kept verbatim in
``Extensions`` and ignored. Some change what the case *does* — a Java delegate, a script, an
event-registry listener, a Flowable-only completion rule. Ignoring those would run a different
case than the modeler wrote, so with ``strict_extensions`` (the default) they are refused with
a ``DefinitionError`` naming the construct; every such message starts with
``unsupported vendor extension <construct>`` so tools can count them (``casepilot.cmmn.compat``).

Lifecycle, task and variable *listeners* are observer hooks that run vendor code after a
transition; casepilot records every transition in the case history instead, so they are kept
and ignored (the corpus' own notes describe them as only recording variables).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

from lxml import etree

from casepilot.cmmn._parse_base import ParseContext, attributes

__all__ = [
    "CAMUNDA_NS",
    "FLOWABLE_NS",
    "VENDOR_CONSTRUCTS",
    "VENDOR_PREFIX",
    "check_element",
    "juel_refusal_construct",
    "vendor_construct",
    "vendor_expression_construct",
]

FLOWABLE_NS = "http://flowable.org/cmmn"
CAMUNDA_NS = "http://camunda.org/schema/1.0/cmmn"
_PREFIX = MappingProxyType({FLOWABLE_NS: "flowable", CAMUNDA_NS: "camunda"})

VENDOR_PREFIX = "unsupported vendor extension "
"""Every refusal message starts with this, followed by the construct's name."""

_TASK_DELEGATE = "Java delegates and expressions cannot run in casepilot; bind a casepilot tool to the task instead"

# (namespace, attribute) -> reason. Refused wherever they appear, unless a value is allowed below.
_REFUSED_ATTRIBUTES: Mapping[tuple[str, str], str] = MappingProxyType(
    {
        (FLOWABLE_NS, "type"): "vendor task types (java service, script, http, mail, send-event, external "
        "worker, case page) cannot run in casepilot; bind a casepilot tool to a plain task instead",
        (FLOWABLE_NS, "class"): _TASK_DELEGATE,
        (FLOWABLE_NS, "delegateExpression"): _TASK_DELEGATE,
        (FLOWABLE_NS, "expression"): _TASK_DELEGATE,
        (FLOWABLE_NS, "topic"): "external-worker jobs cannot run in casepilot; bind a casepilot tool instead",
        (FLOWABLE_NS, "isBlockingExpression"): "a blocking flag computed at run time is Flowable-only; "
        "use isBlocking",
        (FLOWABLE_NS, "eventType"): "event-registry listeners occur on Flowable events that casepilot never "
        "receives; use a userEventListener",
        (FLOWABLE_NS, "signalRef"): "signal listeners occur on Flowable signals that casepilot never receives",
        (FLOWABLE_NS, "variableName"): "variable event listeners are Flowable-only; use a sentry with an ifPart",
        (FLOWABLE_NS, "availableCondition"): "Flowable-only availability conditions on event listeners "
        "would make the listener available when the model says it is not",
        (FLOWABLE_NS, "autoCompleteCondition"): "Flowable-only auto-complete conditions change when the "
        "stage completes; use autoComplete and required rules",
        (FLOWABLE_NS, "collectionVariable"): "repetition over a collection is Flowable-only",
        (FLOWABLE_NS, "elementVariable"): "repetition over a collection is Flowable-only",
        (FLOWABLE_NS, "elementIndexVariable"): "repetition over a collection is Flowable-only",
        (FLOWABLE_NS, "maxInstanceCount"): "limiting concurrent repetitions is Flowable-only",
        (FLOWABLE_NS, "triggerMode"): "Flowable's onEvent sentries forget on-part events that CMMN 1.1 "
        "sentries remember",
        (FLOWABLE_NS, "exitType"): "Flowable's exit types change which instances an exit criterion ends",
        (FLOWABLE_NS, "exitEventType"): "Flowable's complete/forceComplete exits change the outcome of "
        "an exit criterion",
    }
)

# Attribute values that restate CMMN 1.1 behaviour and are therefore accepted.
_ALLOWED_VALUES: Mapping[tuple[str, str], frozenset[str]] = MappingProxyType(
    {
        (FLOWABLE_NS, "maxInstanceCount"): frozenset({"unlimited"}),
        (FLOWABLE_NS, "triggerMode"): frozenset({"default"}),
        (FLOWABLE_NS, "exitType"): frozenset({"default"}),
        (FLOWABLE_NS, "exitEventType"): frozenset({"exit"}),
    }
)

# ``flowable:type`` / ``flowable:expression`` … only change behaviour on plan item definitions.
_ONLY_ON: Mapping[tuple[str, str], frozenset[str]] = MappingProxyType(
    {
        (FLOWABLE_NS, "type"): frozenset({"task"}),
        (FLOWABLE_NS, "class"): frozenset({"task", "humanTask", "caseTask", "processTask", "decisionTask"}),
        (FLOWABLE_NS, "delegateExpression"): frozenset({"task"}),
        (FLOWABLE_NS, "expression"): frozenset({"task"}),
    }
)

# extensionElements children (namespace, local name) -> reason.
_REFUSED_ELEMENTS: Mapping[tuple[str, str], str] = MappingProxyType(
    {
        (FLOWABLE_NS, "completionNeutralRule"): "completion-neutral items are Flowable-only and change "
        "when a stage completes",
        (FLOWABLE_NS, "parentCompletionRule"): "parent completion rules are Flowable-only and change when "
        "a stage completes",
        (FLOWABLE_NS, "reactivationRule"): "case reactivation rules are Flowable-only",
        (FLOWABLE_NS, "defaultReactivationRule"): "case reactivation rules are Flowable-only",
        (FLOWABLE_NS, "variableAggregation"): "variable aggregation of repeated items is Flowable-only",
        (FLOWABLE_NS, "in"): "vendor variable mappings into a child case or process are not supported; "
        "use CMMN input/output parameters",
        (FLOWABLE_NS, "out"): "vendor variable mappings out of a child case or process are not supported; "
        "use CMMN input/output parameters",
        (FLOWABLE_NS, "field"): _TASK_DELEGATE,
        (FLOWABLE_NS, "script"): "scripts cannot run in casepilot; bind a casepilot tool instead",
        (FLOWABLE_NS, "eventCorrelationParameter"): "event-registry correlation is Flowable-only",
        (FLOWABLE_NS, "startEventCorrelationConfiguration"): "event-registry case starts are Flowable-only",
        (CAMUNDA_NS, "variableOnPart"): "Camunda variable on-parts make a sentry wait for a variable event; "
        "use an ifPart",
        (CAMUNDA_NS, "in"): "vendor variable mappings into a child case or process are not supported; "
        "use CMMN input/output parameters",
        (CAMUNDA_NS, "out"): "vendor variable mappings out of a child case or process are not supported; "
        "use CMMN input/output parameters",
    }
)

_EXPRESSION_CONSTRUCTS: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (
        re.compile(r"\b(?:vars?|variables|cmmn|flw)\s*:\s*[A-Za-z_]\w*\s*\("),
        "Flowable expression function (vars:/variables:/cmmn:)",
        "write the condition in FEEL or the plain ${…} style over case variables",
    ),
    (
        re.compile(r"\bplanItemInstances\b"),
        "Flowable planItemInstances() expression",
        "use a sentry on the plan items instead",
    ),
    (
        re.compile(r"[A-Za-z_]\w*\s*\.\s*[A-Za-z_]\w*\s*\("),
        "JUEL method call (engine objects and beans)",
        "method calls cannot run in casepilot; read case variables directly",
    ),
)

_JUEL_FUNCTION = "JUEL function call"
_JUEL_METHOD = "JUEL method call (engine objects and beans)"

VENDOR_CONSTRUCTS: tuple[str, ...] = tuple(
    sorted(
        {f"{_PREFIX[ns]}:{name}" for ns, name in _REFUSED_ATTRIBUTES}
        | {f"{_PREFIX[ns]}:{name}" for ns, name in _REFUSED_ELEMENTS}
        | {label for _, label, _ in _EXPRESSION_CONSTRUCTS}
        | {"Quartz cron timer expression", "planFragment used as a plan item (Flowable)"}
        | {"script condition language", _JUEL_FUNCTION}
    )
)
"""Every construct name that a refusal can name (for the corpus test and ``compat``)."""

_BY_LENGTH = sorted(VENDOR_CONSTRUCTS, key=len, reverse=True)


def vendor_construct(message: str) -> str | None:
    """The construct a refusal message names (``None`` when it is not a vendor refusal)."""
    if not message.startswith(VENDOR_PREFIX):
        return None
    rest = message[len(VENDOR_PREFIX):]
    for construct in _BY_LENGTH:
        if rest.startswith(construct) and rest[len(construct):len(construct) + 1] in ("", "=", " ", ":"):
            return construct
    return None


def vendor_expression_construct(body: str) -> tuple[str, str] | None:
    """``(construct, hint)`` when an expression uses an engine-specific feature, else ``None``."""
    if "${" in body or "#{" in body or ":" in body or "(" in body:
        for pattern, label, hint in _EXPRESSION_CONSTRUCTS:
            if pattern.search(body):
                return label, hint
    return None


def juel_refusal_construct(body: str, message: str) -> str | None:
    """The vendor construct behind the ``${…}`` compiler's refusal of ``body``, else ``None``.

    The dialect refuses calls by design (``casepilot.dmn.feel.juel``): a method call reaches
    into engine objects or beans, a function (``fn:len(x)``, ``foo(x)``) into an engine's
    function library. Both are vendor constructs, not malformed CMMN; any other compile
    error (a typo, an unknown operator) stays an invalid-model problem.
    """
    if body.lstrip()[:2] not in ("${", "#{"):
        return None
    if message.startswith("method call"):
        callee = message[len("method call"):].split("(", 1)[0]
        return _JUEL_METHOD if "." in callee else _JUEL_FUNCTION
    if message.startswith("function call"):
        return _JUEL_FUNCTION
    return None


def check_element(ctx: ParseContext, el: etree._Element, kind: str) -> None:
    """Refuse behaviour-changing vendor attributes and extension elements on ``el``."""
    if not ctx.strict_extensions:
        return
    for key, value in attributes(el).items():
        if not key.startswith("{"):
            continue
        qn = etree.QName(key)
        ref = (qn.namespace or "", qn.localname)
        reason = _REFUSED_ATTRIBUTES.get(ref)
        if reason is None:
            continue
        only = _ONLY_ON.get(ref)
        if only is not None and kind not in only:
            continue
        if value.strip() in _ALLOWED_VALUES.get(ref, frozenset()):
            continue
        construct = f"{_PREFIX[ref[0]]}:{ref[1]}"
        ctx.problem(el, f'{VENDOR_PREFIX}{construct}="{value}" on {kind}: {reason}')
    for holder in ctx.children(el, "extensionElements"):
        for child in holder:
            if not isinstance(child.tag, str):
                continue
            cq = etree.QName(child)
            ref = (cq.namespace or "", cq.localname)
            reason = _REFUSED_ELEMENTS.get(ref)
            if reason is not None:
                construct = f"{_PREFIX[ref[0]]}:{ref[1]}"
                ctx.problem(child, f"{VENDOR_PREFIX}{construct} on {kind} '{el.get('id')}': {reason}",
                            element=construct)
