"""How a number reads in a report: one formatter for tables, the index page and banners.

A format is a short string: ``"number:2"`` (fixed decimals, thousands separated),
``"percent:1"`` (a fraction shown as a percentage), ``"signed_percent:2"``, ``"integer"``,
``"scientific:3"``, ``"bp:1"`` (a fraction in basis points), ``"usdt:2"``, ``"pvalue"``
(3 decimals, ``< 0.001`` below), ``"datetime"`` (``2025-03-02 12:00 UTC``), ``"date"``
and ``"text"``. Missing values (None, NaN) read as an em dash.

>>> format_value(-0.90712, "percent:2"), format_value(929.4213, "usdt:2")
('-90.71%', '929.42 USDT')
>>> format_value(0.0001512, "scientific:3")
'1.512e-04'
>>> format_value(12345.678, "number:1"), format_value(3, "integer"), format_value(None, "number:2")
('12,345.7', '3', '—')
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

MISSING = "—"
FORMAT_NAMES = (
    "number",
    "percent",
    "signed_percent",
    "integer",
    "scientific",
    "bp",
    "usdt",
    "pvalue",
    "datetime",
    "date",
    "text",
)
DEFAULT_DECIMALS = {"number": 4, "percent": 2, "signed_percent": 2, "scientific": 3, "bp": 1, "usdt": 2}


def parse_format(spec: str) -> tuple[str, int]:
    """Split ``"name:decimals"`` into its parts, refusing unknown names and bad decimals.

    >>> parse_format("percent:1"), parse_format("number")
    (('percent', 1), ('number', 4))
    >>> parse_format("percnt")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: format 'percnt': unknown name 'percnt' (one of number, percent, ...)
    """
    name, _, decimals = spec.partition(":")
    if name not in FORMAT_NAMES:
        raise ValueError(f"format {spec!r}: unknown name {name!r} (one of {', '.join(FORMAT_NAMES)})")
    if not decimals:
        return name, DEFAULT_DECIMALS.get(name, 0)
    if not decimals.isdigit() or int(decimals) > 12 or name not in DEFAULT_DECIMALS:
        raise ValueError(f"format {spec!r}: decimals must be 0..12, for {', '.join(DEFAULT_DECIMALS)}")
    return name, int(decimals)


def is_missing(value: Any) -> bool:
    """None or a float NaN.

    >>> is_missing(None), is_missing(float("nan")), is_missing(0.0)
    (True, True, False)
    """
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_value(value: Any, spec: str = "number") -> str:
    """``value`` as text in format ``spec`` (see the module docstring for the names).

    >>> format_value(0.0123, "signed_percent:1"), format_value(0.00042, "bp:1"), format_value(4e-4, "pvalue")
    ('+1.2%', '4.2 bp', '< 0.001')
    >>> format_value("2025-03-02T12:00:00Z", "datetime"), format_value(float("nan"), "percent:1")
    ('2025-03-02 12:00 UTC', '—')
    """
    name, decimals = parse_format(spec)
    if is_missing(value):
        return MISSING
    if name == "text":
        return str(value)
    if name in ("datetime", "date"):
        return _format_time(value, date_only=name == "date")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if name == "integer":
        return f"{round(value):,}"
    if name == "percent":
        return f"{value * 100:,.{decimals}f}%"
    if name == "signed_percent":
        return f"{value * 100:+,.{decimals}f}%"
    if name == "scientific":
        return f"{value:.{decimals}e}"
    if name == "bp":
        return f"{value * 1e4:,.{decimals}f} bp"
    if name == "usdt":
        return f"{value:,.{decimals}f} USDT"
    if name == "pvalue":
        return "< 0.001" if value < 0.001 else f"{value:.3f}"
    return f"{value:,.{decimals}f}"


def _format_time(value: Any, date_only: bool) -> str:
    """A datetime or ISO string in UTC, to the minute (``2025-03-02 12:00 UTC``) or the day."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if not isinstance(value, dt.datetime):
        return str(value)
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%d") if date_only else value.strftime("%Y-%m-%d %H:%M UTC")
