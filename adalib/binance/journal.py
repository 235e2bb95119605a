"""The append-only request journal ``orders.jsonl``: one JSON object per HTTP request.

Each line is written, flushed and fsynced before the caller sees the answer, and
also when the request failed (``status`` null, ``error`` set). Signatures and keys
never reach it: ``signature`` is dropped from the parameters and any configured
secret string is masked wherever it appears.

>>> import tempfile, pathlib, json
>>> path = pathlib.Path(tempfile.mkdtemp()) / "orders.jsonl"
>>> journal = Journal(path, secrets=("s3cret",))
>>> journal.write({"method": "GET", "path": "/x", "params": {"a": "s3cret", "signature": "ab"}})
>>> json.loads(path.read_text())["params"]
{'a': '***'}
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

REDACTED = "***"
DROPPED_PARAMS = ("signature",)
CLOCK_PARAMS = ("timestamp", "recvWindow")


def _mask(value: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, dict):
        return {k: _mask(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mask(v, secrets) for v in value]
    return value


class Journal:
    """Append JSON lines to ``path`` (created with its folder on first write)."""

    def __init__(self, path: str | Path, *, secrets: Iterable[str] = ()) -> None:
        self.path = Path(path)
        self._secrets = tuple(s for s in secrets if s)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r})"

    def write(self, entry: dict[str, Any]) -> None:
        """Append ``entry`` (with a ``time`` field first) as one line; flushed and fsynced."""
        params = {k: v for k, v in dict(entry.get("params") or {}).items() if k not in DROPPED_PARAMS}
        record = {"time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")}
        record.update({**entry, "params": params})
        line = json.dumps(_mask(record, self._secrets), default=str, sort_keys=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())

    def read(self) -> list[dict[str, Any]]:
        """All entries written so far (empty if the file does not exist)."""
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line]


def _untimed(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _untimed(v) for k, v in value.items() if "time" not in k.lower()}
    if isinstance(value, list):
        return [_untimed(v) for v in value]
    return value


def _answer(entry: dict[str, Any]) -> str:
    response = entry.get("response")
    if entry.get("status") is None:
        return f"no answer ({str(entry.get('error', '')).split(':')[0]})"
    if isinstance(response, dict) and "clientOrderId" in response:
        return f"{response['status']} {response['side']} {response['executedQty']} @ {response['avgPrice']}"
    if isinstance(response, dict) and "code" in response and entry["status"] != 200:
        return f"{response['code']} {response.get('msg', '')}"
    text = json.dumps(_untimed(response), separators=(",", ":"))
    return text if len(text) <= 60 else text[:59] + "…"


def journal_frame(entries: list[dict[str, Any]]) -> pl.DataFrame:
    """The journal as a table for reading: clock fields (``time``, ``timestamp``, ``recvWindow``
    and response times) are left out, so the same requests always print the same."""
    return pl.DataFrame(
        {
            "method": [e["method"] for e in entries],
            "path": [e["path"] for e in entries],
            "params": [
                " ".join(f"{k}={v}" for k, v in e["params"].items() if k not in CLOCK_PARAMS) for e in entries
            ],
            "status": [e.get("status") for e in entries],
            "answer": [_answer(e) for e in entries],
        },
        schema={
            "method": pl.String,
            "path": pl.String,
            "params": pl.String,
            "status": pl.Int64,
            "answer": pl.String,
        },
    )
