"""Parameter checks run before any work: one ``ParameterError`` naming parameter, value and problem.

Every notebook and command validates its parameters with these first, so that a bad value fails
in a second, with nothing written, instead of after the model or the backtest.

>>> check_number("leverage", 3, low=1, high=125)
3.0
>>> check_number("fee_rate", float("inf"), low=0, high=0.1)
Traceback (most recent call last):
...
adalib.util.validate.ParameterError: parameter fee_rate: inf is not a finite number
>>> check_instant("start", "yesterday")
Traceback (most recent call last):
...
adalib.util.validate.ParameterError: parameter start: 'yesterday' is not an ISO 8601 date or datetime ...
"""

from __future__ import annotations

import errno
import math
import numbers
import os
import re
import uuid
from collections.abc import Callable, Collection
from datetime import date, datetime
from pathlib import Path
from typing import TypeVar, cast

from adalib.util.paths import resolve, resolve_output
from adalib.util.timefmt import parse_utc

SYMBOL_PATTERN = re.compile(r"[A-Z0-9]{2,20}")
PROBE_PREFIX = ".adalib-probe-"
T = TypeVar("T")


class ParameterError(ValueError):
    """A bad parameter: ``parameter {name}: {value!r} {problem}``.

    >>> str(ParameterError("lags", 0, "must be at least 1"))
    'parameter lags: 0 must be at least 1'
    """

    def __init__(self, name: str, value: object, problem: str) -> None:
        self.name, self.value, self.problem = name, value, problem
        shown = str(value) if isinstance(value, os.PathLike) else value
        super().__init__(f"parameter {name}: {shown!r} {problem}")


def describe_os_error(exc: OSError) -> str:
    """A short reason for a filesystem failure that names full disks and read-only folders plainly.

    >>> describe_os_error(OSError(errno.ENOSPC, "No space left on device"))
    'no space left on device (the disk or folder is full)'
    >>> describe_os_error(OSError(errno.EROFS, "Read-only file system"))
    'read-only file system'
    """
    reasons = {
        errno.ENOSPC: "no space left on device (the disk or folder is full)",
        errno.EDQUOT: "disk quota exceeded",
        errno.EROFS: "read-only file system",
        errno.EACCES: "permission denied",
        errno.EPERM: "operation not permitted (immutable or protected)",
        errno.ELOOP: "a symlink loop",
        errno.ENOTDIR: "a part of the path is a file, not a folder",
        errno.EISDIR: "is a folder",
        errno.ENOENT: "no such file or folder",
    }
    return reasons.get(exc.errno or -1, exc.strerror or str(exc))


def _interval(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    """``[0, 1)``-style notation; a missing bound is an open infinity.

    >>> _interval(0, None, False, False), _interval(None, 0.5, False, True)
    ('[0, inf)', '(-inf, 0.5)')
    """
    left = "(" if low_open or low is None else "["
    right = ")" if high_open or high is None else "]"
    lo = "-inf" if low is None else f"{low:g}"
    hi = "inf" if high is None else f"{high:g}"
    return f"{left}{lo}, {hi}{right}"


def check_number(
    name: str,
    value: object,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """A finite real number within ``[low, high]`` (``low_open``/``high_open`` exclude the bound).

    >>> check_number("test_fraction", 0.25, low=0, high=1, low_open=True, high_open=True)
    0.25
    >>> check_number("test_fraction", 1, low=0, high=1, low_open=True, high_open=True)
    Traceback (most recent call last):
    ...
    adalib.util.validate.ParameterError: parameter test_fraction: 1 must be in (0, 1)
    >>> check_number("leverage", "3", low=1)
    Traceback (most recent call last):
    ...
    adalib.util.validate.ParameterError: parameter leverage: '3' must be a number, not str
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ParameterError(name, value, f"must be a number, not {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number):
        raise ParameterError(name, value, "is not a finite number")
    too_low = low is not None and (number <= low if low_open else number < low)
    too_high = high is not None and (number >= high if high_open else number > high)
    if too_low or too_high:
        raise ParameterError(name, value, f"must be in {_interval(low, high, low_open, high_open)}")
    return number


def check_optional_number(
    name: str,
    value: object,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float | None:
    """``None``, or a number as in :func:`check_number` (e.g. ``stop_loss=None``).

    >>> check_optional_number("stop_loss", None, low=0, high=1, low_open=True, high_open=True) is None
    True
    """
    if value is None:
        return None
    return check_number(name, value, low=low, high=high, low_open=low_open, high_open=high_open)


def check_int(name: str, value: object, *, low: int | None = None, high: int | None = None) -> int:
    """An integer within ``[low, high]`` (bools and floats are refused, even ``2.0``).

    >>> check_int("lags", 2, low=1, high=50)
    2
    >>> check_int("lags", 2.5, low=1)
    Traceback (most recent call last):
    ...
    adalib.util.validate.ParameterError: parameter lags: 2.5 must be an integer, not float
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ParameterError(name, value, f"must be an integer, not {type(value).__name__}")
    number = int(value)
    if (low is not None and number < low) or (high is not None and number > high):
        bounds = f"[{'-inf' if low is None else low}, {'inf' if high is None else high}]"
        raise ParameterError(name, value, f"must be an integer in {bounds}")
    return number


def check_choice(name: str, value: object, choices: Collection[T]) -> T:
    """One of ``choices``.

    >>> check_choice("mode", "hold", ("hold", "per_bar"))
    'hold'
    >>> check_choice("mode", "HOLD", ("hold", "per_bar"))
    Traceback (most recent call last):
    ...
    adalib.util.validate.ParameterError: parameter mode: 'HOLD' must be one of 'hold', 'per_bar'
    """
    if value not in choices:
        raise ParameterError(name, value, "must be one of " + ", ".join(repr(c) for c in choices))
    return cast(T, value)


def check_bool(name: str, value: object) -> bool:
    """``True`` or ``False`` (not ``"yes"``, not ``1``).

    >>> check_bool("confirm_live", "yes")
    Traceback (most recent call last):
    ...
    adalib.util.validate.ParameterError: parameter confirm_live: 'yes' must be True or False
    """
    if not isinstance(value, bool):
        raise ParameterError(name, value, "must be True or False")
    return value


def check_instant(name: str, value: object, *, optional: bool = True) -> datetime | None:
    """An ISO 8601 date or datetime (a string, ``date`` or ``datetime``; naive is UTC), or ``None``.

    >>> check_instant("end", "2026-03-01")
    datetime.datetime(2026, 3, 1, 0, 0, tzinfo=datetime.timezone.utc)
    >>> check_instant("end", None) is None
    True
    """
    if value is None and optional:
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if isinstance(value, datetime | str):
        try:
            return parse_utc(value)
        except ValueError:
            pass
    raise ParameterError(
        name, value, "is not an ISO 8601 date or datetime (e.g. 2024-01-01 or 2024-01-01T12:00Z)"
    )


def check_window(
    start: object, end: object, names: tuple[str, str] = ("start", "end")
) -> tuple[datetime | None, datetime | None]:
    """``start`` and ``end`` as instants, with ``start < end`` when both are given.

    >>> check_window("2025-01-01", "2024-01-01")
    Traceback (most recent call last):
    ...
    adalib.util.validate.ParameterError: parameter start: '2025-01-01' must be before end '2024-01-01'
    """
    first, last = check_instant(names[0], start), check_instant(names[1], end)
    if first is not None and last is not None and first >= last:
        raise ParameterError(names[0], start, f"must be before {names[1]} {end!r}")
    return first, last


def check_symbol(value: object, name: str = "symbol") -> str:
    """A symbol: 2 to 20 of ``A-Z`` and ``0-9`` (so it can never leave the data folder as a file name).

    >>> check_symbol("ADAUSDT")
    'ADAUSDT'
    >>> check_symbol("../../x")
    Traceback (most recent call last):
    ...
    adalib.util.validate.ParameterError: parameter symbol: '../../x' must be 2 to 20 of A-Z and 0-9 ...
    """
    if not isinstance(value, str) or not SYMBOL_PATTERN.fullmatch(value):
        raise ParameterError(name, value, "must be 2 to 20 of A-Z and 0-9 (e.g. 'ADAUSDT')")
    return value


def _path_value(name: str, value: object) -> Path:
    if not isinstance(value, str | os.PathLike) or not str(value).strip():
        raise ParameterError(name, value, "must be a non-empty path")
    return Path(value)


def _probe_folder(name: str, value: object, folder: Path) -> None:
    """Create, write, fsync and remove a probe file in ``folder`` (the nearest existing ancestor)."""
    existing = folder
    while not existing.exists() and not existing.is_symlink():
        existing = existing.parent
    if existing.is_symlink() and not existing.exists():
        raise ParameterError(
            name, value, f"cannot be created: {existing} is a broken symlink or a symlink loop"
        )
    if not existing.is_dir():
        raise ParameterError(name, value, f"cannot be created: {existing} is a file, not a folder")
    probe = existing / f"{PROBE_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, b"x")
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise ParameterError(name, value, f"is not writable: {existing}: {describe_os_error(exc)}") from None
    finally:
        if probe.exists():
            probe.unlink()


def check_output_dir(
    name: str, value: object, *, resolver: Callable[[str | Path], Path] = resolve_output
) -> Path:
    """A folder to write into: an existing folder or one that can be created, and writable.

    Writability is proved by creating and removing a probe file (in the folder, or in its nearest
    existing ancestor when it does not exist yet); nothing else is created. Returns the resolved path.

    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> check_output_dir("output_dir", root / "new" / "out") == root / "new" / "out", list(root.iterdir())
    (True, [])
    >>> (root / "file").write_text("x")
    1
    >>> check_output_dir("output_dir", root / "file")
    Traceback (most recent call last):
    ...
    adalib.util.validate.ParameterError: parameter output_dir: ... is a file, not a folder
    """
    folder = resolver(_path_value(name, value))
    if folder.exists() and not folder.is_dir():
        raise ParameterError(name, value, "is a file, not a folder")
    _probe_folder(name, value, folder)
    return folder


def check_output_file(
    name: str, value: object, *, resolver: Callable[[str | Path], Path] = resolve_output
) -> Path:
    """A file to write (e.g. ``weights_path``): not a folder, in a writable folder that exists or can be made.

    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> check_output_file("weights_path", root / "w.pth") == root / "w.pth"
    True
    >>> check_output_file("weights_path", root)
    Traceback (most recent call last):
    ...
    adalib.util.validate.ParameterError: parameter weights_path: ... is a folder, not a file
    """
    path = resolver(_path_value(name, value))
    if path.is_dir():
        raise ParameterError(name, value, "is a folder, not a file")
    if path.is_symlink() and not path.exists():
        raise ParameterError(name, value, "is a broken symlink or a symlink loop")
    _probe_folder(name, value, path.parent)
    return path


def check_input_file(name: str, value: object, *, resolver: Callable[[str | Path], Path] = resolve) -> Path:
    """An existing, readable regular file (not a folder, not a broken symlink or a symlink loop).

    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "loop").symlink_to(root / "loop")
    >>> check_input_file("data_path", root / "loop")
    Traceback (most recent call last):
    ...
    adalib.util.validate.ParameterError: parameter data_path: ... is a symlink loop
    """
    path = resolver(_path_value(name, value))
    try:
        path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ParameterError(name, value, "is a symlink loop") from None
        if path.is_symlink():
            raise ParameterError(name, value, f"is a broken symlink (to {os.readlink(path)!r})") from None
        if exc.errno == errno.ENOENT:
            raise ParameterError(name, value, f"does not exist ({path})") from None
        raise ParameterError(name, value, f"cannot be read: {describe_os_error(exc)}") from None
    if path.is_dir():
        raise ParameterError(name, value, "is a folder, not a file")
    if not path.is_file():
        raise ParameterError(name, value, "is not a regular file")
    try:
        with path.open("rb") as handle:
            handle.read(1)
    except OSError as exc:
        raise ParameterError(name, value, f"cannot be read: {describe_os_error(exc)}") from None
    return path
