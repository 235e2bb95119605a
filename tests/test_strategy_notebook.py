"""ADA_StrategyImplementation.ipynb: its parameters and imports, a headless run on edge parameters that
writes the contract's artifacts, and bad input stopping it before anything is written."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import nbformat
import polars as pl
import pytest
from contract_fields import BACKTEST_METRICS, DATA_FIELDS
from notebook_support import check_layout, execute

import adalib
from adalib.backtest import EQUITY_SCHEMA, TRADE_SCHEMA, BacktestConfig, run_backtest
from adalib.backtest.study import strategy_study
from adalib.data import load_candles
from adalib.forecast import save_weights, train_forecaster
from adalib.pipeline import NOTEBOOK_DIR

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
    "funding_path": None,
    "stop_loss": None,
    "initial_capital": 10000.0,
    "output_dir": "artifacts",
    "start": None,
    "end": "2026-03-01",
}
ALLOWED_IMPORTS = {"adalib", "altair", "polars", "numpy", "matplotlib", "IPython"}
END = "2021-09-01"
# the edges in one run: zero fee (the old KeyError), a stop that triggers on every trade, per_bar, 3x
EDGE = {"data_path": "synthetic", "end": END, "mode": "per_bar", "fee_rate": 0.0, "leverage": 3.0,
        "stop_loss": 1e-6}  # fmt: skip


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Forecasts and weights of an AR(2) fitted on the synthetic candles (train and test splits)."""
    tmp = tmp_path_factory.mktemp("strategy_model")
    forecaster, forecasts = train_forecaster(load_candles("synthetic", end=END), lags=2)
    paths = {"forecasts_path": str(tmp / "forecasts.parquet"), "weights_path": str(tmp / "w.pth")}
    forecasts.write_parquet(paths["forecasts_path"])
    save_weights(paths["weights_path"], forecaster)
    return paths


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory, model: dict[str, str]) -> Path:
    tmp = tmp_path_factory.mktemp("strategy_notebook")
    execute(NAME, tmp, **EDGE, **model, output_dir=str(tmp / "out"))
    return tmp


def test_parameters_cell_holds_exactly_the_contract_parameters() -> None:
    check_layout(NAME, PARAMETERS)


def test_the_notebook_uses_only_top_level_adalib_names() -> None:
    nb = nbformat.read(NOTEBOOK_DIR / f"{NAME}.ipynb", as_version=4)
    tree = ast.parse("\n".join(c.source for c in nb.cells if c.cell_type == "code"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert {a.name.split(".")[0] for a in node.names} <= ALLOWED_IMPORTS
            assert all(a.name == "adalib" or not a.name.startswith("adalib.") for a in node.names)
        if isinstance(node, ast.ImportFrom):
            assert node.module is not None and node.module.split(".")[0] in ALLOWED_IMPORTS - {"adalib"}
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "adalib":
            assert node.attr in adalib.__all__, node.attr


def test_artifacts_have_the_contract_columns_and_the_study_numbers(
    executed: Path, model: dict[str, str]
) -> None:
    out = executed / "out"
    trades, equity = pl.read_parquet(out / "trades.parquet"), pl.read_parquet(out / "equity.parquet")
    assert trades.schema == pl.Schema(TRADE_SCHEMA) and trades.height > 0
    assert equity.schema == pl.Schema(EQUITY_SCHEMA)
    metrics = json.loads((out / "backtest_metrics.json").read_text())
    assert {*BACKTEST_METRICS, *DATA_FIELDS, "baselines", "funding_path", "stop_loss", "stopped"} <= set(
        metrics
    )
    assert (metrics["data_source"], metrics["mode"], metrics["fee_rate"], metrics["stop_loss"]) == (
        "synthetic", "per_bar", 0.0, 1e-6,
    )  # fmt: skip
    assert metrics["stopped"] == metrics["n_trades"] == trades.height == int(trades["stopped"].sum())
    study = strategy_study(load_candles("synthetic", end=END), **model, n_random=5, n_boot=20,
                           mode="per_bar", fee_rate=0.0, leverage=3.0, stop_loss=1e-6)  # fmt: skip
    direct = run_backtest(
        study.frame, BacktestConfig(mode="per_bar", fee_rate=0.0, leverage=3.0, stop_loss=1e-6)
    )
    assert equity.equals(direct.equity) and trades.equals(direct.trades)
    assert metrics["baselines"] == json.loads(json.dumps(study.baselines))
    assert equity.height == study.frame.height


def test_notebook_reports_its_numbers_without_errors(executed: Path) -> None:
    nb = nbformat.read(executed / "executed.ipynb", as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error" or o.get("name") == "stderr"]
    text = "\n".join(o.get("data", {}).get("text/markdown", "") for o in outputs)
    metrics = json.loads((executed / "out" / "backtest_metrics.json").read_text())
    assert (
        f"{metrics['n_trades']} trades ({metrics['liquidated']} liquidated, {metrics['stopped']} stopped)"
        in text
    )
    assert f"Sharpe **{adalib.format_value(metrics['sharpe'], 'number:2')}**" in text  # None shows as —
    assert "constant funding_rate_8h" in text  # it says which funding it used
    assert "Pre-registered rule" in text and "trials ran at a 0.050% taker fee" in text
    assert "The study window 2025-08-11 to 2025-11-04 is not in these candles" in text
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 7  # all but the study-window chart


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"fee_rate": -0.001}, "parameter fee_rate"),
        ({"stop_loss": 2.0}, "parameter stop_loss"),
        ({"forecasts_path": "no/such/forecasts.parquet"}, "forecasts file not found"),
        ({"funding_path": "no/such/funding.csv"}, "funding file not found"),
    ],
)
def test_bad_input_fails_before_anything_is_written(tmp_path: Path, parameters: dict, message: str) -> None:
    with pytest.raises(RuntimeError, match=message):
        execute(
            NAME, tmp_path, data_path="synthetic", end=END, output_dir=str(tmp_path / "out"), **parameters
        )
    assert not (tmp_path / "out").exists()
