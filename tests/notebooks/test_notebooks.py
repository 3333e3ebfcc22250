"""Every notebook in notebooks/ runs top to bottom in the project's environment."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))
SHOWS = {
    "01-governed-claim-triage.ipynb": ("outcomes: ['allow', 'require_human']", "waiting_for_people", "completed"),
    "03-governance-across-cases.ipynb": ("12 cases", "('senior analyst', 'reject'): 2", "'completed': 11, 'terminated': 1",
                                         "('claims manager', 'complete'): 4",  # payments above 1,000 (payment.bpmn)
                                         "8 rule/verdict pairs, 69 verdicts", "approval rate of senior analysts: 0.71",
                                         "12 cases x 9 columns; 62 tool calls"),
    "02-retrieval-for-cases.ipynb": ("policies/motor-1#0", "policies/travel-1#0", "-> aero", "nDCG@10 on 20 queries", "'bm25s direct':"),
}
"""What each notebook's printed output must contain (its point, shown)."""
FIGURES = {
    "01-governed-claim-triage.ipynb": ("image/svg+xml", 'class="plan-diagram"', "casepilot-table"),
    "02-retrieval-for-cases.ipynb": ("image/svg+xml", "nDCG@10 per Cranfield query"),
    "03-governance-across-cases.ipynb": ("casepilot-table", 'class="dataframe"'),
}
"""What each notebook's rich outputs must include — saved in the file and produced again when run:
the guardrail's heat map (SVG), the plan diagram, tables, pandas DataFrames."""
INTERNALS = ("casepilot.demo", "agent.privacy", "casepilot.store._", "casepilot.agent.context")
"""Modules a notebook for analysts must not reach into: it shows the public API."""


def _rich(notebook: nbformat.NotebookNode) -> str:
    """Every rich output's MIME types and content, as one text to search."""
    return "".join(
        mime + str(content) for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", [])
        for mime, content in (o.get("data") or {}).items() if mime != "text/plain"
    )


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS, "notebooks/ holds no notebook"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    source = "".join(c.source for c in notebook.cells if c.cell_type == "code")
    assert not [name for name in INTERNALS if name in source]
    for figure in FIGURES.get(path.name, ()):
        assert figure in _rich(notebook), f"the saved notebook lacks {figure}: run and save it"
    client = NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    errors = [
        output for cell in notebook.cells if cell.cell_type == "code" for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert not errors
    printed = "".join(
        o.get("text", "") for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", [])
    )
    for expected in SHOWS[path.name]:
        assert expected in printed, expected
    for figure in FIGURES.get(path.name, ()):
        assert figure in _rich(notebook), figure


def test_every_notebook_says_what_it_shows() -> None:
    assert {p.name for p in NOTEBOOKS} == set(SHOWS)
