"""Budgets as policy: tokens, money, wall time and number of LLM calls, per case.

Exceeding a budget never stops a case silently: it yields the verdict the policy names
(``block`` or ``require_human`` with a role), recorded like every other verdict.
Costs use ``Decimal`` so that a month of invoices adds up to the cent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Literal

__all__ = ["BudgetCheck", "BudgetLimits", "BudgetUsage", "ModelPrice", "PriceTable"]


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """Price of one model in currency units per 1,000 tokens."""

    input_per_1k: Decimal
    output_per_1k: Decimal


@dataclass(frozen=True, slots=True)
class PriceTable:
    """Prices per model name; unknown models cost ``default`` (zero unless set)."""

    prices: Mapping[str, ModelPrice] = field(default_factory=lambda: MappingProxyType({}))
    default: ModelPrice = ModelPrice(Decimal(0), Decimal(0))
    currency: str = "USD"

    def cost(self, model: str, prompt_tokens: int, completion_tokens: int) -> Decimal:
        """What one call costs."""
        price = self.prices.get(model, self.default)
        return (price.input_per_1k * prompt_tokens + price.output_per_1k * completion_tokens) / Decimal(1000)


@dataclass(frozen=True, slots=True)
class BudgetUsage:
    """What a case has spent so far."""

    tokens: int = 0
    cost: Decimal = Decimal(0)
    wall_seconds: float = 0.0
    llm_calls: int = 0

    def add(
        self, *, tokens: int = 0, cost: Decimal = Decimal(0), wall_seconds: float = 0.0, llm_calls: int = 0
    ) -> BudgetUsage:
        return replace(
            self,
            tokens=self.tokens + tokens,
            cost=self.cost + cost,
            wall_seconds=self.wall_seconds + wall_seconds,
            llm_calls=self.llm_calls + llm_calls,
        )

    def to_json(self) -> dict[str, object]:
        return {
            "tokens": self.tokens,
            "cost": str(self.cost),
            "wall_seconds": self.wall_seconds,
            "llm_calls": self.llm_calls,
        }


@dataclass(frozen=True, slots=True)
class BudgetCheck:
    """The outcome of checking an action against the limits: which limits it would break."""

    exceeded: tuple[str, ...]
    on_exceed: Literal["block", "require_human"]
    role: str | None

    @property
    def ok(self) -> bool:
        return not self.exceeded


@dataclass(frozen=True, slots=True)
class BudgetLimits:
    """Limits of one case (``None`` = unlimited) and what exceeding them means."""

    max_tokens: int | None = None
    max_cost: Decimal | None = None
    max_wall_seconds: float | None = None
    max_llm_calls: int | None = None
    on_exceed: Literal["block", "require_human"] = "block"
    role: str | None = None
    """The role that may approve going over budget when ``on_exceed`` is ``require_human``."""

    def to_json(self) -> dict[str, object]:
        return {
            "max_tokens": self.max_tokens,
            "max_cost": None if self.max_cost is None else str(self.max_cost),
            "max_wall_seconds": self.max_wall_seconds,
            "max_llm_calls": self.max_llm_calls,
            "on_exceed": self.on_exceed,
            "role": self.role,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BudgetLimits:
        cost = data.get("max_cost")
        return cls(
            max_tokens=data.get("max_tokens"),
            max_cost=None if cost is None else Decimal(str(cost)),
            max_wall_seconds=data.get("max_wall_seconds"),
            max_llm_calls=data.get("max_llm_calls"),
            on_exceed=data.get("on_exceed", "block"),
            role=data.get("role"),
        )

    def check(self, usage: BudgetUsage, *, is_llm_call: bool = False, estimated_tokens: int = 0) -> BudgetCheck:
        """Which limits are reached now, or would be by an LLM call of ``estimated_tokens``."""
        exceeded: list[str] = []
        projected_tokens = usage.tokens + (estimated_tokens if is_llm_call else 0)
        if self.max_tokens is not None and (
            projected_tokens > self.max_tokens or (usage.tokens >= self.max_tokens and is_llm_call)
        ):
            exceeded.append(f"tokens {projected_tokens} > {self.max_tokens}")
        if self.max_cost is not None and usage.cost >= self.max_cost:
            exceeded.append(f"cost {usage.cost} >= {self.max_cost}")
        if self.max_wall_seconds is not None and usage.wall_seconds >= self.max_wall_seconds:
            exceeded.append(f"wall time {usage.wall_seconds:.1f}s >= {self.max_wall_seconds}s")
        if self.max_llm_calls is not None and is_llm_call and usage.llm_calls >= self.max_llm_calls:
            exceeded.append(f"LLM calls {usage.llm_calls} >= {self.max_llm_calls}")
        return BudgetCheck(tuple(exceeded), self.on_exceed, self.role)
