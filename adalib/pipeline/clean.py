"""Committed notebooks without machine paths or volatile metadata: diffs show only real changes.

papermill records its input and output paths (absolute paths of the machine that ran it),
start and end times and each cell's duration; the kernel records execution timestamps.
None of it is a result, so a refresh strips it and keeps the outputs.

>>> import nbformat
>>> nb = nbformat.v4.new_notebook(metadata={"papermill": {"input_path": "/home/x/a.ipynb"}})
>>> cell = nbformat.v4.new_code_cell("1 + 1", metadata={"execution": {"iopub.status.idle": "t"},
...                                                       "papermill": {"duration": 0.1}, "tags": []})
>>> nb.cells.append(cell)
>>> cleaned = clean_notebook(nb)
>>> dict(cleaned.metadata), dict(cleaned.cells[0].metadata)
({}, {})
"""

from __future__ import annotations

import re
from typing import Any

import nbformat

# notebook-level keys written by papermill or a kernel run; kernelspec and language_info stay
# (nbval needs them)
VOLATILE_NOTEBOOK_KEYS = ("papermill", "widgets")
# cell-level keys: papermill's timing and status, the kernel's execution timestamps
VOLATILE_CELL_KEYS = ("papermill", "execution", "ExecuteTime", "collapsed", "scrolled")
# where a machine path would show up in a notebook's text
MACHINE_PATH = re.compile(r"(?<![\w.])/(?:work|home|root|tmp|Users)/[^\s\"'<>)]*")


def clean_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Strip papermill's paths, timestamps and durations and the kernel's execution times, in place.

    Empty ``tags`` lists go too; outputs, ``kernelspec`` and ``language_info`` are kept.
    Returns ``nb`` (see the module example).
    """
    for key in VOLATILE_NOTEBOOK_KEYS:
        nb.metadata.pop(key, None)
    for cell in nb.cells:
        for key in VOLATILE_CELL_KEYS:
            cell.metadata.pop(key, None)
        if not cell.metadata.get("tags", True):
            del cell.metadata["tags"]
    return nb


def volatile_metadata(nb: nbformat.NotebookNode) -> list[str]:
    """What ``clean_notebook`` would remove or what names a machine path, as readable findings.

    >>> nb = nbformat.v4.new_notebook()
    >>> nb.cells.append(nbformat.v4.new_markdown_cell("saved in /home/me/x.parquet"))
    >>> volatile_metadata(nb)
    ["cell 0: machine path '/home/me/x.parquet'"]
    """
    found = [f"notebook metadata: {key!r}" for key in VOLATILE_NOTEBOOK_KEYS if key in nb.metadata]
    for index, cell in enumerate(nb.cells):
        found += [f"cell {index} metadata: {key!r}" for key in VOLATILE_CELL_KEYS if key in cell.metadata]
        text = cell.source + "".join(output_text(o) for o in cell.get("outputs", []))
        found += [f"cell {index}: machine path {path!r}" for path in MACHINE_PATH.findall(text)]
    return found


def output_text(output: dict[str, Any]) -> str:
    """The text a reader sees in one output (stream, text and HTML data, traceback); no images.

    >>> output_text({"output_type": "stream", "name": "stdout", "text": "ok"})
    'ok'
    """
    data = output.get("data", {})
    parts = [output.get("text", ""), *output.get("traceback", [])]
    parts += [data.get(kind, "") for kind in ("text/plain", "text/html", "text/markdown", "text/latex")]
    texts = (part if isinstance(part, str) else "".join(part) for part in parts)
    return "\n".join(text for text in texts if text)
