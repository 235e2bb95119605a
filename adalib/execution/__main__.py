"""``python -m adalib.execution``: one execution run from the command line (cron-friendly).

    python -m adalib.execution                               # dry run: prints the orders it would send
    python -m adalib.execution --mode testnet --leverage 2   # needs BINANCE_API_KEY / BINANCE_API_SECRET

Every notebook parameter is a ``--flag``. On success the summary is printed as JSON and the exit
status is 0; any refusal, exchange error or mismatch after the run prints one ``error: ...`` line
and exits 1 (the traceback only with ``--debug`` or ``ADALIB_DEBUG=1``).
"""

from __future__ import annotations

import sys

from adalib.execution.cli import main
from adalib.util.cli import run_command

if __name__ == "__main__":
    sys.exit(run_command(main))
