"""Reading candle files: layouts, resampling to 12h, and one clear error per bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from adalib.data import CandleDataError, import_file, read_candle_file, synthetic_candles, to_12h
from adalib.data.files import KLINE_COLUMNS
from tests.bad_input_support import snapshot

START = datetime(2024, 1, 1, tzinfo=UTC)


def hourly(n: int = 24 * 10, start: datetime = START) -> pl.DataFrame:
    return synthetic_candles(n, interval=timedelta(hours=1), start=start, seed=7)


def coarsen(frame: pl.DataFrame, every: str) -> pl.DataFrame:
    """An independent aggregation, the way an exchange builds its own 4h candles."""
    return frame.group_by_dynamic("open_time", every=every).agg(
        pl.col("open").first(), pl.col("high").max(), pl.col("low").min(), pl.col("close").last(),
        pl.col("volume").sum(),
    )  # fmt: skip


def test_hand_computed_resample() -> None:
    times = [START + timedelta(hours=6 * i) for i in range(4)]
    frame = pl.DataFrame(
        {"open_time": times, "open": [1.0, 2.0, 3.0, 4.0], "high": [2.5, 3.0, 5.0, 4.5],
         "low": [0.5, 1.5, 2.0, 3.5], "close": [2.0, 3.0, 4.0, 4.2], "volume": [1.0, 2.0, 3.0, 4.0]},
    ).with_columns(pl.col("open_time").cast(pl.Datetime("ms", "UTC")))  # fmt: skip
    out = to_12h(frame, timedelta(hours=6))
    assert out.rows() == [
        (START, 1.0, 3.0, 0.5, 3.0, 3.0),
        (START + timedelta(hours=12), 3.0, 5.0, 2.0, 4.2, 7.0),
    ]


def test_1h_and_4h_give_identical_12h_on_overlap(tmp_path: Path) -> None:
    base = hourly(24 * 20, START - timedelta(hours=5))  # starts mid-bucket: first bucket incomplete
    one_hour, four_hour = tmp_path / "h1.parquet", tmp_path / "h4.parquet"
    base.write_parquet(one_hour)
    coarse = coarsen(base.filter(pl.col("open_time") >= START + timedelta(hours=4)), "4h")
    coarse.slice(0, coarse.height - 1).write_parquet(four_hour)  # ends mid-bucket too
    a, b = read_candle_file(one_hour), read_candle_file(four_hour)
    assert a["open_time"].dt.hour().is_in([0, 12]).all()
    assert a["open_time"][0] == START  # the 2023-12-31 12:00 bucket (from 19:00 only) is cut
    assert b["open_time"][0] == START + timedelta(hours=12)  # 4h data from 04:00: the 00:00 bucket is cut
    overlap = a.join(b, on="open_time", how="inner")
    assert overlap.height >= 35
    for name in ("open", "high", "low", "close", "volume"):
        np.testing.assert_allclose(overlap[name], overlap[f"{name}_right"], rtol=1e-12)


def test_shared_1h_and_4h_files_agree(shared_data: Path) -> None:
    a = read_candle_file(shared_data / "ADAUSDT-1h.parquet")
    b = read_candle_file(shared_data / "ADAUSDT-4h.parquet")
    assert (a.height, str(a["open_time"][0]), str(a["open_time"][-1])) == (
        4441, "2020-01-31 12:00:00+00:00", "2026-02-28 12:00:00+00:00",
    )  # fmt: skip
    overlap = a.join(b, on="open_time", how="inner")
    assert overlap.height == b.height == 3770
    for name in ("open", "high", "low", "close"):
        assert (overlap[name] == overlap[f"{name}_right"]).all(), name
    # Volumes: the vendor's 4h file differs from the sum of its 1h candles in one bucket
    # (2022-07-16 00:00, by 26,581 of 3.6e8); every other 12h volume is identical.
    differs = overlap.filter(pl.col("volume") != pl.col("volume_right"))
    assert differs["open_time"].cast(pl.String).to_list() == ["2022-07-16 00:00:00.000+00:00"]
    assert abs(differs["volume"][0] / differs["volume_right"][0] - 1) < 1e-3


def test_binance_kline_csv_without_header(tmp_path: Path) -> None:
    base = hourly(48)
    ms = base["open_time"].dt.epoch("ms")
    kline = base.select(
        ms.alias("open_time"), "open", "high", "low", "close", "volume",
        (ms + 3_599_999).alias("close_time"), pl.lit(1.0).alias("quote_volume"),
        pl.lit(10).alias("count"), pl.lit(0.5).alias("taker_buy_volume"),
        pl.lit(0.5).alias("taker_buy_quote_volume"), pl.lit(0).alias("ignore"),
    )  # fmt: skip
    path = tmp_path / "ADAUSDT-1h-2024-01.csv"
    kline.write_csv(path, include_header=False)
    with_header = tmp_path / "with_header.csv"
    kline.write_csv(with_header)
    expected = to_12h(base, timedelta(hours=1))
    assert read_candle_file(path).equals(expected)
    assert read_candle_file(with_header).equals(expected)
    assert list(KLINE_COLUMNS[:6]) == ["open_time", "open", "high", "low", "close", "volume"]


def test_epoch_microseconds_are_recognised(tmp_path: Path) -> None:
    base = hourly(24)
    path = tmp_path / "us.csv"
    base.with_columns(pl.col("open_time").dt.epoch("us")).write_csv(path)
    assert read_candle_file(path).equals(to_12h(base, timedelta(hours=1)))


def test_iso_strings_and_timezones(tmp_path: Path) -> None:
    base = hourly(24)
    naive = tmp_path / "naive.csv"
    base.with_columns(pl.col("open_time").dt.strftime("%Y-%m-%d %H:%M:%S").alias("timestamp")).drop(
        "open_time"
    ).write_csv(naive)
    shifted = tmp_path / "tz.parquet"  # the same instants, written in UTC+2: converted back to UTC
    base.with_columns(pl.col("open_time").dt.convert_time_zone("Europe/Athens")).write_parquet(shifted)
    expected = to_12h(base, timedelta(hours=1))
    assert read_candle_file(naive).equals(expected)
    assert read_candle_file(shifted).equals(expected)


def bad_file(tmp_path: Path, frame: pl.DataFrame, name: str = "bad.csv") -> Path:
    path = tmp_path / name
    frame.write_csv(path) if name.endswith(".csv") else frame.write_parquet(path)
    return path


def with_value(frame: pl.DataFrame, column: str, row: int, value: object) -> pl.DataFrame:
    values = frame[column].cast(pl.String if isinstance(value, str) else frame[column].dtype).to_list()
    values[row] = value
    return frame.with_columns(pl.Series(column, values))


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda f: f.drop("close"), r"missing column\(s\) \['close'\]"),
        (lambda f: f.drop("open_time"), "missing column 'open_time' or 'timestamp'"),
        (lambda f: with_value(f, "high", 5, "n/a"), "column 'high': unparsable number 'n/a' at row 5"),
        (lambda f: with_value(f.with_columns(pl.col("open_time").cast(str)), "open_time", 3, "yesterday"),
         "column 'open_time': unparsable time 'yesterday' at row 3"),
        (lambda f: with_value(f, "close", 7, float("nan")), "column 'close': null or NaN in 1 row"),
        (lambda f: with_value(f, "open", 2, None), "column 'open': null or NaN"),
        (lambda f: with_value(with_value(f, "low", 4, -1.0), "open", 4, -0.5), "column 'open': non-positive"),
        (lambda f: with_value(f, "high", 9, 1e-9), r"column 'high': high < max\(open, close\)"),
        (lambda f: with_value(f, "low", 9, 1e9), r"column 'low': low > min\(open, close\)"),
        (lambda f: pl.concat([f.slice(0, 5), f.slice(4)]), "column 'open_time': duplicate times"),
        (lambda f: pl.concat([f.slice(0, 5), f.slice(6, 1), f.slice(5, 1), f.slice(7)]),
         "column 'open_time': times not sorted ascending"),
        (lambda f: pl.concat([f.slice(0, 10), f.slice(11)]),
         "gap in the 1:00:00 series, first missing candle 2024-01-01T10:00:00Z"),
        (lambda f: f.gather_every(5), "interval 5:00:00 does not divide 12h"),
        (lambda f: f.with_columns(pl.col("open_time") + timedelta(minutes=30)).gather_every(2),
         "not aligned to the 2:00:00 grid"),
        (lambda f: f.head(1), "need at least 2 candles"),
        (lambda f: f.head(6), "no complete 12h candle"),
        (lambda f: f.head(0), "no rows"),
    ],
)  # fmt: skip
def test_bad_input_raises_one_clear_error(tmp_path: Path, mutate, expected: str) -> None:
    path = bad_file(tmp_path, mutate(hourly(48)))
    with pytest.raises(CandleDataError, match=expected) as info:
        read_candle_file(path)
    assert str(path) in str(info.value)


def test_unreadable_and_empty_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(CandleDataError, match=r"empty\.csv: empty file"):
        read_candle_file(empty)
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"not a parquet file")
    with pytest.raises(CandleDataError, match=r"junk\.parquet: unreadable file"):
        read_candle_file(junk)
    with pytest.raises(CandleDataError, match=r"missing\.csv: file not found"):
        read_candle_file(tmp_path / "missing.csv")
    with pytest.raises(CandleDataError, match=r"unknown file type '\.json'"):
        (tmp_path / "x.json").write_text("{}")
        read_candle_file(tmp_path / "x.json")


def test_bad_import_writes_nothing_and_keeps_the_old_cache(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    bad = bad_file(tmp_path, with_value(hourly(48), "close", 3, float("nan")))
    with pytest.raises(CandleDataError):
        import_file(bad, data_dir=data_dir)
    assert not data_dir.exists() or not any(data_dir.iterdir())
    good = bad_file(tmp_path, hourly(48), "good.parquet")
    cached = import_file(good, data_dir=data_dir)
    before = snapshot(data_dir)
    with pytest.raises(CandleDataError):
        import_file(bad, data_dir=data_dir)
    assert snapshot(data_dir) == before
    assert sorted(p.name for p in data_dir.iterdir() if not p.name.startswith(".")) == [cached.name]
