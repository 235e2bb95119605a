"""Small helpers the notebooks share: output files, the data banner, chart set-up.

>>> from adalib.util.report import write_json
>>> import json, tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "m.json"
>>> write_json(p, {"sharpe": float("nan"), "n": 2})
>>> json.loads(p.read_text())
{'n': 2, 'sharpe': None}
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import polars as pl

from adalib.data.schema import Candles
from adalib.util.atomic import write_atomic
from adalib.util.paths import resolve_output


def output_dir(path: str | Path) -> Path:
    """Resolve and create the output folder (call only once the inputs are validated)."""
    out = resolve_output(path)
    out.mkdir(parents=True, exist_ok=True)
    return out


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def write_json(path: str | Path, obj: dict[str, Any]) -> None:
    """Write ``obj`` as sorted, indented JSON, atomically; NaN and inf become null."""
    text = json.dumps(_clean(obj), indent=2, sort_keys=True, allow_nan=False) + "\n"
    write_atomic(path, lambda tmp: Path(tmp).write_text(text))


def write_parquet(frame: pl.DataFrame, path: str | Path) -> None:
    """Write a parquet file atomically."""
    write_atomic(path, frame.write_parquet)


def data_banner(candles: Candles) -> str:
    """Markdown shown at the top of every report: what data it ran on, and any warning."""
    meta = candles.metadata()
    text = (
        f"**Data:** `{meta['data_source']}`: {meta['n_candles']} 12h candles, "
        f"{meta['first_candle']} to {meta['last_candle']} (sha256 `{str(meta['data_sha256'])[:12]}…`)"
    )
    if candles.warning:
        text = f"> ⚠️ **{candles.warning}**\n\n{text}"
    return text


def show_data_banner(candles: Candles) -> None:
    """Display ``data_banner`` in a notebook (prints it elsewhere)."""
    try:
        from IPython.display import Markdown, display

        display(Markdown(data_banner(candles)))
    except ImportError:  # pragma: no cover - IPython is a dependency, but keep scripts working
        print(data_banner(candles))


def setup_charts() -> None:
    """Static chart output for reports: altair through vegafusion to PNG, matplotlib PNG.

    PNG keeps charts visible in the HTML reports without a running kernel and out
    of nbval's comparison (which checks text outputs only).
    """
    import altair as alt
    import matplotlib

    alt.data_transformers.enable("vegafusion")
    alt.renderers.enable("png", scale_factor=1.0)
    matplotlib.rcParams.update({"figure.dpi": 100, "figure.figsize": (9, 4), "axes.grid": True})
