"""The ``casepilot`` command line (typer + rich).

Sub-commands are contributed by the packages that own them (``casepilot.cmmn.cli``,
``casepilot.dmn.cli``, ``casepilot.store.cli``…) and mounted here, so that each package
keeps its own commands next to its code.

They are mounted lazily: ``casepilot --help`` lists them from ``_HELP`` and imports none of
them (the agent, retrieval and PII stacks take seconds to load); a command's module is imported
when the command runs or shows its own help. A module in ``_REGISTRARS`` without ``_HELP``
entries is still mounted, eagerly.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperCommand, TyperGroup

if TYPE_CHECKING:
    from typer import _click as click
else:
    try:
        from typer import _click as click  # typer vendors click since 0.2x: its group is that click's
    except ImportError:  # an older typer, on click itself
        import click

from casepilot import __version__
from casepilot.errors import CasepilotError

__all__ = ["app", "main"]

console = Console()

# (module, attribute, name) of the typer sub-apps mounted as ``casepilot NAME …``.
_SUB_APPS: tuple[tuple[str, str, str], ...] = (
    ("casepilot.cmmn.cli", "app", "cmmn"),
    ("casepilot.dmn.cli", "app", "dmn"),
    ("casepilot.rag.cli", "app", "rag"),
    ("casepilot.bpmn.cli", "app", "bpmn"),
)
# Modules whose ``register(app)`` adds top-level commands.
_REGISTRARS: tuple[str, ...] = ("casepilot.store.cli", "casepilot.store.lists_cli", "casepilot.agent.cli",
                                 "casepilot.api.cli", "casepilot.worker.cli", "casepilot.demo.cli")

_HELP: dict[str, tuple[str, str]] = {
    # command: (module, the first line of its help — tests check it against the command itself)
    "deploy": ("casepilot.agent.cli", "Validate and deploy a case bundle (a new version only when its content changed)."),
    "start": ("casepilot.agent.cli", "Start a case on the latest version of a definition; prints its id."),
    "show": ("casepilot.agent.cli", "Show where a case stands: its state, plan items, BPMN processes with their "
             "tokens, open inbox items."),
    "run": ("casepilot.agent.cli", "Work a case until it finishes or waits for people or events, then say why it "
            "stopped."),
    "inbox": ("casepilot.agent.cli", "List open inbox items."),
    "decide": ("casepilot.agent.cli", "Decide an inbox item (the next `run` resumes the case)."),
    "actions": ("casepilot.agent.cli",
                "List what people may do in a case now (user events, discretionary items) and for which roles."),
    "act": ("casepilot.agent.cli", "Take one of the case's people actions (see `actions`), then work the case on."),
    "chat": ("casepilot.agent.cli", "Ask the case a question, or ask it to do one of its possible actions "
             "(governed as you, with your roles)."),
    "terminate": ("casepilot.agent.cli", "Terminate a case (governed, recorded as yours); its open inbox items are "
                  "cancelled."),
    "suspend": ("casepilot.agent.cli", "Suspend a case: it is not run, chatted with or decided until `resume`."),
    "resume": ("casepilot.agent.cli", "Resume a suspended case (then `run` works it on)."),
    "retry": ("casepilot.agent.cli", "Offer a failed task again; the next `run` proposes it (governed like any "
              "action)."),
    "correct": ("casepilot.agent.cli", "Correct a case-file item: a governed edit, the new value trusted as yours, old "
                "and new recorded."),
    "reassign": ("casepilot.agent.cli", "Hand an open inbox item to another role or a named person; prints the new "
                 "item's id."),
    "cases": ("casepilot.store.lists_cli", "List cases, oldest first: state, definition, business key, open inbox items, "
              "last change."),
    "definitions": ("casepilot.store.lists_cli", "List deployed definitions: the latest version of each key, or every "
                    "version of one."),
    "history": ("casepilot.store.cli", "Show a case's timeline; `history verify CASE_ID` checks its hash chain; "
                "`history anchor` writes every chain head to keep outside the database (`verify --anchors FILE` "
                "checks them)."),
    "erase": ("casepilot.store.cli", "Crypto-shred a case's pseudonym vault (irreversible) and record the erasure in "
              "its history."),
    "db": ("casepilot.store.cli", "Database administration."),
    "serve": ("casepilot.api.cli", "Serve the JSON HTTP API and the web page (inbox, cases, history); OpenAPI docs at "
              "/docs."),
    "worker": ("casepilot.worker.cli", "Work cases from the PostgreSQL job queue until SIGTERM (finishes or hands "
               "back the case in flight)."),
    "demo": ("casepilot.demo.cli", "Run the bundled claim-triage example end to end on embedded defaults "
             "(offline)."),
    "cmmn": ("casepilot.cmmn.cli", "CMMN 1.1 models and conformance scenarios."),
    "dmn": ("casepilot.dmn.cli", "DMN decision models: evaluate decisions, run the DMN TCK."),
    "rag": ("casepilot.rag.cli", "Document collections for retrieval (Chroma, offline embeddings)."),
    "bpmn": ("casepilot.bpmn.cli", "BPMN 2.0 processes (SpiffWorkflow, FEEL only) and conformance scenarios."),
}


def _lazy_commands() -> dict[str, str]:
    """Command name -> module, for the commands listed in ``_HELP`` whose module is mounted."""
    mounted = {m for m, _, _ in _SUB_APPS} | set(_REGISTRARS)
    return {name: module for name, (module, _) in _HELP.items() if module in mounted}


def _load(name: str, module_name: str) -> click.Command:
    """Import the module of command ``name`` and build its click command."""
    module = importlib.import_module(module_name)
    for sub_module, attribute, sub_name in _SUB_APPS:
        if sub_module == module_name and sub_name == name:
            group: click.Command = typer.main.get_group(getattr(module, attribute))
            group.name = name
            return group
    scratch = typer.Typer()
    module.register(scratch)
    command = typer.main.get_group(scratch).commands.get(name)
    if command is None:
        raise RuntimeError(f"{module_name} registers no command {name!r}")  # a wrong _HELP entry: a bug here
    return command


class _LazyGroup(TyperGroup):
    """Lists the lazy commands by their ``_HELP`` line; imports one only to run it or show its help."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*self.commands, *(n for n in _lazy_commands() if n not in self.commands)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = self.commands.get(cmd_name)
        if found is None and cmd_name in _lazy_commands():
            line = _HELP[cmd_name][1]
            return TyperCommand(cmd_name, help=line, short_help=line)  # for the listing only
        return found

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        lazy = _lazy_commands()
        if args and args[0] in lazy and args[0] not in self.commands:
            self.commands[args[0]] = _load(args[0], lazy[args[0]])
        return super().resolve_command(ctx, args)


app = typer.Typer(
    name="casepilot",
    help="Governed AI orchestration over CMMN cases.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=_LazyGroup,
)


def _mount_unlisted() -> None:
    """Modules in ``_REGISTRARS`` with no ``_HELP`` entry are mounted now (correct, but not lazy)."""
    listed = {module for module, _ in _HELP.values()}
    for module_name in _REGISTRARS:
        if module_name not in listed:
            importlib.import_module(module_name).register(app)


@app.command()
def version() -> None:
    """Print casepilot's version."""
    console.print(f"casepilot {__version__}")


@app.command()
def validate(
    paths: Annotated[list[Path], typer.Argument(help="CMMN (.cmmn/.xml), DMN (.dmn) and BPMN (.bpmn) files or folders")],
) -> None:
    """Parse and check CMMN, DMN and BPMN models; report every problem with file and line."""
    from casepilot.validation import validate_paths

    failures = validate_paths(paths, console)
    raise typer.Exit(1 if failures else 0)


@app.command()
def init(
    name: Annotated[str, typer.Argument(help="The bundle's name (its folder and definition key), e.g. loan")],
    parent: Annotated[Path, typer.Option("--in", help="Where to create the folder.")] = Path("."),
    force: Annotated[bool, typer.Option("--force", help="Write into an existing, non-empty folder.")] = False,
) -> None:
    """Create a working case bundle to start from: model, tools, bindings, guardrail, scenario tests."""
    from casepilot.scaffold import scaffold

    folder = scaffold(name, parent, force=force)
    console.print(f"created the case bundle {folder}; next:", highlight=False)
    for step in (f"casepilot validate {folder}", f"casepilot cmmn test {folder / 'scenarios'}",
                 f"casepilot deploy {folder}", f"(see {folder / 'README.md'} for a case worked end to end)"):
        console.print(f"  {step}", highlight=False)


_mount_unlisted()


def main() -> None:
    """Console-script entry point: run the app, turning casepilot errors into clear messages."""
    from casepilot.settings import configure_logging

    configure_logging()
    try:
        app()
    except CasepilotError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}")  # a message is text, not markup
        raise SystemExit(1) from exc
