"""``casepilot deploy | start | show | run | inbox | decide | actions | act | chat``, and the
operations ``terminate | suspend | resume | retry | correct | reassign``: cases from a shell.

Each command takes ``--db URL`` (default ``$CASEPILOT_DATABASE_URL``, else a SQLite file in
the user data folder — the same wherever the command runs; see ``casepilot.settings``). The tools are the built-in ones plus those the bundle names in its
``casepilot.yaml`` (``tools:``): ``deploy`` loads them from the folder, the commands that work
a case from the case's deployed definition. ``--tools module:attribute`` adds more.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Column, Table

from casepilot.settings import announce, load_settings

if TYPE_CHECKING:  # loaded when a command runs: `casepilot deploy --help` stays quick
    from casepilot.store import Store
    from casepilot.tools import ToolRegistry

__all__ = ["register"]

console = Console()
DbOption = Annotated[str | None, typer.Option(
    "--db", help="Database URL (default: $CASEPILOT_DATABASE_URL, else casepilot.db in the user data folder).")]
InProcessOption = Annotated[bool, typer.Option(
    "--in-process", help="Work the case in this process even when `casepilot worker` processes serve the database "
    "(by default the command then records the change and queues the case's run for the workers, as `casepilot "
    "serve` does).")]
ToolsOption = Annotated[
    str | None, typer.Option("--tools", help="module:attribute of extra tools (a ToolRegistry, tools, or a function "
                             "returning them), besides the built-ins and those the bundle names under `tools:`.")
]


def _store(db: str | None) -> Store:
    store: Store = load_settings().open_store(db)
    return store


def _registry(spec: str | None) -> ToolRegistry:
    """The built-in tools, plus ``--tools`` (one clear line when the module or attribute is missing)."""
    from casepilot.agent.tool_sources import base_registry
    from casepilot.tools import add_tools, resolve_tools

    registry = base_registry()
    if spec is not None:
        local = Path(f"{spec.partition(':')[0]}.py")  # a module file in the current folder, as python -m would find it
        files: dict[str, str | bytes] | None = {local.name: local.read_bytes()} if local.is_file() else None
        add_tools(registry, resolve_tools([spec], files, origin="--tools"), origin="--tools")
    return registry


def _orchestrator(db: str | None, tools: str | None, *, case_id: str | None = None,
                  definition: str | None = None, announce_as: str | None = None, in_process: bool = True) -> Any:
    """An orchestrator whose registry has the tools of the case's (or the definition's) bundle.

    ``in_process=False`` (the commands that change a case, unless ``--in-process``): on a
    PostgreSQL database that workers serve (it has their queue's tables) the orchestrator works
    no case here — every change it commits queues the case's run in the same transaction, as
    behind ``casepilot serve`` with workers (``queued_orchestrator``): a BPMN process's payment
    after a decision, a confirmed chat action, a process started on its own are then carried
    out by a worker, governed and under the crash rule, never by the shell.
    """
    from casepilot.agent.orchestrator import Orchestrator
    from casepilot.agent.tool_sources import registry_for_case, registry_for_definitions

    store = _store(db)
    registry = _registry(tools)
    if case_id is not None:
        registry = registry_for_case(store, case_id, registry)
    elif definition is not None:
        registry = registry_for_definitions(store, [(definition, None)], registry)
    orch = Orchestrator(store, registry)
    if not in_process and _served_by_workers(store):
        from casepilot.worker import JobScheduler

        orch.runtime.on_step = JobScheduler(run_on_change=True, clock=orch.runtime.clock)
    if announce_as is not None:
        announce(announce_as, url=store.url, planner=orch.runtime.planner,
                 identity="as given by --as/--role (the shell's user is trusted)", extra=f"{len(registry)} tools")
    return orch


def _served_by_workers(store: Store) -> bool:
    """Whether ``store`` is a PostgreSQL database with the workers' queue installed."""
    conninfo = store.postgres_conninfo
    if conninfo is None:
        return False
    from casepilot.worker.schema import queue_installed

    return queue_installed(conninfo)


def _queued(orch: Any) -> bool:
    """Whether ``orch`` leaves the cases' work to workers (see ``_orchestrator``)."""
    from casepilot.agent._process_tasks import runs_queued

    return runs_queued(orch.runtime)


def _say_queued(what: str) -> None:
    console.print(f"queued: {what} (`casepilot worker` processes serve this database; --in-process works the "
                  "case here)", highlight=False)


def deploy(folder: Annotated[Path, typer.Argument(help="A bundle folder with casepilot.yaml")], db: DbOption = None,
           tools: ToolsOption = None) -> None:
    """Validate and deploy a case bundle (a new version only when its content changed)."""
    version = _orchestrator(db, tools).deploy(folder)
    console.print(f"deployed {version.key} version {version.version} ({version.content_hash[:12]})")


def start(key: Annotated[str, typer.Argument(help="Definition key")],
          variables: Annotated[str, typer.Option("--vars", help="Starting variables as a JSON object")] = "{}",
          business_key: Annotated[str | None, typer.Option("--business-key")] = None,
          process: Annotated[str | None, typer.Option(
              "--process", help="Start this BPMN process of the bundle on its own (an id in its `processes:` "
              "files) instead of its CMMN case; it runs to its first wait state at once.")] = None,
          db: DbOption = None, tools: ToolsOption = None, in_process: InProcessOption = False) -> None:
    """Start a case on the latest version of a definition; prints its id."""
    try:
        values = json.loads(variables)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"--vars is not valid JSON: {exc.msg}") from exc
    if not isinstance(values, dict):
        raise typer.BadParameter("--vars must be a JSON object")
    orch = _orchestrator(db, tools, definition=key, in_process=in_process)
    case = orch.start_case(key, values, business_key, process=process)
    console.print(case.id)
    if _queued(orch):
        _say_queued("a worker works the case" + (" and starts its process" if process else ""))


def show(case_id: str, svg: Annotated[Path | None, typer.Option(
             "--svg", help="Also write the diagram of its BPMN process (the first, with --process another) here.")]
         = None,
         process: Annotated[str | None, typer.Option(
             "--process", help="With --svg: which process (its instance id, as listed)")] = None,
         db: DbOption = None, tools: ToolsOption = None) -> None:
    """Show where a case stands: its state, plan items, BPMN processes with their tokens, open inbox items."""
    from casepilot.agent.show import print_case

    print_case(_orchestrator(db, tools, case_id=case_id), case_id, console, svg=svg, process=process)


def run(case_id: str, max_steps: Annotated[int, typer.Option("--max-steps")] = 50, db: DbOption = None,
        tools: ToolsOption = None, in_process: InProcessOption = False,
        wait: Annotated[float, typer.Option("--wait", help="With workers: wait up to this many seconds for the "
                                                           "case to stop (0: queue the run and return).")] = 300.0,
        ) -> None:
    """Work a case until it finishes or waits for people or events, then say why it stopped.

    Exit codes: 0 the case completed, was terminated or suspended by a person, or waits for
    people or events; 3 a guardrail blocks what it needs next; 4 a tool, the planner or the
    case failed (see `retry`, `correct`, `terminate`); 1 an error (e.g. the case is suspended).
    """
    from casepilot.agent.stop_reason import guardrail_decisions, stop_reason
    from casepilot.agent.timeline import describe_update

    orch = _orchestrator(db, tools, case_id=case_id, announce_as=f"casepilot run {case_id}", in_process=in_process)
    if _queued(orch):
        _run_queued(orch, case_id, max_steps, wait)
        return
    for event in orch.stream(case_id, max_steps=max_steps):
        summary = escape(describe_update(event["node"], event["update"]))
        console.print(f"[dim]{event['node']:>13}[/dim] {summary}", highlight=False)
    outcome = orch.outcome(case_id)
    console.print(f"{outcome.reason}: case is {outcome.case_state}; {len(outcome.pending)} open inbox items")
    manifest = orch.runtime.load(case_id).bundle.manifest
    reason = stop_reason(outcome, orch.store.iter_history(case_id), guardrail_decisions(manifest))
    style = "red" if reason.stuck else "green" if reason.kind == "completed" else "yellow"
    for line in reason.lines:
        console.print(f"[{style}]{escape(line)}[/{style}]", highlight=False)
    if reason.exit_code:
        raise typer.Exit(reason.exit_code)


def _run_queued(orch: Any, case_id: str, max_steps: int, wait: float) -> None:
    """``run`` where workers work the cases: queue the run, wait for the case to stop, show what was recorded."""
    import time

    from casepilot.agent.operations import ensure_workable
    from casepilot.worker import jobs

    ensure_workable(orch, case_id, "run", finished_ok=True)
    after = orch.store.case(case_id).last_seq
    jobs.enqueue(orch.store.engine, [jobs.run_case(case_id, key=f"v{orch.store.case_version(case_id)}",
                                                   max_steps=max_steps)])
    _say_queued(f"a worker runs case {case_id}")
    deadline, stopped = time.monotonic() + wait, False
    while True:
        stopped = jobs.runs_in_flight(orch.store.engine, case_id) == 0 and orch.store.lease_holder(case_id) is None
        if stopped or time.monotonic() >= deadline:
            break
        time.sleep(0.25)
    for event in orch.store.history(case_id, after_seq=after):
        console.print(f"[dim]#{event.seq:<5} {event.kind:>20}[/dim] {escape(event.actor)}", highlight=False)
    loaded = orch.runtime.load(case_id)
    state = loaded.engine.state if loaded.engine is not None else "active"
    pending = orch.pending(case_id)
    how = "stopped" if stopped else f"still going after {wait:g} s (see `casepilot show {case_id}`)"
    console.print(f"{how}: case is {state}; {len(pending)} open inbox items")


def inbox(case_id: Annotated[str | None, typer.Option("--case")] = None,
          role: Annotated[str | None, typer.Option("--role")] = None, db: DbOption = None) -> None:
    """List open inbox items."""
    table = Table("case", "role", "question", "options")
    table.columns.insert(0, Column("task", no_wrap=True, min_width=32))
    for task in _store(db).tasks(case_id=case_id, role=role, status="open"):
        table.add_row(task.id, task.case_id[:8], task.role or "-", task.prompt, ", ".join(task.options))
    console.print(table)


def decide(task_id: str,
           choice: Annotated[str, typer.Option("--choice")],
           actor: Annotated[str, typer.Option("--as", help="Who decides")],
           roles: Annotated[list[str], typer.Option("--role", help="The decider's roles")],
           comment: Annotated[str | None, typer.Option("--comment")] = None,
           value: Annotated[list[str] | None, typer.Option(
               "--value", help="A field the task declares, NAME=VALUE (repeat it; dates YYYY-MM-DD, yes/no)")] = None,
           db: DbOption = None, tools: ToolsOption = None, in_process: InProcessOption = False) -> None:
    """Decide an inbox item (the next `run` resumes the case)."""
    from casepilot.agent.orchestrator import Person

    store = _store(db)
    case_id = store.task(task_id).case_id
    store.close()
    orch = _orchestrator(db, tools, case_id=case_id, in_process=in_process)
    values = _typed_values(orch, task_id, value or [])
    task = orch.decide(task_id, Person(actor, set(roles)), choice, comment, values=values)
    console.print(f"{task.id}: {task.decision} by {task.decided_by}")
    if _queued(orch):
        _say_queued(f"a worker works case {case_id} on with the decision")


def _typed_values(orch: Any, task_id: str, given: list[str]) -> dict[str, Any]:
    """``NAME=VALUE`` texts as the values the task's declared fields take (as the page reads a form)."""
    if not given:
        return {}
    from casepilot.agent._decision_values import declared_fields
    from casepilot.api.web_forms import read_fields, task_fields

    fields = task_fields(task_id, declared_fields(orch.runtime, orch.store.task(task_id)))
    known = {f.name: f for f in fields}
    form: dict[str, str] = {}
    for item in given:
        name, sep, text = item.partition("=")
        if not sep or name.strip() not in known:
            names = ", ".join(known) or "none: this task takes no values"
            raise typer.BadParameter(f"{item!r}: write NAME=VALUE with a field the task declares ({names})",
                                     param_hint="--value")
        form[known[name.strip()].key] = text
    values, problems = read_fields([f for f in fields if f.key in form], form)
    if problems:
        raise typer.BadParameter("; ".join(f"{name}: {problem}" for name, problem in problems.items()),
                                 param_hint="--value")
    return values


def actions(case_id: str, db: DbOption = None, tools: ToolsOption = None) -> None:
    """List what people may do in a case now (user events, discretionary items) and for which roles.

    A discretionary item whose applicability rule reads erased personal data is not listed as
    possible: a line after the table names it and says why (nothing is recorded; the case's next
    step fails the case)."""
    from casepilot.agent.people import listed_actions

    table = Table("kind", "action", "roles")
    table.columns.insert(0, Column("id", no_wrap=True))
    orch = _orchestrator(db, tools, case_id=case_id)
    possible, unavailable = listed_actions(orch.runtime.load(case_id).engine)
    for action in possible:
        table.add_row(action.id, action.kind, action.label, action.roles_wanted)
    console.print(table)
    for item in unavailable:
        console.print(f"[yellow]not available: {escape(item.label)} ({escape(item.id)}): {escape(item.reason)}[/yellow]",
                      highlight=False)


def act(case_id: str, action_id: str,
        actor: Annotated[str, typer.Option("--as", help="Who acts")],
        roles: Annotated[list[str] | None, typer.Option("--role", help="The actor's roles")] = None,
        db: DbOption = None, tools: ToolsOption = None, in_process: InProcessOption = False) -> None:
    """Take one of the case's people actions (see `actions`), then work the case on."""
    from casepilot.agent.orchestrator import Person

    orch = _orchestrator(db, tools, case_id=case_id, announce_as=f"casepilot act {case_id}", in_process=in_process)
    orch.perform(case_id, action_id, Person(actor, set(roles or [])))
    if _queued(orch):
        _say_queued(f"a worker works case {case_id} on")
        return
    outcome = orch.run(case_id)
    console.print(f"{outcome.reason}: case is {outcome.case_state}; {len(outcome.pending)} open inbox items")


def chat(case_id: str,
         message: Annotated[str | None, typer.Argument(
             help="Your question or instruction (leave out with --confirm)")] = None,
         confirm_id: Annotated[str | None, typer.Option(
             "--confirm", metavar="PROPOSAL_ID", help="Carry out what an earlier answer proposed (its proposal "
             "id, e.g. p31), governed as you with your roles")] = None,
         actor: Annotated[str, typer.Option("--as")] = "user",
         roles: Annotated[list[str] | None, typer.Option("--role", help="a role you hold (repeat for several)")] = None,
         db: DbOption = None, tools: ToolsOption = None, in_process: InProcessOption = False) -> None:
    """Ask the case a question, or ask it to do one of its possible actions (governed as you, with your roles).

    An instruction is answered with a proposal; `chat CASE_ID --confirm PROPOSAL_ID` carries it
    out, governed as you, with your roles (exit code 3 when governance blocks it). Answers are
    printed as they are: citations such as [#29] are text, not markup.
    """
    from casepilot.agent.chat import confirm
    from casepilot.agent.orchestrator import Person

    if (message is None) == (confirm_id is None):
        raise typer.BadParameter("give a MESSAGE, or --confirm PROPOSAL_ID (not both)")
    orch = _orchestrator(db, tools, case_id=case_id, in_process=in_process)
    if confirm_id is None:
        assert message is not None
        text = orch.chat(case_id, Person(actor, set(roles or [])), message)
        console.print(text, markup=False, highlight=False, soft_wrap=True)
        return
    turn = confirm(orch, case_id, confirm_id, f"person:{actor}", roles=frozenset(roles or []))
    console.print(turn.text, markup=False, highlight=False, soft_wrap=True)
    if _queued(orch):
        _say_queued(f"a worker carries out {confirm_id} and answers in the conversation (`casepilot history {case_id}`)")
    if turn.outcome == "block":
        raise typer.Exit(3)


ActorOption = Annotated[str, typer.Option("--as", help="Who runs the operation")]
RolesOption = Annotated[list[str] | None, typer.Option(
    "--role", help="A role you hold (repeat for several): the bundle's operator role, or one its "
    "governance.operations names for this operation")]
ReasonOption = Annotated[str, typer.Option("--reason", help="Why (recorded in the case's history)")]


def _person(actor: str, roles: list[str] | None) -> Any:
    from casepilot.agent.orchestrator import Person

    return Person(actor, set(roles or []))


def _done(done: Any, orch: Any) -> None:
    console.print(f"{done.operation}: case {done.case_id} is {done.case_state}")
    if _queued(orch) and done.case_state == "active":
        _say_queued(f"a worker works case {done.case_id} on")


def terminate(case_id: str, actor: ActorOption, reason: ReasonOption, roles: RolesOption = None,
              db: DbOption = None, tools: ToolsOption = None, in_process: InProcessOption = False) -> None:
    """Terminate a case (governed, recorded as yours); its open inbox items are cancelled."""
    orch = _orchestrator(db, tools, case_id=case_id, in_process=in_process)
    _done(orch.terminate(case_id, _person(actor, roles), reason), orch)


def suspend(case_id: str, actor: ActorOption, reason: ReasonOption, roles: RolesOption = None,
            db: DbOption = None, tools: ToolsOption = None, in_process: InProcessOption = False) -> None:
    """Suspend a case: it is not run, chatted with or decided until `resume`."""
    orch = _orchestrator(db, tools, case_id=case_id, in_process=in_process)
    _done(orch.suspend(case_id, _person(actor, roles), reason), orch)


def resume(case_id: str, actor: ActorOption, reason: ReasonOption, roles: RolesOption = None,
           db: DbOption = None, tools: ToolsOption = None, in_process: InProcessOption = False) -> None:
    """Resume a suspended case (then `run` works it on)."""
    orch = _orchestrator(db, tools, case_id=case_id, in_process=in_process)
    _done(orch.resume(case_id, _person(actor, roles), reason), orch)


def retry(case_id: str, item: Annotated[str, typer.Argument(help="The failed task: its name or instance id")],
          actor: ActorOption, roles: RolesOption = None,
          reason: Annotated[str | None, typer.Option("--reason")] = None,
          db: DbOption = None, tools: ToolsOption = None, in_process: InProcessOption = False) -> None:
    """Offer a failed task again; the next `run` proposes it (governed like any action)."""
    orch = _orchestrator(db, tools, case_id=case_id, in_process=in_process)
    _done(orch.retry(case_id, item, _person(actor, roles), reason), orch)


def correct(case_id: str, path: Annotated[str, typer.Argument(help="Case-file item, or a part of one: claim.amount")],
            value: Annotated[str, typer.Argument(help="The new value as JSON (800, \"text\", {…}); "
                                                     "text that is not JSON is taken as a string")],
            actor: ActorOption, reason: ReasonOption, roles: RolesOption = None,
            db: DbOption = None, tools: ToolsOption = None, in_process: InProcessOption = False) -> None:
    """Correct a case-file item: a governed edit, the new value trusted as yours, old and new recorded."""
    try:
        parsed: Any = json.loads(value)
    except json.JSONDecodeError:
        parsed = value
    orch = _orchestrator(db, tools, case_id=case_id, in_process=in_process)
    _done(orch.correct(case_id, path, parsed, _person(actor, roles), reason), orch)


def reassign(task_id: str, actor: ActorOption, roles: RolesOption = None,
             to_role: Annotated[str | None, typer.Option("--to-role", help="The role that gets the item")] = None,
             to_person: Annotated[str | None, typer.Option("--to-person", help="The one person (within the "
                                                           "role) who may decide it")] = None,
             reason: Annotated[str | None, typer.Option("--reason")] = None,
             db: DbOption = None, tools: ToolsOption = None, in_process: InProcessOption = False) -> None:
    """Hand an open inbox item to another role or a named person; prints the new item's id."""
    if to_role is None and to_person is None:
        raise typer.BadParameter("give --to-role, --to-person or both")
    store = _store(db)
    case_id = store.task(task_id).case_id
    store.close()
    orch = _orchestrator(db, tools, case_id=case_id, in_process=in_process)
    task = orch.reassign(task_id, _person(actor, roles), role=to_role, person=to_person, reason=reason)
    console.print(f"{task.id}: for {task.role or 'the operator'}" + (f" ({to_person})" if to_person else ""))


def register(app: typer.Typer) -> None:
    """Mount the agent's commands on the main CLI."""
    for fn in (deploy, start, show, run, inbox, decide, actions, act, chat, terminate, suspend, resume, retry, correct,
               reassign):
        app.command(fn.__name__)(fn)
