"""python-binance 1.0.37 (``Client.futures_*``) against the local exchange, out of process and in-process.

The client is pointed at the exchange through its ``FUTURES_URL`` / ``FUTURES_DATA_URL``
attributes (``{url}/fapi``); ``API_URL`` (spot) goes to a closed port on 127.0.0.1 and
``ping=False`` skips the spot ping at construction, so nothing reaches binance.com. Its
clock offset (``timestamp_offset``) is taken from ``futures_time``, as for a skewed host.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from binance.client import Client
from binance.exceptions import BinanceAPIException
from fake_support import Venue, venue

S = "ADAUSDT"


def client(v: Venue, *, key: str | None = None, secret: str | None = None) -> Client:
    c = Client(key or v.key, secret or v.secret, ping=False, requests_params={"timeout": 10})
    c.FUTURES_URL, c.FUTURES_DATA_URL = f"{v.url}/fapi", f"{v.url}/futures/data"
    c.API_URL = "http://127.0.0.1:9/not-the-local-exchange"
    urls: list[str] = []
    c.session.hooks["response"].append(lambda r, *args, **kw: urls.append(r.url))
    c.sent_urls = urls
    c.timestamp_offset = c.futures_time()["serverTime"] - int(time.time() * 1000)
    return c


@pytest.fixture(scope="module", params=["cli", "in-process"])
def v(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Venue]:
    with venue(request.param, tmp_path_factory.mktemp("python-binance")) as exchange:
        yield exchange


@pytest.fixture
def c(v: Venue) -> Iterator[Client]:
    v.control.mark("0.5")
    v.control.position("0")
    c = client(v)
    yield c
    assert c.sent_urls and all(u.startswith(v.url + "/fapi/") for u in c.sent_urls)


def code(call: Any) -> tuple[int, int]:
    """Binance's code and the HTTP status python-binance parsed from the error answer."""
    with pytest.raises(BinanceAPIException) as info:
        call()
    return info.value.code, info.value.status_code


def test_markets_time_klines_mark_and_funding(c: Client) -> None:
    info = c.futures_exchange_info()
    assert {"rateLimits", "assets", "exchangeFilters", "symbols", "serverTime"} <= set(info)
    [entry] = info["symbols"]
    assert (entry["symbol"], entry["contractType"], entry["quoteAsset"], entry["marginAsset"]) == (
        S,
        "PERPETUAL",
        "USDT",
        "USDT",
    )
    filters = {f["filterType"]: f for f in entry["filters"]}
    assert filters["MIN_NOTIONAL"]["notional"] == "5" and filters["LOT_SIZE"]["stepSize"] == "1"
    rows = c.futures_klines(symbol=S, interval="12h", limit=1500)
    assert len(rows) == 200 and all(len(r) == 12 for r in rows)
    start = rows[10][0]
    page = c.futures_klines(symbol=S, interval="12h", startTime=start, endTime=rows[19][0])
    assert [r[0] for r in page] == [r[0] for r in rows[10:20]]
    assert c.futures_mark_price(symbol=S)["markPrice"] == "0.5"
    funding = c.futures_funding_rate(symbol=S, limit=10)
    assert len(funding) == 10 and {f["fundingRate"] for f in funding} == {"0.00010000"}
    assert [f["fundingTime"] % (8 * 3600 * 1000) for f in funding] == [0] * 10
    with pytest.raises(BinanceAPIException) as limit:
        c.futures_klines(symbol=S, interval="12h", limit=1501)
    assert limit.value.code == -1130


def test_account_positions_leverage_margin_type_and_modes(c: Client) -> None:
    [balance] = c.futures_account_balance()
    assert {"crossUnPnl", "marginAvailable", "availableBalance"} <= set(balance) and balance[
        "balance"
    ] == "10000"
    v2, v3 = c.futures_account(), c.futures_account(version=3)
    assert v2["positions"][0]["symbol"] == S and v3["positions"] == []  # v3 lists non-flat positions only
    assert v2["totalWalletBalance"] == v3["totalWalletBalance"] == "10000"
    assert c.futures_position_information(symbol=S) == []
    [flat] = c.futures_position_information(symbol=S, version=2)
    assert (flat["positionAmt"], flat["marginType"], flat["leverage"]) == ("0", "cross", "20")
    assert c.futures_leverage_bracket(symbol=S)["brackets"][0]["initialLeverage"] == 75
    assert c.futures_change_leverage(symbol=S, leverage=3)["leverage"] == 3
    assert c.futures_change_margin_type(symbol=S, marginType="ISOLATED") == {"code": 200, "msg": "success"}
    assert code(lambda: c.futures_change_margin_type(symbol=S, marginType="ISOLATED")) == (-4046, 400)
    assert c.futures_position_information(symbol=S, version=2)[0]["marginType"] == "isolated"
    c.futures_change_margin_type(symbol=S, marginType="CROSSED")
    assert c.futures_get_position_mode() == {"dualSidePosition": False}
    assert c.futures_get_multi_assets_mode() == {"multiAssetsMargin": False}
    c.futures_change_leverage(symbol=S, leverage=20)


def test_market_buy_ack_and_result_lookup_by_client_id_and_reduce_only_close(c: Client) -> None:
    ack = c.futures_create_order(symbol=S, side="BUY", type="MARKET", quantity=100, newClientOrderId="pb-ack")
    assert (ack["status"], ack["executedQty"], ack["clientOrderId"]) == ("NEW", "0", "pb-ack")
    assert {"priceMatch", "selfTradePreventionMode", "goodTillDate"} <= set(ack)
    result = c.futures_create_order(
        symbol=S, side="BUY", type="MARKET", quantity=100, newOrderRespType="RESULT"
    )
    assert (result["status"], result["executedQty"], result["avgPrice"], result["cumQuote"]) == (
        "FILLED",
        "100",
        "0.5",
        "50",
    )
    looked = c.futures_get_order(symbol=S, origClientOrderId="pb-ack")
    assert (looked["orderId"], looked["status"], looked["executedQty"]) == (ack["orderId"], "FILLED", "100")
    assert (
        c.futures_get_order(symbol=S, orderId=result["orderId"])["clientOrderId"] == result["clientOrderId"]
    )
    [position] = c.futures_position_information(symbol=S)
    assert (position["positionAmt"], position["entryPrice"], position["notional"]) == ("200", "0.5", "100")
    close = c.futures_create_order(
        symbol=S, side="SELL", type="MARKET", quantity=200, reduceOnly="true", newOrderRespType="RESULT"
    )
    assert (close["status"], close["reduceOnly"]) == ("FILLED", True)
    assert c.futures_position_information(symbol=S) == []
    assert [t["qty"] for t in c.futures_account_trades(symbol=S)][-3:] == ["100", "100", "200"]
    assert c.futures_get_open_orders(symbol=S) == []


def test_stop_market_is_routed_to_the_algo_endpoints_and_triggers(v: Venue, c: Client) -> None:
    c.futures_create_order(symbol=S, side="BUY", type="MARKET", quantity=100)
    stop = c.futures_create_order(
        symbol=S,
        side="SELL",
        type="STOP_MARKET",
        stopPrice="0.45",
        closePosition="true",
        workingType="MARK_PRICE",
        clientAlgoId="pb-stop",
    )
    assert (stop["algoStatus"], stop["triggerPrice"], stop["clientAlgoId"]) == ("NEW", "0.45", "pb-stop")
    assert [a["clientAlgoId"] for a in c.futures_get_open_orders(symbol=S, conditional=True)] == ["pb-stop"]
    v.control.mark("0.44")
    done = c.futures_get_order(symbol=S, clientAlgoId="pb-stop")  # routed to GET algoOrder
    assert (done["algoStatus"], done["actualPrice"]) == ("FINISHED", "0.44")
    assert c.futures_get_order(symbol=S, orderId=done["actualOrderId"])["origType"] == "STOP_MARKET"
    again = c.futures_create_order(
        symbol=S, side="SELL", type="STOP_MARKET", stopPrice="0.40", quantity=10, reduceOnly="true"
    )
    canceled = c.futures_cancel_order(symbol=S, algoId=again["algoId"])
    assert (canceled["code"], canceled["msg"]) == ("200", "success")


def test_errors_carry_binance_codes_and_statuses(v: Venue, c: Client) -> None:
    assert code(lambda: client(v, secret="0" * 64).futures_account_balance()) == (-1022, 400)
    assert code(lambda: client(v, key="unknown-key").futures_account_balance()) == (-2015, 401)
    v.control.fault("-1021", "/fapi/v3/balance", "GET")
    assert code(c.futures_account_balance) == (-1021, 400)
    order = {"symbol": S, "side": "BUY", "type": "MARKET"}
    assert code(lambda: c.futures_create_order(**order, quantity="100.5")) == (-1111, 400)
    assert code(lambda: c.futures_create_order(**order, quantity=9)) == (-4164, 400)
    assert code(
        lambda: c.futures_create_order(**order | {"side": "SELL"}, quantity=10, reduceOnly="true")
    ) == (-2022, 400)
    assert code(lambda: c.futures_get_order(symbol=S, origClientOrderId="never-sent")) == (-2013, 400)
    assert code(lambda: c.futures_create_order(**order, quantity=3_000_000)) == (-4005, 400)
    c.futures_change_leverage(symbol=S, leverage=1)
    assert code(lambda: c.futures_create_order(**order, quantity=100_000)) == (-2019, 400)
    c.futures_change_leverage(symbol=S, leverage=20)
    stop = order | {
        "type": "STOP_MARKET",
        "stopPrice": "0.4",
        "quantity": 10,
    }  # a BUY stop below the mark fires at once
    assert code(lambda: c.futures_create_order(**stop)) == (-2021, 400)


def test_duplicate_client_id_while_open_gets_minus_4116(v: Venue, c: Client) -> None:
    v.control.fault("delay", delay=1.0)
    first: list[dict] = []
    order = {"symbol": S, "side": "BUY", "type": "MARKET", "quantity": 100, "newClientOrderId": "pb-dup"}
    thread = threading.Thread(target=lambda: first.append(client(v).futures_create_order(**order)))
    thread.start()
    time.sleep(0.4)
    assert code(lambda: c.futures_create_order(**order)) == (-4116, 400)
    thread.join(timeout=10)
    assert c.futures_get_order(symbol=S, origClientOrderId="pb-dup")["status"] == "FILLED"
    assert c.futures_create_order(**order)["status"] == "NEW"  # an ACK; unique among OPEN orders only
