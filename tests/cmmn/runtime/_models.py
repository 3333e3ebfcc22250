"""Small inline CMMN models for runtime tests (parsed by the project's parser)."""

from __future__ import annotations

from casepilot.cmmn.definitions import Case
from casepilot.cmmn.parser import parse_bytes

_HEAD = '<definitions xmlns="http://www.omg.org/spec/CMMN/20151109/MODEL" id="d" targetNamespace="urn:t">'


def case_of(body: str, *, case_file: str = "", auto_complete: bool = False) -> Case:
    """A one-case model whose plan model holds ``body``."""
    xml = (
        f'{_HEAD}<caseFileItemDefinition id="cfd" name="T"/><case id="c" name="C">{case_file}'
        f'<casePlanModel id="cpm" name="Plan" autoComplete="{str(auto_complete).lower()}">{body}'
        "</casePlanModel></case></definitions>"
    )
    return parse_bytes(xml.encode()).case()


def on(sentry: str, source: str, event: str, extra: str = "", if_part: str | None = None) -> str:
    """A sentry with one plan-item on-part (and an optional if-part)."""
    cond = f"<ifPart><condition>{if_part}</condition></ifPart>" if if_part is not None else ""
    return (
        f'<sentry id="{sentry}"><planItemOnPart sourceRef="{source}"{extra}>'
        f"<standardEvent>{event}</standardEvent></planItemOnPart>{cond}</sentry>"
    )


MANUAL = "<itemControl><manualActivationRule><condition>true</condition></manualActivationRule></itemControl>"
