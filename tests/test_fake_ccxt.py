"""ccxt 4.5.90 (``binanceusdm``) against the local exchange, out of process and in-process.

ccxt is pointed at the exchange by rewriting its ``urls['api']`` entries: the ``fapi*``
ones to the local URL, every other one to a closed port on 127.0.0.1, so that a call
anywhere else fails instead of reaching binance.com. ``fetchCurrencies`` (a spot
``sapi`` call) is off and markets are loaded for ``linear`` only.

ccxt picks its USDT-M specific error map by the hostname of the URL (``https://fapi.binance.com``);
against any other URL it uses its common map, so the classes asserted here are the ones a
ccxt user sees against the local exchange (-4164, -2022, -2019 and -4116 are plain ``ExchangeError``
there, not ``InvalidOrder``), and each also carries Binance's code in its message.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import ccxt
import pytest
from fake_support import Venue, venue

SYMBOL = "ADA/USDT:USDT"
BLOCKED = "http://127.0.0.1:9/not-the-local-exchange"


def client(v: Venue, *, key: str | None = None, secret: str | None = None) -> ccxt.binanceusdm:
    ex = ccxt.binanceusdm(
        {
            "apiKey": key or v.key,
            "secret": secret or v.secret,
            "timeout": 10_000,
            "options": {
                "adjustForTimeDifference": True,
                "fetchCurrencies": False,
                "fetchMarkets": {"types": ["linear"]},
            },
        }
    )
    for name, url in list(ex.urls["api"].items()):
        ex.urls["api"][name] = (
            url.replace("https://fapi.binance.com", v.url) if "fapi.binance.com" in url else BLOCKED
        )
    sent: list[str] = []
    fetch = ex.fetch

    def recorded(url: str, *args: object, **kw: object) -> object:
        sent.append(url)
        return fetch(url, *args, **kw)

    ex.fetch = recorded
    ex.sent_urls = sent
    ex.load_markets()
    return ex


@pytest.fixture(scope="module", params=["cli", "in-process"])
def v(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Venue]:
    with venue(request.param, tmp_path_factory.mktemp("ccxt")) as exchange:
        yield exchange


@pytest.fixture
def ex(v: Venue) -> Iterator[ccxt.binanceusdm]:
    v.control.mark("0.5")
    v.control.position("0")
    exchange = client(v)
    yield exchange
    assert exchange.sent_urls and all(u.startswith(v.url + "/fapi/") for u in exchange.sent_urls)


def test_markets_time_klines_mark_and_funding(v: Venue, ex: ccxt.binanceusdm) -> None:
    market = ex.market(SYMBOL)
    assert (market["id"], market["type"], market["linear"], market["settle"], market["contract"]) == (
        "ADAUSDT",
        "swap",
        True,
        "USDT",
        True,
    )
    assert market["precision"]["amount"] == 1 and market["precision"]["price"] == 0.0001
    assert market["limits"]["amount"]["min"] == 1 and market["limits"]["cost"]["min"] == 5
    assert abs(ex.fetch_time() - ex.milliseconds() - ex.options["timeDifference"] * -1) < 60_000
    candles = ex.fetch_ohlcv(SYMBOL, "12h", limit=3)
    assert len(candles) == 3 and all(len(c) == 6 for c in candles)
    assert candles[1][0] - candles[0][0] == 12 * 3600 * 1000
    assert ex.fetch_funding_rate(SYMBOL)["markPrice"] == 0.5
    history = ex.fetch_funding_rate_history(SYMBOL, limit=5)
    assert len(history) == 5 and all(h["fundingRate"] == 0.0001 for h in history)
    tiers = ex.fetch_leverage_tiers([SYMBOL])[SYMBOL]
    assert tiers[0]["maxLeverage"] == 75 and tiers[0]["maintenanceMarginRate"] == 0.005


def test_account_leverage_margin_mode_and_position_mode(v: Venue, ex: ccxt.binanceusdm) -> None:
    balance = ex.fetch_balance()
    assert balance["USDT"]["total"] == 10000 and balance["USDT"]["free"] == 10000
    assert ex.fetch_positions([SYMBOL]) == []  # v3 positionRisk lists non-flat positions only
    assert ex.set_leverage(3, SYMBOL)["leverage"] == 3
    assert ex.set_margin_mode("isolated", SYMBOL)["code"] == 200
    with pytest.raises(ccxt.MarginModeAlreadySet, match="-4046"):
        ex.set_margin_mode("isolated", SYMBOL)
    ex.set_margin_mode("cross", SYMBOL)
    assert ex.fetch_position_mode(SYMBOL)["hedged"] is False
    ex.set_leverage(20, SYMBOL)


def test_market_buy_ack_and_result_lookup_by_client_id_and_reduce_only_close(ex: ccxt.binanceusdm) -> None:
    ack = ex.create_order(
        SYMBOL, "market", "buy", 100, params={"newOrderRespType": "ACK", "clientOrderId": "cx-ack"}
    )
    assert (ack["status"], ack["filled"], ack["clientOrderId"]) == ("open", 0, "cx-ack")
    result = ex.create_order(
        SYMBOL, "market", "buy", 100, params={"clientOrderId": "cx-res"}
    )  # ccxt asks RESULT
    assert (result["status"], result["filled"], result["average"], result["cost"]) == ("closed", 100, 0.5, 50)
    looked = ex.fetch_order(None, SYMBOL, params={"clientOrderId": "cx-ack"})
    assert (looked["id"], looked["status"], looked["filled"], looked["side"]) == (
        ack["id"],
        "closed",
        100,
        "buy",
    )
    [position] = ex.fetch_positions([SYMBOL])
    assert (position["side"], position["contracts"], position["entryPrice"]) == ("long", 200, 0.5)
    close = ex.create_order(
        SYMBOL, "market", "sell", 200, params={"reduceOnly": True, "clientOrderId": "cx-close"}
    )
    assert close["status"] == "closed" and close["reduceOnly"] is True
    assert ex.fetch_positions([SYMBOL]) == []
    trades = ex.fetch_my_trades(SYMBOL)
    assert [t["side"] for t in trades][-3:] == ["buy", "buy", "sell"] and trades[-1]["amount"] == 200
    assert {o["clientOrderId"] for o in ex.fetch_orders(SYMBOL)} >= {"cx-ack", "cx-res", "cx-close"}


def test_stop_market_goes_to_the_algo_endpoints_and_triggers(v: Venue, ex: ccxt.binanceusdm) -> None:
    ex.create_order(SYMBOL, "market", "buy", 100, params={"clientOrderId": "cx-open"})
    stop = ex.create_order(
        SYMBOL,
        "market",
        "sell",
        100,
        params={"stopPrice": 0.45, "reduceOnly": True, "clientOrderId": "cx-stop"},
    )
    assert stop["info"]["algoStatus"] == "NEW" and stop["info"]["orderType"] == "STOP_MARKET"
    assert [o["clientOrderId"] for o in ex.fetch_open_orders(SYMBOL, params={"trigger": True})] == ["cx-stop"]
    v.control.mark("0.44")
    assert ex.fetch_open_orders(SYMBOL, params={"trigger": True}) == []
    assert ex.fetch_positions([SYMBOL]) == []
    filled = [o for o in v.control.orders() if o["clientOrderId"] == "cx-stop"]
    assert [(o["origType"], o["avgPrice"]) for o in filled] == [("STOP_MARKET", "0.44")]


def test_errors_map_to_ccxt_exceptions(v: Venue, ex: ccxt.binanceusdm) -> None:
    with pytest.raises(ccxt.AuthenticationError, match="-1022"):
        client(v, secret="0" * 64).fetch_balance()
    with pytest.raises(ccxt.AuthenticationError, match="-2015"):
        client(v, key="unknown-key").fetch_balance()
    v.control.fault("-1021", "/fapi/v3/account", "GET")
    with pytest.raises(ccxt.InvalidNonce, match="-1021"):
        ex.fetch_balance()
    raw_order = {"symbol": "ADAUSDT", "side": "BUY", "type": "MARKET", "quantity": "100.5"}
    with pytest.raises(ccxt.BadRequest, match="-1111"):
        ex.fapiPrivatePostOrder(raw_order)  # create_order would round the amount; the raw endpoint does not
    with pytest.raises(ccxt.ExchangeError, match="-4164"):
        ex.create_order(SYMBOL, "market", "buy", 9)
    with pytest.raises(ccxt.ExchangeError, match="-2022"):
        ex.create_order(SYMBOL, "market", "sell", 10, params={"reduceOnly": True})
    with pytest.raises(ccxt.OrderNotFound, match="-2013"):
        ex.fetch_order(None, SYMBOL, params={"clientOrderId": "never-sent"})
    with pytest.raises(ccxt.BadRequest, match="-4005"):
        ex.create_order(SYMBOL, "market", "buy", 3_000_000)
    ex.set_leverage(1, SYMBOL)
    with pytest.raises(ccxt.ExchangeError, match="-2019"):
        ex.create_order(SYMBOL, "market", "buy", 100_000)  # 50,000 USDT of margin at 1x > 10,000
    ex.set_leverage(20, SYMBOL)


def test_duplicate_client_id_while_open_gets_minus_4116(v: Venue, ex: ccxt.binanceusdm) -> None:
    v.control.fault("delay", delay=1.0)
    first: list[dict] = []
    thread = threading.Thread(
        target=lambda: first.append(
            client(v).create_order(SYMBOL, "market", "buy", 100, params={"clientOrderId": "cx-dup"})
        )
    )
    thread.start()
    time.sleep(0.4)
    with pytest.raises(ccxt.ExchangeError, match="-4116"):
        ex.create_order(SYMBOL, "market", "buy", 100, params={"clientOrderId": "cx-dup"})
    thread.join(timeout=10)
    assert first[0]["status"] == "closed"
    again = ex.create_order(SYMBOL, "market", "buy", 100, params={"clientOrderId": "cx-dup"})
    assert again["status"] == "closed"  # unique among OPEN orders only
