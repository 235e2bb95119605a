"""ADA_executing_orders.ipynb runs headless with non-default parameters and writes the contract artifacts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
from exec_support import write_weights
from notebook_support import check_layout, execute

NAME = "ADA_executing_orders"
PARAMETERS = {
    "mode": "dry-run",
    "base_url": None,
    "symbol": "ADAUSDT",
    "leverage": 1,
    "margin_type": "ISOLATED",
    "position_fraction": 1.0,
    "threshold": 0.0,
    "max_notional": 1000.0,
    "stop_loss": None,
    "weights_path": "model_weights.pth",
    "data_path": None,
    "dry_run_balance": 10000.0,
    "confirm_live": False,
    "output_dir": "artifacts",
    "start": None,
    "end": None,
}
SUMMARY_FIELDS = {"mode", "symbol", "candle_open_time", "y_hat", "direction", "confidence", "position_before",
                  "target_qty", "position_after", "orders"}  # fmt: skip


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, nbformat.NotebookNode]:
    tmp = tmp_path_factory.mktemp("exec_notebook")
    weights = write_weights(tmp, intercept=0.001, coef=(0.05, -0.08))  # last signal: long
    nb = execute(NAME, tmp, data_path="synthetic", leverage=2, threshold=0.001, max_notional=500.0,
             weights_path=weights, output_dir=str(tmp / "out"))  # fmt: skip
    return tmp / "out", nb


def test_parameters_cell_holds_exactly_the_contract_parameters() -> None:
    check_layout("ADA_executing_orders", PARAMETERS)


def test_writes_the_contract_artifacts_for_the_run_and_the_demo(executed) -> None:
    out, _ = executed
    summary = json.loads((out / "execution_summary.json").read_text())
    assert SUMMARY_FIELDS <= set(summary)
    assert (summary["mode"], summary["leverage"], summary["data_source"]) == ("dry-run", 2, "synthetic")
    assert summary["orders"] == [] and summary["position_after"] == summary["position_before"] == "0"
    assert summary["status"] == "dry-run"
    target = abs(int(summary["target_qty"]))
    assert target == 0 or target * float(summary["mark_price"]) <= 500.0  # max_notional caps leverage 2
    requests = [json.loads(line) for line in (out / "orders.jsonl").read_text().splitlines()]
    assert requests and not any(r.get("signed") for r in requests)  # dry run: no signed request
    assert summary["direction"] == 1 and len(summary["planned_orders"]) == 1
    demo = json.loads((out / "fake_exchange" / "execution_summary.json").read_text())  # the rerun's
    assert (
        demo["mode"] == "testnet" and demo["orders"] == [] and demo["position_after"] == demo["intended_qty"]
    )
    assert demo["status"] == "ok"
    assert demo["candle_open_time"] == summary["candle_open_time"] and int(demo["target_qty"]) > 0
    journal = [json.loads(line) for line in (out / "fake_exchange" / "orders.jsonl").read_text().splitlines()]
    posts = [j for j in journal if j.get("phase") == "answer" and j["path"] == "/fapi/v1/order"]
    assert [p["status"] for p in posts] == [200, 408, 200]  # open a short; reverse: close (answer lost), open
    assert [p["params"]["side"] for p in posts] == ["SELL", "BUY", "BUY"] and posts[1]["params"][
        "reduceOnly"
    ] == "true"
    assert len({p["params"]["newClientOrderId"] for p in posts}) == 3


def test_outputs_are_clean_and_hold_no_secrets(executed) -> None:
    _, nb = executed
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error" or o.get("name") == "stderr"]
    text = "\n".join(o.get("text", "") + "".join(str(v) for v in o.get("data", {}).values()) for o in outputs)
    assert "would send: POST /fapi/v1/order" in text and "found adalib-ADAUSDT-" in text
    assert re.search(r"Same side in \*\*(\d+) of \1 candles\*\*", text)  # the replay
    assert "What the research found" in text
    assert not re.search(r"\b[0-9a-f]{64}\b", text)  # no key, secret or signature (all 64 hex digits)
    assert "127.0.0.1" not in text and "signature" not in text


def test_bad_parameter_fails_before_anything_is_written(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match=r"parameter mode=.paper."):
        execute(NAME, tmp_path, mode="paper", output_dir=str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "edge",
    [
        {
            "dry_run_balance": 300.0,
            "leverage": 2,
            "stop_loss": 0.05,
            "max_notional": 10000.0,
        },  # small balance
        {"threshold": 1.0},  # every signal flat: nothing to open, reverse or replay
    ],
    ids=["small_balance_with_stop", "always_flat"],
)
def test_runs_for_edge_parameters(tmp_path: Path, edge: dict) -> None:
    weights = write_weights(tmp_path, intercept=0.001, coef=(0.05, -0.08))
    nb = execute(
        NAME, tmp_path, data_path="synthetic", weights_path=weights, output_dir=str(tmp_path / "out"), **edge
    )
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    summary = json.loads((tmp_path / "out" / "execution_summary.json").read_text())
    assert summary["status"] == "dry-run"
    if "stop_loss" in edge:
        demo = json.loads((tmp_path / "out" / "fake_exchange" / "execution_summary.json").read_text())
        assert demo["status"] == "ok" and demo["stop_order"] and int(demo["position_after"]) != 0
