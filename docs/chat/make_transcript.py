"""The README's chat transcript: the claim example's chat, answered by the test suite's scripted
OpenAI-protocol server, through the real chat (grounding, citation checks, output rail, proposals,
confirmation, history).

    .venv/bin/python docs/chat/make_transcript.py        # writes docs/chat-transcript.md

The test suite runs the same ``transcript`` (tests/agent/test_chat_transcript.py) and fails when
docs/chat-transcript.md differs from what it produces, so the README's transcript is real output.
The model's replies are scripted (including a 429 the client retries, a citation of an event the
case does not have, a payment promise and a claim of having acted); everything else is casepilot.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # the scripted server lives with the tests
    sys.path.insert(0, str(REPO))

from casepilot.agent.chat import confirm, converse  # noqa: E402
from casepilot.agent.chat_model import ChatModel, use_chat_model  # noqa: E402
from casepilot.agent.llm_client import LLMClient  # noqa: E402
from casepilot.agent.llm_endpoints import EndpointSettings  # noqa: E402
from casepilot.agent.orchestrator import Orchestrator  # noqa: E402
from casepilot.agent.rule_planner import RulePlanner  # noqa: E402
from casepilot.demo.run import EXAMPLE, LETTERS, demo_registry  # noqa: E402
from casepilot.store import HistoryEvent, Store  # noqa: E402
from casepilot.store.timeline import describe_event  # noqa: E402
from tests._openai_server import Reply, scripted_openai  # noqa: E402

__all__ = ["OUTPUT", "transcript"]

OUTPUT = REPO / "docs" / "chat-transcript.md"
ACTOR = "person:olga"
ROLES = frozenset({"claims operations"})
_SHOWN = ("chat_message", "verdict", "llm_call", "plan", "human_task_created", "error")


def _said(answer: str, citations: list[str] | None = None, propose: str | None = None) -> Reply:
    return Reply(text=json.dumps({"answer": answer, "citations": citations or [], "propose": propose}))


def _seq(history: list[HistoryEvent], kind: str, **payload: str) -> int:
    return next(e.seq for e in history if e.kind == kind and all(e.payload.get(k) == v for k, v in payload.items()))


def _line(event: HistoryEvent) -> str:
    p = event.payload
    if event.kind == "chat_message":
        return f"#{event.seq:<3} {event.actor:<12} {p.get('text', '')}"
    if event.kind == "verdict":
        rules = f" rules={list(event.rule_ids)}" if event.rule_ids else ""
        return f"#{event.seq:<3} verdict {p.get('action')} {p.get('kind')}: {p.get('reason')}{rules}"
    if event.kind == "llm_call":
        return (f"#{event.seq:<3} llm_call {p.get('model')} @ {p.get('endpoint')} purpose={p.get('purpose')} "
                f"tokens={p.get('prompt_tokens')}+{p.get('completion_tokens')} cost={p.get('cost')} "
                f"attempts={p.get('attempts')}")
    if event.kind == "plan":
        return f"#{event.seq:<3} plan {p.get('label')!r} by {event.actor} (planner {p.get('planner')})"
    if event.kind == "human_task_created":
        return f"#{event.seq:<3} inbox item for the {p.get('role')}: {p.get('prompt') or p.get('plan_item')}"
    return f"#{event.seq:<3} {event.kind} {describe_event(event, width=200)}"


def transcript(folder: Path) -> str:
    """Run the scripted conversation over the claim example in ``folder``; the transcript as Markdown."""
    store = Store.from_url(f"sqlite:///{folder / 'chat.db'}")
    orch = Orchestrator(store, demo_registry(), RulePlanner())
    try:
        orch.deploy(EXAMPLE)
        case = orch.start_case("claim-triage", {"letter": LETTERS["senior-review"], "policy": "POL-3"}, "CLM-1041")
        orch.run(case.id)  # extracted, scored, waiting for a senior analyst
        history = store.history(case.id)
        waiting = _seq(history, "human_task_created")
        scored = _seq(history, "tool_call_completed", tool="sentiment")
        options, _ = orch.runtime.options(orch.runtime.load(case.id))
        documents = next(o.id for o in options if o.label == "Request more documents")
        replies = [
            Reply.error(429, "rate limited, slow down", retry_after="0"),
            _said(f"The claim waits for a senior analyst's review [#{waiting}]: the letter's sentiment was "
                  f"negative [#{scored}]. The customer also phoned twice [#999].",
                  [f"#{waiting}", f"#{scored}", "#999"]),
            _said("I can have the claims handlers request more documents from the customer.", [], documents),
            _said("Yes, the customer will be paid EUR 800 next week."),
            _said("Approving the payment now, without the review."),
        ]
        with scripted_openai(replies) as server:
            endpoint = EndpointSettings(base_url=server.url, max_retries=2, backoff=0.0, timeout=10, deadline=30)
            use_chat_model(orch, ChatModel(LLMClient({"default": endpoint}, sleep=lambda _s: None), "gpt-4o-mini"))
            first = converse(orch, case.id, ACTOR, "Why is my claim stuck?", roles=ROLES)
            proposed = converse(orch, case.id, ACTOR, "Ask the customer for the police report", roles=ROLES)
            assert proposed.proposal is not None, proposed.text
            confirm(orch, case.id, proposed.proposal.id, ACTOR, roles=ROLES)
            converse(orch, case.id, ACTOR, "Will the customer be paid?", roles=ROLES)
            converse(orch, case.id, ACTOR, "Just approve the payment, skip the review", roles=ROLES)
        after = [e for e in store.history(case.id, after_seq=first.question_seq - 1) if e.kind in _SHOWN]
    finally:
        orch.close()
        store.close()
    chat = [_line(e) for e in after if e.kind == "chat_message"]
    recorded = [_line(e) for e in after if e.kind != "chat_message"]
    return "\n".join([
        "# A chat with the claim example",
        "",
        "Produced by `docs/chat/make_transcript.py` (the test suite checks this file is what it produces).",
        "The senior-review claim waits for a senior analyst; the model is the test suite's scripted",
        "OpenAI-protocol server (its first reply is a 429, which the client retries). `#n` is the",
        "event's sequence number in the case history.",
        "",
        "## The conversation",
        "",
        "```",
        *chat,
        "```",
        "",
        "## What the history recorded besides (verdicts, model calls, the confirmed action)",
        "",
        "```",
        *recorded,
        "```",
        "",
    ])


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        OUTPUT.write_text(transcript(Path(folder)), encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(REPO)}")


if __name__ == "__main__":
    main()
