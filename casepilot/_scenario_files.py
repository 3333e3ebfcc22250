"""What the CMMN and BPMN conformance runners share: how scenario files are found, what one
scenario's outcome is, and how a run is reported (``PASS``/``FAIL`` lines, then
``N passed, M failed``). The engines' step languages differ; this part must not."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ScenarioFailure", "ScenarioResult", "collect_scenarios", "report"]


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    """Outcome of one scenario file."""

    path: Path
    passed: bool
    message: str = ""
    steps: int = 0

    def line(self) -> str:
        """One report line: ``PASS path`` or ``FAIL path: why``."""
        return f"PASS {self.path}" if self.passed else f"FAIL {self.path}: {self.message}"


class ScenarioFailure(Exception):
    """A step or an expectation did not hold."""


def collect_scenarios(paths: Iterable[str | Path]) -> list[Path]:
    """Scenario files named directly or found (``*.yaml`` / ``*.yml``) below folders, sorted."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()))
        else:
            found.append(path)
    return found


def report(results: Sequence[ScenarioResult]) -> None:
    """Print one line per scenario and the totals; exit 1 when one failed or none ran (for the
    ``cmmn test`` and ``bpmn test`` commands; typer is imported here so the runners need none)."""
    import typer

    for result in results:
        typer.echo(result.line())
    failed = sum(not r.passed for r in results)
    typer.echo(f"{len(results) - failed} passed, {failed} failed")
    raise typer.Exit(1 if failed or not results else 0)
