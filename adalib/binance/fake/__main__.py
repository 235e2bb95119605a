"""``python -m adalib.binance.fake``: the local Binance USDT-M exchange as a server on 127.0.0.1.

>>> parser().parse_args(["--port", "0"]).balance
'10000'
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from datetime import UTC, datetime
from types import FrameType

import polars as pl

from adalib.binance.fake.exchange import FakeBinance
from adalib.binance.fake.faults import FAULT_HELP, FAULTS, Fault
from adalib.binance.fake.server import CONTROL_HELP
from adalib.data import cache_path, load_candles, read_cache, synthetic_candles
from adalib.data.binance import TWELVE_HOURS_MS
from adalib.util.cli import run_command

# Binance USDT-M docs, "SIGNED Endpoint Examples for POST /fapi/v1/order - HMAC Keys": a public example pair.
DOC_API_KEY = "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83"
DOC_API_SECRET = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9"


def parser() -> argparse.ArgumentParser:
    """The command line (``--help`` lists every fault and the control API)."""
    faults = "\n".join(f"  {kind:<15} {text}" for kind, text in FAULT_HELP.items())
    epilog = (
        f"faults (each consumed by the next matching request, default POST /fapi/v1/order):\n{faults}\n\n"
        f"{CONTROL_HELP}\n\n"
        "keys: Binance's documented HMAC example pair unless --api-key/--api-secret are given:\n"
        f"  api key    {DOC_API_KEY}\n  api secret {DOC_API_SECRET}"
    )
    p = argparse.ArgumentParser(
        prog="python -m adalib.binance.fake",
        description="A simulated Binance USDT-M futures REST API on 127.0.0.1 (prints 'listening on URL' "
        "first, serves until SIGTERM or Ctrl-C). Market data is moved forward in time so that the last "
        "candle is the one now in progress.",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (default 0: the OS picks one)")
    p.add_argument("--balance", default="10000", help="starting USDT wallet balance (default 10000)")
    p.add_argument("--candles", help="a candle file (CONTRACT section 1); default: the cache, else synthetic")
    p.add_argument("--symbol", default="ADAUSDT", help="the one symbol served (default ADAUSDT)")
    p.add_argument("--api-key", default=DOC_API_KEY, help="API key accepted (default: Binance's example)")
    p.add_argument("--api-secret", default=DOC_API_SECRET, help="HMAC secret (default: Binance's example)")
    p.add_argument("--mark-price", help="fix the mark price (default: the close of the last closed candle)")
    p.add_argument(
        "--fault",
        action="append",
        default=[],
        choices=FAULTS,
        metavar="KIND",
        help="queue a fault for POST /fapi/v1/order at start (repeatable)",
    )
    return p


def shift_to_now(candles: pl.DataFrame, now_ms: int) -> pl.DataFrame:
    """Move ``candles`` forward by whole 12h steps so that the last one is in progress at ``now_ms``.

    >>> frame = synthetic_candles(3)
    >>> moved = shift_to_now(frame, 1_767_268_800_000 + 3_600_000)  # 2026-01-01 12:00Z + 1h
    >>> str(moved["open_time"][-1])
    '2026-01-01 12:00:00 UTC'
    """
    last = int(candles["open_time"].dt.epoch("ms")[-1])
    current = now_ms // TWELVE_HOURS_MS * TWELVE_HOURS_MS
    return candles.with_columns(pl.col("open_time") + pl.duration(milliseconds=current - last))


def _candles(path: str | None, symbol: str) -> pl.DataFrame:
    if path is not None:
        return load_candles(path, symbol=symbol).frame
    if cache_path(symbol).exists():
        return read_cache(symbol)
    return synthetic_candles()


def main(argv: list[str]) -> int:
    """Serve until SIGTERM / Ctrl-C; returns the exit code."""
    args = parser().parse_args(argv)
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    candles = shift_to_now(_candles(args.candles, args.symbol), now_ms)
    fake = FakeBinance(
        candles,
        symbol=args.symbol,
        api_key=args.api_key,
        api_secret=args.api_secret,
        balance=args.balance,
        mark_price=args.mark_price,
        now=now_ms,
    )
    for kind in args.fault:
        fake.faults.append(Fault(kind))
    stopped = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    fake.start(args.port)
    print(f"listening on {fake.url}", flush=True)
    try:
        while not stopped.wait(0.2):
            pass
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main))
