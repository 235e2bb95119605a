"""Report tables and number formats: what a reader sees, cell by cell."""

from __future__ import annotations

import datetime as dt
import re

import polars as pl
import pytest

import adalib
from adalib.report import format_value, table


@pytest.mark.parametrize(
    ("value", "spec", "expected"),
    [
        (-0.907123, "percent:2", "-90.71%"),
        (0.0013, "percent:2", "0.13%"),
        (0.0013, "signed_percent:1", "+0.1%"),
        (929.4213, "usdt:2", "929.42 USDT"),
        (1234567.891, "number:2", "1,234,567.89"),
        (0.001512, "scientific:4", "1.5120e-03"),
        (0.0005, "bp:1", "5.0 bp"),
        (41.6, "integer", "42"),
        (0.0004, "pvalue", "< 0.001"),
        (0.21378, "pvalue", "0.214"),
        (float("nan"), "percent:1", "—"),
        (None, "usdt:2", "—"),
        (float("inf"), "number:2", "∞"),
        ("hold", "number:2", "hold"),
        ("2025-03-02T12:00:00Z", "datetime", "2025-03-02 12:00 UTC"),
        (dt.datetime(2025, 3, 2, 12, tzinfo=dt.UTC), "date", "2025-03-02"),
    ],
)
def test_format_value_by_hand(value: object, spec: str, expected: str) -> None:
    assert format_value(value, spec) == expected


@pytest.mark.parametrize("spec", ["percnt", "percent:x", "integer:2", "number:13"])
def test_bad_format_is_refused_with_its_name(spec: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(spec))):
        format_value(1.0, spec)


def test_frame_table_has_no_dtype_row_and_no_quoted_strings() -> None:
    frame = pl.DataFrame(
        {
            "strategy": ["model", "hold"],
            "final_equity": [929.4213, 10234.5],
            "total_return": [-0.907123, 0.0234],
            "n_trades": [41, 1],
        }
    )
    shown = table(frame, formats={"final_equity": "usdt:2", "total_return": "percent:2"})
    assert shown.rows == (("model", "929.42 USDT", "-90.71%", "41"), ("hold", "10,234.50 USDT", "2.34%", "1"))
    html = shown._repr_html_()
    for debris in ('"929.42"', '"-90.71%"', "&quot;", ">f64<", ">i64<", ">str<"):
        assert debris not in html
    assert "929.42 USDT" in html and "-90.71%" in html


def test_mapping_table_formats_each_row() -> None:
    shown = table(
        {"MSE model": 0.0015123, "MSE zero": 0.0015141, "trades": 3}, formats={"MSE model": "scientific:4"}
    )
    assert shown.rows == (("MSE model", "1.5123e-03"), ("MSE zero", "0.0015"), ("trades", "3"))


def test_table_html_is_stable_and_loads_nothing() -> None:
    frame = pl.DataFrame({"a": [1.5, 2.5], "t": [dt.datetime(2025, 1, 1, tzinfo=dt.UTC)] * 2})
    first = table(frame, title="T")._repr_html_()
    assert first == table(frame, title="T")._repr_html_()  # same content, same id: nbval compares it
    assert first != table(frame.with_columns(pl.col("a") * 2), title="T")._repr_html_()
    assert not re.search(r"https?:|//fonts|@import|url\(|<link|<script", first)
    assert "2025-01-01 00:00 UTC" in first


def test_unknown_column_is_an_error_naming_it() -> None:
    frame = pl.DataFrame({"sharpe": [0.3]})
    with pytest.raises(ValueError, match=r"formats: unknown column\(s\) \['sharp'\]"):
        table(frame, formats={"sharp": "number:2"})
    with pytest.raises(ValueError, match=r"labels: unknown column\(s\) \['x'\]"):
        table(frame, labels={"x": "X"})


def test_presentation_names_are_top_level() -> None:
    for name in ("table", "format_value", "setup_reports", "setup_charts", "show_data_banner", "time_x"):
        assert name in adalib.__all__ and callable(getattr(adalib, name))
    assert adalib.table is table


def test_time_axis_names_the_month() -> None:
    adalib.setup_charts()
    import altair as alt

    assert alt.theme.active == "adalib"
    encoding = adalib.time_x().to_dict()
    assert encoding["scale"] == {"type": "utc"} and encoding["title"] == "Candle open (UTC)"
    # every unit below a year names the month (not "Sat 31"); a 12:00 tick shows its hour
    formats = encoding["axis"]["format"]
    assert all("%b" in formats[unit] for unit in ("quarter", "month", "week", "date", "hours"))
    assert "%H" in formats["hours"]
