"""One look for every chart in the reports, and the time axis that always names the month.

``setup_charts()`` makes altair render static PNGs (through vegafusion and vl-convert,
offline) with the adalib theme (a chart width that fits the report, readable titles, no
chart border), and sets matplotlib's PNG size, resolution and grid. ``time_x`` gives a
UTC time encoding whose labels name the month (``Mar 2025``, ``03 Mar``, ``03 Mar 12:00``).

>>> setup_charts()
>>> import altair as alt
>>> alt.theme.active
'adalib'
>>> time_x().to_dict()["axis"]["format"]["date"]
'%d %b'
"""

from __future__ import annotations

from typing import Any

THEME = "adalib"
CHART_WIDTH = 720
CHART_HEIGHT = 280
# a tick's label by the finest unit it falls on (Vega's multi-format): every label below a year
# names its month, and a tick at 12:00 shows its hour instead of repeating its day
TIME_FORMAT = {
    "year": "%Y",
    "quarter": "%b %Y",
    "month": "%b %Y",
    "week": "%d %b",
    "date": "%d %b",
    "hours": "%d %b %H:%M",
    "minutes": "%H:%M",
    "seconds": "%H:%M:%S",
    "milliseconds": "%H:%M:%S.%L",
}


def theme_config() -> dict[str, Any]:
    """The altair theme: size, title and axis-title styles, quiet legends, no view border.

    >>> theme_config()["config"]["title"]["anchor"]
    'start'
    """
    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "config": {
            "title": {"fontSize": 15, "anchor": "start", "subtitleFontSize": 12, "offset": 10},
            "axis": {"titleFontSize": 12, "labelFontSize": 11, "titleFontWeight": "normal", "grid": True},
            "legend": {"titleFontSize": 12, "labelFontSize": 11, "orient": "top", "direction": "horizontal"},
            "view": {"stroke": None},
            "background": "white",
        },
    }


def setup_charts() -> None:
    """Static PNG charts with the adalib theme (altair) and a matching matplotlib style.

    PNG keeps charts visible in the offline HTML reports without a running kernel and out
    of nbval's comparison (which skips images).

    >>> import altair as alt, matplotlib
    >>> setup_charts()
    >>> alt.theme.active, alt.renderers.active, matplotlib.rcParams["figure.figsize"]
    ('adalib', 'png', [9.0, 4.0])
    """
    import altair as alt
    import matplotlib

    if THEME not in alt.theme.names():
        alt.theme.register(THEME, enable=False)(lambda: alt.theme.ThemeConfig(**theme_config()))  # type: ignore[typeddict-item]
    alt.theme.enable(THEME)
    alt.data_transformers.enable("vegafusion")
    alt.renderers.enable("png", scale_factor=1.0)
    matplotlib.rcParams.update(
        {
            "figure.dpi": 100,
            "figure.figsize": (9, 4),
            "axes.grid": True,
            "axes.titlesize": 13,
            "axes.titlelocation": "left",
            "axes.labelsize": 11,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )


def setup_reports() -> None:
    """Everything a report notebook sets up once, at its top: ``setup_charts()``, and polars
    frames that still get displayed as they are show no dtype row and no shape line.

    Prefer ``adalib.table`` for every table a reader sees: polars' own HTML quotes strings.

    >>> import polars as pl
    >>> with pl.Config():  # polars' settings are put back on leaving the block
    ...     setup_reports()
    ...     "str" in pl.DataFrame({"a": ["x"]})._repr_html_()
    False
    """
    import polars as pl

    setup_charts()
    pl.Config.set_tbl_hide_column_data_types(True)
    pl.Config.set_tbl_hide_dataframe_shape(True)


def time_x(field: str = "open_time", title: str = "Candle open (UTC)") -> Any:
    """An altair x encoding for a UTC time column whose labels always name the month.

    Times are shown in UTC (the candles' clock), not the reader's time zone.

    >>> spec = time_x("entry_time", "Entry (UTC)").to_dict()
    >>> spec["field"], spec["type"], spec["scale"], spec["axis"]["format"]["month"]
    ('entry_time', 'temporal', {'type': 'utc'}, '%b %Y')
    """
    import altair as alt

    return alt.X(
        f"{field}:T",
        title=title,
        scale=alt.Scale(type="utc"),
        axis=alt.Axis(format=TIME_FORMAT, labelAngle=0, labelOverlap=True),
    )
