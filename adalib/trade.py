"""``run_execution``: one execution run end to end, and ``python -m adalib.trade`` for cron users.

Load the model, take its signal on the last closed 12h candle, read the account, decide
(``adalib.execution``), reconcile (``adalib.reconcile``; testnet and live only), and write
``{output_dir}/orders.jsonl`` and ``{output_dir}/execution_summary.json`` (CONTRACT.md section 4).

    python -m adalib.trade                               # dry run: prints the orders it would send
    python -m adalib.trade --mode testnet --leverage 2   # needs BINANCE_API_KEY / BINANCE_API_SECRET
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import polars as pl
import requests

from adalib.binance.client import API_KEY_ENV, API_SECRET_ENV, LIVE_URL, TESTNET_URL, BinanceClient
from adalib.binance.errors import BinanceAPIError, BinanceError, ExchangeUnavailable
from adalib.binance.journal import Journal
from adalib.binance.rules import ADAUSDT_ASSUMED_INFO, SymbolRules, decimal_str, to_decimal
from adalib.data import Candles, load_candles, validate_candles
from adalib.data.binance import TWELVE_HOURS_MS, klines_frame, last_closed_open_ms
from adalib.execution import Account, Decision, Signal, decide, signal_from
from adalib.forecast import Forecaster, latest_signal, load_weights
from adalib.reconcile import reconcile
from adalib.util.io import output_dir, write_json
from adalib.util.paths import resolve_existing
from adalib.util.timefmt import iso_z, parse_utc, utc_literal

MODES = ("dry-run", "testnet", "live")
MARGIN_TYPES = ("ISOLATED", "CROSSED")
KLINES_HISTORY = 200  # closed 12h candles fetched for the live signal (the AR model needs lags + 1)


class ExecutionRefused(RuntimeError):
    """The run stops before sending anything that could trade: live without confirmation,
    missing keys, hedge mode, or a signal that is not on the last closed candle."""


@dataclass(frozen=True)
class ExecutionParams:
    """The execution notebook's parameters (contract section 4), plus the ``start`` / ``end`` window."""

    mode: str = "dry-run"
    base_url: str | None = None
    symbol: str = "ADAUSDT"
    leverage: int = 1
    margin_type: str = "ISOLATED"
    position_fraction: float = 1.0
    threshold: float = 0.0
    max_notional: float = 1000.0
    weights_path: str = "model_weights.pth"
    data_path: str | None = None
    dry_run_balance: float = 10000.0
    confirm_live: bool = False
    output_dir: str = "artifacts"
    start: str | None = None
    end: str | None = None

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first bad parameter."""
        number = _number
        checks = [
            ("mode", self.mode in MODES, f"one of {MODES}"),
            (
                "symbol",
                isinstance(self.symbol, str) and self.symbol.isalnum(),
                "alphanumeric, like 'ADAUSDT'",
            ),
            ("leverage", type(self.leverage) is int and 1 <= self.leverage <= 125, "an integer in 1..125"),
            ("margin_type", self.margin_type in MARGIN_TYPES, f"one of {MARGIN_TYPES}"),
            (
                "position_fraction",
                number(self.position_fraction) and 0 < self.position_fraction <= 1,
                "in (0, 1]",
            ),
            ("threshold", number(self.threshold) and self.threshold >= 0, "a number >= 0"),
            ("max_notional", number(self.max_notional) and self.max_notional > 0, "a number > 0 (USDT)"),
            (
                "dry_run_balance",
                number(self.dry_run_balance) and self.dry_run_balance > 0,
                "a number > 0 (USDT)",
            ),
            ("confirm_live", isinstance(self.confirm_live, bool), "True or False"),
        ]
        for name, ok, expected in checks:
            if not ok:
                raise ValueError(f"parameter {name}={getattr(self, name)!r}: expected {expected}")
        for name in ("start", "end"):
            try:
                parse_utc(getattr(self, name))
            except ValueError:
                raise ValueError(
                    f"parameter {name}={getattr(self, name)!r}: expected an ISO 8601 date"
                ) from None

    def url(self) -> str:
        """``base_url``, or the contract's default for the mode."""
        return (self.base_url or (TESTNET_URL if self.mode == "testnet" else LIVE_URL)).rstrip("/")


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


@dataclass
class ExecutionResult:
    """What one run saw and did; ``summary`` is what ``execution_summary.json`` holds."""

    candles: Candles
    signal: Signal
    rules: SymbolRules
    mark_price: Decimal
    account: Account
    decision: Decision
    summary: dict[str, Any]
    journal: Journal


def fetch_candles(
    client: BinanceClient, symbol: str, now_ms: int, start: str | None, end: str | None
) -> Candles:
    """The last closed 12h candles from ``{base_url}/fapi/v1/klines`` (the candle still open is dropped)."""
    end_at = parse_utc(end)
    stop = None if end_at is None else min(now_ms, int(end_at.timestamp() * 1000))
    frame = klines_frame(client.klines(symbol, "12h", limit=KLINES_HISTORY, end_ms=stop))
    frame = frame.filter((pl.col("open_time").dt.epoch("ms") + TWELVE_HOURS_MS) <= now_ms)
    if start is not None:
        frame = frame.filter(pl.col("open_time") >= utc_literal(parse_utc(start)))
    validate_candles(frame, f"{client.base_url}/fapi/v1/klines")
    return Candles(frame, "binance")


class _Run:
    """The state of one run: the client, its notes and printed log."""

    def __init__(self, params: ExecutionParams, client: BinanceClient, out: Callable[[str], None]) -> None:
        self.params, self.client, self.out = params, client, out
        self.notes: list[str] = []
        self.assumed: list[str] = []
        self.trading = params.mode != "dry-run"

    def note(self, text: str) -> None:
        self.notes.append(text)
        self.out(f"note: {text}")

    def exchange_time(self) -> tuple[int, bool]:
        """(exchange clock in ms, offline?). Only a dry run may go on without the exchange."""
        try:
            return self.client.server_time(retries=None if self.trading else 0), False
        except ExchangeUnavailable:
            if self.trading:
                raise
            self.note(f"Binance ({self.params.url()}) is unreachable: the dry run continues offline")
            return int(time.time() * 1000), True

    def candles(self, now_ms: int, offline: bool) -> Candles:
        p = self.params
        if not offline:
            try:
                return fetch_candles(self.client, p.symbol, now_ms, p.start, p.end)
            except ExchangeUnavailable:
                if self.trading:
                    raise
        self.note("data_path=None needs /fapi/v1/klines: falling back to data_path='auto'")
        return load_candles("auto", symbol=p.symbol, binance_url=p.url(), start=p.start, end=p.end)

    def check_fresh(self, signal: Signal, now_ms: int) -> None:
        """Testnet and live trade only the last closed candle; a dry run says when it is older."""
        last_closed = last_closed_open_ms(now_ms)
        if int(signal.open_time.timestamp() * 1000) == last_closed:
            return
        if self.trading:
            raise ExecutionRefused(
                f"the signal is on candle {iso_z(signal.open_time)} but the last closed candle is "
                f"{iso_z(datetime.fromtimestamp(last_closed / 1000, UTC))}: refusing to trade on stale data "
                "(data_path=None fetches fresh klines)"
            )
        self.note(
            f"the data ends before the last closed candle: this dry run decides on {iso_z(signal.open_time)}"
        )

    def market(self, candles: Candles, offline: bool) -> tuple[SymbolRules, Decimal]:
        """Symbol rules and mark price; a dry run without Binance uses announced assumptions."""
        p = self.params
        if not offline:
            try:
                return self.client.symbol_rules(p.symbol), self.client.mark_price(p.symbol)
            except (ExchangeUnavailable, BinanceAPIError):
                if self.trading:
                    raise
        if p.symbol != "ADAUSDT":
            raise ExecutionRefused(
                f"exchangeInfo unreachable and no assumed rules for {p.symbol} (only ADAUSDT)"
            )
        close = candles.frame["close"][-1]
        self.assumed += [
            "ADAUSDT filters as listed in 2025 (stepSize 1, minQty 1, tickSize 0.0001, min notional 5)",
            f"mark price = the last close, {close}",
        ]
        self.note("exchangeInfo / premiumIndex unreachable; assuming " + "; ".join(self.assumed))
        return SymbolRules.from_exchange_info(ADAUSDT_ASSUMED_INFO, "ADAUSDT"), to_decimal(close)

    def account(self) -> Account:
        """The exchange account (one-way mode only), or the dry run's assumed balance and flat book."""
        if not self.trading:
            return Account(to_decimal(self.params.dry_run_balance), Decimal(0))
        if self.client.hedge_mode():
            raise ExecutionRefused(
                "the account is in hedge mode (dualSidePosition=true) and adalib trades one-way mode only: "
                "switch with POST /fapi/v1/positionSide/dual dualSidePosition=false, then rerun"
            )
        return Account(self.client.available_balance("USDT"), self.client.position_amt(self.params.symbol))


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


def run_execution(
    params: ExecutionParams,
    *,
    env: Mapping[str, str] | None = None,
    session: requests.Session | None = None,
    timeout: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
    lookup_delay: float = 1.0,
    out: Callable[[str], None] = print,
) -> ExecutionResult:
    """One run: signal -> decision -> reconciliation (testnet/live); writes the contract's artifacts.

    Refusals (bad parameters, live without ``confirm_live``, missing keys, an unreadable
    weights or candle file) happen before any request and before anything is written. A
    dry run builds its client without keys, so it cannot send a signed request.
    """
    keys, forecaster, candles = _load_inputs(params, os.environ if env is None else env)
    key, secret = keys or (None, None)
    out_dir = output_dir(params.output_dir)
    journal = Journal(out_dir / "orders.jsonl", secrets=keys or ())
    client = BinanceClient(
        params.url(),
        api_key=key,
        api_secret=secret,
        session=session,
        journal=journal,
        timeout=timeout,
        sleep=sleep,
    )
    run = _Run(params, client, out)
    out(f"mode: {params.mode}" + ("" if run.trading else " (computes the orders, sends no signed request)"))
    now_ms, offline = run.exchange_time()
    candles = candles or run.candles(now_ms, offline)
    meta = candles.metadata()
    span = f"{meta['first_candle']} .. {meta['last_candle']}"
    out(f"data: {meta['data_source']}, {meta['n_candles']} candles, {span}")
    signal = signal_from(latest_signal(candles, forecaster, threshold=params.threshold))
    out(
        f"signal: candle {iso_z(signal.open_time)}, y_hat {signal.y_hat:+.6f}, "
        f"direction {signal.direction:+d}, confidence {signal.confidence:.4f}"
    )
    run.check_fresh(signal, now_ms)
    rules, mark = run.market(candles, offline)
    out(
        f"rules: {rules.symbol} stepSize {decimal_str(rules.step_size)}, "
        f"minQty {decimal_str(rules.min_qty)}, maxQty {decimal_str(rules.max_qty)}, "
        f"min notional {decimal_str(rules.min_notional)} USDT; "
        f"mark price {decimal_str(mark)}"
    )
    account = run.account()
    out(
        f"account: available {decimal_str(account.available_balance)} USDT, position "
        f"{decimal_str(account.position_amt)}" + ("" if run.trading else " (dry_run_balance, flat position)")
    )
    decision = decide(
        signal,
        account,
        mark,
        rules,
        symbol=params.symbol,
        leverage=params.leverage,
        position_fraction=params.position_fraction,
        max_notional=params.max_notional,
    )
    out(f"target: {decimal_str(decision.target_qty)} ({decision.explanation})")
    verb = "plan" if run.trading else "would send"
    for order in decision.orders:
        out(
            f"{verb}: POST /fapi/v1/order "
            + " ".join(f"{k}={v}" for k, v in order.params(params.symbol).items())
        )
    if not decision.orders:
        out(f"{verb}: no order (the open position already has the target's side)")

    placed: list[str] = []
    summary = {
        "mode": params.mode,
        "symbol": params.symbol,
        "candle_open_time": iso_z(signal.open_time),
        "y_hat": signal.y_hat,
        "direction": signal.direction,
        "confidence": signal.confidence,
        "position_before": decimal_str(account.position_amt),
        "target_qty": decimal_str(decision.target_qty),
        "position_after": decimal_str(account.position_amt),
        "orders": placed,
        "planned_orders": [order.params(params.symbol) for order in decision.orders],
        "mark_price": decimal_str(mark),
        "available_balance": decimal_str(account.available_balance),
        "leverage": params.leverage,
        "margin_type": params.margin_type,
        "assumptions": run.assumed,
        "notes": run.notes,
        **meta,
    }
    if run.trading:
        try:
            after = reconcile(
                client,
                params.symbol,
                decision,
                margin_type=params.margin_type,
                leverage=params.leverage,
                placed=placed,
                note=run.note,
                sleep=sleep,
                lookup_delay=lookup_delay,
            )
        except BinanceError as exc:
            write_json(
                out_dir / "execution_summary.json", {**summary, "position_after": None, "error": str(exc)}
            )
            raise
        summary["position_after"] = decimal_str(after)
        out(f"placed: {', '.join(placed) or 'nothing'}; position after: {decimal_str(after)}")
    write_json(out_dir / "execution_summary.json", summary)
    return ExecutionResult(candles, signal, rules, mark, account, decision, summary, journal)


def main(argv: list[str] | None = None) -> int:
    """The command line: every notebook parameter as a ``--flag``; prints the summary as JSON."""
    parser = argparse.ArgumentParser(
        prog="python -m adalib.trade",
        description="One execution run (CONTRACT.md section 4): the model's signal on the last closed 12h "
        "candle, the target position and the orders that reach it. Keys come from BINANCE_API_KEY and "
        "BINANCE_API_SECRET.",
    )
    choices = {"mode": MODES, "margin_type": MARGIN_TYPES}
    for f in fields(ExecutionParams):
        flag = "--" + f.name.replace("_", "-")
        if f.name == "confirm_live":
            parser.add_argument(flag, action="store_true", help="allow mode live to send real orders")
        else:
            kind = {"leverage": int}.get(f.name, float if isinstance(f.default, float) else str)
            parser.add_argument(
                flag,
                type=kind,
                default=f.default,
                choices=choices.get(f.name),
                help=f"default: {f.default!r}",
            )
    params = ExecutionParams(**vars(parser.parse_args(argv)))
    try:
        result = run_execution(params)
    except (ExecutionRefused, ValueError) as exc:  # bad parameters, candle or weights files: ValueErrors
        print(f"refused: {exc}", file=sys.stderr)
        return 2
    except BinanceError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result.summary, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
