"""Running a notebook headless in a test, and the layout every notebook keeps."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat

from adalib.pipeline import NOTEBOOK_DIR, run_notebook


def execute(name: str, tmp: Path, **parameters: object) -> nbformat.NotebookNode:
    """Execute ``notebooks/{name}.ipynb`` with papermill, as ``make run`` does, into ``tmp``."""
    return nbformat.read(run_notebook(name, tmp / "executed.ipynb", parameters), as_version=4)


def check_layout(name: str, parameters: dict[str, object]) -> None:
    """A title, then one cell tagged ``parameters`` holding exactly ``parameters``.

    That notebooks import only adalib's top-level names is checked in ``test_architecture``."""
    nb = nbformat.read(NOTEBOOK_DIR / f"{name}.ipynb", as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and nb.cells[0].cell_type == "markdown" and nb.cells[1] is tagged[0]
    assigned = {node.targets[0].id: ast.literal_eval(node.value) for node in ast.parse(tagged[0].source).body}
    assert assigned == parameters
    assert nb.metadata.kernelspec.name == "python3"
