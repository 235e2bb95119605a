"""The execution replayed over every candle of the test segment against the local exchange.

The execution notebook shows the last 60 candles (a full replay takes minutes); this script runs
the whole segment on the cached real candles and prints the comparison with the backtest.

    .venv/bin/python benchmarks/replay_full_segment.py [--position-fraction 0.5]
"""

from __future__ import annotations

import argparse
import json
import time

import adalib


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--position-fraction", type=float, default=0.5)
    args = parser.parse_args()
    candles = adalib.load_candles("auto", end="2026-03-01")
    started = time.perf_counter()
    replay = adalib.replay_execution(candles, "model_weights.pth", position_fraction=args.position_fraction)
    seconds = time.perf_counter() - started
    print(f"replayed {replay.summary['candles']} candles in {seconds:.0f} s ({candles.source})")
    print(json.dumps(replay.summary, indent=1, default=str))


if __name__ == "__main__":
    main()
