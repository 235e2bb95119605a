"""Presentation for the notebooks: banners, charts and tables. Computation code never imports it."""

from adalib.report.display import data_banner, setup_charts, show_data_banner

__all__ = ["data_banner", "setup_charts", "show_data_banner"]
