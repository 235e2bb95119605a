"""One way for every command to fail: a single ``error: ...`` line and a non-zero exit.

A user or environment error (bad input, a file that cannot be read or written, an exchange
that refuses) is one line on standard error; the traceback is shown only with ``--debug``
or ``ADALIB_DEBUG=1``. Programming errors are not caught: they keep their traceback.

>>> import contextlib, io
>>> def main(argv: list[str] | None) -> int:
...     raise FileNotFoundError("data/x.parquet: no such file")
>>> err = io.StringIO()
>>> with contextlib.redirect_stderr(err):
...     code = run_command(main, [])
>>> code, err.getvalue()
(1, 'error: data/x.parquet: no such file\\n')
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import NoReturn

DEBUG_ENV = "ADALIB_DEBUG"
# What a user or the environment can cause: bad values (ValueError and its subclasses, such as the
# data, weights and backtest errors), files and the network (OSError), refusals (RuntimeError
# subclasses raised on purpose by the execution layer).
USER_ERRORS: tuple[type[BaseException], ...] = (ValueError, OSError, RuntimeError)


class UsageError(ValueError):
    """A command line that does not parse (unknown option, missing argument): exit status 2."""


class CommandParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one ``error: ...`` line through :func:`run_command`.

    >>> import contextlib, io
    >>> parser = CommandParser(prog="demo")
    >>> _ = parser.add_argument("--lags", type=int)
    >>> def main(argv: list[str]) -> int:
    ...     parser.parse_args(argv)
    ...     return 0
    >>> err = io.StringIO()
    >>> with contextlib.redirect_stderr(err):
    ...     code = run_command(main, ["--lags", "two"])
    >>> code, err.getvalue()
    (2, "error: demo: argument --lags: invalid int value: 'two'\\n")
    """

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def debug_requested(argv: list[str]) -> bool:
    """``--debug`` among the arguments or ``ADALIB_DEBUG=1`` in the environment."""
    return "--debug" in argv or os.environ.get(DEBUG_ENV, "") not in ("", "0")


def run_command(main: Callable[[list[str]], int], argv: list[str] | None = None) -> int:
    """Run ``main(argv)`` (``--debug`` removed) and turn a user error into ``error: ...`` and exit 1."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = debug_requested(args)
    args = [a for a in args if a != "--debug"]
    try:
        return main(args)
    except USER_ERRORS as exc:
        if debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, UsageError) else 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
