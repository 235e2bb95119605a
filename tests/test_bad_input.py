"""Bad input and failed writes (issue 14): one clear error, nothing lost.

Every case builds its input at test time, asserts the one message, the exit status where a
command is involved, and that nothing changed (file listings and hashes before and after).
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from adalib.util import artifacts
from adalib.util.artifacts import (
    ArtifactMismatchError,
    ArtifactWriteError,
    check_agree,
    file_tags,
    read_manifest,
    recover_artifact_set,
    write_artifact_set,
)
from adalib.util.validate import (
    ParameterError,
    check_bool,
    check_choice,
    check_input_file,
    check_instant,
    check_int,
    check_number,
    check_optional_number,
    check_output_dir,
    check_output_file,
    check_symbol,
    check_window,
)
from tests.bad_input_support import fill, remount_read_only, snapshot, tmpfs

# ---------------------------------------------------------------- parameters


PARAMETER_CASES: list[tuple[Callable[[], object], str]] = [
    (lambda: check_number("dry_run_balance", float("inf"), low=0),
     "parameter dry_run_balance: inf is not a finite number"),
    (lambda: check_number("fee_rate", float("nan"), low=0), "parameter fee_rate: nan is not a finite number"),
    (lambda: check_number("leverage", 1000, low=1, high=125),
     r"parameter leverage: 1000 must be in \[1, 125\]"),
    (lambda: check_number("leverage", 0.5, low=1, high=125),
     r"parameter leverage: 0.5 must be in \[1, 125\]"),
    (lambda: check_number("funding_rate_8h", 0.5, low=-0.03, high=0.03),
     r"parameter funding_rate_8h: 0.5 must be in \[-0.03, 0.03\]"),
    (lambda: check_number("test_fraction", 0.0, low=0, high=1, low_open=True, high_open=True),
     r"parameter test_fraction: 0.0 must be in \(0, 1\)"),
    (lambda: check_number("position_fraction", "1", low=0),
     "parameter position_fraction: '1' must be a number, not str"),
    (lambda: check_number("leverage", True, low=1), "parameter leverage: True must be a number, not bool"),
    (lambda: check_optional_number("stop_loss", 1.0, low=0, high=1, low_open=True, high_open=True),
     r"parameter stop_loss: 1.0 must be in \(0, 1\)"),
    (lambda: check_int("lags", 2.0, low=1), "parameter lags: 2.0 must be an integer, not float"),
    (lambda: check_int("lags", 0, low=1, high=50), r"parameter lags: 0 must be an integer in \[1, 50\]"),
    (lambda: check_choice("segment", "train", ("test", "all")),
     "parameter segment: 'train' must be one of 'test', 'all'"),
    (lambda: check_bool("confirm_live", "True"), "parameter confirm_live: 'True' must be True or False"),
    (lambda: check_instant("start", "yesterday"),
     "parameter start: 'yesterday' is not an ISO 8601 date or datetime"),
    (lambda: check_instant("end", 20240101), "parameter end: 20240101 is not an ISO 8601 date"),
    (lambda: check_window("2026-03-01", "2020-01-01"),
     "parameter start: '2026-03-01' must be before end '2020-01-01'"),
    (lambda: check_symbol("../../x"), r"parameter symbol: '\.\./\.\./x' must be 2 to 20 of A-Z and 0-9"),
    (lambda: check_symbol("adausdt"), "parameter symbol: 'adausdt' must be 2 to 20 of A-Z and 0-9"),
    (lambda: check_symbol("A" * 21), "parameter symbol: 'AAAAAAAAAAAAAAAAAAAAA' must be 2 to 20"),
]  # fmt: skip


@pytest.mark.parametrize(("call", "message"), PARAMETER_CASES, ids=[m[:40] for _, m in PARAMETER_CASES])
def test_bad_parameter_names_parameter_value_and_problem(call: Callable[[], object], message: str) -> None:
    with pytest.raises(ParameterError, match=f"^{message}") as info:
        call()
    assert str(info.value).count("parameter ") == 1  # one message, not a chain


def test_good_parameters_pass_through() -> None:
    assert check_number("leverage", 125, low=1, high=125) == 125.0
    assert check_int("lags", 3, low=1) == 3
    assert check_window("2024-01-01", None) == (datetime(2024, 1, 1, tzinfo=UTC), None)
    assert check_instant("end", "2024-01-01T12:00:00Z") == datetime(2024, 1, 1, 12, tzinfo=UTC)
    assert check_symbol("ADAUSDT") == "ADAUSDT"


def test_output_dir_that_is_a_file_fails_before_any_work(tmp_path: Path) -> None:
    (tmp_path / "out").write_text("not a folder")
    before = snapshot(tmp_path)
    with pytest.raises(ParameterError, match=r"^parameter output_dir: '.*/out' is a file, not a folder$"):
        check_output_dir("output_dir", tmp_path / "out")
    with pytest.raises(ParameterError, match=r"cannot be created: .*/out is a file, not a folder"):
        check_output_dir("output_dir", tmp_path / "out" / "sub")
    assert snapshot(tmp_path) == before


def test_weights_path_that_is_a_folder_fails_before_any_work(tmp_path: Path) -> None:
    (tmp_path / "w.pth").mkdir()
    before = snapshot(tmp_path)
    with pytest.raises(ParameterError, match=r"^parameter weights_path: '.*/w.pth' is a folder, not a file$"):
        check_output_file("weights_path", tmp_path / "w.pth")
    assert snapshot(tmp_path) == before


def test_output_dir_that_can_be_created_is_not_created(tmp_path: Path) -> None:
    assert check_output_dir("output_dir", tmp_path / "a" / "b") == tmp_path / "a" / "b"
    assert snapshot(tmp_path) == {}  # the probe file is gone, no folder was made


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.mkdir(), "is a folder, not a file"),
        (lambda p: p.symlink_to(p), "is a symlink loop"),
        (lambda p: p.symlink_to(p.with_name("nowhere.csv")), "is a broken symlink"),
        (lambda p: None, "does not exist"),
    ],
    ids=["folder", "symlink-loop", "broken-symlink", "missing"],
)
def test_unusable_input_file(tmp_path: Path, make: Callable[[Path], object], message: str) -> None:
    path = tmp_path / "candles.csv"
    make(path)
    before = snapshot(tmp_path)
    with pytest.raises(ParameterError, match=f"^parameter data_path: '.*candles.csv' {message}"):
        check_input_file("data_path", path)
    assert snapshot(tmp_path) == before


# ---------------------------------------------------------------- artifact sets


def version(k: int, *, frame: bool = True) -> dict[str, Any]:
    """The three files of run ``k`` (as the ML notebook writes forecasts, metrics and weights).

    ``frame=False`` writes the forecasts as plain text: a forked child must not use polars (its
    thread pool does not survive ``fork``).
    """
    return {
        "forecasts.parquet": pl.DataFrame({"run": [k] * 100}) if frame else f"{k}\n" * 100,
        "model_metrics.json": {"run": k, "lags": k},
        "weights.bin": bytes([k % 256]) * 20000,
    }


def run_of(folder: Path) -> int | None:
    """The run whose complete set ``folder`` holds; None when empty; fails on a mix."""
    names = ("forecasts.parquet", "model_metrics.json", "weights.bin")
    present = [(folder / n).exists() for n in names]
    if not any(present):
        return None
    assert all(present), f"a partial set: {present}"
    forecasts = folder / names[0]
    text = forecasts.read_bytes()
    runs = {
        pl.read_parquet(forecasts)["run"].unique().item() if text[:4] == b"PAR1" else int(text.split()[0]),
        json.loads((folder / names[1]).read_text())["run"],
        (folder / names[2]).read_bytes()[0],
    }
    assert len(runs) == 1, f"a mixed set: {runs}"
    return runs.pop()


def test_a_set_is_written_with_its_manifest_and_tags(tmp_path: Path) -> None:
    paths = write_artifact_set("ml", version(2), folder=tmp_path, tags={"lags": 2, "symbol": "ADAUSDT"})
    assert run_of(tmp_path) == 2 and set(paths) == set(version(2))
    manifest = read_manifest("ml", tmp_path)
    assert manifest is not None and manifest["tags"] == {"lags": 2, "symbol": "ADAUSDT"}
    assert sorted(Path(p).name for p in manifest["files"]) == sorted(version(2))
    for path, member in manifest["files"].items():
        assert snapshot(Path(path).parent)[Path(path).name] == member["sha256"]
    assert file_tags(tmp_path / "forecasts.parquet") == {"lags": 2, "symbol": "ADAUSDT"}


def test_files_read_together_must_agree(tmp_path: Path) -> None:
    write_artifact_set("ml", {"forecasts.parquet": pl.DataFrame({"x": [1.0]})}, folder=tmp_path,
                       tags={"lags": 3, "symbol": "ADAUSDT"})  # fmt: skip
    forecasts = tmp_path / "forecasts.parquet"
    with pytest.raises(
        ArtifactMismatchError, match=f"^{forecasts} has lags 3 but model_weights.pth has lags 2"
    ):
        check_agree({forecasts: file_tags(forecasts), "model_weights.pth": {"lags": 2, "symbol": "ADAUSDT"}})
    with pytest.raises(ArtifactMismatchError, match=r"has symbol 'ADAUSDT' but m\.json has symbol 'BTCUSDT'"):
        check_agree({forecasts: file_tags(forecasts), "m.json": {"symbol": "BTCUSDT"}})
    check_agree({forecasts: file_tags(forecasts), "m.json": {"lags": 3}})  # agreeing files pass


def test_a_target_that_is_a_folder_writes_nothing(tmp_path: Path) -> None:
    write_artifact_set("ml", version(1), folder=tmp_path)
    (tmp_path / "extra.pth").mkdir()
    before = snapshot(tmp_path)
    with pytest.raises(ArtifactWriteError, match=r"extra.pth: is a folder, not a file; nothing was written"):
        write_artifact_set("ml", {**version(2), "extra.pth": b"x"}, folder=tmp_path)
    assert snapshot(tmp_path) == before


def test_a_writer_that_fails_midway_leaves_the_old_set(tmp_path: Path) -> None:
    write_artifact_set("ml", version(1), folder=tmp_path)
    before = snapshot(tmp_path)

    def broken(path: Path) -> None:
        path.write_bytes(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(
        ArtifactWriteError, match=r"no space left on device .*; the previous files are unchanged"
    ):
        write_artifact_set("ml", {**version(2), "weights.bin": broken}, folder=tmp_path)
    assert snapshot(tmp_path) == before and run_of(tmp_path) == 1


@pytest.mark.parametrize(
    ("target", "nth", "after", "expected"),
    [
        ("_write_content", 2, False, 1),  # while staging the second file: discarded
        ("replace", 1, True, 1),  # only the pending record is in place: discarded
        ("replace", 2, True, 2),  # the commit record is in place: rolled forward
        ("replace", 4, True, 2),  # one file moved into place: the rest rolled forward
        ("replace", 6, False, 2),  # every file moved but the manifest
    ],
)
def test_death_at_each_step_gives_old_or_new_set(tmp_path: Path, target: str, nth: int, after: bool,
                                                 expected: int) -> None:  # fmt: skip
    """A child dies (``os._exit``: no cleanup, like SIGKILL) at the ``nth`` call of a step of the protocol."""
    write_artifact_set("ml", version(1), folder=tmp_path)
    pid = os.fork()
    if pid == 0:
        owner: Any = os if target == "replace" else artifacts
        real = getattr(owner, target)
        calls: list[int] = []

        def die(*args: Any) -> Any:
            calls.append(1)
            if len(calls) == nth:
                if after:
                    real(*args)
                os._exit(0)
            return real(*args)

        setattr(owner, target, die)
        write_artifact_set("ml", version(2, frame=False), folder=tmp_path)
        os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0  # it died where intended
    recover_artifact_set("ml", tmp_path)
    assert run_of(tmp_path) == expected
    assert not [p for p in tmp_path.rglob("*") if re.search(r"\.staged$|\.pending\.|^\.tmp-", p.name)]


def test_sigkill_during_set_writes_leaves_old_or_new_complete_set(tmp_path: Path) -> None:
    write_artifact_set("ml", version(0), folder=tmp_path)
    seen = set()
    for attempt in range(12):
        pid = os.fork()
        if pid == 0:
            k = 1
            while True:
                write_artifact_set("ml", version(k, frame=False), folder=tmp_path)
                k += 1
        time.sleep(0.004 * attempt)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        recover_artifact_set("ml", tmp_path)
        seen.add(run_of(tmp_path))  # run_of asserts a complete, unmixed set
        leftovers = [
            p.name for p in tmp_path.rglob("*") if re.search(r"\.staged$|\.pending\.|^\.tmp-", p.name)
        ]
        assert leftovers == []
    assert None not in seen


# ---------------------------------------------------------------- filesystem faults


def test_read_only_folder_write_fails_with_one_error_and_old_set_kept(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "ro") as folder:
        write_artifact_set("ml", version(1), folder=folder)
        remount_read_only(folder)
        before = snapshot(folder)
        with pytest.raises(
            ParameterError, match=r"parameter output_dir: .* is not writable: .*: read-only file system"
        ):
            check_output_dir("output_dir", folder)
        with pytest.raises(
            ArtifactWriteError, match="read-only file system; the previous files are unchanged"
        ):
            write_artifact_set("ml", version(2), folder=folder)
        assert snapshot(folder) == before and run_of(folder) == 1
        assert read_manifest("ml", folder) is not None  # a read-only set stays readable


def test_full_disk_write_fails_with_one_error_and_old_set_kept(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "full", size="256k") as folder:
        write_artifact_set("ml", version(1), folder=folder)
        fill(folder)
        before = snapshot(folder)
        with pytest.raises(
            ParameterError, match=r"parameter output_dir: .* is not writable: .*: no space left"
        ):
            check_output_dir("output_dir", folder)
        with pytest.raises(
            ArtifactWriteError, match=r"no space left on device .*; the previous files are unchanged"
        ):
            write_artifact_set("ml", version(2), folder=folder)
        assert snapshot(folder) == before and run_of(folder) == 1
