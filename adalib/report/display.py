"""The data banner at the top of every report: what data it ran on, and any warning.

>>> from adalib.data import load_candles
>>> data_banner(load_candles("synthetic", end="2020-01-10")).startswith("**Data:** `synthetic`")
True
"""

from __future__ import annotations

from adalib.data import Candles


def data_banner(candles: Candles) -> str:
    """Markdown shown at the top of every report: what data it ran on, and any warning.

    >>> from adalib.data import load_candles
    >>> print(data_banner(load_candles("synthetic", end="2020-01-10")))  # doctest: +ELLIPSIS
    **Data:** `synthetic`: 18 12h candles, 2020-01-01T00:00:00Z to 2020-01-09T12:00:00Z (sha256 `...…`)
    """
    meta = candles.metadata()
    text = (
        f"**Data:** `{meta['data_source']}`: {meta['n_candles']:,} 12h candles, "
        f"{meta['first_candle']} to {meta['last_candle']} (sha256 `{str(meta['data_sha256'])[:12]}…`)"
    )
    if candles.warning:
        text = f"> ⚠️ **{candles.warning}**\n\n{text}"
    return text


def show_data_banner(candles: Candles) -> None:
    """Display ``data_banner`` in a notebook (prints it elsewhere).

    >>> from adalib.data import load_candles
    >>> show_data_banner(load_candles("synthetic", end="2020-01-10"))  # doctest: +ELLIPSIS
    <IPython.core.display.Markdown object>
    """
    try:
        from IPython.display import Markdown, display

        display(Markdown(data_banner(candles)))
    except ImportError:  # pragma: no cover - IPython is a dependency, but keep scripts working
        print(data_banner(candles))
