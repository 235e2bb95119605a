"""Artifact files: JSON and parquet written atomically, the output folder.

>>> from adalib.util.io import write_json
>>> import json, tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "m.json"
>>> write_json(p, {"sharpe": float("nan"), "n": 2})
>>> json.loads(p.read_text())
{'n': 2, 'sharpe': None}
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import polars as pl

from adalib.util.atomic import write_atomic
from adalib.util.paths import resolve_output


def output_dir(path: str | Path) -> Path:
    """Resolve and create the output folder (call only once the inputs are validated)."""
    out = resolve_output(path)
    out.mkdir(parents=True, exist_ok=True)
    return out


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def json_text(obj: dict[str, Any]) -> str:
    """``obj`` as sorted, indented JSON text with a final newline; NaN and inf become null.

    >>> json_text({"b": float("inf"), "a": [1.5]})
    '{\\n  "a": [\\n    1.5\\n  ],\\n  "b": null\\n}\\n'
    """
    return json.dumps(_clean(obj), indent=2, sort_keys=True, allow_nan=False) + "\n"


def write_json(path: str | Path, obj: dict[str, Any]) -> None:
    """Write ``obj`` as sorted, indented JSON, atomically; NaN and inf become null."""
    text = json_text(obj)
    write_atomic(path, lambda tmp: Path(tmp).write_text(text))


def write_parquet(frame: pl.DataFrame, path: str | Path) -> None:
    """Write a parquet file atomically."""
    write_atomic(path, frame.write_parquet)
