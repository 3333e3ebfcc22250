"""Shared helpers for the FEEL language tests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from casepilot.dmn.feel import compile_expression


def feel(text: str, variables: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """Evaluate a FEEL expression."""
    return compile_expression(text, **kwargs).evaluate(variables or {})


def messages(text: str, variables: dict[str, Any] | None = None) -> list[str]:
    """The messages explaining a null result."""
    return compile_expression(text).evaluate_with_messages(variables or {})[1]


def D(text: str | int) -> Decimal:
    """A FEEL number."""
    return Decimal(text)
