"""Every notebook in notebooks/ runs top to bottom in the project's environment."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))
SHOWS = {
    "01-governed-claim-triage.ipynb": ("require_human", "completed"),
    "02-retrieval-for-cases.ipynb": ("policies/motor-1#0", "policies/travel-1#0", "-> aero", "nDCG@10 on 20 queries"),
}
"""What each notebook's printed output must contain (its point, shown)."""


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS, "notebooks/ holds no notebook"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
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


def test_every_notebook_says_what_it_shows() -> None:
    assert {p.name for p in NOTEBOOKS} == set(SHOWS)
