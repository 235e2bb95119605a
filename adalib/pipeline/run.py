"""``python -m adalib.pipeline``: run the three notebooks headless, in order (``make run``).

By default each notebook runs on its default parameters except ``weights_path``, which
points to ``artifacts/model_weights.pth`` for all three: the run writes only to the
gitignored ``artifacts/`` and ``reports/``, and ``git status`` stays clean. ``--in-place``
refreshes the committed notebooks in ``notebooks/`` (and the committed
``model_weights.pth``) on purpose. Either way every executed notebook is cleaned of
papermill's paths and timings, rendered to an offline HTML report in ``reports/``, and
``reports/index.html`` links the three with their headline numbers. The run ends by
saying whether its weights equal the committed ``model_weights.pth`` byte for byte, and
if not, which tensors differ and by how much.

>>> [(run.name, run.parameters) for run in plan(in_place=False)][0]
('ADA_ML_model', {'weights_path': 'artifacts/model_weights.pth'})
>>> {run.name: run.parameters for run in plan(in_place=True)}["ADA_executing_orders"]
{}
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import nbformat
import papermill
from jupyter_client.manager import AsyncKernelManager
from papermill.exceptions import PapermillExecutionError
from traitlets import default

from adalib.data import SYNTHETIC_WARNING, funding_cache_path
from adalib.pipeline.clean import clean_notebook
from adalib.pipeline.html import render_html
from adalib.pipeline.index import REPORTS, read_metrics, write_index
from adalib.pipeline.weights_check import compare_weights
from adalib.util.atomic import write_atomic
from adalib.util.paths import REPO_ROOT, resolve_output

NOTEBOOKS = tuple(entry.notebook for entry in REPORTS)
NOTEBOOK_DIR = REPO_ROOT / "notebooks"
COMMITTED_WEIGHTS = "model_weights.pth"
# same base name as the committed file: torch.save names its records after it, so equal
# values give equal bytes
ARTIFACT_WEIGHTS = "artifacts/model_weights.pth"
SYNTHETIC_WARNING_FIELD = "data_source"


def report_dir() -> Path:
    """Where the HTML reports go: ``reports/`` (under ``$ADALIB_OUTPUT_ROOT`` when set)."""
    return resolve_output("reports")


@dataclass(frozen=True)
class NotebookRun:
    """One notebook of a pipeline run: where it is executed to and with which parameters."""

    name: str
    executed: Path
    html: Path
    parameters: dict[str, Any] = field(default_factory=dict)


def plan(in_place: bool) -> list[NotebookRun]:
    """The three runs of ``make run`` (``in_place=False``) or of ``--in-place`` (see the module)."""
    reports = report_dir()
    runs = []
    for name in NOTEBOOKS:
        executed = NOTEBOOK_DIR / f"{name}.ipynb" if in_place else reports / f"{name}.ipynb"
        parameters: dict[str, Any] = {} if in_place else {"weights_path": ARTIFACT_WEIGHTS}
        funding = funding_cache_path()
        if name == "ADA_StrategyImplementation" and funding.is_file():  # the real history when cached
            parameters["funding_path"] = str(funding.relative_to(REPO_ROOT))
        runs.append(NotebookRun(name, executed, reports / f"{name}.html", parameters))
    return runs


def weights_written(in_place: bool) -> Path:
    """The weights file the ML notebook writes in this mode."""
    return resolve_output(COMMITTED_WEIGHTS if in_place else ARTIFACT_WEIGHTS)


class IPCKernelManager(AsyncKernelManager):
    """Kernels talk over local IPC sockets rather than unencrypted TCP ports."""

    @default("transport")
    def _default_transport(self) -> str:
        return "ipc"


def run_notebook(
    name: str, output: Path, parameters: dict[str, Any] | None = None, notebook_dir: Path | None = None
) -> Path:
    """Execute ``{notebook_dir}/{name}.ipynb`` (default ``notebooks/``) into ``output``, cleaned.

    A failing cell is one ``RuntimeError`` naming the notebook, the cell and the error.
    """
    notebook_dir = NOTEBOOK_DIR if notebook_dir is None else notebook_dir
    output.parent.mkdir(parents=True, exist_ok=True)
    try:
        papermill.execute_notebook(
            str(notebook_dir / f"{name}.ipynb"),
            str(output),
            parameters=parameters or {},
            cwd=str(notebook_dir),
            kernel_name="python3",
            kernel_manager_class=IPCKernelManager,
            progress_bar=False,
        )
    except PapermillExecutionError as exc:
        raise RuntimeError(
            f"{name}: cell {exc.exec_count} failed: {exc.ename}: {exc.evalue} (executed copy: {output})"
        ) from exc
    finally:
        if output.exists():
            clean_file(output)
    return output


def clean_file(path: Path) -> None:
    """Rewrite the notebook at ``path`` without volatile metadata (``clean_notebook``)."""
    nb = clean_notebook(nbformat.read(path, as_version=4))
    write_atomic(path, lambda tmp: nbformat.write(nb, tmp))


def weights_report(committed: bytes | None, produced: Path) -> str:
    """One paragraph: does ``produced`` equal the committed weights byte for byte, and if not, why."""
    if committed is None:
        return f"weights: no committed {COMMITTED_WEIGHTS} to compare with"
    if not produced.exists():
        return f"weights: {produced} was not written"
    differences = compare_weights(committed, produced.read_bytes())
    if not differences:
        return f"weights: {produced.name} equals the committed {COMMITTED_WEIGHTS} byte for byte"
    lines = "\n  ".join(differences)
    return f"weights: {produced} differs from the committed {COMMITTED_WEIGHTS}:\n  {lines}"


def check_writable(folder: Path) -> None:
    """Refuse, before any work, an output folder that is a file or cannot be written."""
    probe = folder
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise NotADirectoryError(f"output folder {folder}: {probe} is not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise PermissionError(f"output folder {folder}: {probe} is not writable")


class OneLineParser(argparse.ArgumentParser):
    """Bad options are a ``ValueError``, so ``run_command`` prints them as one ``error: ...`` line."""

    def error(self, message: str) -> NoReturn:
        raise ValueError(f"{self.prog}: {message}")


def main(argv: list[str]) -> int:
    """The command line (run through ``adalib.util.cli.run_command``)."""
    parser = OneLineParser(prog="python -m adalib.pipeline", description=__doc__.split("\n\n")[0])
    parser.add_argument("--in-place", action="store_true", help="refresh the committed notebooks and weights")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    args = parser.parse_args(argv)
    runs = plan(args.in_place)
    for folder in {report_dir(), resolve_output("artifacts"), *(run.executed.parent for run in runs)}:
        check_writable(folder)
    committed_path = REPO_ROOT / COMMITTED_WEIGHTS
    committed = committed_path.read_bytes() if committed_path.exists() else None
    started = time.perf_counter()
    for run in runs:
        t0 = time.perf_counter()
        run_notebook(run.name, run.executed, run.parameters)
        render_html(run.executed, run.html)
        print(f"{run.name}: {time.perf_counter() - t0:5.1f} s -> {run.html}")
    index = write_index(report_dir(), resolve_output("artifacts"))
    print(f"all notebooks: {time.perf_counter() - started:.1f} s; index: {index}")
    print(weights_report(committed, weights_written(args.in_place)))
    metrics = read_metrics(resolve_output("artifacts") / "model_metrics.json") or {}
    if metrics.get(SYNTHETIC_WARNING_FIELD) == "synthetic":
        print(f"WARNING: {SYNTHETIC_WARNING}")
    return 0
