"""Atomic file writes: readers see the old file or the new one, never half of one.

>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "out" / "x.txt"
>>> write_atomic(path, lambda tmp: pathlib.Path(tmp).write_text("done"))
>>> path.read_text(), oct(path.stat().st_mode & 0o777) == oct(0o666 & ~current_umask())
('done', True)
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def current_umask() -> int:
    """The process's umask (read by setting it and putting it back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: str | Path, write: Callable[[str], object]) -> None:
    """Create ``path`` (and its folder) by ``write(tmp)`` on a temporary file beside it, then a rename.

    The file gets the usual permissions (0666 less the umask), not the temporary file's 0600.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
