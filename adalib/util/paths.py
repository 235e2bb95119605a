"""Where things live: every relative path resolves against the repository root.

Outputs (``output_dir``, and the weights the forecasting notebook writes) honour
``ADALIB_OUTPUT_ROOT`` when it is set: the test suite uses it to re-execute the
committed notebooks without touching the repository's own artifacts.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = REPO_ROOT / "data"
OUTPUT_ROOT_ENV = "ADALIB_OUTPUT_ROOT"


def resolve(path: str | Path) -> Path:
    """Resolve an input ``path`` against the repository root unless it is absolute.

    >>> resolve("data/x.parquet") == REPO_ROOT / "data" / "x.parquet"
    True
    """
    path = Path(path).expanduser()
    return path if path.is_absolute() else REPO_ROOT / path


def resolve_output(path: str | Path) -> Path:
    """Resolve an output ``path``: against ``$ADALIB_OUTPUT_ROOT`` if set, else the repository root."""
    path = Path(path).expanduser()
    if path.is_absolute():
        return path
    root = os.environ.get(OUTPUT_ROOT_ENV)
    return (Path(root) if root else REPO_ROOT) / path


def resolve_existing(path: str | Path) -> Path:
    """Resolve an input that an earlier notebook may have written: the output root first."""
    out = resolve_output(path)
    return out if out.exists() else resolve(path)
