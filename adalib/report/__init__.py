"""Presentation for the notebooks: data banner, chart set-up and theme, formatted tables.

Computation code never imports it. The notebooks use it through top-level names:

- ``adalib.setup_reports()`` once, in the imports cell: altair renders PNGs with the adalib
  theme, matplotlib matches, and any polars frame still displayed raw has no dtype row;
- ``adalib.show_data_banner(candles)`` right after loading the data;
- ``adalib.table(frame_or_mapping, formats={...}, labels={...}, title=...)`` for every table a
  reader sees, the last expression of its cell (formats: ``percent:1``, ``signed_percent:2``,
  ``number:2``, ``scientific:4``, ``bp:1``, ``usdt:2``, ``integer``, ``pvalue``, ``datetime``,
  ``date``, ``text``);
- ``adalib.format_value(x, "percent:1")`` for numbers inside Markdown sentences;
- ``adalib.time_x()`` as the x encoding of every chart over time (UTC, labels name the month).

>>> import adalib
>>> print(adalib.table({"Sharpe": -0.6441, "Total return": -0.9071}, formats={"Total return": "percent:1"}))
metric          value
Sharpe        -0.6441
Total return   -90.7%
"""

from adalib.report.charts import setup_charts, setup_reports, time_x
from adalib.report.display import data_banner, show_data_banner
from adalib.report.format import format_value
from adalib.report.table import Table, table

__all__ = [
    "Table",
    "data_banner",
    "format_value",
    "setup_charts",
    "setup_reports",
    "show_data_banner",
    "table",
    "time_x",
]
