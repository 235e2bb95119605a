"""The argument parser of ``python -m adalib.execution`` (see ``__main__``).

>>> parser().parse_args(["--mode", "testnet", "--stop-loss", "0.05"]).stop_loss
0.05
"""

from __future__ import annotations

import argparse
import json
from dataclasses import fields
from typing import NoReturn

from adalib.execution.params import MARGIN_TYPES, MODES, ExecutionParams
from adalib.execution.run import run_execution

OPTIONAL_FLOATS = ("stop_loss",)


class _Parser(argparse.ArgumentParser):
    """Bad options become one ``error: ...`` line (through ``run_command``), not a usage dump."""

    def error(self, message: str) -> NoReturn:
        raise ValueError(f"{message} (see python -m adalib.execution --help)")


def parser() -> argparse.ArgumentParser:
    """Every ``ExecutionParams`` field as a ``--flag``."""
    parser = _Parser(
        prog="python -m adalib.execution",
        description="One execution run (CONTRACT.md section 4): the model's signal on the last closed 12h "
        "candle, the target position, the orders that reach it, and the position read back. Keys come "
        "from BINANCE_API_KEY and BINANCE_API_SECRET. Exit 0 when the position is the intended one (or "
        "in a dry run); otherwise one 'error: ...' line and exit 1 (--debug or ADALIB_DEBUG=1: traceback).",
    )
    choices = {"mode": MODES, "margin_type": MARGIN_TYPES}
    for f in fields(ExecutionParams):
        flag = "--" + f.name.replace("_", "-")
        if f.name == "confirm_live":
            parser.add_argument(flag, action="store_true", help="allow mode live to send real orders")
            continue
        kind = {"leverage": int}.get(f.name, float if isinstance(f.default, float) else str)
        if f.name in OPTIONAL_FLOATS:
            kind = float
        parser.add_argument(
            flag, type=kind, default=f.default, choices=choices.get(f.name), help=f"default: {f.default!r}"
        )
    return parser


def main(argv: list[str]) -> int:
    """Parse ``argv``, run, print the summary as JSON; errors propagate to ``run_command``."""
    args = parser().parse_args(argv)
    result = run_execution(ExecutionParams(**vars(args)))
    print(json.dumps(result.summary, indent=2, sort_keys=True))
    return 0
