"""The example notebook ``docs/notebooks/tour.ipynb`` runs from top to bottom in a Jupyter kernel,
from its own folder, and shows what it says: short results, a figure as an image, a tidy table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

nbclient = pytest.importorskip(
    "nbclient", reason="nbclient is not installed: pip install -e '.[test]' (or the 'notebook' extra)"
)
nbformat = pytest.importorskip(
    "nbformat", reason="nbformat is not installed: pip install -e '.[test]' (or the 'notebook' extra)"
)
pytest.importorskip(
    "ipykernel", reason="ipykernel is not installed: pip install -e '.[test]' (or the 'notebook' extra)"
)

NOTEBOOK = Path(__file__).resolve().parent.parent / "docs" / "notebooks" / "tour.ipynb"


def outputs(cell) -> list[dict]:
    return [dict(o) for o in cell.get("outputs", [])]


@pytest.mark.slow
def test_the_tour_runs_and_shows_results_figures_and_a_tidy_table():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert not any(outputs(c) for c in notebook.cells if c.cell_type == "code"), "commit the notebook without outputs"
    client = nbclient.NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    )
    client.execute()  # raises CellExecutionError, with the cell and its traceback, if a cell fails
    code = [c for c in notebook.cells if c.cell_type == "code"]
    shown = {c.source.splitlines()[-1]: outputs(c) for c in code}

    results = shown["results"][0]["data"]
    assert results["text/plain"].startswith("Results (experiment): tour") and len(results["text/plain"]) < 2000
    assert results["text/html"].startswith("<table>")
    figure = shown['figures["forest_differences.png"]'][0]["data"]
    assert "image/png" in figure  # shown as an image, with no %matplotlib inline anywhere
    assert all("%matplotlib" not in c.source for c in code)
    tidy = json.dumps(shown[code[-2].source.splitlines()[-1]])
    assert "option" in tidy and "policy.us.strikes.revenge_prob" in tidy and "continuity-state000" in tidy
