"""Every rule of contract section 3 on hand-computed 3-6 candle cases (the arithmetic is written out)."""

from __future__ import annotations

import polars as pl
import pytest
from backtest_support import H12, JAN1, approx, candles
from contract_fields import BACKTEST_METRICS

from adalib.backtest import (
    EQUITY_SCHEMA,
    TRADE_SCHEMA,
    BacktestConfig,
    BacktestError,
    buy_and_hold,
    run_backtest,
)

ZERO = dict(fee_rate=0.0, slippage_bps=0.0, leverage=1.0, funding_rate_8h=0.0)


def test_fees_on_both_legs_per_bar_and_compounding() -> None:
    # s = [1, -1, 0]: flat in candle 0, long in candle 1, short in candle 2.
    frame = candles([(100, 101, 99, 100), (100, 111, 99, 110), (110, 111, 98, 99)], [1, -1, 0])
    res = run_backtest(frame, BacktestConfig(mode="per_bar", fee_rate=0.001))
    t = res.trades.rows(named=True)
    # trade 1: qty = 10000 / 100 = 100; fees = 0.001*100*100 + 0.001*100*110 = 10 + 11 = 21
    #          pnl = 100 * (110 - 100) - 21 = 979; equity 10979
    assert (t[0]["side"], t[0]["qty"], t[0]["fees"], t[0]["pnl"]) == (1, approx(100), approx(21), approx(979))
    assert t[0]["return"] == approx(0.0979)
    # trade 2 (short, compounding): qty = 10979 / 110; fees = 0.001*10979 + 0.001*qty*99 = 10.979 + 9.8811
    #          pnl = qty * (110 - 99) - 20.8601 = 1097.9 - 20.8601 = 1077.0399; equity 12056.0399
    assert (t[1]["side"], t[1]["qty"], t[1]["fees"]) == (-1, approx(10979 / 110), approx(20.8601))
    assert t[1]["pnl"] == approx(1077.0399)
    assert res.equity["equity"].to_list() == [10000, approx(10979), approx(12056.0399)]
    assert res.equity["position"].to_list() == [0, approx(100), approx(-10979 / 110)]
    assert res.metrics["fees_paid"] == approx(21 + 20.8601)
    assert res.metrics["final_equity"] == approx(12056.0399)
    # the same signals in hold mode: the reversal closes the long at close_1, the short opens at open_2
    assert (
        run_backtest(frame, BacktestConfig(mode="hold", fee_rate=0.001)).equity["equity"].to_list()
        == res.equity["equity"].to_list()
    )


def test_slippage_moves_both_fills_against_the_trade() -> None:
    # hold, s = [1, 1, 0, 0]: long from open_1 to close_2, 10 bps slippage, no fees
    frame = candles(
        [(100, 101, 99, 100), (100, 106, 99, 105), (105, 121, 104, 120), (120, 121, 119, 120)], [1, 1, 0, 0]
    )
    res = run_backtest(frame, BacktestConfig(mode="hold", slippage_bps=10.0, fee_rate=0.0))
    (trade,) = res.trades.rows(named=True)
    entry, exit_ = 100 * (1 + 0.001), 120 * (1 - 0.001)  # 100.1 and 119.88
    qty = 10000 / entry
    assert (trade["entry_price"], trade["exit_price"], trade["qty"]) == (
        approx(entry),
        approx(exit_),
        approx(qty),
    )
    assert trade["pnl"] == approx(qty * (119.88 - 100.1))
    # mark-to-market at close_1 uses the close and the entry fill; close_2 is the settled cash
    assert res.equity["equity"].to_list() == [
        10000,
        approx(10000 + qty * (105 - 100.1)),
        approx(10000 + qty * 19.78),
        approx(10000 + qty * 19.78),
    ]
    # a short: entry fills lower, exit higher
    short = run_backtest(
        frame.with_columns(direction=pl.Series([-1, -1, 0, 0], dtype=pl.Int8)),
        BacktestConfig(slippage_bps=10.0, fee_rate=0.0),
    ).trades.row(0, named=True)
    assert (short["entry_price"], short["exit_price"]) == (approx(99.9), approx(120.12))


def test_funding_events_strictly_inside_the_holding_period() -> None:
    # candle 1 opens at 2024-01-02 00:00; hold long over candles 1-2, exit at close_2 = 2024-01-03 00:00
    frame = candles(
        [(100, 101, 99, 100), (100, 103, 99, 102), (102, 106, 101, 105), (105, 106, 104, 105)],
        [1, 1, 0, 0],
        start=JAN1 + H12,
    )
    res = run_backtest(frame, BacktestConfig(mode="hold", fee_rate=0.0, funding_rate_8h=0.001))
    (trade,) = res.trades.rows(named=True)
    # events: 01-02 00:00 = the entry instant (excluded), 01-02 08:00 (in candle 1, priced at open 100),
    # 01-02 16:00 (in candle 2, priced at open 102); 01-03 00:00 = the exit instant (excluded)
    qty = 100.0
    assert trade["funding"] == approx(qty * 0.001 * (100 + 102))  # 20.2
    assert trade["pnl"] == approx(qty * (105 - 100) - 20.2)
    # equity counts an event from the close of its candle: candle 1 has paid 10 so far
    assert res.equity["equity"].to_list() == [
        10000,
        approx(10000 + 200 - 10),
        approx(10479.8),
        approx(10479.8),
    ]
    assert res.metrics["funding_paid"] == approx(20.2)
    # a short receives a positive rate
    short = run_backtest(
        frame.with_columns(direction=pl.Series([-1, -1, 0, 0], dtype=pl.Int8)),
        BacktestConfig(fee_rate=0.0, funding_rate_8h=0.001),
    ).trades.row(0, named=True)
    assert short["funding"] == approx(-20.2)
    assert short["pnl"] == approx(100 * (100 - 105) + 20.2)


def test_per_bar_funding_one_event_per_12h_candle() -> None:
    # per_bar candles starting 00:00 (events 00:00 excluded, 08:00 paid) and 12:00 (16:00 paid)
    frame = candles(
        [(100, 101, 99, 100), (100, 101, 99, 100), (100, 101, 99, 100), (100, 101, 99, 100)],
        [1, 1, 1, 0],
        start=JAN1 + H12,
    )
    res = run_backtest(frame, BacktestConfig(mode="per_bar", fee_rate=0.0, funding_rate_8h=0.0005))
    # each trade: qty * price = the equity before it, one event: 0.0005 * equity; equity falls 0.05% a candle
    assert res.trades["funding"].to_list() == [
        approx(0.0005 * 10000),
        approx(0.0005 * 9995),
        approx(0.0005 * 9990.0025),
    ]
    assert res.metrics["final_equity"] == approx(10000 * (1 - 0.0005) ** 3)


def test_liquidation_long_then_new_trade_in_hold_mode() -> None:
    # leverage 10, position_fraction 0.5, mmr 0.005, fee 0.001, funding 0.0001; s = [1, 1, 1, 0, 0]
    frame = candles(
        [(100, 101, 99, 100), (100, 101, 95, 98), (98, 99, 90, 93), (93, 96, 92, 95), (95, 96, 94, 95)],
        [1, 1, 1, 0, 0],
    )
    res = run_backtest(
        frame,
        BacktestConfig(
            mode="hold",
            leverage=10.0,
            position_fraction=0.5,
            fee_rate=0.001,
            funding_rate_8h=0.0001,
            maintenance_margin_rate=0.005,
        ),
    )
    first, second = res.trades.rows(named=True)
    # trade 1 enters at open_1 = 100 (01-01 12:00): margin 5000, qty 500, entry fee 50
    # P_liq = 100 * (1 - 1/10) / (1 - 0.005) = 90.4523; low_1 = 95 holds, low_2 = 90 reaches it
    p_liq = 100 * 0.9 / 0.995
    assert first["liquidated"] and first["exit_price"] == approx(p_liq)
    assert first["exit_time"] == JAN1 + 3 * H12  # close of candle 2
    # funding before the liquidation candle: the 16:00 event of candle 1, 500 * 100 * 0.0001 = 5
    assert (first["pnl"], first["fees"], first["funding"]) == (approx(-5000), approx(50), approx(5))
    assert first["return"] == approx(-0.5)
    # equity: close_1 marks 10000 + 500 * (98 - 100) - 50 - 5 = 8945; close_2 is cash 5000
    assert res.equity["equity"].to_list()[:3] == [10000, approx(8945), approx(5000)]
    # trade 2: s_2 = 1 opens anew at open_3 = 93: margin 2500, qty 2500 * 10 / 93, new P_liq, exit at close_3
    qty = 2500 * 10 / 93
    assert (second["entry_price"], second["qty"], second["liquidated"]) == (93, approx(qty), False)
    assert second["entry_time"] == JAN1 + 3 * H12
    fees, funding = 0.001 * qty * (93 + 95), qty * 93 * 0.0001  # the 16:00 event of candle 3
    assert (second["fees"], second["funding"]) == (approx(fees), approx(funding))
    assert res.equity["equity"].to_list()[3:] == [approx(5000 + qty * 2 - fees - funding)] * 2
    assert res.metrics["liquidated"] == 1


def test_liquidation_short_at_full_margin_ends_trading() -> None:
    # leverage 5, mmr 0: P_liq short = 100 * (1 + 1/5) / (1 + 0) = 120; high_2 = 121 reaches it
    frame = candles(
        [
            (100, 101, 99, 100),
            (100, 110, 99, 108),
            (108, 121, 107, 115),
            (115, 116, 90, 95),
            (95, 96, 90, 91),
        ],
        [-1, -1, 1, 1, -1],
    )
    res = run_backtest(
        frame, BacktestConfig(mode="hold", leverage=5.0, maintenance_margin_rate=0.0, fee_rate=0.0)
    )
    (trade,) = res.trades.rows(named=True)
    assert trade["liquidated"] and trade["exit_price"] == approx(120) and trade["pnl"] == approx(-10000)
    # equity is 0 from the close of candle 2; s_2 = 1 would open a long at open_3, but nothing opens
    assert res.equity["equity"].to_list() == [10000, approx(10000 - 5 * 10000 / 100 * 8), 0, 0, 0]
    assert res.equity["position"].to_list() == [0, -500, -500, 0, 0]
    assert res.metrics["n_trades"] == 1 and res.metrics["final_equity"] == 0
    # per_bar at full margin: the same ruin
    assert (
        run_backtest(
            frame, BacktestConfig(mode="per_bar", leverage=5.0, maintenance_margin_rate=0.0, fee_rate=0.0)
        ).metrics["final_equity"]
        == 0
    )


def test_reversal_zero_exit_final_close_and_last_signal_never_traded() -> None:
    rows = [
        (100, 101, 99, 100),
        (100, 103, 99, 102),
        (102, 105, 101, 104),
        (104, 105, 99, 100),
        (100, 101, 95, 96),
        (96, 99, 95, 98),
    ]
    # hold, s = [1, 1, -1, 0, -1, 1]: long open_1..close_2 (reversal at close_2), short open_3..close_3
    # (zero signal at close_3), flat in 4? no: s_3 = 0 so flat in candle 4, short open_5..close_5 (final
    # candle), and s_5 = 1 is never traded
    res = run_backtest(candles(rows, [1, 1, -1, 0, -1, 1]), BacktestConfig(mode="hold", fee_rate=0.0))
    trades = res.trades.select("entry_time", "exit_time", "side", "entry_price", "exit_price").rows()
    assert trades == [
        (JAN1 + H12, JAN1 + 3 * H12, 1, 100, 104),
        (JAN1 + 3 * H12, JAN1 + 4 * H12, -1, 104, 100),
        (JAN1 + 5 * H12, JAN1 + 6 * H12, -1, 96, 98),
    ]
    e1 = 10000 * 104 / 100
    e2 = e1 * (1 + (104 - 100) / 104)
    e3 = e2 * (1 - (98 - 96) / 96)
    assert res.equity["equity"].to_list() == [
        10000,
        approx(10200),
        approx(e1),
        approx(e2),
        approx(e2),
        approx(e3),
    ]
    assert res.metrics["exposure"] == approx(4 / 6)
    # final open position: s = [1, 1, 1, 1, 1, 1] holds one trade from open_1 to the final close
    (only,) = run_backtest(candles(rows, [1] * 6), BacktestConfig(fee_rate=0.0)).trades.rows(named=True)
    assert (only["entry_time"], only["exit_time"], only["exit_price"]) == (JAN1 + H12, JAN1 + 6 * H12, 98)
    # s_{T-1} alone is never traded
    assert run_backtest(candles(rows, [0, 0, 0, 0, 0, 1])).trades.height == 0


def test_buy_and_hold_benchmark() -> None:
    rows = [(100, 101, 99, 100), (101, 103, 99, 102), (102, 105, 101, 104), (104, 105, 99, 110)]
    bh = buy_and_hold(candles(rows, [0, 0, 0, 0]), BacktestConfig(fee_rate=0.001))
    # long from open_1 = 101 to close_3 = 110: qty = 10000 / 101, fees on both legs
    qty = 10000 / 101
    assert bh.metrics["final_equity"] == approx(10000 + qty * 9 - 0.001 * qty * (101 + 110))
    assert bh.metrics["buy_hold_return"] == approx(110 / 101 - 1)
    assert buy_and_hold(candles(rows, [0, 0, 0, 0]), BacktestConfig(fee_rate=0.0)).metrics[
        "total_return"
    ] == approx(110 / 101 - 1)


def test_output_layout_matches_the_contract() -> None:
    res = run_backtest(candles([(100, 101, 99, 100)] * 3, [1, 0, 0]))
    assert res.trades.schema == pl.Schema(TRADE_SCHEMA)
    assert res.equity.schema == pl.Schema(EQUITY_SCHEMA)
    assert set(res.metrics) >= set(BACKTEST_METRICS)
    empty = run_backtest(candles([(100, 101, 99, 100)] * 3, [0, 0, 0]))
    assert empty.trades.schema == pl.Schema(TRADE_SCHEMA) and empty.trades.height == 0
    assert empty.metrics["n_trades"] == 0 and empty.metrics["final_equity"] == 10000


GOOD = candles([(100, 101, 99, 100)] * 3, [1, 0, 0])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(mode="swing"), "parameter mode"),
        (dict(fee_rate=-0.001), "parameter fee_rate"),
        (dict(slippage_bps=-1.0), "parameter slippage_bps"),
        (dict(leverage=0.0), "parameter leverage"),
        (dict(leverage=-2.0), "parameter leverage"),
        (dict(position_fraction=0.0), "parameter position_fraction"),
        (dict(position_fraction=1.5), "parameter position_fraction"),
        (dict(maintenance_margin_rate=1.0), "parameter maintenance_margin_rate"),
        (dict(initial_capital=0.0), "parameter initial_capital"),
        (dict(funding_rate_8h=float("nan")), "parameter funding_rate_8h"),
        (dict(fee_rate="0.1"), "parameter fee_rate"),
    ],
)
def test_bad_parameters_fail_with_one_clear_error(kwargs: dict, message: str) -> None:
    with pytest.raises(BacktestError, match=message):
        run_backtest(GOOD, BacktestConfig(**kwargs))


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (GOOD.drop("low"), r"missing column\(s\) \['low'\]"),
        (GOOD.with_columns(close=pl.Series([100.0, None, 100.0])), "column 'close': null"),
        (GOOD.with_columns(open=pl.Series([100.0, float("nan"), 100.0])), "column 'open': null, NaN"),
        (GOOD.with_columns(high=pl.Series([100.0, -1.0, 100.0])), "column 'high'.*non-positive"),
        (GOOD.with_columns(direction=pl.Series([1, 2, 0], dtype=pl.Int8)), "column 'direction': values"),
        (GOOD.with_columns(direction=pl.Series([1, None, 0], dtype=pl.Int8)), "column 'direction': values"),
        (GOOD.with_columns(direction=pl.Series([1.0, 0.0, 0.0])), "column 'direction': expected an integer"),
        (GOOD.head(1), "at least 2 candles"),
        (GOOD.reverse(), "ascending and evenly spaced"),
        (pl.concat([GOOD, GOOD.slice(2).with_columns(pl.col("open_time") + 2 * H12)]), "no gaps"),
        (GOOD.with_columns(pl.col("open_time").cast(pl.Int64)), "expected a Datetime"),
    ],
)
def test_bad_frames_fail_with_one_clear_error(frame: pl.DataFrame, message: str) -> None:
    with pytest.raises(BacktestError, match=message):
        run_backtest(frame)
