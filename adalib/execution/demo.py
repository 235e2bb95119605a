"""The execution notebook's demonstration folder: a fresh journal for a fresh local exchange."""

from __future__ import annotations

from pathlib import Path

from adalib.util.paths import resolve_output

DEMO_FILES = ("orders.jsonl", "execution_summary.json")


def demo_folder(output_dir: str | Path) -> str:
    """``{output_dir}/fake_exchange`` (as given: relative paths stay relative) with the demonstration's
    own files removed.

    Each demonstration runs against a new local exchange, so an earlier demo's journal lines would
    only make the ids of this one depend on how often the notebook ran before (a rerun for the same
    candle takes new attempt ids). Only the two files the demo writes are removed.

    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> (out / "fake_exchange").mkdir(); _ = (out / "fake_exchange" / "orders.jsonl").write_text("{}\\n")
    >>> folder = demo_folder(out)
    >>> folder == str(out / "fake_exchange"), sorted(p.name for p in pathlib.Path(folder).iterdir())
    (True, [])
    """
    folder = Path(output_dir) / "fake_exchange"
    for name in DEMO_FILES:
        (resolve_output(folder) / name).unlink(missing_ok=True)
    return str(folder)
