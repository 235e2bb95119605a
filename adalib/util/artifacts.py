"""A notebook's outputs written as a set: every file appears together with the others, or none does.

The protocol survives a kill at any instant (SIGKILL, power loss after the fsyncs):

1. a *pending* record in the hidden journal folder ``{folder}/.adalib-sets/`` names the staging files;
2. each file is written and fsynced as a hidden staging file beside its target (same folder, so the
   final rename is atomic), and so is the set's manifest (members, sha256, tags);
3. one atomic rename of the *commit* record (the list of moves) commits the set;
4. each staging file is renamed onto its target, then the commit record is removed.

The next write or read of the set (:func:`recover_artifact_set`) first rolls a committed set forward
and discards an uncommitted one, so a reader sees the old complete set or the new one, never a mix.
A write that fails before the commit (read-only folder, full disk) removes its staging files and
leaves the previous files exactly as they were, with one :class:`ArtifactWriteError`.

>>> import tempfile, pathlib, polars as pl
>>> out = pathlib.Path(tempfile.mkdtemp())
>>> paths = write_artifact_set("demo", {"f.parquet": pl.DataFrame({"x": [1]}), "m.json": {"lags": 2}},
...                            folder=out, tags={"lags": 2, "symbol": "ADAUSDT"})
>>> sorted(p.name for p in out.iterdir()), file_tags(out / "f.parquet")
(['.adalib-sets', 'f.parquet', 'm.json'], {'lags': 2, 'symbol': 'ADAUSDT'})
>>> read_manifest("demo", out)["tags"]
{'lags': 2, 'symbol': 'ADAUSDT'}
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import io
import json
import os
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from adalib.util.io import json_text
from adalib.util.timefmt import iso_z
from adalib.util.validate import describe_os_error

JOURNAL_DIR = ".adalib-sets"
PARQUET_TAGS_KEY = "adalib"
# A file's content: a frame (parquet, tagged), a dict (JSON), bytes or text, or a function that
# writes the file at the path it is given.
Content = pl.DataFrame | Mapping[str, Any] | bytes | str | Callable[[Path], object]


class ArtifactWriteError(OSError):
    """A set could not be written; the message names the file and the reason (e.g. a full disk).

    >>> str(ArtifactWriteError("cannot write the 'ml' files (out/f.parquet): out: read-only file system"))
    "cannot write the 'ml' files (out/f.parquet): out: read-only file system"
    """

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class ArtifactMismatchError(ValueError):
    """Files read together do not belong together: the message names both files and the field.

    >>> isinstance(ArtifactMismatchError("a.parquet has lags 3 but b.pth has lags 2"), ValueError)
    True
    """


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_durable(path: Path, text: str) -> None:
    """Write ``text`` to a new temporary file, fsync it and rename it onto ``path`` (atomic)."""
    tmp = path.with_name(f".tmp-{uuid.uuid4().hex[:12]}-{path.name}")
    try:
        tmp.write_text(text)
        _fsync_file(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)


def _write_content(path: Path, content: Content, tags: Mapping[str, Any]) -> None:
    if isinstance(content, pl.DataFrame):  # into memory first, so that a full disk is a plain OSError
        buffer = io.BytesIO()
        content.write_parquet(buffer, metadata={PARQUET_TAGS_KEY: json.dumps(dict(tags), sort_keys=True)})
        path.write_bytes(buffer.getvalue())
    elif isinstance(content, Mapping):
        path.write_text(json_text(dict(content)))
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content)
    else:
        content(path)
    if not path.is_file():
        raise ArtifactWriteError(f"{path}: the writer did not create the file", errno.ENOENT)
    os.chmod(path, 0o666 & ~_umask())
    _fsync_file(path)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest_path(name: str, folder: str | Path) -> Path:
    """Where the manifest of set ``name`` lives: ``{folder}/.adalib-sets/{name}.manifest.json``.

    >>> manifest_path("forecast", "/tmp/out").as_posix()
    '/tmp/out/.adalib-sets/forecast.manifest.json'
    """
    return Path(folder) / JOURNAL_DIR / f"{name}.manifest.json"


@contextlib.contextmanager
def _locked(journal: Path, name: str) -> Iterator[None]:
    with (journal / f"{name}.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _records(journal: Path, name: str) -> tuple[Path, list[Path]]:
    return journal / f"{name}.commit.json", sorted(journal.glob(f"{name}.pending.*.json"))


def _apply(commit: Path) -> None:
    """Roll a committed set forward: rename every staging file still there onto its target."""
    try:
        moves = json.loads(commit.read_text())["moves"]
    except (ValueError, KeyError, TypeError):
        commit.unlink()  # not a complete record (cannot happen after an atomic rename): not committed
        return
    folders = set()
    for staged, target in moves:
        if os.path.lexists(staged):
            os.replace(staged, target)
        folders.add(Path(target).parent)
    for folder in folders:
        _fsync_dir(folder)
    commit.unlink()
    _fsync_dir(commit.parent)


def _discard(pending: Path) -> None:
    """Remove the staging files of an uncommitted write."""
    with contextlib.suppress(ValueError, KeyError, TypeError, OSError):
        for staged in json.loads(pending.read_text())["staged"]:
            Path(staged).unlink(missing_ok=True)
    pending.unlink(missing_ok=True)


def _leftovers(journal: Path, name: str) -> list[Path]:
    """The commit record, pending records and half-written record files of set ``name``."""
    if not journal.is_dir():
        return []
    commit, pendings = _records(journal, name)
    return [*([commit] if commit.exists() else []), *pendings, *journal.glob(f".tmp-*-{name}.*")]


def _recover(journal: Path, name: str) -> None:
    commit, pendings = _records(journal, name)
    if commit.exists():
        _apply(commit)
    for pending in pendings:
        _discard(pending)
    for tmp in journal.glob(f".tmp-*-{name}.*"):
        tmp.unlink(missing_ok=True)


def recover_artifact_set(name: str, folder: str | Path) -> None:
    """Finish or undo an interrupted write of set ``name`` in ``folder`` (a no-op when none was).

    Call it before reading a set's files; :func:`read_manifest` and every write do it themselves.

    >>> import tempfile
    >>> recover_artifact_set("forecast", tempfile.mkdtemp())
    """
    journal = Path(folder) / JOURNAL_DIR
    if not _leftovers(journal, name):
        return  # nothing to do: a read-only folder stays readable
    try:
        with _locked(journal, name):
            _recover(journal, name)
    except OSError as exc:
        raise ArtifactWriteError(
            f"{journal}: cannot complete the interrupted write of the '{name}' files: "
            f"{describe_os_error(exc)}",
            exc.errno,
        ) from exc


def write_artifact_set(
    name: str,
    files: Mapping[str | Path, Content],
    *,
    folder: str | Path,
    tags: Mapping[str, Any] | None = None,
) -> dict[str, Path]:
    """Write ``files`` (relative names resolve against ``folder``; absolute paths anywhere) as one set.

    ``tags`` (e.g. ``{"lags": 2, "symbol": "ADAUSDT"}``) go into the manifest and into every parquet
    file's metadata, for :func:`check_agree` when the files are read together later. Returns the
    written paths by the keys given. Raises :class:`ArtifactWriteError` with the previous files intact.

    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> paths = write_artifact_set("run", {"a.json": {"x": 1}, out / "b.txt": "text"}, folder=out)
    >>> sorted(p.name for p in paths.values()), (out / "b.txt").read_text()
    (['a.json', 'b.txt'], 'text')
    """
    folder = Path(folder)
    tags = dict(tags or {})
    targets = {str(key): folder / key for key in files}
    for target in targets.values():
        if target.is_dir():
            raise ArtifactWriteError(f"{target}: is a folder, not a file; nothing was written", errno.EISDIR)
    journal = folder / JOURNAL_DIR
    manifest = manifest_path(name, folder)
    current: Path = journal
    try:
        for parent in {journal, *(t.parent for t in targets.values())}:
            current = parent
            parent.mkdir(parents=True, exist_ok=True)
        with _locked(journal, name):
            _recover(journal, name)
            commit = _stage_and_commit(name, files, targets, manifest, tags)
            current = commit
            try:
                _apply(commit)
            except OSError as exc:  # committed: the next read or write of the set completes it
                raise ArtifactWriteError(
                    f"the '{name}' files are written but not all moved into place ({exc.filename or commit}: "
                    f"{describe_os_error(exc)}); the next read or write of the set completes them",
                    exc.errno,
                ) from exc
    except ArtifactWriteError:
        raise
    except OSError as exc:
        where = exc.filename or current
        raise ArtifactWriteError(
            f"cannot write the '{name}' files ({', '.join(str(t) for t in targets.values())}): "
            f"{where}: {describe_os_error(exc)}; the previous files are unchanged",
            exc.errno,
        ) from exc
    return targets


def _stage_and_commit(
    name: str,
    files: Mapping[str | Path, Content],
    targets: dict[str, Path],
    manifest: Path,
    tags: dict[str, Any],
) -> Path:
    """Steps 1-3 of the protocol; returns the commit record (steps 4 are :func:`_apply`)."""
    journal = manifest.parent
    token = uuid.uuid4().hex[:12]
    staged = {key: t.with_name(f".{t.name}.{name}-{token}.staged") for key, t in targets.items()}
    staged_manifest = manifest.with_name(f".{manifest.name}.{token}.staged")
    pending = journal / f"{name}.pending.{token}.json"
    commit, _ = _records(journal, name)
    committed = False
    try:
        _write_durable(pending, json.dumps({"staged": [*map(str, staged.values()), str(staged_manifest)]}))
        members = {}
        for key, content in files.items():
            _write_content(staged[str(key)], content, tags)
            members[str(targets[str(key)])] = {"sha256": _sha256(staged[str(key)])}
        record = {"set": name, "written_at": iso_z(datetime.now(UTC)), "tags": tags, "files": members}
        _write_content(staged_manifest, record, {})
        moves = [[str(staged[k]), str(targets[k])] for k in targets] + [[str(staged_manifest), str(manifest)]]
        for folder in {p.parent for p in staged.values()}:
            _fsync_dir(folder)
        _write_durable(commit, json.dumps({"token": token, "moves": moves}))
        committed = True
    finally:
        if not committed:
            _discard(pending)
    pending.unlink(missing_ok=True)
    return commit


def _load_manifest(name: str, folder: str | Path) -> dict[str, Any] | None:
    path = manifest_path(name, folder)
    if not path.exists():
        return None
    try:
        return dict(json.loads(path.read_text()))
    except ValueError as exc:
        raise ArtifactMismatchError(f"{path}: corrupt manifest ({exc})") from exc


def read_manifest(name: str, folder: str | Path) -> dict[str, Any] | None:
    """The manifest of set ``name`` in ``folder`` (after recovery), or None if the set was never written.

    >>> import tempfile
    >>> read_manifest("never-written", tempfile.mkdtemp()) is None
    True
    """
    recover_artifact_set(name, folder)
    return _load_manifest(name, folder)


@contextlib.contextmanager
def reading_artifact_set(name: str, folder: str | Path) -> Iterator[dict[str, Any] | None]:
    """Read a set's files inside this block: it recovers the set, then holds it still (writers wait).

    Yields the manifest (None for files written without a set). A writer that starts while the block
    runs waits for it, so the files read inside are one complete set.

    >>> import tempfile
    >>> out = tempfile.mkdtemp()
    >>> _ = write_artifact_set("demo", {"m.json": {"lags": 2}}, folder=out, tags={"lags": 2})
    >>> with reading_artifact_set("demo", out) as manifest:
    ...     manifest["tags"]
    {'lags': 2}
    """
    journal = Path(folder) / JOURNAL_DIR
    for _ in range(10):  # a writer may die between our recovery and our lock: recover again
        recover_artifact_set(name, folder)
        try:
            handle = (journal / f"{name}.lock").open("r")
        except OSError:  # never written as a set (or an unreadable folder): nothing to hold
            yield _load_manifest(name, folder)
            return
        with handle:
            fcntl.flock(handle, fcntl.LOCK_SH)
            if not _leftovers(journal, name):
                yield _load_manifest(name, folder)
                return
    raise ArtifactWriteError(f"{journal}: the '{name}' files keep changing; try again", errno.EAGAIN)


def file_tags(path: str | Path) -> dict[str, Any]:
    """The tags a set stored in a parquet file's metadata, or a JSON file's top-level fields; else ``{}``.

    >>> import tempfile, pathlib, json
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "m.json"
    >>> _ = p.write_text(json.dumps({"lags": 3, "symbol": "ADAUSDT"}))
    >>> file_tags(p)
    {'lags': 3, 'symbol': 'ADAUSDT'}
    """
    path = Path(path)
    if path.suffix == ".json":
        value = json.loads(path.read_text())
        return dict(value) if isinstance(value, dict) else {}
    if path.suffix in (".parquet", ".pq"):
        raw = pl.read_parquet_metadata(path).get(PARQUET_TAGS_KEY)
        return dict(json.loads(raw)) if raw else {}
    return {}


def check_agree(
    sources: Mapping[str | Path, Mapping[str, Any]], keys: tuple[str, ...] = ("lags", "symbol")
) -> None:
    """Files read together must agree on ``keys``; a file that lacks a key is not compared on it.

    >>> check_agree({"forecasts.parquet": {"lags": 3}, "model_weights.pth": {"lags": 2, "symbol": "ADAUSDT"}})
    Traceback (most recent call last):
    ...
    adalib.util.artifacts.ArtifactMismatchError: forecasts.parquet has lags 3 but ... has lags 2...
    """
    for key in keys:
        seen = [(str(src), tags[key]) for src, tags in sources.items() if tags.get(key) is not None]
        for src, value in seen[1:]:
            if value != seen[0][1]:
                raise ArtifactMismatchError(
                    f"{seen[0][0]} has {key} {seen[0][1]!r} but {src} has {key} {value!r}: "
                    "they were not written together (re-run the notebook that writes them, "
                    "or pass files of the same run)"
                )
