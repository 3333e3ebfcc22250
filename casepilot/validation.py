"""``casepilot validate``: parse CMMN, DMN and BPMN models and case bundles and report every problem.

A folder with a ``casepilot.yaml`` is a bundle: its models are checked as part of it (with the
tools its manifest names and its bindings), never again on their own — a model that is fine by
itself but whose bundle fails must not be reported ``ok``.

A BPMN process (``.bpmn``) is checked with the DMN models beside it (the decisions its
business-rule tasks name): the processes a bundle declares (``processes:``) as part of the
bundle, with its tools; a ``.bpmn`` file in a bundle folder that the manifest does not declare
on its own. Every problem is listed with file:line and element id (``casepilot.bpmn.load_processes``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from rich.console import Console

from casepilot.errors import DefinitionError

__all__ = ["validate_paths"]


def _tree(folder: Path) -> list[Path]:
    """Every file under ``folder``, following linked folders (``examples/claims`` links to the
    bundle inside the package), each real folder once."""
    seen: set[Path] = set()
    out: list[Path] = []
    for root, dirs, names in os.walk(folder, followlinks=True):
        real = Path(root).resolve()
        if real in seen:
            dirs[:] = []
            continue
        seen.add(real)
        out.extend(Path(root) / name for name in names)
    return sorted(out)


def _files(paths: Iterable[Path]) -> list[Path]:
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            tree = _tree(path)
            bundles = sorted(p.parent for p in tree if p.name == "casepilot.yaml")
            out.extend(bundles)
            out.extend(
                p for p in tree
                if p.is_file() and (p.suffix == ".bpmn" or (
                    p.suffix in (".cmmn", ".dmn") and not any(b in p.parents for b in bundles)))
            )
        else:
            out.append(path)
    return out


def validate_paths(paths: Iterable[Path], console: Console) -> int:
    """Validate each model or bundle; print one line each; return the number that failed."""
    failures = 0
    for path in _files(paths):
        try:
            lints: list[str] = []
            if path.is_dir():
                from casepilot.agent.bundle import load_folder
                from casepilot.agent.lint import guardrail_lints
                from casepilot.tools import bundle_registry

                registry = bundle_registry()  # the built-in tools; load_folder adds the bundle's own
                bundle = load_folder(path, registry)
                what = f"bundle {bundle.key}: case {bundle.case.id}, {len(bundle.bindings)} tool bindings"
                lints = guardrail_lints(bundle, registry)
            elif path.suffix == ".bpmn":
                what = _bpmn(path)
            elif path.suffix == ".dmn":
                from casepilot.dmn import DecisionModel

                model = DecisionModel.from_xml(path)
                what = f"DMN: {len(model.decisions)} decisions"
            else:
                from casepilot.cmmn import parse_file

                definitions = parse_file(path)
                what = f"CMMN: {len(definitions.cases)} case(s), " + ", ".join(
                    f"{c.id} with {len(c.plan_items)} plan items" for c in definitions.cases
                )
            console.print(f"[green]ok[/green]   {path}: {what}", highlight=False)
            for lint in lints:
                console.print(f"[yellow]lint[/yellow] {path}: {lint}", highlight=False)
        except DefinitionError as exc:
            failures += 1
            console.print(f"[red]FAIL[/red] {path}: {exc}", highlight=False)
    return failures


def _bpmn(path: Path) -> str:
    """Check one BPMN file with the DMN models in its folder; what it holds, or ``DefinitionError``."""
    from casepilot.bpmn import load_processes

    definitions = load_processes([path], decisions=sorted(path.parent.glob("*.dmn")))
    return "BPMN: " + ", ".join(
        f"process {p.id} with {sum(1 for s in p.spec.task_specs.values() if getattr(s, 'bpmn_id', None))} elements"
        for p in definitions.processes.values())
