"""The report pipeline behind ``make run``: execute the notebooks, clean them, render offline HTML.

- ``run``: the plan (which parameters each notebook gets), papermill execution, the command line;
- ``clean``: papermill's paths, timestamps and durations stripped from executed notebooks;
- ``html``: the offline HTML export (no code, local MathJax);
- ``index``: ``reports/index.html`` with the headline numbers and the data of each report;
- ``weights_check``: whether a run reproduced the committed ``model_weights.pth``.

>>> from adalib.pipeline import NOTEBOOKS
>>> NOTEBOOKS
('ADA_ML_model', 'ADA_StrategyImplementation', 'ADA_executing_orders')
"""

from adalib.pipeline.clean import clean_notebook, volatile_metadata
from adalib.pipeline.html import render_html
from adalib.pipeline.index import write_index
from adalib.pipeline.run import NOTEBOOK_DIR, NOTEBOOKS, NotebookRun, main, plan, report_dir, run_notebook

__all__ = [
    "NOTEBOOKS",
    "NOTEBOOK_DIR",
    "NotebookRun",
    "clean_notebook",
    "main",
    "plan",
    "render_html",
    "report_dir",
    "run_notebook",
    "volatile_metadata",
    "write_index",
]
