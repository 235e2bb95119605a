"""What the research found, read from the metrics files for the sentence next to the live call."""

from __future__ import annotations

import json

from adalib.execution import research_findings

MODEL = {"n_test": 1110, "r2_oos": 0.0013, "hit_rate_test": 0.508, "dm_pvalue": 0.91, "pt_pvalue": 0.21,
         "cw_pvalue": 0.04}  # fmt: skip
BACKTEST = {
    "total_return": -0.907,
    "sharpe": -0.64,
    "buy_hold_return": -0.253,
    "n_trades": 514,
    "max_drawdown": -0.95,
}


def test_the_paragraph_carries_the_numbers_of_both_files(tmp_path):
    (tmp_path / "model_metrics.json").write_text(json.dumps(MODEL))
    (tmp_path / "backtest_metrics.json").write_text(json.dumps(BACKTEST))
    found = research_findings(tmp_path)
    assert found.edge is True  # Clark-West p = 0.04 < 5%
    expected = (
        "1110 test candles", "R² is 0.13%", "hit rate 50.8%", "DM p = 0.91", "CW p = 0.04",
        "-90.70%", "Sharpe -0.64", "514 trades", "-25.30% for buy-and-hold", "thin evidence",
    )  # fmt: skip
    for text in expected:
        assert text in found.text, text
    assert found.numbers == MODEL | BACKTEST


def test_no_significant_test_says_there_is_no_edge(tmp_path):
    (tmp_path / "model_metrics.json").write_text(json.dumps(MODEL | {"cw_pvalue": None}))
    found = research_findings(tmp_path)
    assert found.edge is False and "none is significant at 5%" in found.text
    assert "not evidence of an edge" in found.text and "`backtest_metrics.json` was not found" in found.text


def test_missing_or_broken_files_are_said_not_guessed(tmp_path):
    found = research_findings(tmp_path)
    assert found.edge is None and found.numbers == {}
    assert "`model_metrics.json` was not found" in found.text
    (tmp_path / "model_metrics.json").write_text("{not json")
    (tmp_path / "backtest_metrics.json").write_text("[1, 2]")
    found = research_findings(tmp_path)
    assert "could not be read (JSONDecodeError)" in found.text and "is not a JSON object" in found.text
