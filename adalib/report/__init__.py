"""Presentation for the notebooks: data banner, chart set-up and theme, formatted tables.

Computation code never imports it. The notebooks use these through the top-level names
``adalib.show_data_banner``, ``adalib.setup_charts``, ``adalib.time_x``, ``adalib.table``
and ``adalib.format_value``.
"""

from adalib.report.charts import setup_charts, time_x
from adalib.report.display import data_banner, show_data_banner
from adalib.report.format import format_value
from adalib.report.table import Table, table

__all__ = ["Table", "data_banner", "format_value", "setup_charts", "show_data_banner", "table", "time_x"]
