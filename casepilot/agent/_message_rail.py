"""The output rail on what a tool would send out of the case (a letter to the customer).

A tool declares which of its arguments carry text that leaves the case
(``Tool.message_fields``). Before the loop runs such a call, that text passes the same
``message`` verdict a chat answer gets (``chat_rail.output_rail``, audience ``customer``,
channel the tool's name), and the rail's finding joins the call's verdict — so the
``verdict`` event in the history names the rail's rule whether it allowed the letter or
refused it, and a refused letter is a blocked call that never runs.

The text reviewed is the text that leaves: for an external tool the arguments the Governor
redacted (what is sent), for an in-process tool the real values it will be given. Fail
closed: a rail that cannot be evaluated is a ``block`` finding, never an allow.

Tools without message fields cost nothing here: no store read, no DMN evaluation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from casepilot.agent.chat_rail import output_rail
from casepilot.governance.verdict import Finding, Verdict, strictest

if TYPE_CHECKING:
    from casepilot.agent.context import AgentRuntime, LoadedCase

__all__ = ["RAIL_POLICY", "railed"]

RAIL_POLICY = "output rail"
_KINDS = ("allow", "block", "require_human")


def _outgoing_text(rt: AgentRuntime, loaded: LoadedCase, tool: str, fields: tuple[str, ...],
                   arguments: Mapping[str, Any], transformed: Mapping[str, Any] | None) -> str:
    """The text of ``fields`` as it will leave: redacted for an external tool, revealed for an in-process one."""
    external = tool in rt.governor_for(loaded.bundle).external_tools
    source: Mapping[str, Any] = transformed if external and transformed is not None else arguments
    values: dict[str, Any] = {f: source.get(f) for f in fields}
    if not external and rt.privacy is not None:
        values = rt.privacy.reveal_payload(values, loaded.id)
    return "\n\n".join(str(v) for v in values.values() if v not in (None, ""))


def _finding(rt: AgentRuntime, loaded: LoadedCase, tool: str, text: str) -> Finding:
    """What the rail says about ``text`` going to the customer through ``tool``, as a finding of the call."""
    try:
        rail = output_rail(rt, loaded, text, audience="customer", channel=tool)
    except Exception as exc:  # whatever the rail cannot evaluate blocks (fail closed)
        return Finding(RAIL_POLICY, "block",
                       f"the output rail could not review the message {tool!r} would send: {exc}")
    kind = rail.verdict.get("kind")
    reason = f"the message {tool!r} would send to the customer: {rail.verdict.get('reason') or kind}"
    if kind not in _KINDS:
        return Finding(RAIL_POLICY, "block", f"{reason} (the rail gave no verdict casepilot knows: {kind!r})",
                       rule_ids=rail.rule_ids)
    return Finding(RAIL_POLICY, kind, reason, rule_ids=rail.rule_ids,
                   role=rail.verdict.get("role") if kind == "require_human" else None,
                   question=rail.verdict.get("question") if kind == "require_human" else None,
                   options=tuple(rail.verdict.get("options") or ()) if kind == "require_human" else ())


def railed(rt: AgentRuntime, loaded: LoadedCase, option: Mapping[str, Any], arguments: Mapping[str, Any],
           verdict: Verdict) -> Verdict:
    """``verdict`` on the call of ``option`` with the output rail's finding on its outgoing text joined.

    Unchanged for anything but a tool call whose tool declares ``message_fields``, and for a
    call blocked already (the message will not go anyway). The strictest finding wins; the
    Governor's question (with each argument's provenance) is kept when the kind does not change.
    """
    name = option.get("tool")
    if option.get("kind") not in ("run_task", "decide") or not name or verdict.kind == "block":
        return verdict
    tool = rt.registry.get(str(name))
    if not tool.message_fields:
        return verdict
    text = _outgoing_text(rt, loaded, tool.name, tool.message_fields, arguments, verdict.transformed)
    finding = _finding(rt, loaded, tool.name, text)
    combined = strictest([*verdict.findings, finding], action_digest=verdict.action_digest, now=rt.clock())
    if combined.kind == verdict.kind:
        combined = replace(combined, reason=verdict.reason if verdict.kind != "allow" else combined.reason,
                           role=verdict.role, question=verdict.question, options=verdict.options,
                           expires_at=verdict.expires_at, default_choice=verdict.default_choice)
    return combined.with_transform(verdict.transformed) if verdict.transformed is not None else combined
