"""``run_execution``: one execution run end to end (CONTRACT.md section 4).

Refuse what can be refused before any request (parameters, keys, ``confirm_live``, weights and
candle files, an output folder where the journal or the summary cannot be written), take the
account's lock (``adalib.execution.lock``), load the model, take its signal on the last closed 12h
candle, read and check the account, decide (``adalib.execution.decision``), reconcile
(``adalib.execution.reconcile``; testnet and live only), read the position back, and write
``{output_dir}/orders.jsonl`` and ``{output_dir}/execution_summary.json``.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import requests

from adalib.binance.client import API_KEY_ENV, API_SECRET_ENV, BinanceClient
from adalib.binance.errors import BinanceError
from adalib.binance.journal import Journal
from adalib.binance.rules import SymbolRules, decimal_str, to_decimal
from adalib.data import Candles, load_candles
from adalib.execution.account import candle_memory, check_account
from adalib.execution.decision import Account, Decision, Signal, client_order_id, decide, signal_from
from adalib.execution.lock import RunLock
from adalib.execution.market import MarketView
from adalib.execution.params import ExecutionMismatch, ExecutionParams, ExecutionRefused
from adalib.execution.reconcile import LOOKUP_WINDOW, Reconciler, set_margin_and_leverage
from adalib.forecast import Forecaster, forecast_frame, load_weights
from adalib.util.io import output_dir, write_json
from adalib.util.paths import resolve_existing
from adalib.util.timefmt import iso_z

SUMMARY = "execution_summary.json"
JOURNAL = "orders.jsonl"


@dataclass
class ExecutionResult:
    """What one run saw and did; ``summary`` is what ``execution_summary.json`` holds.

    >>> import tempfile
    >>> from adalib import ExecutionParams, run_execution
    >>> out = tempfile.mkdtemp()
    >>> result = run_execution(ExecutionParams(data_path="synthetic", output_dir=out), out=lambda line: None)
    >>> result.summary["mode"], result.summary["status"], result.summary["orders"]
    ('dry-run', 'dry-run', [])
    """

    candles: Candles
    signal: Signal
    rules: SymbolRules
    mark_price: Decimal
    account: Account
    decision: Decision
    summary: dict[str, Any]
    journal: Journal
    forecasts: pl.DataFrame  # the forecasts frame the signal was taken from (its last row)


def _load_inputs(
    params: ExecutionParams, env: Mapping[str, str]
) -> tuple[tuple[str, str] | None, Forecaster, Candles | None]:
    """Everything that can be refused before any request: mode, keys, weights, a candle file."""
    params.validate()
    if params.mode == "live" and not params.confirm_live:
        raise ExecutionRefused(
            "mode='live' trades real money: set confirm_live=True to allow it (nothing was sent)"
        )
    keys = None
    if params.mode != "dry-run":
        missing = [name for name in (API_KEY_ENV, API_SECRET_ENV) if not env.get(name)]
        if missing:
            raise ExecutionRefused(
                f"{' and '.join(missing)} not set: {params.mode} needs API keys in the environment"
            )
        keys = (env[API_KEY_ENV], env[API_SECRET_ENV])
    forecaster = load_weights(resolve_existing(params.weights_path), symbol=params.symbol)
    candles = None
    if params.data_path is not None:
        candles = load_candles(
            params.data_path,
            symbol=params.symbol,
            binance_url=params.url(),
            start=params.start,
            end=params.end,
        )
    return keys, forecaster, candles


def preflight(out_dir: Path, journal: Journal, params: ExecutionParams) -> None:
    """Prove that the journal and the summary can be written (a journaled ``run`` line, fsynced;
    a probe file beside the summary) before any request, or refuse with one clear message."""
    summary = out_dir / SUMMARY
    try:
        if summary.is_dir():
            raise IsADirectoryError(21, "a folder is in the way", str(summary))
        journal.write({"event": "run", "mode": params.mode, "symbol": params.symbol, "pid": os.getpid()})
        handle, probe = tempfile.mkstemp(dir=out_dir, prefix=f".{SUMMARY}.probe-")
        try:
            os.write(handle, b" " * 4096)
            os.fsync(handle)
        finally:
            os.close(handle)
            os.unlink(probe)
    except OSError as exc:
        what = exc.filename or out_dir
        raise ExecutionRefused(
            f"cannot write {what}: {exc.strerror or exc}; the journal and the summary must be writable "
            "before any order, so nothing was sent"
        ) from None


def run_execution(
    params: ExecutionParams,
    *,
    env: Mapping[str, str] | None = None,
    session: requests.Session | None = None,
    timeout: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
    lookup_window: float = LOOKUP_WINDOW,
    lock_wait: float = 120.0,
    out: Callable[[str], None] = print,
) -> ExecutionResult:
    """One run: signal -> decision -> reconciliation (testnet/live) -> read-back; writes the artifacts.

    A dry run builds its client without keys, so it cannot send a signed request. A run that ends
    away from the intended position writes the summary with ``status`` ``"mismatch"``, then raises
    ``ExecutionMismatch``.

    >>> run_execution(ExecutionParams(leverage=0))
    Traceback (most recent call last):
    ...
    ValueError: parameter leverage=0: expected an integer in 1..125
    """
    keys, forecaster, candles = _load_inputs(params, os.environ if env is None else env)
    key, secret = keys or (None, None)
    out_dir = output_dir(params.output_dir)
    journal = Journal(out_dir / JOURNAL, secrets=keys or ())
    preflight(out_dir, journal, params)
    client = BinanceClient(
        params.url(),
        api_key=key,
        api_secret=secret,
        session=session,
        journal=journal,
        timeout=timeout,
        sleep=sleep,
    )
    view = MarketView(params, client, out)
    lock = None
    if key is not None:
        lock = RunLock(key, params.symbol).acquire(lock_wait, on_wait=view.note)
    try:
        return _run(params, client, journal, view, forecaster, candles, out_dir, sleep, lookup_window)
    finally:
        if lock is not None:
            lock.release()


def _run(
    params: ExecutionParams,
    client: BinanceClient,
    journal: Journal,
    view: MarketView,
    forecaster: Forecaster,
    given: Candles | None,
    out_dir: Path,
    sleep: Callable[[float], None],
    lookup_window: float,
) -> ExecutionResult:
    out = view.out
    out(f"mode: {params.mode}" + ("" if view.trading else " (computes the orders, sends no signed request)"))
    now_ms, offline = view.exchange_time()
    candles = given or view.candles(now_ms, offline)
    meta = candles.metadata()
    out(
        f"data: {meta['data_source']}, {meta['n_candles']} candles, "
        f"{meta['first_candle']} .. {meta['last_candle']}"
    )
    forecasts = forecast_frame(candles, forecaster, threshold=params.threshold)
    signal = signal_from(forecasts.row(-1, named=True))
    out(
        f"signal: candle {iso_z(signal.open_time)}, y_hat {signal.y_hat:+.6f}, "
        f"direction {signal.direction:+d}, confidence {signal.confidence:.4f}"
    )
    view.check_fresh(signal, now_ms)
    rules, mark = view.market(candles, offline)
    out(
        f"rules: {rules.symbol} stepSize {decimal_str(rules.step_size)}, "
        f"minQty {decimal_str(rules.min_qty)}, "
        f"maxQty {decimal_str(rules.max_qty)}, min notional {decimal_str(rules.min_notional)} USDT; "
        f"mark price {decimal_str(mark)}"
    )
    candle_iso = iso_z(signal.open_time)
    stem = client_order_id(params.symbol, signal.open_time, "x")[:-1]
    memory = candle_memory(journal.read(), params.symbol, candle_iso, stem)
    if journal.torn:
        view.note(
            f"the journal has {len(journal.torn)} torn line(s) from an earlier crash, skipped: "
            f"{journal.torn[:3]}"
        )
    if view.trading:
        position = client.position(params.symbol)
        account = Account(client.available_balance("USDT"), position.amount)
    else:
        account = Account(to_decimal(params.dry_run_balance), Decimal(0))
    out(
        f"account: available {decimal_str(account.available_balance)} USDT, position "
        f"{decimal_str(account.position_amt)}" + ("" if view.trading else " (dry_run_balance, flat position)")
    )
    decision = decide(
        signal, account, mark, rules, symbol=params.symbol, leverage=params.leverage,
        position_fraction=params.position_fraction, max_notional=params.max_notional,
    )  # fmt: skip
    intended = decision.intended_qty
    if view.trading and memory.planned is not None and memory.planned_direction == signal.direction:
        if memory.planned != intended:
            view.note(
                f"an earlier run planned {decimal_str(memory.planned)} for this candle: completing that"
            )
        intended = memory.planned
    out(f"target: {decimal_str(decision.target_qty)} ({decision.explanation})")
    verb = "plan" if view.trading else "would send"
    for order in decision.orders:
        out(
            f"{verb}: POST /fapi/v1/order "
            + " ".join(f"{k}={v}" for k, v in order.params(params.symbol).items())
        )
    if not decision.orders:
        out(f"{verb}: no order (the position already is the intended one)")
    summary: dict[str, Any] = {
        "mode": params.mode, "symbol": params.symbol, "candle_open_time": candle_iso,
        "y_hat": signal.y_hat, "direction": signal.direction, "confidence": signal.confidence,
        "position_before": decimal_str(account.position_amt), "target_qty": decimal_str(decision.target_qty),
        "intended_qty": decimal_str(intended), "position_after": decimal_str(account.position_amt),
        "orders": [], "status": "dry-run",
        "planned_orders": [order.params(params.symbol) for order in decision.orders],
        "mark_price": decimal_str(mark), "available_balance": decimal_str(account.available_balance),
        "leverage": params.leverage, "margin_type": params.margin_type, "stop_loss": params.stop_loss,
        "stop_order": None, "assumptions": view.assumed, "notes": view.notes, **meta,
    }  # fmt: skip
    result = ExecutionResult(candles, signal, rules, mark, account, decision, summary, journal, forecasts)
    if not view.trading:
        write_json(out_dir / SUMMARY, summary)
        return result
    check_account(client, rules, params.margin_type, position, intended)
    journal.write({
        "event": "plan", "symbol": params.symbol, "candle_open_time": candle_iso,
        "direction": signal.direction, "position_before": decimal_str(account.position_amt),
        "target_qty": decimal_str(decision.target_qty), "intended_qty": decimal_str(intended),
    })  # fmt: skip
    rec = Reconciler(client, params.symbol, rules, signal.open_time, note=view.note, sleep=sleep,
                     lookup_window=lookup_window, used=set(memory.used_ids))  # fmt: skip
    summary["orders"] = rec.placed
    try:
        _recover(rec, memory.pending_orders, memory.pending_stops)
        pending = set_margin_and_leverage(
            client, params.symbol, params.margin_type, params.leverage, view.note
        )

        def before_open() -> None:
            nonlocal pending
            if pending:
                set_margin_and_leverage(client, params.symbol, params.margin_type, params.leverage, view.note)
                pending = False

        rec.reach(intended, mark, before_close=rec.cancel_stops, before_open=before_open)
        summary["stop_order"] = rec.keep_stop(params.stop_loss)
        if rec.stopped_out:  # as the backtest's stop at an open beyond P_stop: flat until the next candle
            intended = Decimal(0)
            summary.update(intended_qty="0", stopped=True)
            journal.write({"event": "plan", "symbol": params.symbol, "candle_open_time": candle_iso,
                           "direction": signal.direction, "intended_qty": "0", "stopped": True})  # fmt: skip
            rec.reach(intended, mark, before_close=rec.cancel_stops, before_open=before_open)
    except BinanceError as exc:
        summary.update(status="mismatch", error=str(exc), position_after=_read_back(client, params.symbol))
        write_json(out_dir / SUMMARY, summary)
        raise
    after = client.position(params.symbol).amount
    summary["position_after"] = decimal_str(after)
    problems = []
    if after != intended:
        problems.append(f"the position is {decimal_str(after)}, the run intended {decimal_str(intended)}")
    if params.stop_loss is not None and after != 0 and summary["stop_order"] is None:
        problems.append("the open position has no protective stop")
    summary["status"] = "mismatch" if problems else "ok"
    out(
        f"placed: {', '.join(rec.placed) or 'nothing'}; position after: {decimal_str(after)}; "
        f"status {summary['status']}"
    )
    write_json(out_dir / SUMMARY, summary)
    if problems:
        raise ExecutionMismatch(
            f"mismatch after the run for candle {candle_iso}: {'; '.join(problems)} (see {out_dir / SUMMARY})"
        )
    return result


def _recover(rec: Reconciler, orders: tuple[str, ...], stops: tuple[str, ...]) -> None:
    """Requests an earlier run journaled but never saw answered (it crashed): look each up over the
    lookup window before anything is sent, so that one still in flight is seen before the position is."""
    journal = rec.client.journal
    for cid, path, field, lookup in [
        *((c, "/fapi/v1/order", "newClientOrderId", rec._get_order) for c in orders),
        *((c, "/fapi/v1/algoOrder", "clientAlgoId", rec.client.get_algo_order) for c in stops),
    ]:
        found = rec.look_up(cid, lookup)
        seen = (
            f"{found.get('status', found.get('algoStatus'))}, filled {found.get('executedQty')}"
            if found
            else "not found"
        )
        rec.note(f"an earlier run sent {cid} without seeing its answer: {seen}")
        if journal is not None:  # answered now: later runs need not look it up again
            journal.write({"event": "recovered", "phase": "answer", "path": path, "params": {field: cid},
                           "found": found is not None})  # fmt: skip


def _read_back(client: BinanceClient, symbol: str) -> str | None:
    try:
        return decimal_str(client.position(symbol).amount)
    except BinanceError:
        return None
