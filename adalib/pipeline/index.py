"""``reports/index.html``: the three reports, their headline numbers and the data they ran on.

The numbers come from the artifacts' metrics files (CONTRACT sections 2 to 4), so the index
says what the last run wrote, nothing it computed itself. The page is one file with inline
styles: nothing is loaded from anywhere.

>>> import json, tempfile
>>> from pathlib import Path
>>> folder = Path(tempfile.mkdtemp())
>>> _ = (folder / "model_metrics.json").write_text(json.dumps({"r2_oos": 0.0013, "data_source": "cache",
...     "n_candles": 4441, "first_candle": "2020-01-31T12:00:00Z", "last_candle": "2026-02-28T12:00:00Z",
...     "data_sha256": "9552c7738db54d0b"}))
>>> page = index_html(folder)
>>> "0.13%" in page and "4,441 candles" in page and "9552c7738db5" in page and "http" not in page
True
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adalib.report import format_value
from adalib.util.atomic import write_atomic


@dataclass(frozen=True)
class ReportEntry:
    """One report on the index: its notebook, title, metrics file and headline fields."""

    notebook: str
    title: str
    question: str
    metrics_file: str
    headlines: tuple[tuple[str, str, str], ...]  # (field, label, format)


REPORTS = (
    ReportEntry(
        "ADA_ML_model",
        "Forecast: AR(p) model of 12h returns",
        "Is there out-of-sample predictability in 12h ADA returns?",
        "model_metrics.json",
        (
            ("lags", "AR order p", "integer"),
            ("mse_test", "Test MSE, model", "scientific:4"),
            ("mse_test_zero", "Test MSE, zero forecast", "scientific:4"),
            ("r2_oos", "R² out of sample", "percent:2"),
            ("hit_rate_test", "Hit rate (test)", "percent:1"),
            ("dm_pvalue", "Diebold-Mariano p", "pvalue"),
            ("cw_pvalue", "Clark-West p", "pvalue"),
        ),
    ),
    ReportEntry(
        "ADA_StrategyImplementation",
        "Backtest: trading the forecast",
        "What would the signal have earned after fees, funding and leverage?",
        "backtest_metrics.json",
        (
            ("total_return", "Total return", "percent:1"),
            ("buy_hold_return", "Buy and hold", "percent:1"),
            ("sharpe", "Sharpe (annualised)", "number:2"),
            ("max_drawdown", "Max drawdown", "percent:1"),
            ("n_trades", "Trades", "integer"),
            ("fees_paid", "Fees paid", "usdt:2"),
        ),
    ),
    ReportEntry(
        "ADA_executing_orders",
        "Execution: one decision on Binance USDT-M",
        "What does the model say for the last closed candle, and what would be sent?",
        "execution_summary.json",
        (
            ("mode", "Mode", "text"),
            ("candle_open_time", "Candle", "datetime"),
            ("direction", "Signal", "text"),
            ("y_hat", "Forecast log return", "scientific:3"),
            ("target_qty", "Target quantity (ADA)", "text"),
            ("status", "Status", "text"),
        ),
    ),
)
DIRECTION = {1: "long", -1: "short", 0: "flat"}

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1d1d1f;
       max-width: 980px; margin: 2rem auto; padding: 0 1rem; line-height: 1.45; }
h1 { font-size: 1.7rem; margin-bottom: .2rem; } .lead { color: #555; margin-top: 0; }
section { border: 1px solid #d8dbe0; border-radius: 8px; padding: 1rem 1.2rem; margin: 1.2rem 0; }
section h2 { font-size: 1.2rem; margin: 0 0 .2rem; } section h2 a { color: #0b57d0; text-decoration: none; }
.question { color: #555; margin: 0 0 .8rem; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
td { padding: .2rem 1.2rem .2rem 0; border-bottom: 1px solid #eef0f3; } td.value { text-align: right; }
.data { font-size: .9rem; color: #444; margin: .8rem 0 0; } .missing { color: #a50e0e; }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .85em; }
"""


def read_metrics(path: Path) -> dict[str, Any] | None:
    """The JSON object in ``path``, or None when the file is missing."""
    if not path.exists():
        return None
    value = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(value, dict):
        raise ValueError(f"{path}: expected a JSON object, found {type(value).__name__}")
    return value


def data_line(metrics: dict[str, Any], metrics_file: str) -> str:
    """``cache: 4,441 candles, 2020-01-31 12:00 UTC to ... (sha256 9552c7738db5)``, as HTML.

    >>> data_line({}, "x.json")
    '<span class="missing">data not recorded in <code>x.json</code></span>'
    """
    if "data_source" not in metrics:
        return f'<span class="missing">data not recorded in <code>{html.escape(metrics_file)}</code></span>'
    parts = [f"<code>{html.escape(str(metrics['data_source']))}</code>"]
    if "n_candles" in metrics:
        parts.append(f"{format_value(metrics['n_candles'], 'integer')} candles")
    if "first_candle" in metrics and "last_candle" in metrics:
        first, last = (format_value(metrics[k], "datetime") for k in ("first_candle", "last_candle"))
        parts.append(f"{first} to {last}")
    text = ", ".join(parts)
    if "data_sha256" in metrics:
        text += f" (sha256 <code>{html.escape(str(metrics['data_sha256'])[:12])}</code>)"
    return text


def headline_value(field: str, value: Any, spec: str) -> str:
    """One headline number as text (the direction as long/short/flat)."""
    if field == "direction" and value in DIRECTION:
        return DIRECTION[int(value)]
    return format_value(value, spec)


def entry_html(entry: ReportEntry, artifacts: Path) -> str:
    """The index section of one report."""
    metrics = read_metrics(artifacts / entry.metrics_file)
    link = f'<a href="{entry.notebook}.html">{html.escape(entry.title)}</a>'
    head = f"<section><h2>{link}</h2><p class='question'>{html.escape(entry.question)}</p>"
    if metrics is None:
        missing = f"<code>{entry.metrics_file}</code> is missing"
        return head + f'<p class="missing">not run: {missing}</p></section>'
    rows = "".join(
        f"<tr><td>{html.escape(label)}</td>"
        f"<td class='value'>{html.escape(headline_value(field, metrics.get(field), spec))}</td></tr>"
        for field, label, spec in entry.headlines
    )
    data = data_line(metrics, entry.metrics_file)
    return head + f"<table>{rows}</table><p class='data'>Data: {data}</p></section>"


def index_html(artifacts: Path) -> str:
    """The whole index page for the artifacts in ``artifacts`` (see the module example)."""
    sections = "\n".join(entry_html(entry, artifacts) for entry in REPORTS)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>adalib reports</title><style>{STYLE}</style></head><body>"
        "<h1>adalib reports</h1><p class='lead'>ADA/USDT perpetual futures, 12h candles: forecast, "
        "backtest and execution. Each report is the executed notebook without its code; the numbers "
        "below are read from the artifacts the run wrote.</p>\n"
        f"{sections}\n</body></html>\n"
    )


def write_index(report_dir: Path, artifacts: Path) -> Path:
    """Write ``report_dir/index.html`` for the artifacts in ``artifacts``; returns its path."""
    report_dir.mkdir(parents=True, exist_ok=True)
    path = report_dir / "index.html"
    write_atomic(path, lambda tmp: Path(tmp).write_text(index_html(artifacts), encoding="utf-8"))
    return path
