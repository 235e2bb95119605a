"""The protective stop and the funding history of contract section 3, on hand-computed 3-6 candle cases,
each checked on the engine and on the reference loop."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from backtest_support import H12, JAN1, approx, candles

from adalib.backtest import (
    BacktestConfig,
    BacktestError,
    check_funding_coverage,
    read_funding,
    reference_backtest,
    run_backtest,
    sweep,
)

ZERO = dict(fee_rate=0.0, slippage_bps=0.0, maintenance_margin_rate=0.0)


def both(frame: pl.DataFrame, cfg: BacktestConfig, funding: pl.DataFrame | None = None):
    """The engine's result, after checking that the reference loop gives the same trades and equity."""
    fast, slow = run_backtest(frame, cfg, funding=funding), reference_backtest(frame, cfg, funding=funding)
    assert fast.trades.height == slow.trades.height
    for column in fast.trades.columns:
        for x, y in zip(fast.trades[column].to_list(), slow.trades[column].to_list(), strict=True):
            assert x == (approx(y) if isinstance(y, float) else y), column
    for x, y in zip(fast.equity["equity"].to_list(), slow.equity["equity"].to_list(), strict=True):
        assert x == approx(y)
    assert fast.metrics["stopped"] == slow.metrics["stopped"]
    assert fast.metrics["liquidated"] == slow.metrics["liquidated"]
    return fast


def test_long_stop_triggers_at_the_open_of_a_gap() -> None:
    # long from open_1 = 100 with a 5% stop: P_stop = 95; candle 1 dips to 96 (no trigger), candle 2 opens
    # at 90, below the stop: the stop fills at that open, not at 95 (s_2 = 0: nothing reopens)
    frame = candles(
        [(100, 101, 99, 100), (100, 104, 96, 102), (90, 92, 88, 91), (91, 92, 90, 91)], [1, 1, 0, 0]
    )
    res = both(frame, BacktestConfig(stop_loss=0.05, fee_rate=0.001, slippage_bps=10.0, funding_rate_8h=0.0))
    (trade,) = res.trades.rows(named=True)
    entry = 100 * 1.001
    qty = 10000 / entry
    exit_fill = 90 * (1 - 0.001)  # the exit slippage rule on the trigger price
    fees = 0.001 * qty * entry + 0.001 * qty * exit_fill
    assert (trade["stopped"], trade["liquidated"], trade["exit_price"]) == (True, False, approx(exit_fill))
    assert trade["exit_time"] == JAN1 + 3 * H12  # the close of the stop candle
    assert trade["pnl"] == approx(qty * (exit_fill - entry) - fees)
    assert res.metrics["stopped"] == 1 and res.metrics["n_trades"] == 1
    # the book is flat afterwards
    assert res.equity["equity"].to_list()[2:] == [approx(10000 + trade["pnl"])] * 2


def test_short_stop_triggers_intrabar_then_hold_reenters() -> None:
    # short from open_1 = 100, 3% stop: P_stop = 103; candle 2 opens at 101 and its high reaches 104:
    # stopped at 103. The signal stays -1, so hold re-enters short at open_3 = 102 (P_stop 105.06)
    frame = candles(
        [
            (100, 101, 99, 100),
            (100, 102, 98, 101),
            (101, 104, 100, 102),
            (102, 103, 99, 100),
            (100, 101, 99, 100),
        ],
        [-1, -1, -1, 0, 0],
    )
    res = both(frame, BacktestConfig(stop_loss=0.03, **ZERO))
    first, second = res.trades.rows(named=True)
    assert (first["side"], first["stopped"], first["exit_price"]) == (-1, True, approx(103))
    assert first["pnl"] == approx(100 * (100 - 103))  # qty 100
    equity = 10000 - 300
    assert (second["entry_time"], second["entry_price"], second["stopped"]) == (JAN1 + 3 * H12, 102, False)
    assert second["qty"] == approx(equity / 102) and second["exit_price"] == approx(100)
    assert res.metrics["final_equity"] == approx(equity + equity / 102 * 2)


def test_liquidation_comes_first_when_it_lies_between_entry_and_stop() -> None:
    # leverage 10, mmr 0: P_liq = 100 * (1 - 1/10) = 90. A 20% stop (P_stop = 80) lies beyond it: the low of
    # 85 liquidates at 90. A 5% stop (P_stop = 95) lies before it: the same candle stops at 95.
    frame = candles([(100, 101, 99, 100), (100, 101, 85, 88), (88, 89, 87, 88)], [1, 1, 0])
    liq = both(frame, BacktestConfig(leverage=10.0, stop_loss=0.2, **ZERO)).trades.row(0, named=True)
    assert (liq["liquidated"], liq["stopped"], liq["exit_price"], liq["pnl"]) == (True, False, 90, -10000)
    stop = both(frame, BacktestConfig(leverage=10.0, stop_loss=0.05, **ZERO)).trades.row(0, named=True)
    assert (stop["liquidated"], stop["stopped"], stop["exit_price"]) == (False, True, 95)
    assert stop["pnl"] == approx(1000 * (95 - 100))  # qty = 10000 * 10 / 100


def test_stop_in_per_bar_mode_and_funding_kept_before_the_stop_candle() -> None:
    # long from open_1 (2024-01-01 12:00), constant funding 0.001 per 8h event: 16:00 is in candle 1 and
    # paid (priced at open_1 = 100); 00:00 and 08:00 of Jan 2 are in candle 2, the stop candle: not paid
    frame = candles(
        [(100, 101, 99, 100), (100, 101, 99, 100), (100, 100, 90, 92), (92, 93, 91, 92)], [1, 1, 0, 0]
    )
    res = both(frame, BacktestConfig(stop_loss=0.04, funding_rate_8h=0.001, **ZERO))
    (trade,) = res.trades.rows(named=True)
    assert trade["funding"] == approx(100 * 0.001 * 100)  # qty 100 x 0.1% x 100: one event
    assert trade["pnl"] == approx(100 * (96 - 100) - 10)
    per_bar = both(frame, BacktestConfig(mode="per_bar", stop_loss=0.04, funding_rate_8h=0.001, **ZERO))
    assert per_bar.trades["stopped"].to_list() == [False, True]


def funding_events(rows: list[tuple[datetime, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        {"funding_time": [t for t, _ in rows], "funding_rate": [r for _, r in rows]},
        schema={"funding_time": pl.Datetime("ms", "UTC"), "funding_rate": pl.Float64},
    )


def test_funding_history_irregular_instants_and_negative_rates() -> None:
    # long over candles 1-2 (2024-01-01 12:00 .. 2024-01-02 12:00), qty 100. Events: 12:00 (the entry
    # instant: not paid), 15:30 (+0.001, candle 1, open 100), 20:00 (-0.002, candle 1), 03:00 (+0.0005,
    # candle 2, open 104), 12:00 on Jan 2 (the exit instant: not paid), 19:00 (after the exit)
    t = JAN1 + H12
    events = funding_events(
        [
            (JAN1, 0.0),
            (JAN1 + timedelta(hours=8), 0.0),
            (t, 0.01),
            (t + timedelta(hours=3, minutes=30), 0.001),
            (t + timedelta(hours=8), -0.002),
            (t + timedelta(hours=15), 0.0005),
            (t + timedelta(hours=19), 0.0003),
            (t + 2 * H12, 0.01),
            (t + 2 * H12 + timedelta(hours=7), 0.01),
        ]
    )
    frame = candles(
        [(100, 101, 99, 100), (100, 105, 99, 104), (104, 106, 103, 105), (105, 106, 104, 105)], [1, 1, 0, 0]
    )
    cfg = BacktestConfig(funding_rate_8h=0.03, **ZERO)  # ignored: the history replaces it
    res = both(frame, cfg, funding=events)
    (trade,) = res.trades.rows(named=True)
    paid = 100 * (100 * (0.001 - 0.002) + 104 * (0.0005 + 0.0003))
    assert trade["funding"] == approx(paid)  # -10 + 8.32 = -1.68: the long received funding
    assert trade["pnl"] == approx(100 * (105 - 100) - paid)
    # equity counts an event from the close of its candle
    assert res.equity["equity"].to_list()[1] == approx(10000 + 100 * 4 + 10)
    assert res.metrics["funding_paid"] == approx(paid)


def test_a_funding_hole_is_refused_before_any_work() -> None:
    frame = candles([(100, 101, 99, 100)] * 4, [1, 1, 0, 0])
    every_8h = [(JAN1 + timedelta(hours=8 * k), 0.0001) for k in range(7)]
    covered = funding_events(every_8h)
    run_backtest(frame, funding=covered)  # 00:00 Jan 1 .. 00:00 Jan 3 covered
    holed = funding_events(every_8h[:2] + every_8h[4:])  # nothing from 08:00 Jan 1 to 08:00 Jan 2
    message = "first uncovered instant 2024-01-01T16:00:00Z"
    for engine in (run_backtest, reference_backtest):
        with pytest.raises(BacktestError, match=message):
            engine(frame, funding=holed)
    with pytest.raises(BacktestError, match=message):
        sweep(frame, funding=holed, fee_rate=[0.0, 0.001])
    late = funding_events(every_8h[1:])  # the first 8h of the segment are not covered (gap of exactly 8h: ok)
    run_backtest(frame, funding=late)
    with pytest.raises(BacktestError, match="first uncovered instant 2024-01-03T08:00:00Z"):
        check_funding_coverage(covered, JAN1, JAN1 + timedelta(hours=57))


def test_read_funding_accepts_the_known_layouts(tmp_path: Path) -> None:
    ms = [1704067200000, 1704096000000]
    # the file `python -m adalib.data funding` writes (with mark_price), as parquet
    downloaded = pl.DataFrame(
        {"funding_time": ms, "funding_rate": [1e-4, -2e-4], "mark_price": [0.5, 0.6]}
    ).with_columns(pl.col("funding_time").cast(pl.Datetime("ms")).dt.replace_time_zone("UTC"))
    downloaded.write_parquet(tmp_path / "a.parquet")
    # Binance's names, epoch ms, CSV; and naive datetimes in a CSV
    (tmp_path / "b.csv").write_text("fundingTime,fundingRate\n1704096000000,-0.0002\n1704067200000,0.0001\n")
    (tmp_path / "c.csv").write_text(
        "funding_time,funding_rate\n2024-01-01 00:00:00,0.0001\n2024-01-01 08:00:00,-0.0002\n"
    )
    for name in ("a.parquet", "b.csv", "c.csv"):
        got = read_funding(tmp_path / name)
        assert got.schema == pl.Schema({"funding_time": pl.Datetime("ms", "UTC"), "funding_rate": pl.Float64})
        assert got["funding_time"].dt.epoch("ms").to_list() == ms, name  # sorted
        assert got["funding_rate"].to_list() == [1e-4, -2e-4]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("time,rate\n1704067200000,0.0001\n", "missing column 'funding_time'"),
        ("fundingTime,fundingRate\n1704067200,0.0001\n", "not in milliseconds"),
        ("fundingTime,fundingRate\n1704067200000,0.0001\n1704096000000,\n", "column 'funding_rate': null"),
        ("fundingTime,fundingRate\n1704067200000,abc\n", "column 'funding_rate': expected numbers"),
        ("fundingTime,fundingRate\n1704067200000,0.0001\n1704067200000,0.0002\n", "appears more than once"),
        ("fundingTime,fundingRate\n1704067200000,0.5\n", r"0.5 at row 0 is beyond \+-0.03 per event"),
    ],
)
def test_bad_funding_files_fail_with_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "funding.csv"
    path.write_text(text)
    with pytest.raises(BacktestError, match=message) as info:
        read_funding(path)
    assert str(path) in str(info.value)
    with pytest.raises(BacktestError, match="not found"):
        read_funding(tmp_path / "missing.parquet")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(stop_loss=0.0), "parameter stop_loss"),
        (dict(stop_loss=1.0), "parameter stop_loss"),
        (dict(stop_loss=float("nan")), "parameter stop_loss"),
        (dict(funding_rate_8h=0.5), "parameter funding_rate_8h: must be within"),
        (dict(leverage=126.0), r"parameter leverage: must be in \(0, 125\]"),
        (dict(mode=1), "parameter mode"),
    ],
)
def test_bad_config_values(kwargs: dict, message: str) -> None:
    with pytest.raises(BacktestError, match=message):
        BacktestConfig(**kwargs)


def test_sweep_over_stops_and_funding_history_equals_each_backtest() -> None:
    frame = candles(
        [
            (100, 104, 97, 103),
            (103, 108, 95, 96),
            (96, 99, 88, 98),
            (90, 95, 85, 94),
            (94, 99, 93, 98),
            (98, 99, 90, 91),
        ],
        [1, 1, -1, -1, 1, 0],
    )
    events = funding_events([(JAN1 + timedelta(hours=4 + 7 * k), (-1) ** k * 1e-3) for k in range(11)])
    table = sweep(
        frame,
        BacktestConfig(fee_rate=0.0004),
        funding=events,
        stop_loss=[None, 0.03, 0.08],
        leverage=[1.0, 8.0],
    )
    assert table.height == 6 and table["stopped"].sum() > 0
    for row in table.rows(named=True):
        cfg = BacktestConfig(fee_rate=0.0004, stop_loss=row["stop_loss"], leverage=row["leverage"])
        single = reference_backtest(frame, cfg, funding=events).metrics
        for key in ("final_equity", "sharpe", "n_trades", "stopped", "liquidated", "funding_paid"):
            want = single[key]
            assert row[key] == (pytest.approx(want, rel=1e-9) if isinstance(want, float) else want), key
