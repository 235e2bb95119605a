"""Helpers for tests/test_bad_input.py: file snapshots, generated candle files, filesystem faults."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from adalib.data import synthetic_candles

START = datetime(2024, 1, 1, tzinfo=UTC)
KLINE_TAIL = ("close_time", "quote_volume", "count", "taker_buy_volume", "taker_buy_quote_volume", "ignore")


def snapshot(root: Path) -> dict[str, str]:
    """Every file and folder under ``root`` (hidden ones included) with the sha256 of its bytes."""
    if not root.exists():
        return {}
    listing: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.is_symlink():
            listing[rel] = "symlink"
        elif path.is_dir():
            listing[rel] = "folder"
        else:
            listing[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return listing


def hourly(n: int = 48, start: datetime = START) -> pl.DataFrame:
    """A generated, valid 1h candle frame."""
    return synthetic_candles(n, interval=timedelta(hours=1), start=start, seed=3)


def kline_lines(frame: pl.DataFrame, unit_factor: float = 1.0) -> list[str]:
    """The Binance kline CSV rows (no header) of ``frame``; epoch ms times scaled by ``unit_factor``."""
    ms = frame["open_time"].dt.epoch("ms")
    rows = []
    for t, o, h, lo, c, v in zip(ms, frame["open"], frame["high"], frame["low"], frame["close"],
                                 frame["volume"], strict=True):  # fmt: skip
        stamp = int(t * unit_factor)
        rows.append(f"{stamp},{o!r},{h!r},{lo!r},{c!r},{v!r},{stamp + 3_599_999},1.0,10,0.5,0.5,0")
    return rows


def write_lines(path: Path, lines: list[str], *, bom: bool = False) -> Path:
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + ("\n".join(lines) + "\n").encode())
    return path


def _run(*command: str) -> bool:
    return subprocess.run(command, capture_output=True, check=False).returncode == 0


@contextlib.contextmanager
def tmpfs(folder: Path, size: str = "1m") -> Iterator[Path]:
    """Mount a small tmpfs on ``folder`` (skips, with the reason, where mounting is not allowed)."""
    folder.mkdir(parents=True, exist_ok=True)
    if shutil.which("mount") is None or not _run("mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs",
                                                  str(folder)):  # fmt: skip
        pytest.skip("cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN)")
    try:
        yield folder
    finally:
        _run("umount", "-l", str(folder))


def remount_read_only(folder: Path) -> None:
    """Make a tmpfs mounted by :func:`tmpfs` read-only: writes then fail with EROFS, even for root."""
    if not _run("mount", "-o", "remount,ro", str(folder)):
        pytest.skip("cannot remount the tmpfs read-only here")


def fill(folder: Path, leave: int = 0) -> None:
    """Fill the filesystem of ``folder`` until about ``leave`` bytes are free (0: until ENOSPC)."""
    fd = os.open(folder / ".filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        if leave:
            stats = os.statvfs(folder)
            os.write(fd, b"\0" * max(0, stats.f_bavail * stats.f_frsize - leave))
            return
        for size in (1 << 16, 1 << 12, 1):  # big blocks, then whatever the last page holds
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * size)
    finally:
        os.close(fd)
