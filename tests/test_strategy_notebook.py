"""ADA_StrategyImplementation.ipynb runs headless with non-default parameters and writes the contract's
artifacts; bad input stops it before anything is written."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import papermill
import polars as pl
import pytest
from contract_fields import BACKTEST_METRICS, DATA_FIELDS
from notebook_support import check_layout, execute

from adalib.backtest import EQUITY_SCHEMA, TRADE_SCHEMA, run_backtest
from adalib.data import load_candles
from adalib.backtest import load_segment

NAME = "ADA_StrategyImplementation"
PARAMETERS = {
    "data_path": "auto",
    "symbol": "ADAUSDT",
    "binance_url": "https://fapi.binance.com",
    "forecasts_path": None,
    "weights_path": "model_weights.pth",
    "segment": "test",
    "mode": "hold",
    "fee_rate": 0.0005,
    "slippage_bps": 0.0,
    "leverage": 1.0,
    "position_fraction": 1.0,
    "maintenance_margin_rate": 0.005,
    "funding_rate_8h": 0.0,
    "initial_capital": 10000.0,
    "output_dir": "artifacts",
    "start": None,
    "end": "2026-03-01",
}
METRICS_KEYS = {*BACKTEST_METRICS, *DATA_FIELDS}
SMOKE = {
    "data_path": "synthetic",
    "end": "2023-01-01",
    "mode": "per_bar",
    "segment": "all",
    "leverage": 3.0,
    "funding_rate_8h": 0.0001,
}


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("strategy_notebook")
    execute(NAME, tmp, **SMOKE, output_dir=str(tmp / "out"))
    return tmp


def test_parameters_cell_holds_exactly_the_contract_parameters() -> None:
    check_layout("ADA_StrategyImplementation", PARAMETERS)


def test_artifacts_have_the_contract_columns_and_dtypes(executed: Path) -> None:
    out = executed / "out"
    trades, equity = pl.read_parquet(out / "trades.parquet"), pl.read_parquet(out / "equity.parquet")
    assert trades.schema == pl.Schema(TRADE_SCHEMA) and trades.height > 0
    assert equity.schema == pl.Schema(EQUITY_SCHEMA)
    metrics = json.loads((out / "backtest_metrics.json").read_text())
    assert METRICS_KEYS <= set(metrics)
    assert (metrics["data_source"], metrics["mode"], metrics["segment"], metrics["leverage"]) == (
        "synthetic",
        "per_bar",
        "all",
        3.0,
    )
    assert metrics["last_candle"] == "2022-12-31T12:00:00Z" and metrics["periods_per_year"] == 730
    # the files hold exactly what the engine computes on the same segment and parameters
    candles = load_candles("synthetic", end="2023-01-01")
    seg = load_segment(candles, output_dir=out / "none", segment="all")
    direct = run_backtest(seg.frame, mode="per_bar", leverage=3.0, funding_rate_8h=0.0001)
    assert equity.equals(direct.equity) and trades.equals(direct.trades)
    assert metrics["final_equity"] == direct.metrics["final_equity"]
    assert metrics["n_trades"] == direct.metrics["n_trades"] == trades.height
    assert equity.height == seg.frame.height  # one row per segment candle


def test_notebook_reports_its_numbers_without_errors(executed: Path) -> None:
    nb = nbformat.read(executed / "executed.ipynb", as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error" or o.get("name") == "stderr"]
    text = "\n".join(o.get("data", {}).get("text/markdown", "") for o in outputs)
    metrics = json.loads((executed / "out" / "backtest_metrics.json").read_text())
    assert f"{metrics['n_trades']} trades" in text  # prose is computed, not typed
    assert f"Sharpe **{metrics['sharpe']:.2f}**" in text
    assert "The study window 2025-08-11 to 2025-11-04 is not in these candles" in text
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 5


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"fee_rate": -0.001}, "parameter fee_rate"),
        ({"forecasts_path": "no/such/forecasts.parquet"}, "forecasts file not found"),
    ],
)
def test_bad_input_fails_before_anything_is_written(tmp_path: Path, parameters: dict, message: str) -> None:
    with pytest.raises(papermill.PapermillExecutionError, match=message):
        execute(
            NAME,
            tmp_path,
            data_path="synthetic",
            end="2021-01-01",
            output_dir=str(tmp_path / "out"),
            **parameters,
        )
    assert not (tmp_path / "out").exists()
