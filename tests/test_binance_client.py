"""The signed client against Binance's documented signature example and the local fake exchange."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import requests
from exec_support import Recording, Sleeps

from adalib.binance.client import BinanceClient, encode_params, sign, wire_value
from adalib.binance.errors import (
    BinanceAPIError,
    ExchangeUnavailable,
    InvalidTimestamp,
    IPBanned,
    MinNotional,
    MissingCredentials,
    NoSuchOrder,
    RateLimited,
    UnknownOutcome,
)
from adalib.binance.fake import FakeBinance
from adalib.binance.journal import Journal

# Binance USDT-M docs, "SIGNED Endpoint Examples for POST /fapi/v1/order - HMAC Keys": public test vectors.
DOC_KEY = "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83"
DOC_SECRET = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9"
DOC_QUERY = (
    "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC"
    "&recvWindow=5000&timestamp=1591702613943"
)
DOC_SIGNATURE = "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9"
DOC_TIMESTAMP = 1591702613943


def test_signature_matches_binance_documented_example():
    assert sign(DOC_SECRET, DOC_QUERY) == DOC_SIGNATURE
    # Example 3 (mixed query string and body): the docs sign "...GTC" + "quantity=..." with no "&" between
    # (their echo also shows a stray space after "timestamp="); their published signature is for that string.
    mixed = (
        "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC"
        "quantity=1&price=9000&recvWindow=5000&timestamp= 1591702613943"
    )
    assert sign(DOC_SECRET, mixed) == "f9d0ae5e813ef6ccf15c2b5a434047a0181cb5a342b903b367ca6d27a66e36f2"


def test_client_sends_the_documented_query_and_signature_and_the_fake_accepts_it():
    """The client's wire format reproduces the doc example byte for byte; the fake verifies it."""
    session = Recording()
    with FakeBinance(
        mark_price="9000", symbol="BTCUSDT", api_key=DOC_KEY, api_secret=DOC_SECRET, now=DOC_TIMESTAMP
    ) as fake:
        client = BinanceClient(fake.url, api_key=DOC_KEY, api_secret=DOC_SECRET, session=session,
                               clock=lambda: DOC_TIMESTAMP / 1000)  # fmt: skip
        client.time_offset_ms = 0
        params = {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "LIMIT",
            "quantity": 1,
            "price": 9000,
            "timeInForce": "GTC",
        }
        with pytest.raises(
            BinanceAPIError
        ) as info:  # the fake fills MARKET orders only: past the signature check
            client.request("POST", "/fapi/v1/order", params, signed=True, idempotent=False)
        assert info.value.code == -1116
        assert session.urls[-1] == f"{fake.url}/fapi/v1/order?{DOC_QUERY}&signature={DOC_SIGNATURE}"
        assert fake.requests[-1]["api_key"] and fake.requests[-1]["signed"]


def test_fake_verifies_signature_over_query_string_plus_body():
    with FakeBinance(mark_price="0.5", api_key=DOC_KEY, api_secret=DOC_SECRET, now=DOC_TIMESTAMP) as fake:
        query = "symbol=ADAUSDT&side=BUY&type=LIMIT&timeInForce=GTC"
        body = f"quantity=1&price=9000&recvWindow=5000&timestamp={DOC_TIMESTAMP}"
        headers = {"X-MBX-APIKEY": DOC_KEY, "Content-Type": "application/x-www-form-urlencoded"}
        good = sign(DOC_SECRET, query + body)
        answer = requests.post(
            f"{fake.url}/fapi/v1/order?{query}", data=f"{body}&signature={good}", headers=headers
        )
        assert answer.json()["code"] == -1116  # signature accepted; LIMIT is refused afterwards
        bad = sign(DOC_SECRET, query + "&" + body)
        answer = requests.post(
            f"{fake.url}/fapi/v1/order?{query}", data=f"{body}&signature={bad}", headers=headers
        )
        assert (answer.status_code, answer.json()["code"]) == (400, -1022)


def test_wire_values_are_exact_decimal_strings_and_floats_are_refused():
    assert encode_params({"quantity": Decimal("3561"), "price": Decimal("0.28080"), "reduceOnly": True}) == (
        "quantity=3561&price=0.2808&reduceOnly=true"
    )
    assert wire_value(Decimal("1E+3")) == "1000"
    with pytest.raises(TypeError, match="float"):
        wire_value(0.1)


def test_repr_and_errors_never_show_credentials():
    client = BinanceClient("http://127.0.0.1:9", api_key="KEY-abc", api_secret="SECRET-xyz")
    assert "KEY-abc" not in repr(client) and "SECRET-xyz" not in repr(client)
    with pytest.raises(MissingCredentials):
        BinanceClient("http://127.0.0.1:9").request("GET", "/fapi/v2/balance", signed=True)
    with pytest.raises(MissingCredentials, match="BINANCE_API_SECRET"):
        BinanceClient.from_env("http://127.0.0.1:9", env={"BINANCE_API_KEY": "k"})


def test_typed_errors_keep_code_and_message():
    with FakeBinance(mark_price="0.5") as fake:
        client = BinanceClient(fake.url, api_key=fake.api_key, api_secret=fake.api_secret)
        with pytest.raises(MinNotional) as info:
            client.new_market_order("ADAUSDT", "BUY", Decimal(2), client_order_id="tiny")
        assert (info.value.code, info.value.status) == (-4164, 400)
        assert "notional must be no smaller than 5" in info.value.msg
        assert client.get_order("ADAUSDT", "never-sent") is None  # -2013 is "not found", not an error
        with pytest.raises(NoSuchOrder):
            client.request(
                "GET", "/fapi/v1/order", {"symbol": "ADAUSDT", "origClientOrderId": "x"}, signed=True
            )
        wrong = BinanceClient(fake.url, api_key="wrong", api_secret=fake.api_secret)
        with pytest.raises(BinanceAPIError) as info:
            wrong.available_balance()
        assert (info.value.code, info.value.status) == (-2015, 401)
        forged = BinanceClient(fake.url, api_key=fake.api_key, api_secret="not-the-secret")
        with pytest.raises(BinanceAPIError) as info:
            forged.available_balance()
        assert info.value.code == -1022


def test_429_waits_retry_after_then_succeeds_and_weights_are_tracked():
    sleeps = Sleeps()
    with FakeBinance(mark_price="0.5") as fake:
        client = BinanceClient(fake.url, api_key=fake.api_key, api_secret=fake.api_secret, sleep=sleeps)
        fake.inject("429", "/fapi/v1/order", retry_after=7)
        order = client.new_market_order("ADAUSDT", "BUY", Decimal(100), client_order_id="rl-1")
        assert order["status"] == "FILLED" and len(fake.orders_with_id("rl-1")) == 1
        assert sleeps == [7.0]
        assert client.used_weight["1m"] == len(fake.requests) and client.order_count["1m"] == 1


def test_429_asking_too_long_a_wait_raises_instead_of_hammering():
    sleeps = Sleeps()
    with FakeBinance(mark_price="0.5") as fake:
        client = BinanceClient(fake.url, sleep=sleeps, max_wait=60)
        fake.inject("429", "/fapi/v1/premiumIndex", "GET", retry_after=120)
        with pytest.raises(RateLimited) as info:
            client.mark_price("ADAUSDT")
        assert info.value.retry_after == 120 and sleeps == [] and len(fake.requests) == 1


def test_418_ban_raises_at_once():
    sleeps = Sleeps()
    with FakeBinance(mark_price="0.5") as fake:
        client = BinanceClient(fake.url, sleep=sleeps)
        fake.inject("418", "/fapi/v1/premiumIndex", "GET", retry_after=300)
        with pytest.raises(IPBanned):
            client.mark_price("ADAUSDT")
        assert len(fake.requests) == 1 and sleeps == []


def test_clock_drift_gives_minus_1021_then_resync_and_success():
    with FakeBinance(mark_price="0.5") as fake:
        client = BinanceClient(fake.url, api_key=fake.api_key, api_secret=fake.api_secret)
        client.available_balance()
        fake.skew_ms += 10_000  # the exchange's clock is now 10 s ahead of what the client believes
        assert client.available_balance() == Decimal(10000)
        paths = [(r["path"], r["status"]) for r in fake.requests]
        assert paths[-3:] == [("/fapi/v2/balance", 400), ("/fapi/v1/time", 200), ("/fapi/v2/balance", 200)]
        assert 9_000 < client.time_offset_ms - (fake.skew_ms - 10_000) < 11_000


def test_minus_1021_is_retried_once_only():
    with FakeBinance(mark_price="0.5") as fake:
        client = BinanceClient(fake.url, api_key=fake.api_key, api_secret=fake.api_secret)
        fake.inject("-1021", "/fapi/v2/balance", "GET")
        fake.inject("-1021", "/fapi/v2/balance", "GET")
        with pytest.raises(InvalidTimestamp):
            client.available_balance()
        assert [r["path"] for r in fake.requests].count("/fapi/v2/balance") == 2


def test_order_answered_503_is_unknown_outcome_not_retried_by_the_client():
    with FakeBinance(mark_price="0.5") as fake:
        client = BinanceClient(fake.url, api_key=fake.api_key, api_secret=fake.api_secret, sleep=Sleeps())
        fake.inject("503_after")
        with pytest.raises(UnknownOutcome):
            client.new_market_order("ADAUSDT", "SELL", Decimal(100), client_order_id="u-1")
        assert len(fake.orders_with_id("u-1")) == 1  # executed once, and the client did not resend
        assert len([r for r in fake.requests if r["path"] == "/fapi/v1/order"]) == 1


def test_idempotent_get_retries_5xx_and_network_errors_then_gives_up():
    sleeps = Sleeps()
    with FakeBinance(mark_price="0.5") as fake:
        client = BinanceClient(fake.url, sleep=sleeps, retries=2, backoff=0.5)
        fake.inject("503", "/fapi/v1/premiumIndex", "GET")
        assert client.mark_price("ADAUSDT") == Decimal("0.5") and sleeps == [0.5]
    dead = BinanceClient("http://127.0.0.1:9", sleep=sleeps, retries=1, timeout=0.5)
    with pytest.raises(ExchangeUnavailable):
        dead.server_time()


def test_journal_has_one_line_per_request_even_on_failures(tmp_path):
    journal = Journal(tmp_path / "orders.jsonl")
    with FakeBinance(mark_price="0.5") as fake:
        client = BinanceClient(fake.url, api_key=fake.api_key, api_secret=fake.api_secret, journal=journal,
                               sleep=Sleeps(), timeout=0.3)  # fmt: skip
        fake.inject("429", "/fapi/v1/order")
        client.new_market_order("ADAUSDT", "BUY", Decimal(100), client_order_id="j-1")
        fake.inject("timeout_after", delay=1.5)
        with pytest.raises(UnknownOutcome):
            client.new_market_order("ADAUSDT", "BUY", Decimal(100), client_order_id="j-2")
        with pytest.raises(MinNotional):
            client.new_market_order("ADAUSDT", "BUY", Decimal(1), client_order_id="j-3")
        served = len(fake.requests)
    every = [json.loads(line) for line in (tmp_path / "orders.jsonl").read_text().splitlines()]
    ahead = [line for line in every if line.get("phase") == "request"]
    lines = [line for line in every if line.get("phase") != "request"]
    assert len(lines) == served and len(ahead) == 4  # each order attempt journaled before it was sent
    assert [line["status"] for line in lines if line["path"] == "/fapi/v1/order"] == [429, 200, None, 400]
    assert [every[every.index(a) + 1]["phase"] for a in ahead] == ["answer"] * 4  # answer right after
    timeout = next(line for line in lines if line["status"] is None)
    assert (
        timeout["error"].startswith(("ReadTimeout", "ConnectionError"))
        and timeout["params"]["newClientOrderId"] == "j-2"
    )
    assert all(
        "signature" not in line["params"]
        and {"time", "method", "path", "params", "status", "response"} <= set(line)
        for line in lines
    )
