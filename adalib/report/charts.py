"""One look for every chart in the reports, and the time axis that always names the month.

``setup_charts()`` makes altair render static PNGs (through vegafusion and vl-convert,
offline) with the adalib theme (a chart width that fits the report, readable titles, no
chart border), and sets matplotlib's PNG size, resolution and grid. ``time_x`` gives a
time encoding whose labels carry the month and year (``Mar 2025``) or the day and month.

>>> setup_charts()
>>> import altair as alt
>>> alt.theme.active
'adalib'
>>> time_x(detail="day").to_dict()["axis"]["format"]
'%d %b %Y'
"""

from __future__ import annotations

from typing import Any

THEME = "adalib"
CHART_WIDTH = 720
CHART_HEIGHT = 280
# label formats by the finest unit a chart needs: each keeps the month (the "Sat 31")
TIME_FORMATS = {"year": "%Y", "month": "%b %Y", "day": "%d %b %Y", "hour": "%d %b %H:%M"}


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


def time_x(field: str = "open_time", title: str = "Candle open (UTC)", detail: str = "month") -> Any:
    """An altair x encoding for a UTC time column, labelled down to ``detail`` (year..hour).

    Times are shown in UTC (the candles' clock), not the reader's time zone.
    """
    import altair as alt

    if detail not in TIME_FORMATS:
        raise ValueError(f"time_x detail {detail!r}: one of {', '.join(TIME_FORMATS)}")
    return alt.X(
        f"{field}:T",
        title=title,
        scale=alt.Scale(type="utc"),
        axis=alt.Axis(format=TIME_FORMATS[detail], labelAngle=0, labelOverlap=True),
    )
