"""Presentation for the notebooks: data banner, chart set-up and theme, formatted tables.

Computation code never imports it. The notebooks use these through the top-level names
``adalib.setup_reports`` (charts and display, once at the top), ``adalib.show_data_banner``,
``adalib.table``, ``adalib.format_value`` and ``adalib.time_x``.
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
