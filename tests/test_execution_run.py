"""Whole execution runs against the local fake exchange: reversals, reruns, faults, refusals, secrecy."""

from __future__ import annotations

import json
import logging
import re
from decimal import Decimal

import pytest
from exec_support import (
    CANDLES,
    NOW,
    Recording,
    Sleeps,
    env,
    next_candle,
    order_posts,
    trading_params,
    write_weights,
)

from adalib.binance.fake import FakeBinance
from adalib.binance.journal import Journal, journal_frame
from adalib.execution import (
    LOOKUP_WINDOW,
    ExecutionMismatch,
    ExecutionParams,
    ExecutionRefused,
    lookup_waits,
    run_execution,
)
from adalib.execution.cli import main
from adalib.util.cli import run_command
from adalib.util.timefmt import iso_z

SUMMARY_FIELDS = {"mode", "symbol", "candle_open_time", "y_hat", "direction", "confidence", "position_before",
                  "target_qty", "position_after", "orders"}  # fmt: skip


@pytest.fixture
def weights(tmp_path):
    return {side: write_weights(tmp_path, intercept=0.01 * side) for side in (-1, 0, 1)}


@pytest.fixture(autouse=True)
def lock_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ADALIB_LOCK_DIR", str(tmp_path / "locks"))


@pytest.fixture
def fake():
    with FakeBinance(CANDLES, now=NOW) as exchange:
        yield exchange


def _run(fake, out, weights_path, sleeps=None, lines=None, **kwargs):
    return run_execution(
        trading_params(fake, out, weights_path, **kwargs.pop("params", {})),
        env=env(fake), sleep=sleeps if sleeps is not None else Sleeps(),
        out=(lines.append if lines is not None else lambda _: None), **kwargs,
    )  # fmt: skip


def test_reversal_short_to_long_and_back(fake, tmp_path, weights):
    fake.set_position(-500)
    first = _run(fake, tmp_path / "out", weights[1])
    target = int(Decimal(1000) / fake.mark_price())  # 10000 USDT at 1x, capped at 1000 USDT, step 1
    stamp = first.signal.open_time.strftime("%y%m%d%H")
    assert first.summary["orders"] == [f"adalib-ADAUSDT-{stamp}-close", f"adalib-ADAUSDT-{stamp}-open"]
    assert (first.summary["position_before"], first.summary["target_qty"]) == ("-500", str(target))
    assert first.summary["position_after"] == str(target) and fake.position_amt == target
    close, opened = fake.orders
    assert (close["side"], close["origQty"], close["reduceOnly"]) == (
        "BUY",
        "500",
        True,
    )  # exactly |positionAmt|
    assert (opened["side"], opened["origQty"], opened["reduceOnly"]) == ("BUY", str(target), False)

    next_candle(fake)
    second = _run(fake, tmp_path / "out", weights[-1])
    back = int(Decimal(1000) / fake.mark_price())
    assert second.summary["direction"] == -1 and second.summary["position_after"] == str(-back)
    close, opened = fake.orders[2:]
    assert (close["side"], close["origQty"], close["reduceOnly"]) == ("SELL", str(target), True)
    assert (opened["side"], opened["origQty"]) == ("SELL", str(back))
    summary = json.loads((tmp_path / "out" / "execution_summary.json").read_text())
    assert SUMMARY_FIELDS <= set(summary) and summary["mode"] == "testnet"
    assert all(isinstance(summary[k], str) for k in ("position_before", "target_qty", "position_after"))
    assert fake.margin_type == "ISOLATED" and fake.leverage == 1


def test_rerun_for_the_same_candle_sends_no_order(fake, tmp_path, weights):
    _run(fake, tmp_path / "out", weights[1])
    posts = len(order_posts(fake))
    lines: list[str] = []
    again = _run(fake, tmp_path / "out", weights[1], lines=lines)
    assert len(order_posts(fake)) == posts == 1 and again.summary["orders"] == []
    assert any("no order" in line for line in lines)


@pytest.mark.parametrize("fault", ["503_after", "503", "timeout_after"])
def test_unknown_outcome_is_looked_up_over_the_window_and_never_duplicated(fake, tmp_path, weights, fault):
    fake.inject(fault, delay=2.0)
    sleeps = Sleeps()
    result = _run(fake, tmp_path / "out", weights[-1], sleeps=sleeps, timeout=0.3)
    (order_id,) = result.summary["orders"]
    assert len(fake.orders_with_id(order_id)) == 1 and len(fake.orders) == 1
    assert result.summary["position_after"] == result.summary["target_qty"] != "0"
    assert result.summary["status"] == "ok"
    posts = order_posts(fake)
    lookups = [r for r in fake.requests if r["method"] == "GET" and r["path"] == "/fapi/v1/order"]
    if fault == "503":  # not executed: looked up over the whole window, then resent under a new id
        assert len(posts) == 2 and order_id.endswith("-open-2")
        assert sum(sleeps) == LOOKUP_WINDOW and sleeps == lookup_waits()
        assert [p["params"]["newClientOrderId"] for p in posts] == [order_id[:-2], order_id]
    else:  # executed: found by its client order id at the first lookup, never resent
        assert len(posts) == 1 and sleeps == [] and not order_id.endswith("-2")
        assert lookups[-1]["status"] == 200
    journal = [json.loads(line) for line in (tmp_path / "out" / "orders.jsonl").read_text().splitlines()]
    requests = [j for j in journal if j.get("phase") == "request" and j["path"] == "/fapi/v1/order"]
    assert len(requests) == len(posts)  # every order was journaled before it was sent


def test_orders_that_never_fill_end_in_a_mismatch_and_a_clear_error(fake, tmp_path, weights):
    for _ in range(3):
        fake.inject("503")
    with pytest.raises(ExecutionMismatch, match="the position is 0, the run intended"):
        _run(fake, tmp_path / "out", weights[1])
    assert fake.orders == [] and len(order_posts(fake)) == 3
    summary = json.loads((tmp_path / "out" / "execution_summary.json").read_text())
    assert summary["status"] == "mismatch" and summary["position_after"] == "0" and summary["orders"] == []


def test_429_then_success_honours_retry_after(fake, tmp_path, weights):
    fake.inject("429", retry_after=3)
    sleeps = Sleeps()
    result = _run(fake, tmp_path / "out", weights[1], sleeps=sleeps)
    assert (
        sleeps == [3.0]
        and len(fake.orders) == 1
        and result.summary["orders"] == [fake.orders[0]["clientOrderId"]]
    )


def test_minus_1021_then_success_after_resync(fake, tmp_path, weights):
    fake.inject("-1021")
    _run(fake, tmp_path / "out", weights[1])
    trail = [(r["method"], r["path"], r["status"]) for r in fake.requests]
    rejected = trail.index(("POST", "/fapi/v1/order", 400))
    assert trail[rejected + 1 : rejected + 3] == [
        ("GET", "/fapi/v1/time", 200),
        ("POST", "/fapi/v1/order", 200),
    ]
    assert len(fake.orders) == 1


@pytest.mark.parametrize(
    ("balance", "why"), [("4", "below the minimum notional 5 USDT"), ("0.01", "below minQty 1")]
)
def test_too_small_target_gives_no_order_and_says_why(tmp_path, weights, balance, why):
    lines: list[str] = []
    with FakeBinance(CANDLES, now=NOW, balance=balance) as fake:
        result = _run(fake, tmp_path / "out", weights[1], lines=lines)
        assert order_posts(fake) == [] and result.summary["target_qty"] == "0"
    assert any(why in line and "no position is opened" in line for line in lines)


def test_flat_signal_closes_with_reduce_only_for_the_whole_position(fake, tmp_path, weights):
    fake.set_position("1234")
    result = _run(fake, tmp_path / "out", weights[0])
    assert result.summary["direction"] == 0 and result.summary["position_after"] == "0"
    (close,) = fake.orders
    assert (close["side"], close["origQty"], close["reduceOnly"]) == ("SELL", "1234", True)


def test_margin_type_blocked_by_a_position_is_set_after_the_close(tmp_path, weights):
    with FakeBinance(CANDLES, now=NOW, margin_type="CROSSED") as fake:
        fake.set_position(-300)
        lines: list[str] = []
        _run(fake, tmp_path / "out", weights[1], lines=lines)
        assert fake.margin_type == "ISOLATED" and fake.position_amt > 0
    assert any("cannot change while a position is open" in line for line in lines)


def test_hedge_mode_is_refused_before_any_order(tmp_path, weights):
    with FakeBinance(CANDLES, now=NOW, hedge_mode=True) as fake:
        with pytest.raises(ExecutionRefused, match="hedge mode"):
            _run(fake, tmp_path / "out", weights[1])
        assert [r for r in fake.requests if r["method"] == "POST"] == []


def test_live_without_confirmation_sends_nothing_and_writes_nothing(fake, tmp_path, weights):
    params = ExecutionParams(
        mode="live", base_url=fake.url, weights_path=weights[1], output_dir=str(tmp_path / "o")
    )
    with pytest.raises(ExecutionRefused, match="confirm_live=True"):
        run_execution(params, env=env(fake))
    assert fake.requests == [] and not (tmp_path / "o").exists()


def test_missing_keys_and_bad_parameters_are_refused_before_any_request(fake, tmp_path, weights):
    with pytest.raises(ExecutionRefused, match="BINANCE_API_KEY and BINANCE_API_SECRET not set"):
        run_execution(trading_params(fake, tmp_path / "o", weights[1]), env={})
    with pytest.raises(ValueError, match="parameter leverage=0"):
        run_execution(trading_params(fake, tmp_path / "o", weights[1], leverage=0), env=env(fake))
    with pytest.raises(ValueError, match="weights file not found"):
        run_execution(trading_params(fake, tmp_path / "o", str(tmp_path / "none.pth")), env=env(fake))
    assert fake.requests == [] and not (tmp_path / "o").exists()


def test_testnet_refuses_a_signal_that_is_not_on_the_last_closed_candle(fake, tmp_path, weights):
    last_closed = CANDLES["open_time"][99]  # the fake's clock is just after its close
    with pytest.raises(ExecutionRefused, match="stale data"):
        _run(fake, tmp_path / "out", weights[1], params={"end": iso_z(last_closed)})
    assert order_posts(fake) == []


def test_dry_run_sends_no_signed_request(fake, tmp_path, weights):
    lines: list[str] = []
    params = ExecutionParams(base_url=fake.url, weights_path=weights[1], output_dir=str(tmp_path / "dry"))
    result = run_execution(params, env=env(fake), out=lines.append)
    assert fake.requests and fake.signed_requests() == []
    assert {r["path"] for r in fake.requests} == {"/fapi/v1/time", "/fapi/v1/klines", "/fapi/v1/exchangeInfo",
                                                  "/fapi/v1/premiumIndex"}  # fmt: skip
    assert result.summary["orders"] == [] and result.summary["position_before"] == "0"
    assert any(line.startswith("would send: POST /fapi/v1/order") for line in lines)


def test_dry_run_offline_falls_back_and_announces_assumptions(tmp_path, weights):
    lines: list[str] = []
    params = ExecutionParams(
        base_url="http://127.0.0.1:9",
        weights_path=weights[1],
        output_dir=str(tmp_path / "d"),
        data_path="synthetic",
    )
    result = run_execution(params, out=lines.append)
    assert any("unreachable" in line for line in lines)
    assert any("assuming ADAUSDT filters" in line for line in lines)
    assert result.mark_price == Decimal(str(result.candles.frame["close"][-1]))
    journal = [json.loads(line) for line in (tmp_path / "d" / "orders.jsonl").read_text().splitlines()]
    assert [(j["path"], j["status"]) for j in journal if "path" in j] == [("/fapi/v1/time", None)]
    assert result.summary["status"] == "dry-run"


def test_keys_and_signatures_never_reach_files_output_logs_or_errors(
    tmp_path, weights, capsys, caplog, monkeypatch
):
    caplog.set_level(logging.DEBUG)
    session = Recording()
    errors: list[str] = []
    with FakeBinance(CANDLES, now=NOW) as fake:
        fake.set_position(-100)
        for fault in ("503_after", "timeout_after", "429", "-1021"):
            fake.inject(fault, delay=1.0)
            _run(fake, tmp_path / "out", weights[1], session=session, timeout=0.3, lines=[])
            next_candle(fake)
            fake.set_position(-100)
        for _ in range(3):
            fake.inject("503")
        with pytest.raises(ExecutionMismatch) as info:
            _run(fake, tmp_path / "out", weights[1], session=session)
        errors.append(str(info.value))
        monkeypatch.setenv("BINANCE_API_KEY", fake.api_key)
        monkeypatch.setenv("BINANCE_API_SECRET", fake.api_secret)
        next_candle(fake)
        assert main(["--mode", "testnet", "--base-url", fake.url, "--weights-path", weights[-1],
                     "--output-dir", str(tmp_path / "cli")]) == 0  # fmt: skip
        key, secret = fake.api_key, fake.api_secret
    signatures = {m for url in session.urls for m in re.findall(r"signature=([0-9a-f]{64})", url)}
    assert len(signatures) > 20
    captured = capsys.readouterr()
    texts = [p.read_text() for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".pth"]
    texts += [captured.out, captured.err, *errors, *(r.getMessage() for r in caplog.records)]
    assert len(texts) >= 6 and any("signature=***" in r.getMessage() for r in caplog.records)
    for text in texts:
        assert key not in text and secret not in text
        assert not any(sig in text for sig in signatures)


def test_journal_has_one_line_per_request_and_survives_failures(fake, tmp_path, weights):
    fake.inject("timeout_after", delay=1.0)
    fake.inject("429", "/fapi/v2/balance", "GET")
    _run(fake, tmp_path / "out", weights[1], timeout=0.3)
    for _ in range(3):
        fake.inject("503")
    next_candle(fake)
    with pytest.raises(ExecutionMismatch):
        _run(fake, tmp_path / "out", weights[-1])
    lines = [json.loads(line) for line in (tmp_path / "out" / "orders.jsonl").read_text().splitlines()]
    answered = [line for line in lines if "path" in line and line.get("phase") != "request"]
    assert [line["path"] for line in answered] == [r["path"] for r in fake.requests]
    ahead = [line for line in lines if line.get("phase") == "request"]
    assert len(ahead) == len([r for r in fake.requests if r["method"] == "POST"])


def test_command_line_dry_run_and_refusal(fake, tmp_path, weights, capsys):
    args = ["--base-url", fake.url, "--weights-path", weights[1], "--output-dir", str(tmp_path / "cli")]
    assert main([*args, "--leverage", "2", "--max-notional", "500"]) == 0
    printed = capsys.readouterr().out
    summary = json.loads((tmp_path / "cli" / "execution_summary.json").read_text())
    assert json.loads(printed[printed.index("\n{") :]) == summary
    assert summary["leverage"] == 2 and summary["mode"] == "dry-run" and fake.signed_requests() == []
    assert run_command(main, ["--mode", "live", *args]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: mode='live'") and "confirm_live=True" in err
    assert run_command(main, ["--leverage", "x", *args]) == 1
    assert capsys.readouterr().err.startswith("error: argument --leverage: invalid int value")


def test_journal_table_reads_the_same_on_every_run(tmp_path, weights):
    tables = []
    for attempt in range(2):
        with FakeBinance(CANDLES, now=NOW) as fake:
            fake.set_position(-100)
            fake.inject("503_after")
            _run(fake, tmp_path / f"run{attempt}", weights[1])
            entries = Journal(tmp_path / f"run{attempt}" / "orders.jsonl").read()
            assert len(journal_frame(entries)) == len(fake.requests)  # one row per request, answered
        tables.append(journal_frame(entries))
    assert tables[0].equals(tables[1])
    assert not any(
        re.search(r"(?i)time", text) for text in tables[0]["params"].to_list() + tables[0]["answer"].to_list()
    )
    assert "FILLED BUY 100 @" in tables[0]["answer"].to_list()[tables[0]["status"].to_list().index(503) + 1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dry-run-balance", "inf"], "parameter dry_run_balance=inf: expected a finite number > 0"),
        (["--dry-run-balance", "nan"], "parameter dry_run_balance=nan"),
        (["--leverage", "0"], "parameter leverage=0: expected an integer in 1..125"),
        (["--leverage", "126"], "parameter leverage=126"),
        (["--symbol", "../../x"], "parameter symbol='../../x': expected 2 to 20 of A-Z and 0-9"),
        (["--start", "yesterday"], "parameter start='yesterday': expected an ISO 8601 date"),
        (["--stop-loss", "1.5"], "parameter stop_loss=1.5: expected None or a number in (0, 1)"),
        (["--position-fraction", "0"], "parameter position_fraction=0.0"),
        (["--max-notional", "-1"], "parameter max_notional=-1.0"),
        (["--mode", "paper"], "argument --mode: invalid choice: 'paper'"),
        (["--base-url", "ftp://x"], "parameter base_url='ftp://x': expected None or an http(s) URL"),
        (["--output-dir", "FILE"], "is a file, not a folder"),
        (["--weights-path", "DIR"], "is a folder, not a file"),
        (["--data-path", "MISSING"], "no candle file at"),
    ],
)
def test_command_line_refuses_every_bad_parameter_with_one_line_and_writes_nothing(
    tmp_path, weights, capsys, args, message
):
    (tmp_path / "file").write_text("x")
    (tmp_path / "dir").mkdir()
    swap = {
        "FILE": str(tmp_path / "file" / "out"),
        "DIR": str(tmp_path / "dir"),
        "MISSING": str(tmp_path / "no.csv"),
    }
    args = [swap.get(a, a) for a in args]
    base = [
        "--weights-path",
        weights[1],
        "--output-dir",
        str(tmp_path / "out"),
        "--base-url",
        "http://127.0.0.1:9",
    ]
    before = sorted(p.name for p in tmp_path.rglob("*"))
    assert run_command(main, [*base, *args]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err, err
    assert sorted(p.name for p in tmp_path.rglob("*")) == before
