"""What a report shows around its numbers: the data banner at its top and the chart set-up.

>>> from adalib.data import load_candles
>>> data_banner(load_candles("synthetic", end="2020-01-10")).startswith("**Data:** `synthetic`")
True
"""

from __future__ import annotations

from adalib.data import Candles


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
