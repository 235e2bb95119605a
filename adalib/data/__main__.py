"""``python -m adalib.data fetch|import|funding``: fill the gitignored candle cache."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from adalib.data.binance import MarketDataError
from adalib.data.cache import (
    DEFAULT_BINANCE_URL,
    DEFAULT_SYMBOL,
    fetch,
    fetch_funding,
    import_file,
    read_cache,
)
from adalib.data.schema import CandleDataError, Candles
from adalib.util.paths import DATA_DIR
from adalib.util.timefmt import parse_utc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m adalib.data", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    fetch_cmd = commands.add_parser("fetch", help="download 12h klines from Binance (only what is new)")
    fetch_cmd.add_argument("--symbol", default=DEFAULT_SYMBOL)
    fetch_cmd.add_argument("--binance-url", default=DEFAULT_BINANCE_URL)
    fetch_cmd.add_argument("--end", default=None, help="only candles opening before this date (UTC)")
    import_cmd = commands.add_parser("import", help="build the cache from a local candle file")
    import_cmd.add_argument("path")
    import_cmd.add_argument("--symbol", default=DEFAULT_SYMBOL)
    funding_cmd = commands.add_parser("funding", help="download the funding-rate history")
    funding_cmd.add_argument("--symbol", default=DEFAULT_SYMBOL)
    funding_cmd.add_argument("--binance-url", default=DEFAULT_BINANCE_URL)
    for command in (fetch_cmd, import_cmd, funding_cmd):
        command.add_argument("--data-dir", default=str(DATA_DIR), help="the cache folder (default: data/)")
    args = parser.parse_args(argv)
    data_dir = Path(args.data_dir)
    try:
        if args.command == "fetch":
            path = fetch(args.symbol, args.binance_url, end=parse_utc(args.end), data_dir=data_dir)
        elif args.command == "import":
            path = import_file(args.path, args.symbol, data_dir=data_dir)
        else:
            print(f"wrote {fetch_funding(args.symbol, args.binance_url, data_dir=data_dir)}")
            return 0
    except (CandleDataError, MarketDataError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    meta = Candles(read_cache(args.symbol, data_dir), str(path)).metadata()
    print(f"wrote {path}: {meta['n_candles']} candles {meta['first_candle']} .. {meta['last_candle']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
