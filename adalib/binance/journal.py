"""The append-only, write-ahead request journal ``orders.jsonl``: one JSON object per line.

A request that can change the account gets a line (``phase`` ``"request"``) written, flushed
and fsynced *before* it is sent, and a second one (``phase`` ``"answer"``) with its answer or
error; a read-only request gets one line with its answer. A crash can leave a torn last line:
the next ``write`` starts on a new line (the torn text is never merged with the next record),
and ``read`` skips it and lists it in ``torn``. Signatures and keys never reach the journal:
``signature`` is dropped from the parameters and any configured secret is masked.

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
    """Append JSON lines to ``path`` (created with its folder on first write).

    >>> import pathlib, tempfile
    >>> journal = Journal(pathlib.Path(tempfile.mkdtemp()) / "orders.jsonl", secrets=["s3cret"])
    >>> journal.write({"method": "GET", "path": "/fapi/v1/time", "note": "key s3cret"}, sync=False)
    >>> journal.read()[0]["note"]  # a secret never reaches the file
    'key ***'
    """

    def __init__(self, path: str | Path, *, secrets: Iterable[str] = ()) -> None:
        self.path = Path(path)
        self._secrets = tuple(s for s in secrets if s)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r})"

    def write(self, entry: dict[str, Any], *, sync: bool = True) -> None:
        """Append ``entry`` (with a ``time`` field first) as one line, flushed; fsynced unless
        ``sync=False`` (read-only requests, whose loss a crash cannot make harmful).

        If the file ends inside a line (a torn write), a newline is written first.
        """
        params = {k: v for k, v in dict(entry.get("params") or {}).items() if k not in DROPPED_PARAMS}
        record: dict[str, Any] = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        }
        record.update({**entry, "params": params})
        line = (json.dumps(_mask(record, self._secrets), default=str, sort_keys=False) + "\n").encode()
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("ab+") as handle:
                if handle.seek(0, os.SEEK_END) > 0:
                    handle.seek(-1, os.SEEK_END)
                    if handle.read(1) != b"\n":
                        line = b"\n" + line
                handle.write(line)
                handle.flush()
                if sync:
                    os.fsync(handle.fileno())

    def read(self) -> list[dict[str, Any]]:
        """All entries written so far (empty if the file does not exist).

        Lines that are not a JSON object (a torn write) are skipped and listed in ``self.torn``
        as ``(line number, text)``.
        """
        self.torn: list[tuple[int, str]] = []
        if not self.path.exists():
            return []
        entries = []
        lines = self.path.read_bytes().decode("utf-8", errors="replace").splitlines()
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                entry = None
            if isinstance(entry, dict):
                entries.append(entry)
            else:
                self.torn.append((number, line[:200]))
        return entries


def pending_requests(entries: list[dict[str, Any]], id_field: str = "newClientOrderId") -> list[str]:
    """Client ids of journaled requests (``phase`` ``"request"``) that have no answer line after them:
    requests a crash may have sent without anyone seeing the answer.

    >>> sent = {"method": "POST", "path": "/fapi/v1/order", "params": {"newClientOrderId": "a"}}
    >>> pending_requests([{**sent, "phase": "request"}])
    ['a']
    >>> pending_requests([{**sent, "phase": "request"}, {**sent, "phase": "answer", "status": 200}])
    []
    """
    open_ids: dict[str, None] = {}
    for entry in entries:
        key = (entry.get("params") or {}).get(id_field)
        if key is None or entry.get("phase") not in ("request", "answer"):
            continue
        if entry["phase"] == "request":
            open_ids[key] = None
        else:
            open_ids.pop(key, None)
    return list(open_ids)


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
    and response times) are left out, so the same requests always print the same.

    >>> journal_frame([{"time": "t", "method": "GET", "path": "/fapi/v1/time", "params": {}}]).columns[:2]
    ['method', 'path']
    """
    entries = [e for e in entries if "method" in e and e.get("phase") != "request"]
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
