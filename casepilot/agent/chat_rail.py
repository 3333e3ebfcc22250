"""What an answer must pass before a person sees it: its citations checked, then the output rail.

* **Citations**: an answer cites history events (``#12``) and passages
  (``collection/document#chunk``), in its ``citations`` list and inline in square brackets.
  A citation of something the answer was not grounded in — a sequence number the case does
  not have, a passage that was not retrieved — is dropped from the answer and flagged; the
  answer records both.
* **Output rail**: model text that leaves the case is a ``message`` action, reviewed by the
  bundle's Governor like any other (``action_kind = "message"``, ``action = "chat"``): PII
  found in it is pseudonymised (and counted: ``pii_count``/``pii_types`` for the guardrails),
  and the guardrails that apply to messages decide — e.g. "no clear personal data", "no
  promise of payment before approval". Only ``allow`` shows the answer; ``block`` and
  ``require_human`` alike (a person cannot stand by to approve a chat answer) refuse it, and
  the person sees the reason. Fail closed: whatever governance cannot interpret blocks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from casepilot.agent.chat_grounding import Grounding
from casepilot.governance.actions import ProposedAction

if TYPE_CHECKING:
    from casepilot.agent.context import AgentRuntime, LoadedCase
    from casepilot.governance.verdict import Verdict

__all__ = ["Checked", "RailResult", "check_citations", "output_rail"]

_BRACKETS = re.compile(r"\[([^\[\]]{1,300})\]")
_HISTORY = re.compile(r"^#(\d{1,12})$")
_DOCUMENT = re.compile(r"^[\w.\-]{1,100}/[\w.\-]{1,200}#\d{1,9}$")


@dataclass(frozen=True, slots=True)
class Checked:
    """An answer's text with unfounded citations taken out, what it cites, and what was dropped."""

    text: str
    citations: tuple[str, ...]
    dropped: tuple[str, ...]


def _refs(inner: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,;]", inner) if part.strip()]


def _is_ref(ref: str) -> bool:
    return bool(_HISTORY.match(ref) or _DOCUMENT.match(ref))


def _grounded(ref: str, grounding: Grounding) -> bool:
    history = _HISTORY.match(ref)
    if history:
        return int(history.group(1)) in grounding.seqs
    return ref in grounding.documents


def check_citations(text: str, listed: Iterable[str], grounding: Grounding) -> Checked:
    """``text`` with every citation the grounding cannot back removed, and the citations sorted out."""
    kept: dict[str, None] = {}
    dropped: dict[str, None] = {}

    def sort(ref: str) -> bool:
        if _grounded(ref, grounding):
            kept[ref] = None
            return True
        dropped[ref] = None
        return False

    def rewrite(match: re.Match[str]) -> str:
        refs = _refs(match.group(1))
        if not refs or not all(_is_ref(r) for r in refs):
            return match.group(0)  # not a citation: ordinary bracketed text
        good = [r for r in refs if sort(r)]
        return f"[{', '.join(good)}]" if good else ""

    cleaned = _BRACKETS.sub(rewrite, text)
    for ref in listed:
        ref = ref.strip().strip("[]")
        if ref and ref not in kept and ref not in dropped:
            if _is_ref(ref):
                sort(ref)
            else:
                dropped[ref] = None
    cleaned = re.sub(r"[ \t]+([.,;:])", r"\1", re.sub(r"[ \t]{2,}", " ", cleaned)).strip()
    return Checked(cleaned, tuple(kept), tuple(dropped))


@dataclass(frozen=True, slots=True)
class RailResult:
    """The rail's decision on one answer: the text a person may see, or the refusal."""

    allowed: bool
    text: str
    """The answer as it may be shown (PII pseudonymised), or the refusal with its reason."""
    verdict: dict[str, Any]
    """The verdict as recorded (``transformed`` left out: the answer is recorded on its own)."""
    rule_ids: tuple[str, ...]


_CASEPILOT_ID = re.compile(r"\b[0-9a-f]{32}\b")
"""The ids casepilot gives cases, inbox items and calls (``uuid4().hex``): never personal data, but
the PII detector read "Case e717604a…" as a person's name — and the rail then refused an answer
for naming the case it is about. They are masked while the text is reviewed, restored after."""


def _mask_ids(text: str) -> tuple[str, list[str]]:
    ids: list[str] = []

    def mask(match: re.Match[str]) -> str:
        ids.append(match.group())
        return f"[id{len(ids)}]"

    return _CASEPILOT_ID.sub(mask, text), ids


def _unmask_ids(text: str, ids: Sequence[str]) -> str:
    return re.sub(r"\[id(\d+)\]", lambda m: ids[int(m.group(1)) - 1] if 0 < int(m.group(1)) <= len(ids)
                  else m.group(), text)


def output_rail(rt: AgentRuntime, loaded: LoadedCase, text: str, *, audience: str, channel: str = "chat",
                citations: Sequence[str] = ()) -> RailResult:
    """Review ``text`` as a ``message`` on ``channel`` to ``audience`` (``person``, ``customer``…) with the
    case's Governor (see the module docstring).

    For any model text about to leave the case — a chat answer, a letter a tool would send — the
    same call: only ``allowed`` text may go out.
    """
    from casepilot.agent.nodes import Nodes

    masked, ids = _mask_ids(text)
    action = ProposedAction(kind="message", name=channel, case_id=loaded.id,
                            arguments={"text": masked, "audience": audience, "citations": list(citations)})
    verdict: Verdict = rt.governor_for(loaded.bundle).review(
        action, Nodes(rt).context(loaded, confidence=None, action=action))
    recorded = {"action": "message", "channel": channel, "audience": audience,
                **{k: v for k, v in verdict.to_json().items() if k != "transformed"}}
    if verdict.kind == "allow":
        shown = (verdict.transformed or action.arguments).get("text", masked)
        return RailResult(True, _unmask_ids(str(shown), ids), recorded, tuple(verdict.rule_ids))
    rules = f" (rules: {', '.join(verdict.rule_ids)})" if verdict.rule_ids else ""
    refusal = f"I cannot give that answer: {verdict.reason}{rules}."
    return RailResult(False, refusal, recorded, tuple(verdict.rule_ids))
