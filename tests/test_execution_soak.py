"""A short seeded run of the execution soak (``benchmarks/soak_execution.py``): random fault
schedules, two runs started together, and never an order executed twice or a silent miss."""

from __future__ import annotations

import importlib.util
import sys

from adalib.util.paths import REPO_ROOT

SPEC = importlib.util.spec_from_file_location(
    "soak_execution", REPO_ROOT / "benchmarks" / "soak_execution.py"
)
assert SPEC is not None and SPEC.loader is not None
soak_execution = importlib.util.module_from_spec(SPEC)
sys.modules["soak_execution"] = soak_execution
SPEC.loader.exec_module(soak_execution)


def test_a_short_seeded_soak_executes_nothing_twice_and_never_misses_silently(tmp_path, monkeypatch):
    monkeypatch.setenv("ADALIB_LOCK_DIR", str(tmp_path / "locks"))
    tally = soak_execution.soak(runs=25, seed=11, max_seconds=30, folder=tmp_path, together=20, kills=0)
    assert tally.runs >= 25 and tally.together >= 2
    assert sum(tally.faults_hit.values()) >= 6 and len(tally.faults_hit) >= 4
    assert tally.executed_twice == 0 and tally.silent_misses == 0, tally.problems
    assert tally.statuses["ok"] >= tally.scenarios - 2
