"""Tool allowlists per case definition, per stage and per role.

A tool outside the list is blocked and recorded, whatever the planner says — including
when a tool's output or a document asks the agent to call another tool (prompt
injection): the allowlist is checked on the action, never on the model's reasons.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = ["ToolAllowlist"]


def _frozen(mapping: Mapping[str, Iterable[str]] | None) -> Mapping[str, frozenset[str]]:
    return MappingProxyType({k: frozenset(v) for k, v in (mapping or {}).items()})


@dataclass(frozen=True, slots=True)
class ToolAllowlist:
    """Which tools may run.

    A tool is allowed when it is in ``definition`` (the case definition's list; ``None``
    means no definition-wide restriction), and — where the stage of the action has an
    entry in ``by_stage`` — in that stage's list, and — where the actor has roles with
    entries in ``by_role`` — in the union of those roles' lists. Every layer can only
    narrow what the one above allows.
    """

    definition: frozenset[str] | None = None
    by_stage: Mapping[str, frozenset[str]] = field(default_factory=lambda: MappingProxyType({}))
    by_role: Mapping[str, frozenset[str]] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def build(
        cls,
        definition: Iterable[str] | None = None,
        by_stage: Mapping[str, Iterable[str]] | None = None,
        by_role: Mapping[str, Iterable[str]] | None = None,
    ) -> ToolAllowlist:
        return cls(
            definition=None if definition is None else frozenset(definition),
            by_stage=_frozen(by_stage),
            by_role=_frozen(by_role),
        )

    def check(self, tool: str, *, stage: str | None, roles: Iterable[str]) -> str | None:
        """``None`` when ``tool`` may run; otherwise the reason it may not."""
        if self.definition is not None and tool not in self.definition:
            return f"tool {tool!r} is not on the case definition's allowlist ({', '.join(sorted(self.definition)) or 'empty'})"
        if stage is not None and stage in self.by_stage and tool not in self.by_stage[stage]:
            return f"tool {tool!r} is not allowed in stage {stage!r}"
        role_lists = [self.by_role[r] for r in roles if r in self.by_role]
        if role_lists and not any(tool in allowed for allowed in role_lists):
            return f"tool {tool!r} is not allowed for roles {', '.join(sorted(roles))}"
        return None
