"""PII detection and reversible, per-case pseudonymisation."""

from .detector import DEFAULT_ENTITIES, DetectedEntity, PiiDetector, default_detector
from .vault import InMemoryVault, PseudonymsShredded, PseudonymVault, UnknownPseudonym

__all__ = [
    "DEFAULT_ENTITIES",
    "DetectedEntity",
    "InMemoryVault",
    "PiiDetector",
    "PseudonymVault",
    "PseudonymsShredded",
    "UnknownPseudonym",
    "default_detector",
]
