"""The strategy study over a grid of edge parameters (each section runs or says it has nothing to show),
funding history files, and the artifacts it writes."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from contract_fields import BACKTEST_METRICS, DATA_FIELDS

from adalib.backtest import BacktestError, run_backtest
from adalib.backtest.narrative import StrategyReport
from adalib.backtest.study import save_strategy_study, strategy_study
from adalib.data import Candles, load_candles
from adalib.forecast import save_weights, train_forecaster

END = "2021-09-01"  # about 1,200 synthetic candles: 900 training rows, 300 test rows
FAST = {"n_random": 30, "n_boot": 60}


@pytest.fixture(scope="module")
def candles() -> Candles:
    return load_candles("synthetic", end=END)


def model_files(candles: Candles, tmp: Path, lags: int, *, flat: bool = False) -> dict[str, str]:
    """A forecasts file and a weights file of an AR(``lags``) fitted on these candles (``flat``: every
    forecast 0, so nothing ever trades)."""
    forecaster, forecasts = train_forecaster(candles, lags=lags)
    if flat:
        forecasts = forecasts.with_columns(y_hat=pl.lit(0.0), direction=pl.lit(0, pl.Int8))
    paths = {
        "forecasts_path": str(tmp / f"forecasts_{lags}.parquet"),
        "weights_path": str(tmp / f"w_{lags}.pth"),
    }
    forecasts.write_parquet(paths["forecasts_path"])
    save_weights(paths["weights_path"], forecaster)
    return paths


def view_everything(study: object) -> None:
    """Call every table, chart frame and sentence the notebook shows."""
    view = StrategyReport(study)  # type: ignore[arg-type]
    for name in dir(view):
        if name.startswith("_") or name in ("study", "formats", "stop_text"):
            continue
        value = getattr(view, name)()
        assert value is not None, name
        if isinstance(value, pl.DataFrame):
            view.formats(value)
    view.stop_chart(no_stop=True)
    assert view.stop_text


EDGES = {
    "fee 0 (the old KeyError)": {"fee_rate": 0.0},
    "segment all": {"segment": "all"},
    "leverage up to ruin": {"leverage": 125.0},
    "a stop on every trade": {"stop_loss": 1e-6, "mode": "per_bar"},
    "stop with leverage": {"stop_loss": 0.02, "leverage": 5.0},
    "costly per_bar": {"mode": "per_bar", "fee_rate": 0.002, "slippage_bps": 20.0, "position_fraction": 0.1},
    "constant funding": {"funding_rate_8h": -0.0003, "initial_capital": 1.0},
}


@pytest.mark.parametrize("edge", list(EDGES))
def test_every_edge_runs_every_section(candles: Candles, tmp_path: Path, edge: str) -> None:
    files = model_files(candles, tmp_path, lags=2)
    params = EDGES[edge]
    study = strategy_study(candles, output_dir=tmp_path / "out", **files, **FAST, **params)
    view_everything(study)
    m = study.result.metrics
    assert m["final_equity"] >= 0 and study.frame.height > 1
    if "fee_rate" in params and params["fee_rate"] == 0:
        assert study.trial_fee == 0.0005  # the trials never run at zero cost
        assert "nobody can trade" in StrategyReport(study).dsr_text()
    if params.get("leverage") == 125.0:
        assert m["liquidated"] >= 1 and m["final_equity"] == pytest.approx(0.0, abs=1e-6)
        assert "Caveat" in StrategyReport(study).drag_text()
    if params.get("stop_loss") == 1e-6:
        assert m["stopped"] == m["n_trades"] > 0
    paths = save_strategy_study(study, tmp_path / "out")
    metrics = json.loads(paths[-1].read_text())
    assert {*BACKTEST_METRICS, *DATA_FIELDS, "funding_path", "stop_loss", "baselines"} <= set(metrics)
    assert set(metrics["baselines"]) == {"always_long", "momentum", "reversal"}


@pytest.mark.parametrize("lags", [1, 6])
def test_ar_orders_one_and_six(candles: Candles, tmp_path: Path, lags: int) -> None:
    study = strategy_study(candles, **model_files(candles, tmp_path, lags), **FAST)
    assert study.lags == lags and f"wf_{lags}" in study.trials["signal"].to_list()
    view_everything(study)


def test_no_trades_at_all_says_so_in_every_section(candles: Candles, tmp_path: Path) -> None:
    study = strategy_study(candles, **model_files(candles, tmp_path, 2, flat=True), **FAST)
    view = StrategyReport(study)
    assert study.result.metrics["n_trades"] == 0 and study.result.metrics["final_equity"] == 10000.0
    # the fixed forecast never trades; the walk-forward trials still do, and only they count
    assert (study.trials.filter(pl.col("signal") == "y_hat")["n_trades"] == 0).all()
    assert (
        study.dsr is not None and study.dsr["n_trials"] == study.trials.filter(pl.col("n_trades") > 0).height
    )
    assert "No trades on this segment" in view.events_text()
    assert study.words["vs_random"].startswith("no random signals")
    view_everything(study)


def test_too_few_candles_for_the_selection_is_reported(tmp_path: Path) -> None:
    short = load_candles(
        "synthetic", end="2021-06-01"
    )  # the real weights: every row but the last is training
    study = strategy_study(short, segment="all", **FAST)
    assert study.selection.skipped is not None and "test rows: 1 candle" in study.selection.skipped
    assert StrategyReport(study).selection_text().startswith("Nothing to show")


def funding_file(candles: Candles, path: Path, *, hole_at: float | None = None) -> Path:
    """Funding events at irregular instants (every 4h to 8h, a few ms late as Binance stamps them),
    with negative rates; ``hole_at``: drop 3 events from that share of the file on (a gap over 8h)."""
    first = candles.frame["open_time"][0] - timedelta(hours=8)
    last = candles.frame["open_time"][-1] + timedelta(hours=20)
    rng = np.random.default_rng(0)
    steps = rng.choice([4, 6, 8], size=int((last - first).total_seconds() // 14400) + 2)
    hours = np.concatenate([[0], np.cumsum(steps)])
    times = [
        first + timedelta(hours=int(h), milliseconds=7)
        for h in hours
        if first + timedelta(hours=int(h)) < last
    ]
    rates = rng.normal(0.00005, 0.0002, size=len(times))
    frame = pl.DataFrame({"fundingTime": times, "fundingRate": rates})
    if hole_at is not None:
        start = int(hole_at * frame.height)
        frame = frame.filter(~pl.int_range(pl.len()).is_between(start, start + 2))
    frame = frame.with_columns(pl.col("fundingTime").dt.epoch("ms"))
    frame.write_csv(path)
    return path


def test_a_funding_history_is_used_and_named(candles: Candles, tmp_path: Path) -> None:
    files = model_files(candles, tmp_path, 2)
    path = funding_file(candles, tmp_path / "funding.csv")
    study = strategy_study(candles, funding_path=path, funding_rate_8h=0.01, **files, **FAST)
    assert study.funding_used.startswith(f"funding history {path}") and "ignored" in study.funding_used
    assert study.metrics()["funding_path"] == str(path)
    from adalib.backtest import read_funding, reference_backtest

    ref = reference_backtest(study.frame, study.config, funding=read_funding(path))
    assert study.result.metrics["funding_paid"] == pytest.approx(
        ref.metrics["funding_paid"], rel=1e-9, abs=1e-9
    )
    assert study.result.metrics["funding_paid"] != 0.0
    flat = strategy_study(candles, **files, **FAST)  # without the file: constant funding_rate_8h = 0
    assert flat.result.metrics["funding_paid"] == 0.0 and flat.funding_used.startswith("constant")
    baseline = study.costs.filter(pl.col("scenario") == "the parameters' costs")
    assert (baseline["funding"] == study.funding_used).all()


def test_a_hole_in_the_funding_history_is_refused_before_any_work(candles: Candles, tmp_path: Path) -> None:
    files = model_files(candles, tmp_path, 2)
    path = funding_file(candles, tmp_path / "holey.csv", hole_at=0.9)  # inside the test segment
    out = tmp_path / "out"
    with pytest.raises(BacktestError, match="first uncovered instant"):
        strategy_study(candles, funding_path=path, output_dir=out, **files, **FAST)
    assert not out.exists()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"fee_rate": -0.001}, "parameter fee_rate"),
        ({"leverage": 200.0}, "parameter leverage"),
        ({"stop_loss": 1.5}, "parameter stop_loss"),
        ({"funding_path": "no/such/funding.csv"}, "funding"),
        ({"segment": "train"}, "segment"),
    ],
)
def test_bad_parameters_fail_first(candles: Candles, params: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        strategy_study(candles, **FAST, **params)


def test_the_metrics_file_holds_the_study(candles: Candles, tmp_path: Path) -> None:
    files = model_files(candles, tmp_path, 2)
    study = strategy_study(candles, stop_loss=0.05, **files, **FAST)
    save_strategy_study(study, tmp_path / "out")
    metrics = json.loads((tmp_path / "out" / "backtest_metrics.json").read_text())
    trades = pl.read_parquet(tmp_path / "out" / "trades.parquet")
    assert metrics["stop_loss"] == 0.05 and metrics["stopped"] == int(trades["stopped"].sum())
    assert metrics["liquidated"] == int(trades["liquidated"].sum())
    direct = run_backtest(study.frame, dataclasses.replace(study.config))
    assert metrics["final_equity"] == pytest.approx(direct.metrics["final_equity"])
    for name, signal in (
        ("always_long", pl.lit(1)),
        ("momentum", pl.col("ret").sign()),
        ("reversal", -pl.col("ret").sign()),
    ):
        alone = run_backtest(study.frame.with_columns(direction=signal.cast(pl.Int8)), study.config).metrics
        assert metrics["baselines"][name]["final_equity"] == pytest.approx(alone["final_equity"], rel=1e-9)
        assert metrics["baselines"][name]["n_trades"] == alone["n_trades"]


def test_an_output_dir_that_is_a_file_fails_before_any_work(candles: Candles, tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(ValueError, match=r"parameter output_dir: .* is a file, not a folder"):
        strategy_study(candles, output_dir=target, **FAST)
    assert target.read_text() == "x" and sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_the_artifacts_are_written_as_one_set(candles: Candles, tmp_path: Path) -> None:
    study = strategy_study(candles, segment="all", **FAST)
    paths = save_strategy_study(study, tmp_path / "out")
    assert [p.name for p in paths] == ["trades.parquet", "equity.parquet", "backtest_metrics.json"]
    manifest = json.loads((tmp_path / "out" / ".adalib-sets" / "backtest.manifest.json").read_text())
    assert manifest["tags"] == {"lags": study.lags, "symbol": "ADAUSDT"}
