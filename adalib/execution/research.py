"""What the research found, read from its metrics files, for the sentence next to the live call.

The forecasting notebook writes ``model_metrics.json`` and the strategy notebook
``backtest_metrics.json`` (CONTRACT.md sections 2 and 3). ``research_findings`` turns the
numbers a trader should see before acting on a signal into one short paragraph; a missing or
unreadable file is said, never guessed.

>>> import json, pathlib, tempfile
>>> out = pathlib.Path(tempfile.mkdtemp())
>>> _ = (out / "model_metrics.json").write_text(json.dumps({"n_test": 1000, "r2_oos": -0.004,
...     "hit_rate_test": 0.497, "dm_pvalue": 0.41, "pt_pvalue": 0.62, "cw_pvalue": 0.3}))
>>> findings = research_findings(out)
>>> findings.edge, findings.numbers["hit_rate_test"]
(False, 0.497)
>>> print(findings.text.splitlines()[0])
**What the research found.** On 1000 test candles the model's out-of-sample R² is -0.40% and its \
hit rate 49.7%; ...
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adalib.util.paths import resolve_existing

SIGNIFICANCE = 0.05
MODEL_FIELDS = ("n_test", "r2_oos", "hit_rate_test", "dm_pvalue", "pt_pvalue", "cw_pvalue")
BACKTEST_FIELDS = ("total_return", "sharpe", "buy_hold_return", "n_trades", "max_drawdown")


@dataclass(frozen=True)
class Findings:
    """The research's headline numbers (``numbers``), whether any test found an edge, and a paragraph."""

    numbers: dict[str, Any] = field(default_factory=dict)
    edge: bool | None = None
    text: str = ""


def _read(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    if not path.is_file():
        return None, f"`{path.name}` was not found in `{path.parent.name}/`"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        return None, f"`{path.name}` could not be read ({type(exc).__name__})"
    return (data, None) if isinstance(data, dict) else (None, f"`{path.name}` is not a JSON object")


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _pct(value: Any) -> str:
    return f"{value:+.2%}" if _finite(value) else "n/a"


def research_findings(output_dir: str | Path = "artifacts") -> Findings:
    """Read ``model_metrics.json`` and ``backtest_metrics.json`` from ``output_dir`` (relative paths
    resolve as the notebooks' do) and say what they found: the forecast tests' p-values, and the
    backtest against buy-and-hold. ``edge`` is True only if a forecast test is significant at 5%.

    >>> import tempfile
    >>> research_findings(tempfile.mkdtemp()).edge is None  # nothing to read: no verdict
    True
    """
    folder = resolve_existing(output_dir)
    model, model_problem = _read(folder / "model_metrics.json")
    backtest, backtest_problem = _read(folder / "backtest_metrics.json")
    numbers: dict[str, Any] = {}
    for source, names in ((model, MODEL_FIELDS), (backtest, BACKTEST_FIELDS)):
        for name in names:
            if source is not None and _finite(source.get(name)):
                numbers[name] = source[name]
    parts = []
    edge = None
    if model is not None:
        pvalues = {k: numbers[k] for k in ("dm_pvalue", "pt_pvalue", "cw_pvalue") if k in numbers}
        edge = any(p < SIGNIFICANCE for p in pvalues.values()) if pvalues else None
        shown = ", ".join(f"{k.split('_')[0].upper()} p = {v:.2f}" for k, v in pvalues.items())
        parts.append(
            f"On {numbers.get('n_test', '?')} test candles the model's out-of-sample R² is "
            f"{numbers['r2_oos']:.2%} and its hit rate {numbers['hit_rate_test']:.1%}; "
            if "r2_oos" in numbers and "hit_rate_test" in numbers
            else "The model metrics lack R² or the hit rate; "
        )
        if edge is None:
            parts.append("no forecast test p-value is recorded.")
        else:
            verdict = "at least one is" if edge else "none is"
            parts.append(f"of the forecast tests ({shown}) {verdict} significant at 5%.")
    else:
        parts.append(f"Forecast tests: {model_problem}.")
    if backtest is not None:
        parts.append(
            f"\nThe backtest on the test segment returned {_pct(numbers.get('total_return'))} "
            f"(Sharpe {numbers.get('sharpe', float('nan')):.2f}, {numbers.get('n_trades', '?')} trades, "
            f"max drawdown {_pct(numbers.get('max_drawdown'))}) against "
            f"{_pct(numbers.get('buy_hold_return'))} for buy-and-hold."
        )
    else:
        parts.append(f"\nBacktest: {backtest_problem}.")
    caution = (
        "The signal below is what the model says, not evidence of an edge: size it accordingly."
        if not edge
        else "A forecast test is significant, but one test on one segment is thin evidence."
    )
    text = "**What the research found.** " + "".join(parts) + "\n" + caution
    return Findings(numbers, edge, text)
