"""ADA_ML_model.ipynb runs headless on generated data and writes the contract's artifacts."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import nbformat
import polars as pl
import pytest
from contract_fields import DATA_FIELDS
from notebook_support import check_layout, execute

from adalib.data import load_candles
from adalib.forecast import FORECAST_SCHEMA, forecast_frame, load_weights
from adalib.pipeline import NOTEBOOK_DIR

NAME = "ADA_ML_model"
PARAMETERS = {
    "data_path": "auto",
    "symbol": "ADAUSDT",
    "binance_url": "https://fapi.binance.com",
    "lags": 2,
    "test_fraction": 0.25,
    "seed": 0,
    "threshold": 0.0,
    "output_dir": "artifacts",
    "weights_path": "model_weights.pth",
    "start": None,
    "end": "2026-03-01",
}
METRICS_KEYS = {
    "symbol", "interval", "lags", "n_train", "n_test", "train_start", "train_end", "test_start", "test_end",
    "coef", "intercept", "resid_std", "mse_train", "mse_test", "mse_test_zero", "r2_oos", "hit_rate_test",
    "dm_stat", "dm_pvalue", "pt_stat", "pt_pvalue", "cw_stat", "cw_pvalue",
}  # fmt: skip
SMALL = {"data_path": "synthetic", "lags": 3, "threshold": 0.001, "end": "2022-01-01"}
DISPLAY_MODULES = {"altair", "polars", "IPython.display", "numpy", "matplotlib.pyplot"}
# Edge parameters (each one papermill run on the synthetic series, ~10 s): the smallest and largest
# orders of the comparison, a threshold no forecast reaches, tiny train or test splits, a short window.
EDGES = [
    {"lags": 1, "test_fraction": 0.05},
    {"lags": 6, "threshold": 1.0, "test_fraction": 0.9, "seed": 7},
    {"lags": 6, "start": "2021-10-01", "end": "2021-11-15"},
]


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("ml_notebook")
    execute(NAME, tmp, **SMALL, output_dir=str(tmp / "out"), weights_path=str(tmp / "weights" / "w.pth"))
    return tmp


def test_parameters_cell_holds_exactly_the_contract_parameters() -> None:
    check_layout("ADA_ML_model", PARAMETERS)


def test_artifacts_have_the_contract_columns_and_dtypes(executed: Path) -> None:
    forecasts = pl.read_parquet(executed / "out" / "forecasts.parquet")
    assert forecasts.schema == pl.Schema(FORECAST_SCHEMA)
    assert forecasts["target"].null_count() == 1 and forecasts["target"][-1] is None
    assert forecasts["split"][-1] == "test" and set(forecasts["split"]) == {"train", "test"}
    metrics = json.loads((executed / "out" / "model_metrics.json").read_text())
    assert METRICS_KEYS | DATA_FIELDS <= set(metrics)
    assert (metrics["lags"], metrics["interval"], metrics["data_source"]) == (3, "12h", "synthetic")
    assert metrics["n_train"] + metrics["n_test"] == forecasts.height - 1
    assert metrics["n_train"] == forecasts.filter(pl.col("split") == "train").height
    assert metrics["last_candle"] == "2021-12-31T12:00:00Z"
    weights = load_weights(executed / "weights" / "w.pth", lags=3, symbol="ADAUSDT")
    assert list(weights.coef) == metrics["coef"] and weights.train_end == metrics["train_end"]
    # the weights file reproduces the forecasts file from the candles alone
    candles = load_candles("synthetic", end="2022-01-01")
    assert forecast_frame(candles, weights, threshold=0.001).equals(forecasts)


def test_notebook_reports_its_numbers_without_errors(executed: Path) -> None:
    nb = nbformat.read(executed / "executed.ipynb", as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error" or o.get("name") == "stderr"]
    text = "\n".join(o.get("data", {}).get("text/markdown", "") for o in outputs)
    metrics = json.loads((executed / "out" / "model_metrics.json").read_text())
    assert f"Diebold-Mariano p = {metrics['dm_pvalue']:.3f}" in text  # prose is computed, not typed
    assert f"hit rate {metrics['hit_rate_test']:.1%}" in text
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 5


def test_bad_data_fails_before_anything_is_written(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("open_time,open,high,low,close,volume\n2024-01-01T00:00:00,1,0.5,1,1,1\n")
    with pytest.raises(RuntimeError, match=r"bad\.csv"):
        execute(
            NAME,
            tmp_path,
            data_path=str(bad),
            output_dir=str(tmp_path / "out"),
            weights_path=str(tmp_path / "w.pth"),
        )
    assert not (tmp_path / "out").exists() and not (tmp_path / "w.pth").exists()


def test_notebook_imports_only_adalib_top_level_and_display_libraries() -> None:
    nb = nbformat.read(NOTEBOOK_DIR / f"{NAME}.ipynb", as_version=4)
    imported: set[str] = set()
    for cell in (c for c in nb.cells if c.cell_type == "code"):
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                imported.add(str(node.module))
    assert imported <= DISPLAY_MODULES | {"adalib"}, imported - DISPLAY_MODULES


@pytest.mark.parametrize("edge", EDGES, ids=lambda e: ",".join(f"{k}={v}" for k, v in e.items()))
def test_edge_parameters_run_and_write_a_consistent_set(edge: dict[str, object], tmp_path: Path) -> None:
    parameters = {"data_path": "synthetic", "end": "2022-01-01", **edge}
    nb = execute(
        NAME, tmp_path, **parameters, output_dir=str(tmp_path / "out"), weights_path=str(tmp_path / "w.pth")
    )
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error" or o.get("name") == "stderr"]
    metrics = json.loads((tmp_path / "out" / "model_metrics.json").read_text())
    forecasts = pl.read_parquet(tmp_path / "out" / "forecasts.parquet")
    assert metrics["lags"] == edge["lags"] and len(metrics["ar_orders"]) == 6
    assert load_weights(tmp_path / "w.pth", lags=int(edge["lags"])).train_end == metrics["train_end"]
    assert metrics["n_train"] + metrics["n_test"] == forecasts.height - 1
    if "threshold" in edge:  # no forecast reaches the threshold: every direction is flat
        assert set(forecasts["direction"]) == {0}
