"""load_candles, the fingerprint, the synthetic series and the command line."""

from __future__ import annotations

import hashlib
import struct
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from adalib.data import CandleDataError, load_candles, synthetic_candles
from adalib.data.schema import Candles, data_sha256
from adalib.util.paths import REPO_ROOT


def test_sha256_matches_an_independent_packing() -> None:
    frame = synthetic_candles(5, seed=2)
    packed = b"".join(struct.pack("<q", int(t.timestamp() * 1000)) for t in frame["open_time"])
    for name in ("open", "high", "low", "close", "volume"):
        packed += b"".join(struct.pack("<d", v) for v in frame[name])
    assert data_sha256(frame) == hashlib.sha256(packed).hexdigest()


def test_metadata_fields() -> None:
    meta = Candles(synthetic_candles(3), "synthetic").metadata()
    assert meta == {
        "data_source": "synthetic",
        "data_sha256": data_sha256(synthetic_candles(3)),
        "n_candles": 3,
        "first_candle": "2020-01-01T00:00:00Z",
        "last_candle": "2020-01-02T00:00:00Z",
    }


def test_start_end_window_is_half_open() -> None:
    data = load_candles("synthetic", start="2021-01-01T12:00", end=datetime(2021, 1, 3, tzinfo=UTC))
    times = data.frame["open_time"]
    assert (times[0], times[-1], data.frame.height) == (
        datetime(2021, 1, 1, 12, tzinfo=UTC), datetime(2021, 1, 2, 12, tzinfo=UTC), 3,
    )  # fmt: skip
    with pytest.raises(CandleDataError, match="no candles with 2030-01-01 <= open_time"):
        load_candles("synthetic", start="2030-01-01")


def test_file_paths_resolve_against_the_repo_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.parquet"
    synthetic_candles(10).write_parquet(path)
    monkeypatch.chdir(tmp_path.parent)
    relative = Path(path).relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path
    data = load_candles(str(relative))
    assert data.source == str(relative) and data.frame.equals(synthetic_candles(10))


def test_synthetic_is_deterministic_with_clustering_and_fat_tails() -> None:
    a, b = synthetic_candles(), synthetic_candles()
    assert a.equals(b) and not a.equals(synthetic_candles(seed=1))
    r = np.diff(np.log(a["close"].to_numpy()))
    z = (r - r.mean()) / r.std()
    excess_kurtosis = float(np.mean(z**4) - 3)
    size = np.abs(r) - np.mean(np.abs(r))
    acf_abs = float(np.sum(size[1:] * size[:-1]) / np.sum(size * size))
    acf_r = float(np.sum(z[1:] * z[:-1]) / np.sum(z * z))
    assert excess_kurtosis > 1.0  # fat tails
    assert acf_abs > 0.1  # volatility clustering (real ADA 12h: about 0.24)
    assert abs(acf_r) < 0.05  # no predictable mean
    assert 0.03 < r.std() < 0.07  # 12h-crypto-like scale
    assert a["open_time"].diff().drop_nulls().unique().to_list() == [timedelta(hours=12)]


def run_cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "adalib.data", *args, "--data-dir", str(data_dir)]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def test_cli_import_reports_and_refuses_bad_files(tmp_path: Path) -> None:
    good = tmp_path / "good.parquet"
    synthetic_candles(48, interval=timedelta(hours=1)).write_parquet(good)
    ok = run_cli("import", str(good), data_dir=tmp_path / "data")
    assert ok.returncode == 0, ok.stderr
    assert "4 candles 2020-01-01T00:00:00Z .. 2020-01-02T12:00:00Z" in ok.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,open,high,low,close\n2024-01-01,1,1,1,1\n")
    fail = run_cli("import", str(bad), data_dir=tmp_path / "other")
    assert fail.returncode == 1 and f"error: {bad}: missing column(s) ['volume']" in fail.stderr
    assert not (tmp_path / "other").exists()
