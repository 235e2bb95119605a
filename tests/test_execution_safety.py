"""Each failure listed under "Why" in the execution issue (#11), against the local exchange.

Every test here failed on the code before the execution package (it ran the scenario and
ended with a doubled, flat, partial or unverified position, or a crash), and passes now.
"""

from __future__ import annotations

import copy
import json
import os
import threading
import time
from decimal import Decimal

import pytest
import requests
from exec_support import CANDLES, NOW, Recording, Sleeps, env, order_posts, trading_params, write_weights

from adalib.binance.client import BinanceClient
from adalib.binance.fake import FakeBinance
from adalib.binance.journal import Journal, journal_frame
from adalib.binance.rules import ADAUSDT_ASSUMED_INFO
from adalib.execution import (
    ExecutionMismatch,
    ExecutionParams,
    ExecutionRefused,
    RunLock,
    run_execution,
)
from adalib.execution.cli import main
from adalib.util.cli import run_command


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


def _run(fake, folder, weights_path, *, params=None, **kwargs):
    kwargs.setdefault("sleep", Sleeps())
    kwargs.setdefault("out", lambda _: None)
    return run_execution(
        trading_params(fake, folder, weights_path, **(params or {})), env=env(fake), **kwargs
    )


def _target(fake, balance=Decimal(10000), leverage=1, cap=Decimal(1000)):
    return int(min(balance * leverage / (1 + Decimal("0.001") * leverage), cap) / fake.mark_price())


class SlowOrders(requests.Session):
    """Holds every order request for a moment before sending it, so that two runs overlap."""

    def request(self, method, url, *args, **kwargs):  # type: ignore[override]
        if method == "POST" and "/fapi/v1/order?" in url:
            time.sleep(0.4)
        return super().request(method, url, *args, **kwargs)


# -- 1. no overlap -----------------------------------------------------------------------------------


def test_two_runs_started_together_fill_the_open_leg_once(fake, tmp_path, weights):
    start = threading.Barrier(2)
    results, errors = [], []

    def one(name: str) -> None:
        start.wait()
        try:
            results.append(_run(fake, tmp_path / name, weights[1], session=SlowOrders()))
        except Exception as exc:  # pragma: no cover - shown by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == [] and len(results) == 2
    assert len(fake.orders) == 1 and fake.position_amt == _target(fake)  # not twice the target
    assert sorted(len(r.summary["orders"]) for r in results) == [0, 1]
    assert {r.summary["status"] for r in results} == {"ok"}


def test_a_run_that_cannot_get_the_lock_in_time_refuses_and_says_why(fake, tmp_path, weights):
    with RunLock(fake.api_key, "ADAUSDT"):
        with pytest.raises(ExecutionRefused, match="another run holds the lock for this account and ADAUSDT"):
            _run(fake, tmp_path / "out", weights[1], lock_wait=0.2)
    assert fake.signed_requests() == []  # the account was not even read
    lock_files = list((tmp_path / "locks").iterdir())
    assert lock_files and all(fake.api_key not in p.name for p in lock_files)


def test_a_waiting_run_acts_as_a_rerun_once_the_lock_is_free(fake, tmp_path, weights):
    _run(fake, tmp_path / "first", weights[1])  # the holder's run, done before it lets go
    lock = RunLock(fake.api_key, "ADAUSDT").acquire()
    threading.Timer(0.3, lock.release).start()
    lines: list[str] = []
    result = _run(fake, tmp_path / "out", weights[1], lock_wait=5.0, out=lines.append)
    assert any("another run holds the lock" in line and "waiting" in line for line in lines)
    assert result.summary["status"] == "ok" and result.summary["orders"] == [] and len(fake.orders) == 1


# -- 2. unknown outcomes on the close leg -----------------------------------------------------------------


@pytest.mark.parametrize("fault", ["408_after", "502_after", "drop_after", "lookup_missing"])
def test_a_lost_close_answer_is_looked_up_and_the_reversal_completes(fake, tmp_path, weights, fault):
    fake.set_position(-500)
    fake.inject(fault, delay=1.0)
    result = _run(fake, tmp_path / "out", weights[1])
    summary = result.summary
    assert (
        summary["status"] == "ok"
        and summary["position_after"] == str(_target(fake)) == summary["intended_qty"]
    )
    closes = [o for o in fake.orders if o["clientOrderId"].endswith("-close")]
    assert len(closes) == 1 and closes[0]["status"] == "FILLED"  # executed once, never resent
    assert [o.split("-")[-1] for o in summary["orders"]] == ["close", "open"]
    saved = json.loads((tmp_path / "out" / "execution_summary.json").read_text())
    assert saved["orders"] == summary["orders"] and saved["position_after"] != "null"


# -- 3. unfilled and partial ----------------------------------------------------------------------------


def test_an_expired_order_with_nothing_filled_is_resent_under_a_new_attempt_id(fake, tmp_path, weights):
    fake.inject("expired")
    result = _run(fake, tmp_path / "out", weights[1])
    assert [o["status"] for o in fake.orders] == ["EXPIRED", "FILLED"]
    assert result.summary["orders"] == [fake.orders[1]["clientOrderId"]]
    assert fake.orders[1]["clientOrderId"].endswith("-open-2") and result.summary["status"] == "ok"
    rerun = _run(fake, tmp_path / "out", weights[1])  # the same candle: not "already exists (EXPIRED)"
    assert rerun.summary["orders"] == [] and fake.position_amt == _target(fake)


def test_a_partial_fill_counts_for_what_filled_and_a_rerun_completes_it(fake, tmp_path, weights):
    fake.inject("partial", fraction=0.4)
    for _ in range(3):
        fake.inject("expired")
    with pytest.raises(ExecutionMismatch, match=r"the position is .*, the run intended"):
        _run(fake, tmp_path / "out", weights[1])
    target = _target(fake)
    part = fake.position_amt
    assert 0 < part < target
    summary = json.loads((tmp_path / "out" / "execution_summary.json").read_text())
    assert (summary["status"], summary["position_after"]) == ("mismatch", str(part))
    rerun = _run(fake, tmp_path / "out", weights[1])  # completes what is missing, under a new id
    assert rerun.summary["status"] == "ok" and fake.position_amt == target
    (new_id,) = rerun.summary["orders"]
    assert Decimal(fake.orders_with_id(new_id)[0]["executedQty"]) == target - part


def test_a_mismatch_makes_the_command_line_exit_non_zero_with_one_line(fake, tmp_path, weights, capsys):
    for _ in range(3):
        fake.inject("expired")
    args = ["--mode", "testnet", "--base-url", fake.url, "--weights-path", weights[1]]
    os.environ.update(env(fake))
    try:
        assert run_command(main, [*args, "--output-dir", str(tmp_path / "cli")]) == 1
    finally:
        for name in env(fake):
            os.environ.pop(name)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: mismatch after the run for candle ")
    assert "the position is 0, the run intended" in err


# -- 5. the journal -------------------------------------------------------------------------------------


def test_a_torn_last_line_is_repaired_and_reported_not_merged(fake, tmp_path, weights):
    out = tmp_path / "out"
    out.mkdir()
    (out / "orders.jsonl").write_text('{"method": "POST", "path": "/fapi/v1/order", "par')  # a crash mid-line
    lines: list[str] = []
    _run(fake, out, weights[1], out=lines.append)
    journal = Journal(out / "orders.jsonl")
    entries = journal.read()
    assert journal.torn == [(1, '{"method": "POST", "path": "/fapi/v1/order", "par')]
    assert entries and all(isinstance(e, dict) for e in entries)
    assert len(journal_frame(entries)) == len(fake.requests)
    assert any("torn line" in line for line in lines)


@pytest.mark.parametrize("blocker", ["journal_folder", "summary_folder", "full_disk", "read_only"])
def test_an_unwritable_journal_or_summary_stops_the_run_before_any_request(fake, tmp_path, weights, blocker):
    out = tmp_path / "out"
    out.mkdir()
    if blocker == "journal_folder":
        (out / "orders.jsonl").mkdir()
    elif blocker == "summary_folder":
        (out / "execution_summary.json").mkdir()
    elif blocker == "full_disk":
        if not os.path.exists("/dev/full"):
            pytest.skip("no /dev/full on this machine")
        (out / "orders.jsonl").symlink_to("/dev/full")  # every write fails with ENOSPC, as on a full disk
    else:
        if os.geteuid() == 0:
            pytest.skip("running as root: file permissions do not stop root from writing")
        out.chmod(0o500)
    before = sorted(p.name for p in out.iterdir())
    with pytest.raises(ExecutionRefused, match=r"cannot write .*nothing was sent"):
        _run(fake, out, weights[1])
    assert fake.requests == [] and sorted(p.name for p in out.iterdir()) == before


# -- 6. account checks ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "problem", ["hedge", "multi_assets", "settling", "delivery", "open_order", "foreign_stop"]
)
def test_account_problems_are_refused_before_any_order(tmp_path, weights, problem):
    info = copy.deepcopy(ADAUSDT_ASSUMED_INFO)
    info["symbols"][0]["status"] = "SETTLING" if problem == "settling" else "TRADING"
    info["symbols"][0]["contractType"] = "CURRENT_QUARTER" if problem == "delivery" else "PERPETUAL"
    with FakeBinance(CANDLES, now=NOW, exchange_info=info, hedge_mode=problem == "hedge") as fake:
        fake.multi_assets = problem == "multi_assets"
        if problem == "open_order":  # someone's order, accepted and still open while the run starts
            fake.inject("delay", delay=2.0)
            client = BinanceClient(fake.url, api_key=fake.api_key, api_secret=fake.api_secret)
            order = {"symbol": "ADAUSDT", "side": "BUY", "type": "MARKET", "quantity": Decimal(1000)}
            sender = threading.Thread(
                target=client.request,
                args=("POST", "/fapi/v1/order", order | {"newClientOrderId": "manual-1"}),
                kwargs={"signed": True},
            )
            sender.start()
            time.sleep(0.5)
        if problem == "foreign_stop":
            client = BinanceClient(fake.url, api_key=fake.api_key, api_secret=fake.api_secret)
            fake.set_position(100)
            client.new_stop_market("ADAUSDT", "SELL", Decimal("0.01"), client_algo_id="someone-else")
            fake.set_position(0)
        posts = len([r for r in fake.requests if r["method"] in ("POST", "DELETE")])
        expected = {
            "hedge": "hedge mode",
            "multi_assets": "multi-assets mode",
            "settling": "not TRADING",
            "delivery": "not PERPETUAL",
            "open_order": "open orders",
            "foreign_stop": "someone-else",
        }
        with pytest.raises(ExecutionRefused, match=expected[problem]):
            _run(fake, tmp_path / "out", weights[1])
        if problem == "open_order":
            sender.join(10)
        assert len([r for r in fake.requests if r["method"] in ("POST", "DELETE")]) == posts


def test_crossed_margin_with_a_kept_same_side_position_is_refused_not_silent(tmp_path, weights):
    with FakeBinance(CANDLES, now=NOW, margin_type="CROSSED") as fake:
        fake.set_position(300)
        with pytest.raises(
            ExecutionRefused, match="margin_type='ISOLATED' but the open ADAUSDT position of 300"
        ):
            _run(fake, tmp_path / "out", weights[1])
        assert order_posts(fake) == [] and fake.margin_type == "CROSSED"


# -- 7. exposure --------------------------------------------------------------------------------------


def test_a_same_side_position_far_above_the_cap_is_reduced_to_it(tmp_path, weights):
    with FakeBinance(CANDLES, now=NOW, margin_type="ISOLATED", balance="100000") as fake:
        _reduced_to_the_cap(fake, tmp_path, weights)


def _reduced_to_the_cap(fake, tmp_path, weights):
    cap = int(Decimal(1000) / fake.mark_price())
    fake.set_position(-50 * cap)
    result = _run(fake, tmp_path / "out", weights[-1])
    (reduce,) = fake.orders
    assert (reduce["side"], reduce["reduceOnly"], Decimal(reduce["origQty"])) == ("BUY", True, 49 * cap)
    assert fake.position_amt == -cap and result.summary["status"] == "ok"


def test_a_close_above_max_qty_goes_in_parts_with_their_own_ids(tmp_path, weights):
    info = copy.deepcopy(ADAUSDT_ASSUMED_INFO)
    market_lot = next(f for f in info["symbols"][0]["filters"] if f["filterType"] == "MARKET_LOT_SIZE")
    market_lot["maxQty"] = "2500"
    with FakeBinance(CANDLES, now=NOW, exchange_info=info) as fake:
        fake.set_position(-6000)
        result = _run(fake, tmp_path / "out", weights[1])
        closes = [o for o in fake.orders if "-close" in o["clientOrderId"]]
        assert [o["origQty"] for o in closes] == ["2500", "2500", "1000"]  # no -4005
        assert len({o["clientOrderId"] for o in closes}) == 3 and result.summary["status"] == "ok"
        assert fake.position_amt == _target(fake)


# -- 8. testnet and live hosts --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["https://fapi.binance.com", "https://fapi1.binance.com/", "https://FAPI.binance.com"]
)
def test_testnet_refuses_binance_live_hosts_before_any_request(tmp_path, weights, url):
    session = Recording()
    params = ExecutionParams(
        mode="testnet", base_url=url, weights_path=weights[1], output_dir=str(tmp_path / "o")
    )
    with pytest.raises(ValueError, match="mode='testnet' refuses Binance's live hosts"):
        run_execution(params, env={"BINANCE_API_KEY": "k", "BINANCE_API_SECRET": "s"}, session=session)
    assert session.urls == [] and not (tmp_path / "o").exists()


# -- the sizing divisor ---------------------------------------------------------------------------------


def test_a_small_balance_at_leverage_2_opens_without_minus_2019(tmp_path, weights):
    with FakeBinance(CANDLES, now=NOW, balance="300") as fake:
        result = _run(fake, tmp_path / "out", weights[1], params={"leverage": 2, "max_notional": 10_000.0})
        assert result.summary["status"] == "ok"
        assert fake.position_amt == _target(fake, Decimal(300), 2, Decimal(10_000)) > 0
