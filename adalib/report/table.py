"""Tables people read: formatted numbers, no dtype row, no quoted strings, stable HTML.

``table`` formats every cell with ``format_value`` and lays it out with great_tables
(system fonts only: nothing is fetched). The result displays as HTML in a notebook and as
aligned plain text elsewhere; its HTML id is derived from its content, so a re-run gives the
same output and nbval compares it.

>>> import polars as pl
>>> frame = pl.DataFrame({"strategy": ["model", "hold"], "total_return": [0.1234, -0.9071]})
>>> print(table(frame, formats={"total_return": "percent:1"}, labels={"total_return": "Total return"}))
strategy  Total return
model            12.3%
hold            -90.7%
>>> print(table({"Sharpe": 0.3412, "Trades": 41}, formats={"Trades": "integer"}))
metric   value
Sharpe  0.3412
Trades      41
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from adalib.report.format import format_value, parse_format

# system fonts only: great_tables can import web fonts, which an offline report cannot load
SYSTEM_FONTS = ["system-ui", "-apple-system", "Segoe UI", "Helvetica", "Arial", "sans-serif"]


def default_format(dtype: pl.DataType) -> str:
    """The format of a column without one given: integers, 4 decimals, UTC minutes, or text.

    >>> default_format(pl.Int64()), default_format(pl.Float64()), default_format(pl.String())
    ('integer', 'number:4', 'text')
    """
    if dtype.is_integer():
        return "integer"
    if dtype.is_float():
        return "number:4"
    if dtype.is_temporal():
        return "date" if dtype == pl.Date() else "datetime"
    return "text"


@dataclass(frozen=True)
class Table:
    """A formatted table: ``columns`` (labels), ``rows`` (text cells), which columns are numeric.

    Displays as HTML in a notebook (``_repr_html_``) and as aligned text (``str``/``repr``).

    >>> t = Table(("series", "return"), (("model", "12.3%"), ("hold", "-90.7%")), (False, True), "Returns")
    >>> print(t)
    Returns
    series  return
    model    12.3%
    hold    -90.7%
    >>> t.html_id() == Table(t.columns, t.rows, t.numeric, t.title).html_id()  # stable across runs
    True
    """

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...]
    title: str | None = None
    subtitle: str | None = None
    source_note: str | None = None

    def html_id(self) -> str:
        """An id derived from the content (great_tables would draw a random one)."""
        digest = hashlib.sha256(repr((self.columns, self.rows, self.title)).encode()).hexdigest()
        return "adalib-" + digest[:12]

    def gt(self) -> Any:
        """The great_tables ``GT`` object, for further styling."""
        from great_tables import GT

        frame = pl.DataFrame(
            {f"c{i}": [row[i] for row in self.rows] for i in range(len(self.columns))},
            schema={f"c{i}": pl.String for i in range(len(self.columns))},
        )
        labels: dict[str, Any] = {f"c{i}": label for i, label in enumerate(self.columns)}
        table = GT(frame, id=self.html_id()).cols_label(**labels)
        numeric = [f"c{i}" for i, flag in enumerate(self.numeric) if flag]
        if numeric:
            table = table.cols_align("right", columns=numeric)
        if self.title:
            table = table.tab_header(title=self.title, subtitle=self.subtitle)
        if self.source_note:
            table = table.tab_source_note(self.source_note)
        return (
            table.opt_row_striping()
            .opt_table_font(font=SYSTEM_FONTS)
            .tab_options(table_margin_left="0px", table_font_size="14px", heading_align="left")
            # digits of equal width, so numbers line up in their column
            .opt_css(f"#{self.html_id()} .gt_table {{ font-variant-numeric: tabular-nums; }}")
        )

    def _repr_html_(self) -> str:
        return str(self.gt().as_raw_html(make_page=False))

    def __str__(self) -> str:
        grid = [self.columns, *self.rows]
        widths = [max(len(row[i]) for row in grid) for i in range(len(self.columns))]
        lines = [
            "  ".join(
                cell.rjust(w) if num else cell.ljust(w)
                for cell, w, num in zip(row, widths, self.numeric, strict=True)
            ).rstrip()
            for row in grid
        ]
        if self.title:
            lines.insert(0, self.title)
        return "\n".join(lines)

    __repr__ = __str__


def table(
    data: pl.DataFrame | Mapping[str, Any],
    formats: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    title: str | None = None,
    subtitle: str | None = None,
    source_note: str | None = None,
) -> Table:
    """A report table from a polars frame, or from a mapping ``{row label: value}``.

    ``formats`` maps a column (a row, for a mapping) to a format of ``adalib.report.format``
    (``"percent:1"``, ``"number:2"``, ``"scientific:3"``, ``"usdt:2"``, ...); columns without
    one get ``default_format`` of their dtype. ``labels`` renames columns for display.
    Unknown names in ``formats`` or ``labels`` are an error (a typo would silently do nothing).

    >>> frame = pl.DataFrame({"lags": [1, 2], "mse": [0.00123, 0.00119]})
    >>> print(table(frame, formats={"mse": "scientific:2"}))
    lags       mse
       1  1.23e-03
       2  1.19e-03
    >>> table({"Sharpe": 0.34}, formats={"sharpe": "number:2"})
    Traceback (most recent call last):
    ...
    ValueError: table formats: unknown column(s) ['sharpe'] (columns: ['Sharpe'])
    """
    formats = dict(formats or {})
    labels = dict(labels or {})
    for spec in formats.values():
        parse_format(spec)
    if isinstance(data, pl.DataFrame):
        names = data.columns
        _check_known("formats", formats, names)
        _check_known("labels", labels, names)
        specs = [formats.get(c, default_format(data.schema[c])) for c in names]
        columns = [data[c].to_list() for c in names]
        rows = tuple(
            tuple(format_value(col[r], spec) for col, spec in zip(columns, specs, strict=True))
            for r in range(data.height)
        )
        numeric = tuple(dtype.is_numeric() for dtype in data.dtypes)
        header = tuple(labels.get(c, c) for c in names)
    else:
        _check_known("formats", formats, list(data))
        rows = tuple(
            (labels.get(key, key), format_value(value, formats.get(key, _value_format(value))))
            for key, value in data.items()
        )
        numeric = (False, True)
        header = ("metric", "value")
    return Table(header, rows, numeric, title, subtitle, source_note)


def _value_format(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "text"
    return "integer" if isinstance(value, int) else "number:4"


def _check_known(argument: str, given: Mapping[str, Any], names: list[str]) -> None:
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise ValueError(f"table {argument}: unknown column(s) {unknown} (columns: {names})")
