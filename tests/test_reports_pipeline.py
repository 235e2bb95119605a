"""The report pipeline without executing a notebook: its plan, cleaning, index and checks."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
from pathlib import Path

import nbformat
import pytest
import torch

from adalib.pipeline import clean_notebook, plan, render_html, run, volatile_metadata
from adalib.pipeline.html import report_title
from adalib.pipeline.index import index_html
from adalib.pipeline.weights_check import compare_weights
from adalib.util.cli import run_command
from adalib.util.paths import OUTPUT_ROOT_ENV, REPO_ROOT


def test_html_report_has_no_code_and_loads_nothing_from_outside(tmp_path: Path) -> None:
    name = "ADA_ML_model"
    page = render_html(REPO_ROOT / "notebooks" / f"{name}.ipynb", tmp_path / f"{name}.html").read_text()
    loaded = re.findall(r"<(?:script|link|img|iframe)\b[^>]*?(?:src|href)=\"([^\"]*)\"", page)
    assert loaded and all(url.startswith(("mathjax/", "data:")) for url in loaded), sorted(set(loaded))[:5]
    assert 'class="jp-CodeMirrorEditor' not in page and "highlight hl-ipython3" not in page  # code hidden
    assert (tmp_path / "mathjax" / "MathJax.js").is_file()
    assert (tmp_path / "mathjax" / "config" / "TeX-AMS-MML_HTMLorMML-full.js").is_file()
    nb = nbformat.read(REPO_ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    assert f"<title>{report_title(nb)}</title>" in page


NAMES = ["ADA_ML_model", "ADA_StrategyImplementation", "ADA_executing_orders"]


@pytest.fixture
def output_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(OUTPUT_ROOT_ENV, str(tmp_path))
    return tmp_path


def test_make_run_writes_weights_to_artifacts_only(output_root: Path) -> None:
    runs = plan(in_place=False)
    assert [r.name for r in runs] == NAMES  # order: forecasts before the backtest and the execution
    for r in runs:
        assert r.parameters == {"weights_path": "artifacts/model_weights.pth"}
        assert r.executed == output_root / "reports" / f"{r.name}.ipynb"
        assert r.html == output_root / "reports" / f"{r.name}.html"
    assert run.weights_written(in_place=False) == output_root / "artifacts" / "model_weights.pth"


def test_in_place_refresh_rewrites_the_committed_notebooks_on_defaults(output_root: Path) -> None:
    runs = plan(in_place=True)
    for r in runs:
        assert r.parameters == {}  # no papermill "injected-parameters" cell in a committed notebook
        assert r.executed == REPO_ROOT / "notebooks" / f"{r.name}.ipynb"
        assert r.html.parent == output_root / "reports"
    assert run.weights_written(in_place=True) == output_root / "model_weights.pth"


def test_the_strategy_report_uses_the_cached_funding_history(
    output_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cached = REPO_ROOT / "data" / "TESTONLY-funding.parquet"  # never created: only its name is planned
    monkeypatch.setattr(run, "funding_cache_path", lambda: cached)
    assert all("funding_path" not in r.parameters for r in plan(in_place=False))  # not cached: constant
    monkeypatch.setattr(Path, "is_file", lambda self: self == cached or os.path.isfile(self))
    for in_place in (False, True):
        planned = {r.name: r.parameters.get("funding_path") for r in plan(in_place=in_place)}
        assert planned == {
            "ADA_ML_model": None,
            "ADA_StrategyImplementation": "data/TESTONLY-funding.parquet",
            "ADA_executing_orders": None,
        }


def test_without_output_root_make_run_stays_in_gitignored_folders(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(OUTPUT_ROOT_ENV, raising=False)
    ignored = (REPO_ROOT / ".gitignore").read_text().split()
    assert "/artifacts/" in ignored and "/reports/*" in ignored
    for r in plan(in_place=False):
        assert r.executed.parent == REPO_ROOT / "reports" and r.html.parent == REPO_ROOT / "reports"
        assert (REPO_ROOT / r.parameters["weights_path"]).parent == REPO_ROOT / "artifacts"


def executed_like_papermill() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata.update(
        {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
            "papermill": {"input_path": "/work/main/notebooks/x.ipynb", "duration": 10.05, "start_time": "t"},
        }
    )
    cell = nbformat.v4.new_code_cell("1 + 1", execution_count=1)
    cell.metadata.update(
        {"tags": ["parameters"], "papermill": {"duration": 0.01}, "execution": {"iopub.status.idle": "t"}}
    )
    cell.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "2"}, execution_count=1)]
    nb.cells = [nbformat.v4.new_markdown_cell("# T", metadata={"tags": []}), cell]
    return nb


def test_cleaning_strips_volatile_metadata_and_keeps_outputs() -> None:
    nb = executed_like_papermill()
    assert volatile_metadata(nb) == [
        "notebook metadata: 'papermill'",
        "cell 1 metadata: 'papermill'",
        "cell 1 metadata: 'execution'",
    ]
    clean_notebook(nb)
    assert volatile_metadata(nb) == []
    assert set(nb.metadata) == {"kernelspec", "language_info"}  # what nbval needs stays
    assert nb.cells[0].metadata == {} and nb.cells[1].metadata == {"tags": ["parameters"]}
    assert nb.cells[1].outputs[0]["data"] == {"text/plain": "2"} and nb.cells[1].execution_count == 1
    nbformat.validate(nb)


@pytest.mark.parametrize(
    "path", ["/work/wt/x/data/a.parquet", "/home/me/a.csv", "/root/x", "/tmp/adalib-1/b"]
)
def test_machine_paths_in_outputs_are_found(path: str) -> None:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"wrote {path}\n")]
    nb.cells = [cell]
    assert volatile_metadata(nb) == [f"cell 0: machine path {path!r}"]


def test_relative_paths_and_urls_are_not_machine_paths() -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("artifacts/model_weights.pth, https://fapi.binance.com/fapi/v1")
    ]
    assert volatile_metadata(nb) == []


def saved(state: dict[str, torch.Tensor], **extra: object) -> bytes:
    buffer = io.BytesIO()
    torch.save({"state_dict": state, "lags": 2, **extra}, buffer)
    return buffer.getvalue()


def test_weights_comparison_names_tensor_and_size_of_difference() -> None:
    weight = torch.tensor([[0.001212, -0.083448]], dtype=torch.float64)
    bias = torch.tensor([0.000619], dtype=torch.float64)
    committed = saved({"linear.weight": weight, "linear.bias": bias})
    assert (
        compare_weights(committed, saved({"linear.weight": weight.clone(), "linear.bias": bias.clone()}))
        == []
    )
    nudged = weight.clone()
    nudged[0, 1] = torch.nextafter(nudged[0, 1], torch.tensor(0.0, dtype=torch.float64))
    found = compare_weights(committed, saved({"linear.weight": nudged, "linear.bias": bias}))
    ulp = abs(float(weight[0, 1]) - float(nudged[0, 1]))
    expected = f"1 of 2 values differ, max |diff| {ulp:.2g} (relative {ulp / 0.083448:.2g})"
    assert found == [f"state_dict.linear.weight: {expected}"]
    other = compare_weights(committed, saved({"linear.weight": weight, "linear.bias": bias}, lags=3))
    assert other == ["lags: 2 -> 3"]


def test_weights_report_says_when_nothing_was_written(tmp_path: Path) -> None:
    assert run.weights_report(b"x", tmp_path / "w.pth") == f"weights: {tmp_path / 'w.pth'} was not written"
    (tmp_path / "w.pth").write_bytes(b"same")
    assert run.weights_report(b"same", tmp_path / "w.pth").endswith("byte for byte")


def write_metrics(folder: Path) -> None:
    data = {
        "data_source": "cache",
        "n_candles": 4441,
        "first_candle": "2020-01-31T12:00:00Z",
        "last_candle": "2026-02-28T12:00:00Z",
        "data_sha256": "9552c7738db54d0bcd0a91a80bf498e0",
    }
    folder.mkdir(parents=True, exist_ok=True)
    ml = {**data, "lags": 2, "mse_test": 0.0015123, "mse_test_zero": 0.0015141, "r2_oos": 0.001325}
    (folder / "model_metrics.json").write_text(
        json.dumps({**ml, "hit_rate_test": 0.508123, "dm_pvalue": 0.90768})
    )
    backtest = {"total_return": -0.907123, "buy_hold_return": -0.2512, "sharpe": 0.3412, "n_trades": 41}
    (folder / "backtest_metrics.json").write_text(json.dumps({**data, **backtest, "max_drawdown": -0.95}))


def test_index_shows_headlines_and_data_from_the_metrics_files(tmp_path: Path) -> None:
    write_metrics(tmp_path)
    page = index_html(tmp_path)
    for shown in ("1.5123e-03", "1.5141e-03", "0.13%", "50.8%", "0.908", "-90.7%", "-25.1%", "0.34", "41"):
        assert f">{shown}<" in page
    assert page.count("4,441 candles, 2020-01-31 12:00 UTC to 2026-02-28 12:00 UTC") == 2
    assert page.count("<code>9552c7738db5</code>") == 2
    assert "not run: <code>execution_summary.json</code> is missing" in page
    for name in NAMES:
        assert f'href="{name}.html"' in page
    assert "http" not in page and "<script" not in page and "<link" not in page


def test_a_missing_field_shows_a_dash_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "execution_summary.json").write_text(json.dumps({"mode": "dry-run", "direction": -1}))
    page = index_html(tmp_path)
    assert ">short<" in page and ">—<" in page
    assert "data not recorded in <code>execution_summary.json</code>" in page


def test_unwritable_output_is_one_error_line_before_any_notebook_runs(
    output_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (output_root / "reports").write_text("a file, not a folder")
    monkeypatch.setattr(run, "run_notebook", lambda *a, **k: pytest.fail("a notebook ran"))
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = run_command(run.main, [])
    assert code == 1
    assert (
        err.getvalue()
        == f"error: output folder {output_root / 'reports'}: {output_root / 'reports'} is not a folder\n"
    )


def test_a_failing_cell_is_one_error_line(output_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        from papermill.exceptions import PapermillExecutionError

        raise PapermillExecutionError(3, 3, "x", "ValueError", "data_path 'x.csv': no such file", [])

    monkeypatch.setattr(run.papermill, "execute_notebook", fail)
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = run_command(run.main, [])
    assert code == 1
    assert err.getvalue().startswith(
        "error: ADA_ML_model: cell 3 failed: ValueError: data_path 'x.csv': no such file"
    )
    assert "Traceback" not in err.getvalue()


def test_an_unknown_option_is_one_error_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run, "run_notebook", lambda *a, **k: pytest.fail("a notebook ran"))
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = run_command(run.main, ["--in-palce"])
    assert (code, err.getvalue()) == (
        1,
        "error: python -m adalib.pipeline: unrecognized arguments: --in-palce\n",
    )
