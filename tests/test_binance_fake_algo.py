"""Conditional (algo) orders on the local exchange: Binance's endpoints, fields, errors and triggers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import polars as pl
import pytest
from fake_support import BUY_100, Raw

from adalib.binance.fake import FakeBinance
from adalib.data.binance import TWELVE_HOURS_MS

# Binance USDT-M docs, "Query Algo Order" response example: the field set every algo answer carries.
ALGO_FIELDS = {
    "algoId",
    "clientAlgoId",
    "algoType",
    "orderType",
    "symbol",
    "side",
    "positionSide",
    "timeInForce",
    "quantity",
    "algoStatus",
    "actualOrderId",
    "actualPrice",
    "triggerPrice",
    "price",
    "icebergQuantity",
    "tpTriggerPrice",
    "tpPrice",
    "slTriggerPrice",
    "slPrice",
    "tpOrderType",
    "selfTradePreventionMode",
    "workingType",
    "priceMatch",
    "closePosition",
    "priceProtect",
    "reduceOnly",
    "createTime",
    "updateTime",
    "triggerTime",
    "goodTillDate",
}
START = datetime(2025, 1, 1, tzinfo=UTC)


def stop(trigger: str, side: str = "SELL", **extra: str) -> dict[str, str]:
    return {
        "algoType": "CONDITIONAL",
        "symbol": "ADAUSDT",
        "side": side,
        "type": "STOP_MARKET",
        "triggerPrice": trigger,
        "workingType": "MARK_PRICE",
        "closePosition": "true",
        **extra,
    }


def candles(rows: list[tuple[float, float, float, float]]) -> pl.DataFrame:
    """A 12h candle frame from (open, high, low, close) rows, starting at START."""
    times = pl.datetime_range(
        START,
        START + timedelta(hours=12 * (len(rows) - 1)),
        "12h",
        eager=True,
        time_unit="ms",
        time_zone="UTC",
    )
    opens, highs, lows, closes = zip(*rows, strict=True)
    return pl.DataFrame(
        {
            "open_time": times,
            "open": opens,
            "high": highs,
            "low": lows,
            "close": closes,
            "volume": [1000.0] * len(rows),
        }
    )


def test_place_query_list_cancel_with_binance_fields() -> None:
    with FakeBinance(mark_price="0.5") as fake:
        raw = Raw.of(fake)
        raw.ok("POST", "/fapi/v1/order", BUY_100)
        placed = raw.ok("POST", "/fapi/v1/algoOrder", stop("0.4500", clientAlgoId="stop-1"))
        assert set(placed) == ALGO_FIELDS
        fields = [placed[k] for k in ("algoStatus", "orderType", "triggerPrice", "quantity", "closePosition")]
        assert fields == ["NEW", "STOP_MARKET", "0.45", "0", True]
        by_id = raw.ok("GET", "/fapi/v1/algoOrder", {"algoId": placed["algoId"]})
        assert by_id == raw.ok("GET", "/fapi/v1/algoOrder", {"clientAlgoId": "stop-1"}) == placed
        assert [
            a["clientAlgoId"] for a in raw.ok("GET", "/fapi/v1/openAlgoOrders", {"symbol": "ADAUSDT"})
        ] == ["stop-1"]
        assert (
            raw.ok("GET", "/fapi/v1/openOrders", {"symbol": "ADAUSDT"}) == []
        )  # conditional orders live apart
        assert (
            raw.code("POST", "/fapi/v1/algoOrder", stop("0.4400", clientAlgoId="stop-1")) == -4116
        )  # still NEW
        canceled = raw.ok("DELETE", "/fapi/v1/algoOrder", {"symbol": "ADAUSDT", "clientAlgoId": "stop-1"})
        assert canceled == {
            "algoId": placed["algoId"],
            "clientAlgoId": "stop-1",
            "code": "200",
            "msg": "success",
        }
        assert raw.ok("GET", "/fapi/v1/algoOrder", {"algoId": placed["algoId"]})["algoStatus"] == "CANCELED"
        assert (
            raw.code("DELETE", "/fapi/v1/algoOrder", {"symbol": "ADAUSDT", "algoId": placed["algoId"]})
            == -2011
        )
        assert raw.code("GET", "/fapi/v1/algoOrder", {"clientAlgoId": "nope"}) == -2013
        again = raw.ok("POST", "/fapi/v1/algoOrder", stop("0.4400", clientAlgoId="stop-1"))  # id free again
        assert again["algoId"] != placed["algoId"]
        history = raw.ok("GET", "/fapi/v1/allAlgoOrders", {"symbol": "ADAUSDT"})
        assert [a["algoStatus"] for a in history] == ["CANCELED", "NEW"]
        raw.ok("DELETE", "/fapi/v1/algoOpenOrders", {"symbol": "ADAUSDT"})
        assert raw.ok("GET", "/fapi/v1/openAlgoOrders") == []


def test_refusals_like_binance() -> None:
    with FakeBinance(mark_price="0.5") as fake:
        raw = Raw.of(fake)
        conditional_on_order = {**BUY_100, "type": "STOP_MARKET", "stopPrice": "0.6"}
        assert raw.code("POST", "/fapi/v1/order", conditional_on_order) == -4120
        assert raw.code("POST", "/fapi/v1/algoOrder", stop("0.5100")) == -2021  # would trigger at once
        assert raw.code("POST", "/fapi/v1/algoOrder", stop("0.45001")) == -4014  # off the 0.0001 tick
        assert raw.code("POST", "/fapi/v1/algoOrder", stop("0.4500", quantity="10")) == -1106
        assert raw.code("POST", "/fapi/v1/algoOrder", {**stop("0.45"), "algoType": "VP"}) == -1102
        no_trigger = {k: v for k, v in stop("0.45").items() if k != "triggerPrice"}
        assert raw.code("POST", "/fapi/v1/algoOrder", no_trigger) == -1102
        assert (
            raw.code("POST", "/fapi/v1/algoOrder", stop("0.45") | {"type": "TRAILING_STOP_MARKET"}) == -1116
        )
        assert fake.algo_orders == []


def test_fixed_mark_crossing_executes_a_close_position_market_order() -> None:
    with FakeBinance(mark_price="0.5", balance="1000", leverage=1) as fake:
        raw = Raw.of(fake)
        raw.ok("POST", "/fapi/v1/order", BUY_100)
        placed = raw.ok("POST", "/fapi/v1/algoOrder", stop("0.4500", clientAlgoId="s"))
        fake.set_mark_price("0.46")
        assert raw.ok("GET", "/fapi/v1/algoOrder", {"clientAlgoId": "s"})["algoStatus"] == "NEW"
        fake.set_mark_price("0.44")
        done = raw.ok("GET", "/fapi/v1/algoOrder", {"algoId": placed["algoId"]})
        assert done["algoStatus"] == "FINISHED" and done["actualPrice"] == "0.44"
        order = raw.ok("GET", "/fapi/v1/order", {"symbol": "ADAUSDT", "orderId": done["actualOrderId"]})
        assert (
            order["status"],
            order["side"],
            order["origType"],
            order["reduceOnly"],
            order["executedQty"],
        ) == ("FILLED", "SELL", "STOP_MARKET", True, "100")
        assert fake.position_amt == 0
        # 1000 - entry fee 0.025 - 100 x (0.50 - 0.44) - exit fee 0.022
        assert fake.wallet == Decimal("1000") - Decimal("0.025") - Decimal("6") - Decimal("0.022")


def test_reduce_only_quantity_stop_and_nothing_to_close() -> None:
    with FakeBinance(mark_price="0.5") as fake:
        raw = Raw.of(fake)
        raw.ok("POST", "/fapi/v1/order", BUY_100)
        partial = {**stop("0.4500"), "closePosition": "false", "quantity": "40", "reduceOnly": "true"}
        raw.ok("POST", "/fapi/v1/algoOrder", partial | {"clientAlgoId": "part"})
        raw.ok("POST", "/fapi/v1/algoOrder", stop("0.4000", clientAlgoId="all"))
        short_stop = stop("0.5500", side="BUY", clientAlgoId="wrong-side")  # a BUY stop on a long position
        raw.ok("POST", "/fapi/v1/algoOrder", short_stop)
        fake.set_mark_price("0.44")
        assert fake.position_amt == Decimal(60)
        fake.set_mark_price("0.56")  # the BUY stop fires, but there is no short to close
        statuses = {
            a["clientAlgoId"]: a["algoStatus"]
            for a in raw.ok("GET", "/fapi/v1/allAlgoOrders", {"symbol": "ADAUSDT"})
        }
        assert statuses == {"part": "FINISHED", "all": "NEW", "wrong-side": "EXPIRED"}
        assert fake.position_amt == Decimal(60)


@pytest.mark.parametrize(
    ("candle", "fill"),
    [
        ((0.50, 0.52, 0.43, 0.48), "0.45"),  # the low reaches the stop: fills at the stop price
        ((0.42, 0.47, 0.40, 0.46), "0.42"),  # opens beyond the stop: fills at the open
        ((0.50, 0.55, 0.46, 0.52), None),
    ],  # never reached
)
def test_clock_over_a_candle_walks_open_then_extreme_like_the_backtest(candle, fill) -> None:
    frame = candles([(0.49, 0.51, 0.48, 0.50), candle, (0.5, 0.5, 0.5, 0.5)])
    first_close = int(frame["open_time"].dt.epoch("ms")[0]) + TWELVE_HOURS_MS
    with FakeBinance(frame, now=first_close + 60_000) as fake:
        raw = Raw.of(fake)
        assert raw.ok("GET", "/fapi/v1/premiumIndex", {"symbol": "ADAUSDT"})["markPrice"] == "0.5"
        raw.ok("POST", "/fapi/v1/order", BUY_100)
        raw.ok("POST", "/fapi/v1/algoOrder", stop("0.4500", clientAlgoId="s"))
        fake.skew_ms += TWELVE_HOURS_MS  # candle 1 closes
        algo = raw.ok("GET", "/fapi/v1/algoOrder", {"clientAlgoId": "s"})
        if fill is None:
            assert algo["algoStatus"] == "NEW" and fake.position_amt == Decimal(100)
            return
        assert (algo["algoStatus"], algo["actualPrice"]) == ("FINISHED", fill) and fake.position_amt == 0
        assert algo["triggerTime"] == first_close + TWELVE_HOURS_MS  # at the close of the candle that hit it
        trade = raw.ok("GET", "/fapi/v1/userTrades", {"symbol": "ADAUSDT"})[-1]
        assert (trade["side"], trade["price"], trade["qty"]) == ("SELL", fill, "100")
        expected = (Decimal(fill) - Decimal("0.5")) * 100
        assert Decimal(trade["realizedPnl"]) == expected


def test_take_profit_fires_on_the_other_side() -> None:
    with FakeBinance(mark_price="0.5") as fake:
        raw = Raw.of(fake)
        raw.ok("POST", "/fapi/v1/order", BUY_100 | {"side": "SELL"})  # short 100
        tp = stop("0.4500", side="BUY", clientAlgoId="tp") | {"type": "TAKE_PROFIT_MARKET"}
        raw.ok("POST", "/fapi/v1/algoOrder", tp)
        fake.set_mark_price("0.45")
        assert fake.position_amt == 0 and fake.algo_orders[0]["algoStatus"] == "FINISHED"
