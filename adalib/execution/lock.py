"""One run at a time per account and symbol: an exclusive lock across processes.

Binance keeps a ``newClientOrderId`` unique among OPEN orders only, and a MARKET order is open
for milliseconds, so deterministic ids alone do not stop two runs for the same candle from both
filling. The lock does: it is an ``flock`` on a file named after the SHA-256 of the API key (never
the key itself) and the symbol, in ``$ADALIB_LOCK_DIR`` (default: a folder in the system's temporary
directory, shared by every process of the machine). The kernel releases it when the holder exits,
also on SIGKILL, so a crashed run never blocks the next one.

>>> import tempfile
>>> folder = tempfile.mkdtemp()
>>> with RunLock("key", "ADAUSDT", folder=folder) as first:
...     second = RunLock("key", "ADAUSDT", folder=folder)
...     second.acquire(wait=0.0)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
adalib.execution.params.ExecutionRefused: another run holds the lock for this account and ADAUSDT \
(pid ...); waited 0 s. Nothing was sent.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

from adalib.execution.params import ExecutionRefused

LOCK_DIR_ENV = "ADALIB_LOCK_DIR"


def lock_folder() -> Path:
    """``$ADALIB_LOCK_DIR``, else ``{tmp}/adalib-execution-locks``."""
    return Path(os.environ.get(LOCK_DIR_ENV) or Path(tempfile.gettempdir()) / "adalib-execution-locks")


def account_key(api_key: str) -> str:
    """The lock's account id: the first 16 hex digits of SHA-256(api key); the key never leaves."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:16]


class RunLock:
    """The exclusive lock of one account (by key hash) and symbol."""

    def __init__(self, api_key: str, symbol: str, *, folder: str | Path | None = None) -> None:
        self.symbol = symbol
        self.path = Path(folder or lock_folder()) / f"execution-{account_key(api_key)}-{symbol}.lock"
        self._handle: IO[str] | None = None
        self.waited = 0.0

    def acquire(
        self,
        wait: float = 120.0,
        *,
        poll: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
        on_wait: Callable[[str], None] | None = None,
    ) -> RunLock:
        """Take the lock, waiting at most ``wait`` seconds for a run that holds it; else refuse."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        start = clock()
        told = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                self.waited = clock() - start
                if self.waited >= wait:
                    handle.seek(0)
                    holder = handle.read().strip() or "?"
                    handle.close()
                    raise ExecutionRefused(
                        f"another run holds the lock for this account and {self.symbol} (pid {holder}); "
                        f"waited {wait:g} s. Nothing was sent."
                    ) from None
                if on_wait and not told:
                    on_wait(f"another run holds the lock for this account and {self.symbol}: waiting")
                    told = True
                time.sleep(poll)
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._handle = handle
        return self

    def release(self) -> None:
        """Let the next run in."""
        if self._handle is not None:
            self._handle.truncate(0)
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def __enter__(self) -> RunLock:
        return self if self._handle is not None else self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
