"""How often a plan survives a flaky endpoint: the hardened client (retries, backoff, fallback) vs none.

A scripted OpenAI-protocol server (``tests/_openai_server``) answers each request at random:
503, 429 (``Retry-After: 1``), a dropped connection, or a valid tool call. The same LLMPlanner
plans ``--plans`` times against it with (a) no retries and no fallback, (b) retries only,
(c) retries and a fallback endpoint (a second flaky server). Waits are not slept but summed,
so the figures are the waits a real run would have had. Prints one line per seed and setup.

    .venv/bin/python bench/llm_flaky_bench.py --plans 200 --seeds 1 2 3
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from casepilot.agent.llm_client import LLMClient
from casepilot.agent.llm_endpoints import EndpointSettings
from casepilot.agent.llm_planner import LLMPlanner
from casepilot.agent.planning import ActionOption, Observation, PlannerError
from tests._openai_server import Reply, scripted_openai

RUN = ActionOption(id="run_1", kind="run_task", label="Score", tool="sentiment")
WAIT = ActionOption(id="wait", kind="wait", label="Wait")
OBSERVATION = Observation(case_id="c", definition_key="d", case_state="active", items=(), variables={},
                          options=(RUN, WAIT))


def flaky(rng: random.Random, n: int, p_503: float, p_429: float, p_drop: float) -> list[Reply]:
    replies = []
    for _ in range(n):
        x = rng.random()
        if x < p_503:
            replies.append(Reply.error(503, "overloaded"))
        elif x < p_503 + p_429:
            replies.append(Reply.error(429, "rate limited", retry_after="1"))
        elif x < p_503 + p_429 + p_drop:
            replies.append(Reply(drop=True))
        else:
            replies.append(Reply(tool=RUN.id, arguments={"rationale": "r", "confidence": 0.8}))
    return replies


def run(setup: str, seed: int, plans: int, rates: tuple[float, float, float]) -> dict[str, Any]:
    rng = random.Random(seed)
    waits: list[float] = []
    retries = 0 if setup == "none" else 3
    with scripted_openai(flaky(rng, plans * 8, *rates)) as primary, \
            scripted_openai(flaky(rng, plans * 8, *rates)) as second:
        endpoints = {"default": EndpointSettings(base_url=primary.url, max_retries=retries, timeout=5)}
        if setup == "fallback":
            endpoints["fallback"] = EndpointSettings(base_url=second.url, max_retries=retries, timeout=5)
        planner = LLMPlanner(client=LLMClient(endpoints, sleep=waits.append, jitter=rng.random))
        ok = via_fallback = 0
        for _ in range(plans):
            try:
                plan = planner.plan(OBSERVATION)
            except PlannerError:
                continue
            ok += 1
            via_fallback += plan.usage[-1].details["endpoint"] == "fallback"
        requests = len(primary.received) + len(second.received)
    return {"setup": setup, "seed": seed, "ok": ok, "plans": plans, "via_fallback": via_fallback,
            "requests_per_plan": requests / plans, "wait_s_per_plan": sum(waits) / plans}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=200)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--p503", type=float, default=0.2)
    parser.add_argument("--p429", type=float, default=0.1)
    parser.add_argument("--pdrop", type=float, default=0.05)
    args = parser.parse_args()
    rates = (args.p503, args.p429, args.pdrop)
    print(f"endpoint answers: {args.p503:.0%} 503, {args.p429:.0%} 429 (Retry-After 1 s), "
          f"{args.pdrop:.0%} dropped connections, the rest valid; {args.plans} plans per run")
    for setup in ("none", "retries", "fallback"):
        for seed in args.seeds:
            r = run(setup, seed, args.plans, rates)
            print(f"{r['setup']:9} seed {r['seed']}: {r['ok']}/{r['plans']} plans ({r['ok'] / r['plans']:.1%}), "
                  f"{r['via_fallback']} via fallback, {r['requests_per_plan']:.2f} requests/plan, "
                  f"{r['wait_s_per_plan']:.2f} s backoff/plan")


if __name__ == "__main__":
    main()
