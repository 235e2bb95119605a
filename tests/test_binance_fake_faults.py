"""Every injected fault of the local exchange: what the client sees and what the exchange executed."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
import requests
from fake_support import BUY_100, Raw

from adalib.binance.fake import FAULTS, FakeBinance


def _order_lookup(raw: Raw, **by: str) -> requests.Response:
    return raw.call("GET", "/fapi/v1/order", {"symbol": "ADAUSDT", **by})


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [("503_after", 503, -1000), ("408_after", 408, -1007), ("502_after", 502, -1006)],
)
def test_answer_lost_after_execution(kind: str, status: int, code: int) -> None:
    with FakeBinance(mark_price="0.5") as fake:
        raw = Raw.of(fake)
        fake.inject(kind)
        answer = raw.call("POST", "/fapi/v1/order", BUY_100 | {"newClientOrderId": "lost-1"})
        assert (answer.status_code, answer.json()["code"]) == (status, code)
        assert "execution status unknown" in answer.json()["msg"].lower() or kind == "503_after"
        assert fake.position_amt == Decimal(100)  # it executed all the same
        assert (
            raw.ok("GET", "/fapi/v1/order", {"symbol": "ADAUSDT", "origClientOrderId": "lost-1"})["status"]
            == "FILLED"
        )
        assert [r["status"] for r in fake.requests if r["method"] == "POST"] == [status]


@pytest.mark.parametrize(("kind", "status"), [("503", 503), ("429", 429), ("418", 418)])
def test_refused_before_execution(kind: str, status: int) -> None:
    with FakeBinance(mark_price="0.5") as fake:
        raw = Raw.of(fake)
        fake.inject(kind, retry_after=7)
        answer = raw.call("POST", "/fapi/v1/order", BUY_100)
        assert answer.status_code == status and fake.orders == [] and fake.position_amt == 0
        assert answer.headers.get("Retry-After") == ("7" if kind != "503" else None)
        assert raw.call("POST", "/fapi/v1/order", BUY_100).status_code == 200  # consumed: the next one passes


def test_minus_1021_once_and_only_on_the_matching_path() -> None:
    with FakeBinance(mark_price="0.5") as fake:
        raw = Raw.of(fake)
        fake.inject("-1021", "/fapi/v2/balance", "GET")
        assert raw.ok("GET", "/fapi/v2/positionRisk", {"symbol": "ADAUSDT"})[0]["positionAmt"] == "0"
        assert raw.code("GET", "/fapi/v2/balance") == -1021
        assert raw.ok("GET", "/fapi/v2/balance")[0]["balance"] == "10000"


def test_expired_market_order_fills_nothing() -> None:
    with FakeBinance(mark_price="0.5") as fake:
        raw = Raw.of(fake)
        fake.inject("expired")
        order = raw.ok("POST", "/fapi/v1/order", BUY_100 | {"newClientOrderId": "e-1"})
        assert (order["status"], order["executedQty"], order["cumQuote"]) == ("EXPIRED", "0", "0")
        assert fake.position_amt == 0 and fake.wallet == Decimal(10000) and fake.trades == []
        assert _order_lookup(raw, origClientOrderId="e-1").json()["status"] == "EXPIRED"
        again = raw.ok(
            "POST", "/fapi/v1/order", BUY_100 | {"newClientOrderId": "e-1"}
        )  # not open: id reusable
        assert again["status"] == "FILLED" and len(fake.orders_with_id("e-1")) == 2


def test_partial_fill_fills_the_fraction_down_to_the_step() -> None:
    with FakeBinance(mark_price="0.5") as fake:
        raw = Raw.of(fake)
        fake.inject("partial", fraction=0.3)
        order = raw.ok("POST", "/fapi/v1/order", BUY_100 | {"quantity": "101", "newClientOrderId": "p-1"})
        # 101 * 0.3 = 30.3 -> 30 (step 1); the rest expires as an IOC market order out of liquidity
        assert (order["status"], order["origQty"], order["executedQty"]) == ("EXPIRED", "101", "30")
        assert Decimal(order["cumQuote"]) == Decimal("15") and fake.position_amt == Decimal(30)
        trades = raw.ok("GET", "/fapi/v1/userTrades", {"symbol": "ADAUSDT", "orderId": order["orderId"]})
        assert [t["qty"] for t in trades] == ["30"]


def test_ack_answer_is_the_accepted_order_and_the_lookup_the_result() -> None:
    with FakeBinance(mark_price="0.5") as fake:
        raw = Raw.of(fake)
        fake.inject("partial", fraction=0.5)
        ack = raw.ok(
            "POST", "/fapi/v1/order", BUY_100 | {"newOrderRespType": "ACK", "newClientOrderId": "a-1"}
        )
        assert (ack["status"], ack["executedQty"]) == ("NEW", "0")
        looked = _order_lookup(raw, orderId=str(ack["orderId"])).json()
        assert (looked["status"], looked["executedQty"]) == ("EXPIRED", "50")


def test_delay_keeps_the_id_open_so_a_racing_duplicate_gets_minus_4116() -> None:
    with FakeBinance(mark_price="0.5") as fake:
        raw = Raw.of(fake)
        fake.inject("delay", delay=1.0)
        answers: list[requests.Response] = []
        first = threading.Thread(
            target=lambda: answers.append(
                raw.call("POST", "/fapi/v1/order", BUY_100 | {"newClientOrderId": "race"})
            )
        )
        first.start()
        time.sleep(0.3)
        assert _order_lookup(raw, origClientOrderId="race").json()["status"] == "NEW"
        assert raw.ok("GET", "/fapi/v1/openOrders", {"symbol": "ADAUSDT"})[0]["clientOrderId"] == "race"
        assert raw.code("POST", "/fapi/v1/order", BUY_100 | {"newClientOrderId": "race"}) == -4116
        assert fake.position_amt == 0  # not executed yet
        first.join(timeout=5)
        assert answers[0].json()["status"] == "FILLED" and fake.position_amt == Decimal(100)
        # done, so no longer open: Binance takes the same id again and executes it a second time
        assert raw.ok("POST", "/fapi/v1/order", BUY_100 | {"newClientOrderId": "race"})["status"] == "FILLED"
        assert len(fake.orders_with_id("race")) == 2 and fake.position_amt == Decimal(200)


def test_drop_after_executes_and_closes_the_connection() -> None:
    with FakeBinance(mark_price="0.5") as fake:
        raw = Raw.of(fake)
        fake.inject("drop_after")
        with pytest.raises(requests.ConnectionError):
            raw.call("POST", "/fapi/v1/order", BUY_100 | {"newClientOrderId": "d-1"})
        assert fake.position_amt == Decimal(100) and fake.orders_with_id("d-1")[0]["status"] == "FILLED"


def test_lookup_missing_answers_minus_2013_for_the_window_then_finds_it() -> None:
    with FakeBinance(mark_price="0.5") as fake:
        raw = Raw.of(fake)
        fake.inject("lookup_missing", delay=0.6)
        placed = time.monotonic()
        order = raw.ok("POST", "/fapi/v1/order", BUY_100 | {"newClientOrderId": "m-1"})
        assert _order_lookup(raw, origClientOrderId="m-1").json()["code"] == -2013
        assert _order_lookup(raw, orderId=str(order["orderId"])).json()["code"] == -2013
        assert raw.ok("GET", "/fapi/v1/allOrders", {"symbol": "ADAUSDT"}) == []
        assert fake.position_amt == Decimal(100)  # executed all along
        time.sleep(max(0.0, 0.65 - (time.monotonic() - placed)))
        assert _order_lookup(raw, origClientOrderId="m-1").json()["status"] == "FILLED"


def test_stall_before_never_executes() -> None:
    with FakeBinance(mark_price="0.5") as fake:
        raw = Raw.of(fake)
        fake.inject("stall_before", delay=0.5)
        started = time.monotonic()
        with pytest.raises(requests.ConnectionError):
            raw.call("POST", "/fapi/v1/order", BUY_100, timeout=3)
        assert 0.45 < time.monotonic() - started < 3
        fake.inject("stall_before", delay=0.5)
        with pytest.raises(requests.Timeout):
            raw.call("POST", "/fapi/v1/order", BUY_100, timeout=0.2)
        time.sleep(0.5)
        assert fake.orders == [] and fake.position_amt == 0


@pytest.mark.parametrize("kind", ["stall_after", "timeout_after"])
def test_stall_after_executes_then_holds_the_answer(kind: str) -> None:
    with FakeBinance(mark_price="0.5") as fake:
        raw = Raw.of(fake)
        fake.inject(kind, delay=0.8)
        with pytest.raises(requests.Timeout):
            raw.call("POST", "/fapi/v1/order", BUY_100, timeout=0.3)
        assert fake.position_amt == Decimal(100)
        fake.inject(kind, delay=0.3)
        started = time.monotonic()
        assert raw.ok("POST", "/fapi/v1/order", BUY_100, timeout=3)["status"] == "FILLED"
        assert time.monotonic() - started >= 0.3


def test_headers_weight_on_every_answer_order_counts_on_accepted_orders() -> None:
    with FakeBinance(mark_price="0.5") as fake:
        raw = Raw.of(fake)
        rejected = raw.call("POST", "/fapi/v1/order", BUY_100 | {"quantity": "1"})  # -4164
        assert rejected.status_code == 400 and "X-MBX-USED-WEIGHT-1M" in rejected.headers
        assert "X-MBX-ORDER-COUNT-10S" not in rejected.headers
        accepted = [raw.call("POST", "/fapi/v1/order", BUY_100) for _ in range(2)]
        assert [a.headers["X-MBX-ORDER-COUNT-10S"] for a in accepted] == ["1", "2"]
        assert [a.headers["X-MBX-ORDER-COUNT-1M"] for a in accepted] == ["1", "2"]
        weights = [int(a.headers["X-MBX-USED-WEIGHT-1M"]) for a in accepted]
        assert weights[1] > weights[0] > int(rejected.headers["X-MBX-USED-WEIGHT-1M"])


def test_inject_refuses_unknown_or_misplaced_faults() -> None:
    with FakeBinance(mark_price="0.5") as fake:
        with pytest.raises(ValueError, match="unknown fault"):
            fake.inject("boom")
        with pytest.raises(ValueError, match="POST /fapi/v1/order only"):
            fake.inject("expired", "/fapi/v2/balance", "GET")
        with pytest.raises(ValueError, match="fraction"):
            fake.inject("partial", fraction=1.5)
        assert fake.faults == []
    assert set(FAULTS) >= {
        "503",
        "503_after",
        "408_after",
        "502_after",
        "429",
        "418",
        "-1021",
        "timeout_after",
        "expired",
        "partial",
        "delay",
        "drop_after",
        "lookup_missing",
        "stall_before",
        "stall_after",
    }
