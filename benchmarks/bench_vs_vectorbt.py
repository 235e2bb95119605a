"""adalib's backtest engine against vectorbt: same configurations, same final equities, and speed.

Run from the repository root (vectorbt lives in its own venv, never in adalib's):

    benchmarks/.venv/bin/python benchmarks/bench_vs_vectorbt.py      # or: make bench

It needs the real candle cache ``data/ADAUSDT-12h.parquet`` and ``model_weights.pth``,
and writes nothing: it prints the tables that go to ``benchmarks/RESULTS.md``.

How vectorbt is made to follow the contract (section 3). vectorbt places at most one
order per column and time step, but the contract exits at a candle's close and enters at
the next candle's open. So the vectorbt timeline has two steps per candle, its open and
its close (``close`` = ``price`` = open_0, close_0, open_1, close_1, ...):
- entries are orders at the open step of candle u (the previous signal s_{u-1} is the
  side), ``size_type=Percent`` with ``size = side * position_fraction * (1 + fee_rate)``:
  vectorbt spends that share of cash *including* the fee, so the quantity is
  ``position_fraction * equity / entry_fill``, the contract's sizing;
- exits are ``TargetAmount`` 0 at the close step of the exit candle (every held candle
  in ``per_bar``; a signal change or the last candle in ``hold``);
- ``fees`` is the taker fee on both legs, ``slippage`` moves both fills against the trade,
  exactly the contract's fill rule; equity is vectorbt's value at the close steps.
Leverage, isolated-margin liquidation and funding are not vectorbt (open-source) features:
those cases are shown apart, with the gap they make.
"""

from __future__ import annotations

import itertools
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np
import polars as pl
from timing import quartiles

from adalib.backtest import BacktestConfig, run_backtest, sweep
from adalib.backtest.kernels import runs
from adalib.data import cache_path, read_cache
from adalib.forecast import forecast_frame, load_weights
from adalib.util.paths import REPO_ROOT

CAPITAL = 10000.0
TOLERANCE = 1e-9  # relative error allowed on final equity where both engines model the same thing
SEED = 0
REPEATS = 30  # single-backtest timings (median)
SWEEP_REPEATS = 5  # 1,000-configuration sweep timings (median)
PERCENT, TARGET_AMOUNT, BOTH = 2, 3, 2  # vectorbt.portfolio.enums: SizeType, Direction
# Agreement cases: (position_fraction, fee_rate, slippage_bps); leverage 1, no funding.
CASES = [(1.0, 0.0, 0.0), (0.99, 0.0005, 0.0), (0.99, 0.0005, 5.0), (0.5, 0.001, 10.0)]
# The 1,000-configuration sweep: threshold x mode x fee x slippage = 25 x 2 x 4 x 5.
GRID = {
    "threshold": [round(0.0002 * k, 4) for k in range(25)],
    "mode": ["hold", "per_bar"],
    "fee_rate": [0.0, 0.0002, 0.0004, 0.0005],
    "slippage_bps": [0.0, 1.0, 2.0, 5.0, 10.0],
}
SWEEP_FRACTION = 0.99


def segments() -> dict[str, pl.DataFrame]:
    """The model's forecasts joined with the candles: the whole history and the test segment."""
    path = cache_path()
    if not path.is_file():
        sys.exit(f"{path.relative_to(REPO_ROOT)} is missing: fill the cache first (make data), then rerun.")
    candles = read_cache()
    forecasts = forecast_frame(candles, load_weights(REPO_ROOT / "model_weights.pth"))
    frame = forecasts.select("open_time", "y_hat", "direction", "split").join(
        candles.select("open_time", "open", "high", "low", "close"), on="open_time", maintain_order="left"
    )
    return {"all": frame, "test": frame.filter(pl.col("split") == "test")}


def random_signals(n: int) -> np.ndarray:
    return np.random.default_rng(SEED).integers(-1, 2, n).astype(np.int8)


# ---------------------------------------------------------------- vectorbt side


def vbt_orders(signals: np.ndarray, per_bar: np.ndarray, percent: np.ndarray) -> np.ndarray:
    """Order sizes on the two-step timeline for (T, N) signals: entries at even steps, exits at odd."""
    pos = np.zeros_like(signals)
    pos[1:] = signals[:-1]  # the position held during candle u is s_{u-1}
    prev, nxt = np.zeros_like(pos), np.zeros_like(pos)
    prev[1:], nxt[:-1] = pos[:-1], pos[1:]
    held = pos != 0
    size = np.empty((2 * len(pos), pos.shape[1]))
    size[0::2] = np.where(held & (per_bar | (pos != prev)), pos * percent, np.nan)
    size[1::2] = np.where(held & (per_bar | (pos != nxt)), 0.0, np.nan)
    return size


def vbt_backtest(
    vbt,
    frame: pl.DataFrame,
    signals: np.ndarray,
    per_bar,
    fee,
    slippage_bps,
    fraction,
    *,
    kernels: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Equity at every candle close, shape (T, N), and the order records, for N configurations at once.

    ``per_bar``, ``fee``, ``slippage_bps`` and ``fraction`` are scalars or (N,) arrays. The default
    is vectorbt's public API (``Portfolio.from_orders``, then ``value()``); ``kernels=True`` calls
    the numba functions under it directly (no input broadcasting, no pandas): vectorbt's floor.
    """
    n = signals.shape[1]
    per_bar, fee, slip, fraction = (
        np.broadcast_to(np.asarray(x, dtype=t), (n,))
        for x, t in ((per_bar, bool), (fee, float), (slippage_bps, float), (fraction, float))
    )
    price = np.column_stack([frame["open"].to_numpy(), frame["close"].to_numpy()]).reshape(-1, 1)
    size_type = np.tile([PERCENT, TARGET_AMOUNT], len(frame)).reshape(-1, 1)
    size = vbt_orders(signals, per_bar, fraction * (1 + fee))
    if not kernels:
        pf = vbt.Portfolio.from_orders(
            price,
            size,
            size_type=size_type,
            price=price,
            fees=fee[None, :],
            slippage=slip[None, :] / 1e4,
            init_cash=CAPITAL,
            direction="both",
        )
        return pf.value().to_numpy()[1::2], pf.order_records
    nb, cash = vbt.portfolio.nb, np.full(n, CAPITAL)
    records, _ = nb.simulate_from_orders_nb(
        size.shape,
        np.ones(n, np.int64),
        cash,
        np.zeros((1, 1), np.int64),  # call_seq: unused without groups
        size=size,
        price=price,
        size_type=size_type,
        direction=np.asarray(BOTH),
        fees=fee[None, :],
        slippage=slip[None, :] / 1e4,
        close=price,
        flex_2d=True,
    )
    col_map = vbt.records.nb.col_map_nb(records["col"], n)
    assets = nb.assets_nb(nb.asset_flow_nb(size.shape, records, col_map, BOTH))
    value = nb.cash_nb(nb.cash_flow_nb(size.shape, records, col_map, False), cash) + assets * price
    return value[1::2], records


# ---------------------------------------------------------------- an independent plain loop


def plain_loop(
    frame: pl.DataFrame, signals: np.ndarray, per_bar: bool, fee: float, slip_bps: float, fraction: float
) -> float:
    """Final equity by the contract's rules, candle by candle (leverage 1, no funding)."""
    o, c, slip, s = frame["open"].to_list(), frame["close"].to_list(), slip_bps / 1e4, signals.tolist()
    equity, side, qty, fill = CAPITAL, 0, 0.0, 0.0
    for u in range(1, len(o)):
        if s[u - 1] != 0 and (per_bar or side == 0):
            side = s[u - 1]
            fill = o[u] * (1 + side * slip)
            qty = fraction * equity / fill
            equity -= fee * qty * fill
        if side != 0 and (per_bar or u == len(o) - 1 or s[u] != side):
            exit_fill = c[u] * (1 - side * slip)
            equity += side * qty * (exit_fill - fill) - fee * qty * exit_fill
            side = 0
    return equity


# ---------------------------------------------------------------- the plain numpy floor


def numpy_floor(
    o: np.ndarray,
    c: np.ndarray,
    signals: np.ndarray,
    per_bar: bool,
    fee: float,
    slip_bps: float,
    fraction: float,
) -> tuple[float, float]:
    """The same rules (leverage 1, no liquidation, funding or stop) in the fewest numpy steps, no input
    checks, no tables: final equity and Sharpe ratio. What numpy alone costs for one backtest."""
    slip = slip_bps / 1e4
    pos, start, end = runs(signals, np.bool_(per_bar))  # adalib's: positions, trade starts and ends
    held = pos != 0
    a, h = np.flatnonzero(start), np.flatnonzero(end)
    s = pos[a]
    entry, exit_fill = o[a] * (1 + s * slip), c[h] * (1 - s * slip)
    growth = 1 + fraction * (s * (exit_fill / entry - 1) - fee * (1 + exit_fill / entry))
    before = CAPITAL * np.concatenate(([1.0], np.cumprod(growth)))
    tid = np.maximum.accumulate(np.where(start, np.cumsum(start), 0))  # trades begun so far
    inside = held & (np.arange(o.size) < np.concatenate(([-1], h))[tid])
    k = np.maximum(tid - 1, 0)
    mark = before[k] * (1 + fraction * (s[k] * (c / entry[k] - 1) - fee))
    equity = np.where(inside, mark, before[tid])
    r = equity[1:] / equity[:-1] - 1
    return float(equity[-1]), float(r.mean() / r.std(ddof=1) * np.sqrt(730))


# ---------------------------------------------------------------- checks


def rel(a, b) -> np.ndarray:
    return np.abs(np.asarray(a) / np.asarray(b) - 1)


def agreement(vbt, frames: dict[str, pl.DataFrame]) -> bool:
    """Every (segment, signals, mode, case) through both engines; the worst errors per row."""
    print(f"\n## Agreement (cases pf/fee/slip_bps: {CASES}; leverage 1, no funding)")
    print(
        f"{'segment':8}{'signals':8}{'mode':9}{'T':>6}{'trades':>8}{'final rel err':>15}{'curve rel err':>15}"
        f"{'fees rel err':>14}  verdict"
    )
    ok = True
    for (name, frame), kind, mode in itertools.product(
        frames.items(), ("model", "random"), ("hold", "per_bar")
    ):
        signals = frame["direction"].to_numpy() if kind == "model" else random_signals(frame.height)
        run = frame.with_columns(direction=pl.Series(signals, dtype=pl.Int8))
        fraction, fee, slip = (np.array(x) for x in zip(*CASES, strict=True))
        curves, orders = vbt_backtest(
            vbt, run, np.repeat(signals[:, None], len(CASES), 1), mode == "per_bar", fee, slip, fraction
        )
        worst = np.zeros(3)
        trades, liquidated = [], 0
        for k, (pf_k, fee_k, slip_k) in enumerate(CASES):
            r = run_backtest(
                run,
                BacktestConfig(
                    mode=mode,
                    fee_rate=fee_k,
                    slippage_bps=slip_k,
                    position_fraction=pf_k,
                    initial_capital=CAPITAL,
                ),
            )
            mine = orders[orders["col"] == k]
            n_vbt = int(np.sum(mine["idx"] % 2 == 0))  # entry orders sit at the open steps
            trades.append(r.metrics["n_trades"] == n_vbt)
            liquidated += r.metrics["liquidated"]
            equity = r.equity["equity"].to_numpy()
            fees = rel(mine["fees"].sum(), r.metrics["fees_paid"]) if fee_k > 0 else 0.0
            worst = np.maximum(worst, [rel(curves[-1, k], equity[-1]), rel(curves[:, k], equity).max(), fees])
        good = all(trades) and liquidated == 0 and worst[0] < TOLERANCE
        ok &= good
        verdict = "ok" if good else f"FAIL (trades equal: {all(trades)}, liquidations: {liquidated})"
        print(
            f"{name:8}{kind:8}{mode:9}{frame.height:6d}{r.metrics['n_trades']:8d}{worst[0]:15.1e}"
            f"{worst[1]:15.1e}{worst[2]:14.1e}  {verdict}"
        )
    return ok


def differences(vbt, frame: pl.DataFrame) -> None:
    """Configurations vectorbt does not model as the contract does: the gap, and why."""
    print("\n## Where they differ (segment all, model signals, hold, fee 0.0005)")
    signals = frame["direction"].to_numpy()[:, None]
    rows = [
        (
            "position_fraction 1 with fees",
            dict(position_fraction=1.0),
            1.0,
            "vectorbt is a cash account: a long's notional plus its fee must fit the cash, so it buys "
            "equity/(fill*(1+fee)) instead of equity/fill",
        ),
        (
            "funding 0.0001 per 8h",
            dict(position_fraction=0.99, funding_rate_8h=0.0001),
            0.99,
            "vectorbt has no funding payments (the gap is adalib's funding)",
        ),
        (
            "leverage 3",
            dict(position_fraction=0.99, leverage=3.0),
            None,
            "no leverage, isolated margin or liquidation in open-source vectorbt",
        ),
    ]
    for label, params, fraction, why in rows:
        r = run_backtest(
            frame, BacktestConfig(mode="hold", fee_rate=0.0005, initial_capital=CAPITAL, **params)
        )
        mine = r.metrics["final_equity"]
        if fraction is None:
            print(
                f"- {label}: adalib {mine:,.2f} ({r.metrics['liquidated']} liquidations); vectorbt n/a: {why}"
            )
            continue
        theirs = vbt_backtest(vbt, frame, signals, False, 0.0005, 0.0, fraction)[0][-1, 0]
        print(
            f"- {label}: adalib {mine:,.2f}, vectorbt {theirs:,.2f}, rel gap {rel(theirs, mine):.2e}: {why}"
        )


# ---------------------------------------------------------------- timing


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def race(contenders: dict[str, Callable[[], object]], repeats: int) -> dict[str, list[float]]:
    """Each contender's time in each round; the contenders run in turn, so that a round sees one load."""
    times = [[timed(fn) for fn in contenders.values()] for _ in range(repeats)]
    return {name: [t[k] for t in times] for k, name in enumerate(contenders)}


def spread(ratios: list[float]) -> str:
    """Median ratio and its interquartile range over the rounds."""
    q1, q2, q3 = quartiles(ratios)
    return f"{q2:.2f} [{q1:.2f}-{q3:.2f}]"


def sweep_inputs(frame: pl.DataFrame) -> dict[str, np.ndarray]:
    combos = list(itertools.product(*GRID.values()))
    cols = {k: np.array([c[i] for c in combos]) for i, k in enumerate(GRID)}
    return {
        "threshold": cols["threshold"],
        "per_bar": cols["mode"] == "per_bar",
        "fee": cols["fee_rate"],
        "slip": cols["slippage_bps"].astype(float),
    }


def main() -> int:
    frames = segments()
    full = frames["all"]
    start = time.perf_counter()
    import numba
    import vectorbt as vbt  # only here: a benchmark dependency, never adalib's

    import_s = time.perf_counter() - start
    signals = full["direction"].to_numpy()[:, None]
    one = dict(fee_rate=0.0005, slippage_bps=2.0, position_fraction=0.99)
    tasks: dict[str, dict[str, Callable[[], object]]] = {}
    opens, closes, plain = full["open"].to_numpy(), full["close"].to_numpy(), full["direction"].to_numpy()
    for mode in ("hold", "per_bar"):
        args = (vbt, full, signals, mode == "per_bar", 0.0005, 2.0, 0.99)
        tasks[f"one backtest, {mode}"] = {
            "adalib": lambda m=mode: run_backtest(
                full, BacktestConfig(mode=m, initial_capital=CAPITAL, **one)
            ),
            "vectorbt Portfolio": lambda a=args: vbt_backtest(*a),
            "vectorbt kernels": lambda a=args: vbt_backtest(*a, kernels=True),
            "numpy floor": lambda m=mode: numpy_floor(
                opens, closes, plain, m == "per_bar", 0.0005, 2.0, 0.99
            ),
        }
    grid = sweep_inputs(full)
    y_hat = full["y_hat"].to_numpy()[:, None]
    grid_signals = (y_hat > grid["threshold"]).astype(np.int8) - (y_hat < -grid["threshold"]).astype(np.int8)
    args = (vbt, full, grid_signals, grid["per_bar"], grid["fee"], grid["slip"], SWEEP_FRACTION)
    tasks["1,000-config sweep"] = {
        "adalib": lambda: sweep(
            full, signal="y_hat", **GRID, position_fraction=SWEEP_FRACTION, initial_capital=CAPITAL
        ),
        "vectorbt Portfolio": lambda: vbt_backtest(*args),
        "vectorbt kernels": lambda: vbt_backtest(*args, kernels=True),
    }
    first = {
        (task, name): timed(fn) for task in tasks for name, fn in tasks[task].items() if "per_bar" not in task
    }

    ok = agreement(vbt, frames)
    table, curves = tasks["1,000-config sweep"]["adalib"](), vbt_backtest(*args)[0]
    floor = np.max(np.abs(vbt_backtest(*args, kernels=True)[0] - curves))
    errors = rel(curves[-1], table["final_equity"].to_numpy())
    worst = int(np.argmax(errors))
    row = table.row(worst, named=True)
    loop = plain_loop(
        full,
        grid_signals[:, worst],
        row["mode"] == "per_bar",
        row["fee_rate"],
        row["slippage_bps"],
        SWEEP_FRACTION,
    )
    ok &= bool(errors.max() < TOLERANCE)
    print(
        f"\n## 1,000-configuration sweep ({' x '.join(f'{len(v)} {k}' for k, v in GRID.items())}, "
        f"pf {SWEEP_FRACTION}, segment all)"
    )
    print(
        f"final equity rel err: median {np.median(errors):.1e}, max {errors.max():.1e} "
        f"({'ok' if errors.max() < TOLERANCE else 'FAIL'}); max abs err / capital "
        f"{np.max(np.abs(curves[-1] - table['final_equity'].to_numpy())) / CAPITAL:.1e}; vectorbt kernels vs "
        f"Portfolio: max abs diff {floor:.1e}"
    )
    print(
        f"worst: {row['mode']} threshold {row['threshold']} fee {row['fee_rate']} slip {row['slippage_bps']}"
        f" bps, final equity {row['final_equity']:.6g} ({row['n_trades']} trades); plain loop vs adalib "
        f"{rel(loop, row['final_equity']):.1e}, vs vectorbt {rel(loop, curves[-1, worst]):.1e}"
    )

    differences(vbt, full)

    print(
        f"\n## Speed (segment all, {full.height} candles; medians of alternated runs; "
        "fee 0.0005, slippage 2 bps, pf 0.99)"
    )
    print(
        f"{platform.machine()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; Python "
        f"{platform.python_version()}, polars {pl.__version__}, numpy {np.__version__}, vectorbt "
        f"{vbt.__version__}, numba {numba.__version__}"
    )
    print(f"vectorbt import {import_s:.2f} s. First calls (for vectorbt: numba JIT compile or cache load):")
    for (task, name), seconds in first.items():
        print(f"  {task}, {name}: {seconds:.3f} s")
    names = list(tasks["one backtest, hold"])
    print(
        "medians over alternated rounds; ratios: contender time / adalib time, median [interquartile range]"
    )
    print(f"{'task':24}" + "".join(f"{n:>20}" for n in names) + "  ratios")
    for task, contenders in tasks.items():
        rounds = race(contenders, SWEEP_REPEATS if "sweep" in task else REPEATS)
        med = {n: statistics.median(t) for n, t in rounds.items()}
        cells = "".join(
            "".rjust(20)
            if n not in med
            else f"{med[n] * 1e3:17.2f} ms"
            if med[n] < 1
            else f"{med[n]:18.2f} s"
            for n in names
        )
        ratios = [
            f"{n}: " + spread([x / y for x, y in zip(rounds[n], rounds["adalib"], strict=True)])
            for n in names[1:]
            if n in rounds
        ]
        print(f"{task:24}{cells}  " + "; ".join(ratios))
    # the numpy floor agrees with adalib
    mine = run_backtest(full, BacktestConfig(mode="hold", initial_capital=CAPITAL, **one)).metrics
    floor_equity, floor_sharpe = numpy_floor(opens, closes, plain, False, 0.0005, 2.0, 0.99)
    print(
        f"numpy floor vs adalib (hold): final equity rel err {rel(floor_equity, mine['final_equity']):.1e}, "
        f"sharpe rel err {rel(floor_sharpe, mine['sharpe']):.1e}"
    )
    print("\nall modelled cases agree" if ok else "\nDISAGREEMENT: see FAIL above")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
