"""The action governance reviews for an option: its arguments pseudonymised and each with its
provenance, the tool call to record as started, and a parked action as the case would
propose it now (so an approval covers exactly what is run)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from casepilot.agent._node_base import NodeBase
from casepilot.agent._observation import option_json
from casepilot.agent._values import ValueSources
from casepilot.agent.context import LoadedCase
from casepilot.agent.facts import ParkedAction, StartedCall
from casepilot.governance.actions import ProposedAction
from casepilot.tools import Provenance

__all__ = ["Proposals"]


class Proposals(NodeBase):
    """How the nodes turn an option into the action governance reviews."""

    def _current_action(self, loaded: LoadedCase, parked: ParkedAction
                        ) -> tuple[dict[str, Any], dict[str, Any], ProposedAction] | None:
        """The parked action as the case would propose it now: (option, arguments, action); None when gone.

        When the planner took the binding's arguments, the binding's *current* arguments are
        used — so a case file changed since the approval changes the digest.
        """
        options, arg_provenance = self.rt.options(loaded)
        current = next((o for o in options if o.id == parked.option_id), None)
        if current is None:
            return None
        option = {**parked.option, **option_json(current)}
        took_defaults = dict(parked.arguments) == dict(parked.option.get("default_arguments") or {})
        arguments = dict(current.default_arguments) if took_defaults else dict(parked.arguments)
        action = self._proposed(loaded, option, arguments, arg_provenance.get(current.id, {}),
                                planner=parked.planner)
        return option, arguments, action

    def _proposed(self, loaded: LoadedCase, option: Mapping[str, Any], arguments: dict[str, Any],
                  arg_provenance: Mapping[str, Provenance], *, planner: str,
                  chat: Sequence[Mapping[str, Any]] = ()) -> ProposedAction:
        """The action governance reviews for ``option`` with ``arguments``, each argument with its provenance.

        An argument equal to the binding's value carries the provenance of the case-file
        variable it was read from (``arg_provenance``). A value the planner wrote itself is
        model text and untrusted (``planner:<name>``) — unless it occurs verbatim in a
        trusted case-file value (the request a person typed: ``request:<variable>``) and in
        no untrusted one; see ``_values``. ``arguments`` are pseudonymised already
        (``_pseudonymised``), so they compare with the tokens of the stored case file. This is
        what lets a payment to the IBAN the user typed pass while the same call with an IBAN
        read from a document needs a person.
        """
        kind = option["kind"]
        provenance: dict[str, Provenance] = dict(arg_provenance)
        defaults = option.get("default_arguments") or {}
        written = {name: value for name, value in arguments.items()
                   if name not in provenance or value != defaults.get(name)}
        sources: ValueSources | None = None
        if written:
            assert loaded.engine is not None
            sources = ValueSources(loaded.engine.variables(), loaded.facts.provenance, chat)
            fallback = Provenance.untrusted(f"planner:{planner}")
            for name, value in written.items():
                provenance[name] = sources.provenance_of(value, fallback)
        if kind in ("run_task", "decide") and option.get("tool"):
            tool = self.rt.registry.get(option["tool"])
            if sources is None and arguments:
                assert loaded.engine is not None
                sources = ValueSources(loaded.engine.variables(), loaded.facts.provenance, chat)
            named = tuple(sorted(n for n, v in arguments.items() if sources is not None and sources.named(v)))
            fields = {n: tuple(tuple(f) for f in sources.fields(v)) for n, v in arguments.items()
                      if sources is not None and n in provenance and not provenance[n].is_trusted}
            return ProposedAction(kind="tool_call", name=option["tool"], case_id=loaded.id,
                                  plan_item=option["label"], stage=option.get("stage"), arguments=arguments,
                                  provenance=provenance, side_effect=tool.side_effect, tags=tuple(tool.tags),
                                  targets=tuple(tool.targets), named_in_request=named, argument_fields=fields)
        transition = {"start": "manualStart", "plan": "plan", "complete": "complete", "decide": "decide",
                      "start_child": "startChildCase", "start_process": "startProcess"}.get(kind, kind)
        return ProposedAction(kind="transition", name=transition, case_id=loaded.id, plan_item=option["label"],
                              stage=option.get("stage"), arguments={"instance": option.get("instance_id")})

    def _started_call(self, loaded: LoadedCase, option: Mapping[str, Any], arguments: dict[str, Any],
                      digest: str, transformed: dict[str, Any] | None) -> tuple[StartedCall, dict[str, Any]] | None:
        """The call to record as started (and its history payload), prepared outside the transaction."""
        if option["kind"] not in ("run_task", "decide") or not option.get("tool"):
            return None
        tool = self.rt.registry.get(option["tool"])
        call_id = f"{loaded.id}:{loaded.record.last_seq + 1}:{digest[:8]}"
        external = option["tool"] in self.rt.governor_for(loaded.bundle).external_tools
        # What leaves the process is what the Governor redacted; an in-process tool gets the
        # (pseudonymised) arguments, which ``act`` reveals to it.
        args = dict(transformed) if external and transformed is not None else dict(arguments)
        call = StartedCall(call_id, option["tool"], tool.side_effect, option.get("instance_id"),
                           {**option, "digest": digest}, args)
        payload = {"call_id": call_id, "tool": option["tool"], "side_effect": tool.side_effect,
                   "arguments": self.rt.redact(loaded.id, args), "action_digest": digest}  # cheap: cached clean texts
        return call, payload

    def _pseudonymised(self, case_id: str, option: Mapping[str, Any], arguments: Mapping[str, Any]) -> dict[str, Any]:
        """``arguments`` with the values a planner wrote itself pseudonymised into the case's vault.

        The binding's values come from the case file and are pseudonymised already (and are
        left as they are, so they still equal the binding's); numbers stay numbers.
        """
        if self.rt.privacy is None:
            return dict(arguments)
        defaults = option.get("default_arguments") or {}
        written = {k: v for k, v in arguments.items() if k not in defaults or v != defaults[k]}
        if not written:
            return dict(arguments)
        redacted = self.rt.privacy.redact_value(written, case_id)[0]
        return {k: redacted[k] if k in written else v for k, v in arguments.items()}
