"""``python -m adalib.data fetch|import|funding``: fill the gitignored candle cache.

Every user or environment error (bad options, a bad candle file, a folder that cannot be
written, Binance unreachable) is one ``error: ...`` line and a non-zero exit; the traceback
only with ``--debug`` or ``ADALIB_DEBUG=1``. Options are checked before any download or write.
"""

from __future__ import annotations

import sys
from pathlib import Path

from adalib.data.cache import (
    DEFAULT_BINANCE_URL,
    DEFAULT_SYMBOL,
    fetch,
    fetch_funding,
    import_file,
    read_cache,
)
from adalib.data.schema import Candles
from adalib.util.cli import CommandParser, run_command
from adalib.util.paths import DATA_DIR
from adalib.util.validate import ParameterError, check_instant, check_output_dir, check_symbol


def _parser() -> CommandParser:
    parser = CommandParser(prog="python -m adalib.data", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=CommandParser)
    fetch_cmd = commands.add_parser("fetch", help="download 12h klines from Binance (only what is new)")
    fetch_cmd.add_argument("--end", default=None, help="only candles opening before this date (UTC)")
    import_cmd = commands.add_parser("import", help="build the cache from a local candle file")
    import_cmd.add_argument("path")
    funding_cmd = commands.add_parser("funding", help="download the funding-rate history")
    for command in (fetch_cmd, import_cmd, funding_cmd):
        command.add_argument("--symbol", default=DEFAULT_SYMBOL)
        command.add_argument("--data-dir", default=str(DATA_DIR), help="the cache folder (default: data/)")
    for command in (fetch_cmd, funding_cmd):
        command.add_argument("--binance-url", default=DEFAULT_BINANCE_URL)
    return parser


def main(argv: list[str]) -> int:
    """Parse and check the options, then run the command (errors go to :func:`run_command`)."""
    args = _parser().parse_args(argv)
    symbol = check_symbol(args.symbol, "--symbol")
    data_dir = check_output_dir("--data-dir", args.data_dir, resolver=Path)
    if args.command == "import":
        path = import_file(args.path, symbol, data_dir=data_dir)
    else:
        if not str(args.binance_url).startswith(("http://", "https://")):
            raise ParameterError("--binance-url", args.binance_url, "must start with http:// or https://")
        if args.command == "funding":
            print(f"wrote {fetch_funding(symbol, args.binance_url, data_dir=data_dir)}")
            return 0
        path = fetch(symbol, args.binance_url, end=check_instant("--end", args.end), data_dir=data_dir)
    meta = Candles(read_cache(symbol, data_dir), str(path)).metadata()
    print(f"wrote {path}: {meta['n_candles']} candles {meta['first_candle']} .. {meta['last_candle']}")
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main))
