"""PII detection and reversible, per-case pseudonymisation.

Detection is Presidio's analyzer over a lean, offline spaCy pipeline plus
casepilot's recognizers (names, places, IBANs of every country, European phone
formats); redaction is Presidio's anonymizer issuing consistent per-case tokens
(``<PERSON_1>``) whose values live encrypted in a :class:`PseudonymVault`.

Typical use::

    pseudo = Pseudonymizer(vault, policy={"case-officer"}, on_reveal=history.record)
    safe = pseudo.redact_text(prompt, case_id).text           # before anything leaves
    args = pseudo.redact_payload(tool_arguments, case_id).value
    shown = pseudo.reveal(answer, case_id, actor_roles, actor=user_id).text
"""

from .detector import DEFAULT_ENTITIES, DetectedEntity, PiiDetector, default_detector
from .pseudonymizer import (
    TOKEN_PATTERN,
    JsonLike,
    PayloadRedaction,
    Pseudonymizer,
    RedactionResult,
    RevealEvent,
    RevealPolicy,
    RevealResult,
    roles_policy,
)
from .vault import InMemoryVault, PseudonymsShredded, PseudonymVault, UnknownPseudonym

__all__ = [
    "DEFAULT_ENTITIES",
    "TOKEN_PATTERN",
    "DetectedEntity",
    "InMemoryVault",
    "JsonLike",
    "PayloadRedaction",
    "PiiDetector",
    "PseudonymVault",
    "Pseudonymizer",
    "PseudonymsShredded",
    "RedactionResult",
    "RevealEvent",
    "RevealPolicy",
    "RevealResult",
    "UnknownPseudonym",
    "default_detector",
    "roles_policy",
]
