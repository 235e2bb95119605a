"""The protective stop (``stop_loss``): a STOP_MARKET closePosition order on Binance's Algo Order
endpoints (``POST /fapi/v1/algoOrder``, as python-binance 1.0.37 routes conditional orders since
2025-12), placed after the open, cancelled before a close or reversal, re-placed if missing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from exec_support import CANDLES, NOW, Sleeps, env, next_candle, trading_params, write_weights

from adalib.binance.client import BinanceClient
from adalib.binance.fake import FakeBinance
from adalib.binance.rules import SymbolRules
from adalib.execution import run_execution, stop_price


@pytest.fixture(autouse=True)
def lock_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ADALIB_LOCK_DIR", str(tmp_path / "locks"))


@pytest.fixture
def weights(tmp_path):
    return {side: write_weights(tmp_path, intercept=0.01 * side) for side in (-1, 0, 1)}


@pytest.fixture
def fake():
    with FakeBinance(CANDLES, now=NOW) as exchange:
        yield exchange


def _run(fake, tmp_path, weights_path, stop_loss=0.05):
    params = trading_params(fake, tmp_path / "out", weights_path, stop_loss=stop_loss)
    return run_execution(params, env=env(fake), sleep=Sleeps(), out=lambda _: None)


def _open_stops(fake):
    return [a for a in fake.algo_orders if a["algoStatus"] == "NEW"]


def test_the_stop_is_placed_after_the_open_at_entry_times_one_minus_s_x(fake, tmp_path, weights):
    result = _run(fake, tmp_path, weights[1], stop_loss=0.05)
    (stop,) = _open_stops(fake)
    entry = fake.entry_price
    rules = SymbolRules.from_exchange_info({"symbols": [fake.symbol_info]}, "ADAUSDT")
    assert Decimal(stop["triggerPrice"]) == stop_price(entry, 1, 0.05, rules)
    assert Decimal(stop["triggerPrice"]) >= entry * Decimal("0.95")  # rounded toward the entry
    assert (stop["orderType"], stop["side"], stop["closePosition"], stop["workingType"]) == (
        "STOP_MARKET", "SELL", True, "MARK_PRICE")  # fmt: skip
    assert (
        result.summary["stop_order"] == stop["clientAlgoId"]
        and stop["clientAlgoId"] in result.summary["orders"]
    )
    posts = [r["path"] for r in fake.requests if r["method"] == "POST"]
    assert posts.index("/fapi/v1/algoOrder") > posts.index("/fapi/v1/order")  # after the open
    assert result.summary["status"] == "ok"


def test_a_rerun_keeps_the_stop_and_replaces_a_missing_one(fake, tmp_path, weights):
    first = _run(fake, tmp_path, weights[1])
    again = _run(fake, tmp_path, weights[1])
    assert again.summary["orders"] == [] and again.summary["stop_order"] == first.summary["stop_order"]
    assert len(fake.algo_orders) == 1
    client = BinanceClient(fake.url, api_key=fake.api_key, api_secret=fake.api_secret)
    client.cancel_algo_order(first.summary["stop_order"])  # someone cancelled it
    third = _run(fake, tmp_path, weights[1])
    (stop,) = _open_stops(fake)
    assert third.summary["orders"] == [stop["clientAlgoId"]] and stop["clientAlgoId"].endswith("-stop-2")


def test_a_reversal_cancels_the_stop_before_the_close_and_protects_the_new_side(fake, tmp_path, weights):
    first = _run(fake, tmp_path, weights[1])
    next_candle(fake)
    second = _run(fake, tmp_path, weights[-1])
    old = next(a for a in fake.algo_orders if a["clientAlgoId"] == first.summary["stop_order"])
    assert old["algoStatus"] == "CANCELED"
    trail = [(r["method"], r["path"], r["params"].get("newClientOrderId", "")) for r in fake.requests]
    cancel = trail.index(("DELETE", "/fapi/v1/algoOrder", ""))
    close = next(i for i, (m, _, cid) in enumerate(trail) if m == "POST" and cid.endswith("-close"))
    assert cancel < close  # cancelled before the close was sent
    (stop,) = _open_stops(fake)
    assert stop["side"] == "BUY" and Decimal(stop["triggerPrice"]) > fake.entry_price
    assert second.summary["status"] == "ok"


def test_a_flat_target_cancels_the_stop_and_no_stop_loss_places_none(fake, tmp_path, weights):
    _run(fake, tmp_path, weights[1])
    next_candle(fake)
    flat = _run(fake, tmp_path, weights[0])
    assert flat.summary["position_after"] == "0" and _open_stops(fake) == []
    next_candle(fake)
    plain = _run(fake, tmp_path, weights[1], stop_loss=None)
    assert plain.summary["stop_order"] is None and _open_stops(fake) == []
    assert not [r for r in fake.requests if r["method"] == "POST" and r["path"] == "/fapi/v1/algoOrder"][1:]


def test_a_stop_whose_answer_is_lost_is_looked_up_not_placed_twice(fake, tmp_path, weights):
    fake.inject("503_after", "/fapi/v1/algoOrder")
    result = _run(fake, tmp_path, weights[1])
    (stop,) = _open_stops(fake)
    assert result.summary["stop_order"] == stop["clientAlgoId"] and len(fake.algo_orders) == 1
    assert result.summary["status"] == "ok"
