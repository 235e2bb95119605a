"""The fake exchange validates like Binance, keeps the account, and binds 127.0.0.1 only."""

from __future__ import annotations

from decimal import Decimal

import pytest
from exec_support import CANDLES, TWELVE_HOURS_MS

from adalib.binance.client import BinanceClient
from adalib.binance.errors import BinanceAPIError
from adalib.binance.fake import FakeBinance


def _client(fake: FakeBinance) -> BinanceClient:
    return BinanceClient(fake.url, api_key=fake.api_key, api_secret=fake.api_secret)


def _code(call) -> int:
    with pytest.raises(BinanceAPIError) as info:
        call()
    return info.value.code


def test_binds_loopback_on_an_os_port():
    with FakeBinance(mark_price="1") as fake:
        host, port = fake._server.server_address
        assert host == "127.0.0.1" and port > 0 and fake.url == f"http://127.0.0.1:{port}"
    with pytest.raises(RuntimeError, match="not running"):
        _ = fake.url


def test_order_validation_like_binance():
    with FakeBinance(mark_price="0.5", balance="100", leverage=1) as fake:
        c = _client(fake)
        order = c.new_market_order

        assert _code(lambda: order("ADAUSDT", "BUY", Decimal("10.5"), client_order_id="a")) == -1111
        exponent = {"symbol": "ADAUSDT", "side": "BUY", "type": "MARKET", "quantity": "1e3"}
        assert (
            _code(lambda: c.request("POST", "/fapi/v1/order", exponent, signed=True, idempotent=False))
            == -1102
        )
        assert _code(lambda: order("ADAUSDT", "BUY", Decimal(9), client_order_id="a")) == -4164
        assert _code(lambda: order("ADAUSDT", "BUY", Decimal(3_000_000), client_order_id="a")) == -4005
        assert _code(lambda: order("BTCUSDT", "BUY", Decimal(100), client_order_id="a")) == -1121
        assert (
            _code(lambda: order("ADAUSDT", "BUY", Decimal(300), client_order_id="a")) == -2019
        )  # 150 USDT > 100
        assert (
            _code(lambda: order("ADAUSDT", "SELL", Decimal(20), client_order_id="a", reduce_only=True))
            == -2022
        )
        assert fake.orders == []
        order("ADAUSDT", "BUY", Decimal(100), client_order_id="a")
        assert (
            _code(lambda: order("ADAUSDT", "SELL", Decimal(101), client_order_id="b", reduce_only=True))
            == -2022
        )
        assert (
            _code(lambda: order("ADAUSDT", "BUY", Decimal(1), client_order_id="b", reduce_only=True)) == -2022
        )
        order(
            "ADAUSDT", "SELL", Decimal(100), client_order_id="b", reduce_only=True
        )  # reduce-only skips min notional
        assert c.position_amt("ADAUSDT") == 0
        assert _code(lambda: c.request("GET", "/fapi/v1/order", {"symbol": "ADAUSDT"}, signed=True)) == -1102


def test_timestamp_must_fall_inside_recv_window_of_the_fake_clock():
    with FakeBinance(mark_price="0.5") as fake:
        for offset, ok in ((-6000, False), (-4000, True), (500, True), (2000, False)):
            c = _client(fake)
            c.time_offset_ms = offset  # relative to the exchange clock: -6 s is outside recvWindow 5000,
            c.sync_time = lambda offset=offset: offset  # +2 s is beyond Binance's 1 s tolerance ahead
            if ok:
                assert c.available_balance() == Decimal(10000)
            else:
                assert _code(c.available_balance) == -1021
        assert _code(lambda: BinanceClient(fake.url).request("GET", "/fapi/v2/balance")) == -2015  # unsigned


def test_fills_at_mark_and_keeps_the_account():
    with FakeBinance(mark_price="0.5", balance="1000", leverage=2) as fake:
        c = _client(fake)
        c.new_market_order("ADAUSDT", "BUY", Decimal(1000), client_order_id="o1")
        # 1000 ADA at 0.5 = 500 USDT notional, 250 USDT margin at 2x, 0.25 USDT fee
        assert c.available_balance() == Decimal("1000") - Decimal("0.25") - Decimal(250)
        fake.set_mark_price("0.6")
        c.new_market_order(
            "ADAUSDT", "SELL", Decimal(3000), client_order_id="o2"
        )  # close 1000, open short 2000
        assert c.position_amt("ADAUSDT") == Decimal(-2000) and fake.entry_price == Decimal("0.6")
        assert fake.wallet == Decimal("1000") - Decimal("0.25") + Decimal(100) - Decimal("0.9")
        assert c.get_order("ADAUSDT", "o2")["executedQty"] == "3000"


def test_margin_type_leverage_and_hedge_mode():
    with FakeBinance(mark_price="0.5", hedge_mode=True) as fake:
        c = _client(fake)
        assert c.set_margin_type("ADAUSDT", "ISOLATED") == "changed"
        assert c.set_margin_type("ADAUSDT", "ISOLATED") == "already set"  # -4046 is not an error
        assert c.set_leverage("ADAUSDT", 3)["leverage"] == 3 and fake.leverage == 3
        assert _code(lambda: c.set_leverage("ADAUSDT", 126)) == -4028
        assert c.hedge_mode() is True
        assert _code(lambda: c.new_market_order("ADAUSDT", "BUY", Decimal(100), client_order_id="h")) == -4061


def test_klines_serve_only_what_exists_at_the_fake_clock():
    start = int(CANDLES["open_time"].dt.epoch("ms")[0])
    with FakeBinance(CANDLES, now=start + 10 * TWELVE_HOURS_MS + 5) as fake:
        rows = BinanceClient(fake.url).klines("ADAUSDT", limit=500)
        assert len(rows) == 11 and rows[-1][0] == start + 10 * TWELVE_HOURS_MS  # the 11th is still open
        assert BinanceClient(fake.url).mark_price("ADAUSDT") == Decimal(str(CANDLES["close"][9])).quantize(
            Decimal("1e-8")
        )


def test_a_close_needs_no_margin_even_under_water():
    """Binance never refuses a reduce-only close for margin; the local exchange did when the position's
    loss had eaten the available balance (the replay's -2019)."""
    with FakeBinance(mark_price="1", balance="100", leverage=1) as fake:
        c = _client(fake)
        c.new_market_order("ADAUSDT", "BUY", Decimal(95), client_order_id="open")
        fake.set_mark_price("0.5")  # 47.5 USDT lost: no free margin left for the close's fee
        assert fake.available_balance() <= 0
        closed = c.new_market_order("ADAUSDT", "SELL", Decimal(95), client_order_id="close", reduce_only=True)
        assert closed["status"] == "FILLED" and c.position_amt("ADAUSDT") == 0
        assert _code(lambda: c.new_market_order("ADAUSDT", "BUY", Decimal(200), client_order_id="x")) == -2019
