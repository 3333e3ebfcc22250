"""DMN 1.1–1.5 decision engine: decision tables, boxed expressions, BKMs, decision
services, item definitions and imports, evaluated over FEEL (``casepilot.dmn.feel``).

Load once, evaluate many times::

    model = DecisionModel.from_xml("routing.dmn")
    result = model.evaluate("Route", {"Amount": 1200, "Channel": "web"})
    result.value, result.rule_ids, result.messages
"""

from casepilot.dmn._results import DecisionResult, Message, MessageKind
from casepilot.dmn._types import FeelType
from casepilot.dmn.model import DecisionModel, ElementInfo

__all__ = ["DecisionModel", "DecisionResult", "ElementInfo", "FeelType", "Message", "MessageKind"]
