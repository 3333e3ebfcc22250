"""XML namespaces and tags the BPMN layer reads."""

from __future__ import annotations

__all__ = ["BPMN", "CAMUNDA", "CP", "SPIFF", "tag"]

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CP = "https://casepilot.dev/bpmn/extensions"
"""casepilot's extension attributes and elements (``xmlns:cp``): tool, input, output, role…"""
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"


def tag(local: str, ns: str = BPMN) -> str:
    """Clark notation ``{ns}local``."""
    return f"{{{ns}}}{local}"
