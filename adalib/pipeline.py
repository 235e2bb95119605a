"""``python -m adalib.pipeline``: run the three notebooks headless, in order (``make run``).

Each notebook runs with papermill on its default parameters (the cached real data, or
the announced synthetic series when there is none), writes its artifacts to
``artifacts/``, and leaves an executed copy and an HTML rendering in ``reports/``.
``--in-place`` refreshes the committed notebooks in ``notebooks/`` instead.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import nbformat
import papermill
from jupyter_client.manager import AsyncKernelManager
from nbconvert import HTMLExporter
from traitlets import default

from adalib.data.load import SYNTHETIC_WARNING
from adalib.util.paths import REPO_ROOT, resolve_output

NOTEBOOKS = ("ADA_ML_model", "ADA_StrategyImplementation", "ADA_executing_orders")
NOTEBOOK_DIR = REPO_ROOT / "notebooks"
REPORT_DIR = REPO_ROOT / "reports"


class IPCKernelManager(AsyncKernelManager):
    """Kernels talk over local IPC sockets rather than unencrypted TCP ports."""

    @default("transport")
    def _default_transport(self) -> str:
        return "ipc"


def run_notebook(name: str, output: Path, parameters: dict[str, Any] | None = None) -> Path:
    """Execute ``notebooks/{name}.ipynb`` into ``output`` with papermill; returns ``output``."""
    output.parent.mkdir(parents=True, exist_ok=True)
    papermill.execute_notebook(
        str(NOTEBOOK_DIR / f"{name}.ipynb"),
        str(output),
        parameters=parameters or {},
        cwd=str(NOTEBOOK_DIR),
        kernel_name="python3",
        kernel_manager_class=IPCKernelManager,
        progress_bar=False,
    )
    return output


def render_html(notebook: Path, html: Path) -> Path:
    """Render an executed notebook to a self-contained HTML file (charts are embedded PNGs)."""
    body, _ = HTMLExporter().from_notebook_node(nbformat.read(notebook, as_version=4))
    html.parent.mkdir(parents=True, exist_ok=True)
    html.write_text(body, encoding="utf-8")
    return html


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m adalib.pipeline", description=__doc__)
    parser.add_argument("--in-place", action="store_true", help="re-execute the committed notebooks")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    for name in NOTEBOOKS:
        executed = (NOTEBOOK_DIR if args.in_place else REPORT_DIR) / f"{name}.ipynb"
        t0 = time.perf_counter()
        run_notebook(name, executed)
        html = render_html(executed, REPORT_DIR / f"{name}.html")
        print(f"{name}: {time.perf_counter() - t0:5.1f} s -> {html.relative_to(REPO_ROOT)}")
    print(f"all notebooks: {time.perf_counter() - started:.1f} s")
    metrics = json.loads((resolve_output("artifacts") / "model_metrics.json").read_text())
    if metrics["data_source"] == "synthetic":
        print(f"WARNING: {SYNTHETIC_WARNING}")
    print(f"open the reports: {REPORT_DIR}/*.html (artifacts in {REPO_ROOT / 'artifacts'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
