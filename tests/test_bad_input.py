"""Bad input and failed writes (issue 14): one clear error, nothing lost.

Every case builds its input at test time, asserts the one message, the exit status where a
command is involved, and that nothing changed (file listings and hashes before and after).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adalib.data import (
    CandleDataError,
    import_file,
    load_candles,
    read_cache,
    read_candle_file,
    to_12h,
)
from adalib.data.__main__ import main as data_main
from adalib.data.files import KLINE_COLUMNS
from adalib.util import artifacts
from adalib.util.artifacts import (
    ArtifactMismatchError,
    ArtifactWriteError,
    check_agree,
    file_tags,
    read_manifest,
    reading_artifact_set,
    recover_artifact_set,
    write_artifact_set,
)
from adalib.util.cli import run_command
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
from tests.bad_input_support import (
    START,
    fill,
    hourly,
    kline_lines,
    remount_read_only,
    snapshot,
    tmpfs,
    write_lines,
)

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
    (lambda: check_number("threshold", -0.1, low=0), r"parameter threshold: -0.1 must be in \[0, inf\)"),
    (lambda: check_number("funding_rate_8h", 1, high=0.03),
     r"parameter funding_rate_8h: 1 must be in \(-inf, 0.03\]"),
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
def test_bad_parameter_names_parameter_value_and_problem(
    call: Callable[[], object], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ParameterError, match=f"^{message}") as info:
        call()
    assert str(info.value).count("parameter ") == 1  # one message, not a chain
    before = snapshot(tmp_path)

    def command(argv: list[str]) -> int:  # the same check at the top of a command
        call()
        (tmp_path / "work.txt").write_text("work done")  # never reached
        return 0

    assert run_command(command, []) == 1
    assert capsys.readouterr().err == f"error: {info.value}\n"
    assert snapshot(tmp_path) == before


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


def test_a_failure_after_the_commit_is_completed_by_the_next_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_artifact_set("ml", version(1), folder=tmp_path)
    real, calls = os.replace, []

    def fail_first_move(src: Any, dst: Any) -> None:
        calls.append(dst)
        if len(calls) == 3:  # after the pending and commit records: the first file's move
            raise OSError(5, "Input/output error", str(dst))
        real(src, dst)

    monkeypatch.setattr(os, "replace", fail_first_move)
    with pytest.raises(
        ArtifactWriteError, match=r"written but not all moved into place .*the next read or write"
    ):
        write_artifact_set("ml", version(2), folder=tmp_path)
    monkeypatch.setattr(os, "replace", real)
    assert read_manifest("ml", tmp_path) is not None and run_of(tmp_path) == 2


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


def test_a_reader_holds_the_set_still_while_a_writer_waits(tmp_path: Path) -> None:
    write_artifact_set("ml", version(1), folder=tmp_path)
    with reading_artifact_set("ml", tmp_path) as manifest:
        assert manifest is not None and manifest["set"] == "ml"
        pid = os.fork()
        if pid == 0:  # a separate process: without the reader's inherited lock descriptor
            os.closerange(3, 4096)
            write_artifact_set("ml", version(2, frame=False), folder=tmp_path)
            os._exit(0)
        time.sleep(0.3)
        assert run_of(tmp_path) == 1  # the writer waits for the reader
    os.waitpid(pid, 0)
    assert run_of(tmp_path) == 2


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


# ---------------------------------------------------------------- candle files via python -m adalib.data


def data_command(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """``python -m adalib.data ...`` in-process (the same ``run_command`` path as the command)."""
    capsys.readouterr()
    code = run_command(data_main, argv)
    return code, capsys.readouterr().err


@pytest.fixture
def cached(tmp_path: Path) -> Path:
    """A data folder holding a good cache (two days of 1h candles, imported)."""
    data_dir = tmp_path / "data"
    good = tmp_path / "good.parquet"
    hourly(48).write_parquet(good)
    import_file(good, data_dir=data_dir)
    return data_dir


def csv_file(tmp_path: Path, lines: list[str], name: str = "bad.csv", *, bom: bool = False) -> Path:
    return write_lines(tmp_path / name, lines, bom=bom)


HEADER = "open_time,open,high,low,close,volume"


def header_lines(frame: pl.DataFrame) -> list[str]:
    """A CSV with a header: epoch ms and OHLCV."""
    return [HEADER] + [",".join(line.split(",")[:6]) for line in kline_lines(frame)]


def swap(lines: list[str], row: int, column: int, value: str) -> list[str]:
    fields = lines[row].split(",")
    fields[column] = value
    return [*lines[:row], ",".join(fields), *lines[row + 1 :]]


FILE_CASES: dict[str, tuple[Callable[[], list[str]], str]] = {
    "epoch-seconds": (lambda: kline_lines(hourly(), 1e-3),
                      r"column 'open_time': epoch times look like seconds "
                      r"\(1704067200 at row 0 \(line 1\)\); they must be milliseconds "
                      r"\(microseconds are recognised too\)"),
    "epoch-nanoseconds": (lambda: kline_lines(hourly(), 1e6), "epoch times look like nanoseconds"),
    "mixed-ms-us": (lambda: kline_lines(hourly(24)) + kline_lines(hourly(24, START + timedelta(days=1)), 1e3),
                    r"mixed epoch units: 1704153600000000 at row 24 \(line 25\) looks like microseconds, "
                    r"1704067200000 at row 0 \(line 1\) like milliseconds"),
    "repeated-header": (lambda: [*header_lines(hourly())[:21], HEADER, *header_lines(hourly())[21:]],
                        r"a repeated header row at row 20 \(line 22\): 'open_time'"),
    "repeated-kline-header": (lambda: [*kline_lines(hourly())[:30], ",".join(KLINE_COLUMNS),
                                       *kline_lines(hourly())[30:]],
                              r"a repeated header row at row 30 \(line 31\)"),
    "trailing-junk": (lambda: [*kline_lines(hourly()), "-- exported by tool v2 --", "EOF"],
                      r"trailing junk from row 48 \(line 49\) to the end \(2 line\(s\)\), "
                      r"first '-- exported"),
    "junk-mid-file": (lambda: swap(header_lines(hourly()), 8, 0, "garbage"),
                      r"column 'open_time': unparsable time 'garbage' at row 7 \(line 9\)"),
    "unparsable-number": (lambda: swap(header_lines(hourly()), 6, 4, "1;5"),
                          r"column 'close': unparsable number '1;5' at row 5 \(line 7\)"),
    "high-inf": (lambda: swap(header_lines(hourly()), 3, 2, "inf"),
                 r"column 'high': infinite value in 1 row\(s\), first row 2 at 2024-01-01T02:00:00Z"),
    "volume-inf": (lambda: swap(header_lines(hourly()), 3, 5, "inf"), "column 'volume': infinite value"),
    "high-1e300": (lambda: swap(header_lines(hourly()), 3, 2, "1e300"),
                   r"column 'high': price above the sanity bound 1e\+09"),
    "volume-1e300": (lambda: swap(header_lines(hourly()), 3, 5, "1e300"),
                     r"column 'volume': volume above the sanity bound 1e\+18"),
    "negative-volume": (lambda: swap(header_lines(hourly()), 3, 5, "-1"), "column 'volume': negative volume"),
    "nan-close": (lambda: swap(header_lines(hourly()), 3, 4, "NaN"), "column 'close': null or NaN"),
    "empty-close": (lambda: swap(header_lines(hourly()), 3, 4, ""), "column 'close': null or NaN"),
    "zero-price": (lambda: swap(swap(header_lines(hourly()), 3, 3, "0"), 3, 1, "0"),
                   "column 'open': non-positive price"),
    "high-below-close": (lambda: swap(header_lines(hourly()), 3, 2, "0.0000001"),
                         r"column 'high': high < max\(open, close\)"),
    "4h-then-1h": (lambda: header_lines(pl.concat([hourly(48).gather_every(4),
                                                   hourly(48, START + timedelta(days=2))])),
                   r"the interval changes from 4:00:00 to 1:00:00 at row 13 \(2024-01-03T01:00:00Z\)"),
    "gap": (lambda: [*header_lines(hourly())[:10], *header_lines(hourly())[12:]],
            "gap in the 1:00:00 series, first missing candle 2024-01-01T09:00:00Z"),
    "two-gaps-in-a-row": (lambda: [h for i, h in enumerate(header_lines(hourly())) if i not in (11, 13)],
                          "gap in the 1:00:00 series, first missing candle 2024-01-01T10:00:00Z"),
    "1h-then-4h": (lambda: header_lines(pl.concat([hourly(24),
                                                   hourly(96, START + timedelta(days=1)).gather_every(4)])),
                   r"the interval changes from 1:00:00 to 4:00:00 at row 25 \(2024-01-02T04:00:00Z\)"),
    "1h-4h-1h": (lambda: header_lines(pl.concat([hourly(24),
                                                 hourly(24, START + timedelta(days=1)).gather_every(4),
                                                 hourly(24, START + timedelta(days=2))])),
                 r"the interval changes from 1:00:00 to 4:00:00 at row 25 \(2024-01-02T04:00:00Z\)"),
    "duplicate-time": (lambda: [*header_lines(hourly())[:10], *header_lines(hourly())[9:]],
                       "column 'open_time': duplicate times"),
    "missing-volume": (lambda: [",".join(line.split(",")[:5]) for line in header_lines(hourly())],
                       r"missing column\(s\) \['volume'\]"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(FILE_CASES))
def test_bad_candle_file_is_refused_and_the_cache_kept(
    case: str, cached: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make, message = FILE_CASES[case]
    bad = csv_file(tmp_path, make())
    before = snapshot(tmp_path)
    code, err = data_command(["import", str(bad), "--data-dir", str(cached)], capsys)
    assert code == 1 and err.count("\n") == 1, err
    assert re.match(f"error: {re.escape(str(bad))}: .*{message}", err), err
    assert snapshot(tmp_path) == before


def test_a_byte_order_mark_is_ignored(
    cached: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = hourly(72, START + timedelta(days=5))
    headerless = csv_file(tmp_path, kline_lines(frame), "bom.csv", bom=True)
    with_header = csv_file(tmp_path, header_lines(frame), "bom-header.csv", bom=True)
    assert read_candle_file(headerless).equals(read_candle_file(with_header))
    code, err = data_command(["import", str(headerless), "--data-dir", str(cached)], capsys)
    assert code == 0, err
    assert read_cache(data_dir=cached).equals(to_12h(frame, timedelta(hours=1)))


@settings(max_examples=25, deadline=None)
@given(hours=st.integers(min_value=0, max_value=24 * 365 * 90), n=st.integers(min_value=24, max_value=60))
def test_epoch_units_by_size(hours: int, n: int) -> None:
    """Any instant 2001..2090: ms and us read the same candles; s and ns are refused, saying so."""
    frame = hourly(n, datetime(2001, 1, 1, tzinfo=UTC) + timedelta(hours=hours))
    with tempfile.TemporaryDirectory() as folder:
        ms, us, sec, ns = (write_lines(Path(folder) / f"{u}.csv", kline_lines(frame, f))
                           for u, f in (("ms", 1), ("us", 1e3), ("s", 1e-3), ("ns", 1e6)))  # fmt: skip
        expected = read_candle_file(ms)  # 24+ hourly candles hold at least one complete 12h bucket
        assert expected.height >= 1 and read_candle_file(us).equals(expected)
        for path, unit in ((sec, "seconds"), (ns, "nanoseconds")):
            with pytest.raises(CandleDataError, match=f"epoch times look like {unit}"):
                read_candle_file(path)


PATH_CASES: dict[str, tuple[Callable[[Path], list[str]], str]] = {
    "folder": (lambda t: ["import", str(_mkdir(t / "candles.csv"))],
               r"candles\.csv: a folder, not a candle file"),
    "symlink-loop": (lambda t: ["import", str(_loop(t / "loop.csv"))], r"loop\.csv: a symlink loop"),
    "missing": (lambda t: ["import", str(t / "nope.csv")], r"nope\.csv: file not found"),
    "corrupt-parquet": (lambda t: ["import", str(_junk(t / "x.parquet"))], r"x\.parquet: unreadable file"),
    "data-dir-is-a-file": (lambda t: ["import", str(t / "good.parquet"), "--data-dir",
                                      str(t / "good.parquet")],
                           r"parameter --data-dir: '.*good\.parquet' is a file, not a folder"),
    "symbol-escapes": (lambda t: ["import", str(t / "good.parquet"), "--symbol", "../../x"],
                       r"parameter --symbol: '\.\./\.\./x' must be 2 to 20 of A-Z and 0-9"),
    "symbol-lowercase": (lambda t: ["import", str(t / "good.parquet"), "--symbol", "adausdt"],
                         "parameter --symbol: 'adausdt' must be 2 to 20"),
    "end-yesterday": (lambda t: ["fetch", "--end", "yesterday", "--binance-url", "http://127.0.0.1:9"],
                      "parameter --end: 'yesterday' is not an ISO 8601 date or datetime"),
    "binance-url": (lambda t: ["fetch", "--binance-url", "ftp://example"],
                    "parameter --binance-url: 'ftp://example' must start with http:// or https://"),
    "corrupt-cache": (lambda t: ["fetch", "--binance-url", "http://127.0.0.1:9"],
                      r"ADAUSDT-12h\.parquet: corrupt candle cache \(.*\); delete it and fill it again"),
    "unknown-option": (lambda t: ["import", "--frobnicate"], "python -m adalib.data import: "),
}  # fmt: skip


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


def _loop(path: Path) -> Path:
    path.symlink_to(path)
    return path


def _junk(path: Path) -> Path:
    path.write_bytes(b"PAR1 this is not parquet PAR1")
    return path


@pytest.mark.parametrize("case", list(PATH_CASES))
def test_bad_path_or_option_is_one_error_line(
    case: str, cached: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make, message = PATH_CASES[case]
    if case == "corrupt-cache":
        cache = cached / "ADAUSDT-12h.parquet"
        cache.write_bytes(cache.read_bytes()[: cache.stat().st_size // 2])
    argv = make(tmp_path)
    if "--data-dir" not in argv:
        argv += ["--data-dir", str(cached if case != "symbol-escapes" else tmp_path / "a" / "b" / "data")]
    before = snapshot(tmp_path)
    code, err = data_command(argv, capsys)
    assert code == (2 if case == "unknown-option" else 1) and err.count("\n") == 1, err
    assert re.match(f"error: .*{message}", err), err
    assert snapshot(tmp_path) == before


def test_corrupt_cache_names_its_path_when_loaded(cached: Path) -> None:
    cache = cached / "ADAUSDT-12h.parquet"
    cache.write_bytes(b"garbage")
    with pytest.raises(CandleDataError, match=f"^{re.escape(str(cache))}: corrupt candle cache"):
        load_candles("auto", data_dir=cached)


def test_the_command_shows_a_traceback_only_with_debug(
    cached: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = csv_file(tmp_path, kline_lines(hourly(), 1e-3))
    before = snapshot(tmp_path)
    command = [sys.executable, "-m", "adalib.data", "import", str(bad), "--data-dir", str(cached)]
    plain = subprocess.run(command, capture_output=True, text=True, check=False)  # the real command
    assert plain.returncode == 1 and plain.stderr.startswith("error: ") and plain.stderr.count("\n") == 1
    with pytest.raises(CandleDataError, match="epoch times look like seconds"):  # re-raised: a traceback
        run_command(data_main, [*command[3:], "--debug"])
    monkeypatch.setenv("ADALIB_DEBUG", "1")
    with pytest.raises(CandleDataError, match="epoch times look like seconds"):
        run_command(data_main, command[3:])
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"start": "yesterday"}, ParameterError, "parameter start: 'yesterday' is not an ISO 8601 date"),
        ({"end": "2020-13-01"}, ParameterError, "parameter end: '2020-13-01' is not an ISO 8601 date"),
        ({"symbol": "../../x"}, ParameterError, "parameter symbol: '../../x' must be 2 to 20"),
        ({"data_path": 3}, ParameterError, "parameter data_path: 3 must be 'auto', 'binance', 'synthetic'"),
        (
            {"data_path": "SECONDS"},
            CandleDataError,
            "seconds.csv: column 'open_time': epoch times look like seconds",
        ),
        ({"data_path": "FOLDER"}, CandleDataError, "folder.csv: a folder, not a candle file"),
    ],
    ids=["start", "end", "symbol", "data_path-type", "data_path-seconds", "data_path-folder"],
)
def test_load_candles_refuses_before_any_work(
    kwargs: dict[str, Any], error: type[Exception], message: str, cached: Path, tmp_path: Path
) -> None:
    """What every notebook calls first: bad parameters and files fail here, naming the parameter or file."""
    seconds = csv_file(tmp_path, kline_lines(hourly(), 1e-3), "seconds.csv")
    folder = _mkdir(tmp_path / "folder.csv")
    swap_in = {"SECONDS": str(seconds), "FOLDER": str(folder)}
    kwargs = {k: swap_in.get(v, v) if isinstance(v, str) else v for k, v in kwargs.items()}
    before = snapshot(tmp_path)
    with pytest.raises(error, match=re.escape(message)):
        load_candles(**{"data_path": "auto", "data_dir": cached, **kwargs})
    assert snapshot(tmp_path) == before


def test_immutable_output_folder_is_refused_even_for_root(tmp_path: Path) -> None:
    """``chattr +i``: a folder nobody, root included, may write into (skipped where unsupported)."""
    folder = tmp_path / "out"
    write_artifact_set("ml", version(1), folder=folder)
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True, check=False).returncode:
        pytest.skip("chattr +i is not supported on this filesystem")
    try:
        before = snapshot(tmp_path)
        with pytest.raises(ParameterError, match=r"is not writable: .*: operation not permitted"):
            check_output_dir("output_dir", folder)
        with pytest.raises(
            ArtifactWriteError, match=r"operation not permitted .*; the previous files are unchanged"
        ):
            write_artifact_set("ml", version(2), folder=folder)
        assert snapshot(tmp_path) == before and run_of(folder) == 1
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=False)


# ---------------------------------------------------------------- faults in the data folder


def test_read_only_data_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.parquet"
    hourly(96).write_parquet(good)
    with tmpfs(tmp_path / "data") as data_dir:
        import_file(good, data_dir=data_dir)
        remount_read_only(data_dir)
        before = snapshot(tmp_path)
        code, err = data_command(["import", str(good), "--data-dir", str(data_dir)], capsys)
        assert code == 1 and err.count("\n") == 1
        assert re.match(
            r"error: parameter --data-dir: '.*' is not writable: .*: read-only file system$", err
        ), err
        with pytest.raises(
            ArtifactWriteError, match=r"read-only file system; the previous files are unchanged"
        ):
            artifacts.write_artifact_set("ADAUSDT-12h", {"ADAUSDT-12h.parquet": hourly(4)}, folder=data_dir)
        assert snapshot(tmp_path) == before
        assert read_cache(data_dir=data_dir).height == 8  # still readable


@pytest.mark.parametrize("leave", [0, 8192], ids=["full", "nearly-full"])
def test_full_data_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str], leave: int) -> None:
    """Full: the up-front probe refuses. Nearly full: the probe passes, the write itself fails cleanly."""
    small, big = tmp_path / "small.parquet", tmp_path / "big.csv"
    hourly(48).write_parquet(small)
    write_lines(big, kline_lines(hourly(24 * 400)))  # 400 days: a cache far larger than 8 KiB
    with tmpfs(tmp_path / "data", size="512k") as data_dir:
        import_file(small, data_dir=data_dir)
        fill(data_dir, leave)
        before = snapshot(tmp_path)
        code, err = data_command(["import", str(big), "--data-dir", str(data_dir)], capsys)
        assert code == 1 and err.count("\n") == 1, err
        assert "no space left on device (the disk or folder is full)" in err and "thrift" not in err.lower()
        if leave:
            assert "the previous files are unchanged" in err
        assert snapshot(tmp_path) == before
        assert read_cache(data_dir=data_dir).height == 4


def _kill_when_writing(child: subprocess.Popen[bytes], data_dir: Path, timeout: float = 30.0) -> bool:
    """SIGKILL ``child`` as soon as a staging file of its write appears; True if it died mid-write."""
    deadline = time.monotonic() + timeout
    folders = (data_dir, data_dir / artifacts.JOURNAL_DIR)
    while child.poll() is None and time.monotonic() < deadline:
        names = [n for folder in folders for n in os.listdir(folder)]
        if any(".staged" in n or ".pending." in n for n in names):
            child.send_signal(signal.SIGKILL)
            child.wait()
            return True
        time.sleep(0.0002)  # leave the CPU to the child
    child.kill()
    child.wait()
    return False


def test_sigkill_during_an_import_leaves_the_old_or_the_new_cache(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    old, new = tmp_path / "old.parquet", tmp_path / "new.csv"
    hourly(48).write_parquet(old)
    write_lines(new, kline_lines(hourly(24 * 300, START + timedelta(days=30))))
    import_file(old, data_dir=data_dir)
    old_cache, new_cache = read_cache(data_dir=data_dir), read_candle_file(new)
    command = [sys.executable, "-m", "adalib.data", "import", str(new), "--data-dir", str(data_dir)]
    for _ in range(2):
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        mid_write = _kill_when_writing(child, data_dir)
        cache = read_cache(data_dir=data_dir)  # recovers an interrupted write first
        assert cache.equals(old_cache) or cache.equals(new_cache)
        assert mid_write or cache.equals(new_cache)
        leftovers = [
            p.name for p in data_dir.rglob("*") if re.search(r"\.staged$|\.pending\.|^\.tmp-", p.name)
        ]
        assert leftovers == []
        import_file(old, data_dir=data_dir)
