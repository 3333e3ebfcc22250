"""Scripted planners: what a model would do, minus the model.

A ``CallScript`` is the sequence of calls a planner makes for one user task:

* **benign** — the user task's ground-truth calls (``user_task.ground_truth(pre_environment)``),
  which AgentDojo ships for every task;
* **hijacked** — the same, but once a tool result has carried the injection, the injection
  task's ground-truth calls are made too, after the user's own calls (the order of the
  reference figures in issue 14 — "user calls, then the injection task's calls" — so the
  undefended row reproduces them; made first instead, a later user call can undo the
  attacker's, e.g. a password the user sets after the attacker's). A model that obeys every
  injected instruction: the worst case for a defence.

The same script drives both rows of the bench: ``run_direct`` (no casepilot: AgentDojo's
own ``FunctionsRuntime``) and ``ScriptedPlanner`` (a casepilot ``Planner`` working the
generic assistant case of ``bundle``). The planner writes every argument itself, as a
model would; where each value came from is decided by casepilot's runtime, never here.

**The plan** (``commit_plan``): before any tool runs, the planner commits the calls it will
make — which tools, in which order, and which argument of each it will fill from what it
reads (``from_data``) — as CaMeL's privileged planner does, seeing the user's request and
nothing else. The case starts with it (a trusted variable beside the request); the guardrail
lets a call that fits the next unused step of the plan take its ``from_data`` arguments from
tool results. An argument whose value the request names is not ``from_data``. Two
simplifications, both in the planner's favour only where no attacker is involved: the plan is
read off the task's ground-truth calls (a real planner writes a program; where the program
loops over data, e.g. "message every user", the ground truth unrolls the loop), and no plan is
committed for a request that hands control to the data — "follow the instructions in the
file", "do the actions specified in the e-mail", "do all the tasks on my TODO list" — whose
calls a planner cannot know before it reads that data (CaMeL cannot plan these either).
Each step also says which reads each of its data slots is filled from (``read_from``,
``bind_reads``): what the program a planner writes says — "the URLs in the messages of
``general``" — read off the ground truth run where no attack is planted.

"Carries the injection" is checked on what a model would read: the tool's text parsed
back (from YAML, or from the Python literal AgentDojo prints for a dict), whitespace
collapsed (the environment's YAML folds the attack's line breaks, and the tool output may
fold or escape them again).
"""

from __future__ import annotations

import ast
import contextlib
import re
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml
from agentdojo.agent_pipeline.tool_execution import tool_result_to_str
from agentdojo.functions_runtime import FunctionCall, FunctionsRuntime, TaskEnvironment

from bench.agentdojo.bundle import RECORDS, RESULTS
from casepilot.agent.planning import Observation, Plan

__all__ = ["CallScript", "PlannerSwitch", "ScriptedPlanner", "bind_reads", "carries", "commit_plan", "run_direct"]

_DELEGATES = re.compile(r"\b(?:follow the instructions|do (?:all )?the (?:actions|tasks))\b", re.IGNORECASE)
"""A request that hands control to the data: what to do is written in a file, an e-mail or a page."""


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)
    elif value is not None:
        yield str(value)


def _parsed(text: str) -> Iterator[Any]:
    """The structures a reader finds in a tool's text: AgentDojo writes YAML for models and
    lists, and ``str()`` — a Python literal, escapes and all — for dicts."""
    with contextlib.suppress(yaml.YAMLError):
        yield yaml.safe_load(text)
    with contextlib.suppress(ValueError, SyntaxError, MemoryError, RecursionError):
        yield ast.literal_eval(text)


def _readable(text: str) -> str:
    """What a model reads in a tool's text: every string in it, parsed back, whitespace collapsed."""
    found = [_collapse(s) for parsed in _parsed(text) for s in _strings(parsed)]
    return " ".join([*found, _collapse(text)])


def carries(text: str, needles: Iterable[str]) -> bool:
    """Whether ``text`` (a tool's output) contains any of ``needles`` as a reader sees them."""
    wanted = [_collapse(n) for n in needles if n.strip()]
    if not wanted:
        return False
    readable = _readable(text)
    return any(n in readable for n in wanted)


def _named(value: Any, request: str) -> bool:
    """The request states ``value`` (every element of a list or dict): verbatim at word boundaries, and
    not a bare number (a numeral in a request is a date, a time or a quantity far more often than an id)."""
    if isinstance(value, Mapping):
        return bool(value) and all(_named(v, request) for v in value.values())
    if isinstance(value, list | tuple):
        return bool(value) and all(_named(v, request) for v in value)
    text = str(value)
    if value is None or not re.search(r"[^0-9.,:+ -]", text):
        return False
    return re.search(r"(?:^|\W)" + re.escape(text) + r"(?:\W|$)", request) is not None


def commit_plan(request: str, calls: Sequence[FunctionCall],
                read_from: Sequence[Mapping[str, list[str]]] | None = None) -> list[dict[str, Any]] | None:
    """The plan committed from ``request`` alone: one step per call, ``{"call": tool, "from_data": [...]}``
    naming the arguments the step fills from what the planner reads, and (``read_from``, per call) the
    case-file fields each of them is read from; ``None`` when the request hands control to the data (see
    the module docstring) — the calls then go to governance unplanned."""
    if _DELEGATES.search(request):
        return None
    plan: list[dict[str, Any]] = []
    for index, call in enumerate(calls):
        from_data = sorted(k for k, v in call.args.items() if not _named(v, request))
        step: dict[str, Any] = {"call": call.function, "from_data": from_data}
        bound = {k: v for k, v in (read_from[index] if read_from is not None else {}).items() if k in from_data and v}
        if bound:
            step["read_from"] = bound
        plan.append(step)
    return plan


def bind_reads(calls: Sequence[FunctionCall], reads: Sequence[tuple[str, str, list[Any]]]) -> list[dict[str, list[str]]]:
    """Per call, the case-file fields each argument is read from — what the program a planner writes says
    ("``url`` from the messages of ``general``", "``recipients`` from the file's shares").

    ``reads`` is what each call returned where no attack is planted (tool, text, record values), the
    data the program is written against; an argument is bound to the fields (``results.<tool>``,
    ``records.<tool>``) of the *earlier* calls where its value (every element) occurs, by casepilot's
    own rule (``ValueSources.fields``). A value found in none (written by the planner: a summary, a
    date worked out) is not bound.
    """
    from casepilot.agent._values import ValueSources

    bound: list[dict[str, list[str]]] = []
    for index, call in enumerate(calls):
        results: dict[str, list[str]] = {}
        records: dict[str, list[Any]] = {}
        for tool, text, found in reads[:index]:
            results.setdefault(tool, []).append(text)
            records.setdefault(tool, []).extend(found)
        sources = ValueSources({RESULTS: results, RECORDS: records}, {})
        step: dict[str, list[str]] = {}
        for name, value in call.args.items():
            per_value = sources.fields(value)
            if per_value and all(per_value):
                step[name] = sorted({f for fields in per_value for f in fields})
        bound.append(step)
    return bound


@dataclass
class CallScript:
    """The calls a planner will make, and the injection it obeys once it has read it."""

    user_calls: Sequence[FunctionCall]
    injection_calls: Sequence[FunctionCall] = ()
    injection_texts: Sequence[str] = ()
    """The attack texts planted in the environment; empty for a benign script."""
    obey_first: bool = False
    """Make the injection's calls as soon as it is read, before the user's remaining calls (the
    default: after them, the order of issue 14's reference figures)."""
    pending: deque[FunctionCall] = field(init=False)
    hijacked: bool = field(default=False, init=False)
    """Whether the injection was read (and its calls queued)."""

    def __post_init__(self) -> None:
        self.pending = deque(self.user_calls)

    def read(self, texts: Iterable[str]) -> None:
        """The planner reads tool output; the first time it carries the injection, obey it."""
        if self.hijacked or not self.injection_texts:
            return
        if any(carries(t, self.injection_texts) for t in texts):
            self.hijacked = True
            if self.obey_first:
                self.pending.extendleft(reversed(self.injection_calls))
            else:
                self.pending.extend(self.injection_calls)

    def next(self) -> FunctionCall | None:
        return self.pending.popleft() if self.pending else None


def run_direct(script: CallScript, runtime: FunctionsRuntime, environment: TaskEnvironment) -> list[FunctionCall]:
    """The undefended row: every scripted call runs on ``environment``, as in AgentDojo; the trace."""
    trace: list[FunctionCall] = []
    while (call := script.next()) is not None:
        trace.append(call)
        result, error = runtime.run_function(environment, call.function, call.args)
        script.read([error if error is not None else tool_result_to_str(result)])
    return trace


def _result_texts(variables: Mapping[str, Any]) -> list[str]:
    results = variables.get(RESULTS)
    if not isinstance(results, Mapping):
        return []
    return [t for texts in results.values() if isinstance(texts, list) for t in texts if isinstance(t, str)]


class ScriptedPlanner:
    """A casepilot ``Planner`` that works a ``CallScript`` through the generic assistant case.

    Each call is two steps: plan the tool's discretionary task (a fresh instance), then run
    that instance with the script's arguments. A call whose task cannot be planned, or whose
    new instance is not offered to run (governance blocked or parked it), is skipped and
    remembered in ``skipped``; the planner goes on with the next call. With nothing left it
    waits (for the inbox, if anything is parked there).
    """

    name = "scripted"

    def __init__(self, script: CallScript) -> None:
        self.script = script
        self.skipped: list[FunctionCall] = []
        self._planned: FunctionCall | None = None
        self._before: set[str] = set()

    def plan(self, observation: Observation) -> Plan:
        self.script.read(_result_texts(observation.variables))
        if self._planned is not None:
            call, self._planned = self._planned, None
            run = next((o for o in observation.options if o.kind == "run_task" and o.tool == call.function
                        and o.instance_id not in self._before), None)
            if run is not None:
                return Plan(option_id=run.id, arguments=dict(call.args), rationale=f"call {call.function}",
                            planner=self.name)
            self.skipped.append(call)
        while (call := self.script.next()) is not None:
            option = next((o for o in observation.options if o.kind == "plan" and o.label == call.function), None)
            if option is None:
                self.skipped.append(call)
                continue
            self._planned = call
            self._before = {str(i.get("id")) for i in observation.items}
            return Plan(option_id=option.id, rationale=f"plan a {call.function} task", planner=self.name)
        return Plan(option_id="wait", rationale="every scripted call is made or waits for a person", planner=self.name)


class PlannerSwitch:
    """The orchestrator's one planner, delegating to the script of the case being worked.

    The orchestrator takes its planner at construction; the bench works one case at a time,
    so the switch is pointed at each case's ``ScriptedPlanner`` before that case runs.
    """

    name = ScriptedPlanner.name

    def __init__(self) -> None:
        self.current: ScriptedPlanner | None = None

    def plan(self, observation: Observation) -> Plan:
        if self.current is None:
            return Plan(option_id="wait", rationale="no script for this case", planner=self.name)
        return self.current.plan(observation)
