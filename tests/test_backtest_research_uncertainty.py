"""Block-bootstrap intervals: the resampling scheme, hand-checkable invariants, and the iid limit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from adalib.backtest.uncertainty import bootstrap_indices, bootstrap_intervals, default_block


def test_circular_indices_are_blocks_of_consecutive_candles() -> None:
    n, block = 23, 4
    idx = bootstrap_indices(n, 200, block=block, seed=3, kind="circular")
    assert idx.shape == (200, n) and idx.min() >= 0 and idx.max() < n
    inside = np.arange(1, n) % block != 0  # positions that continue a block
    steps = (idx[:, 1:] - idx[:, :-1]) % n
    assert (steps[:, inside] == 1).all()
    assert (steps[:, ~inside] != 1).any()  # new blocks start anywhere


def test_stationary_blocks_have_geometric_lengths_with_the_given_mean() -> None:
    n, block = 400, 8
    idx = bootstrap_indices(n, 300, block=block, seed=1)
    breaks = ((idx[:, 1:] - idx[:, :-1]) % n) != 1
    # a new block starts with probability 1/block (a start landing right after the previous index is not seen)
    assert breaks.mean() == pytest.approx(1 / block * (1 - 1 / n), rel=0.05)
    assert np.array_equal(idx, bootstrap_indices(n, 300, block=block, seed=1))
    assert not np.array_equal(idx, bootstrap_indices(n, 300, block=block, seed=2))


def test_a_block_as_long_as_the_series_only_rotates_it_so_the_interval_is_a_point() -> None:
    rng = np.random.default_rng(0)
    r = rng.normal(0.002, 0.03, size=60)
    ci = bootstrap_intervals({"s": r}, n_boot=100, block=60, kind="circular").row(0, named=True)
    # product and moments are invariant under rotation
    assert ci["total_return_low"] == pytest.approx(np.prod(1 + r) - 1)
    assert ci["total_return_high"] == pytest.approx(ci["total_return"])
    sharpe = r.mean() / r.std(ddof=1) * math.sqrt(730)
    assert ci["sharpe"] == pytest.approx(sharpe)
    assert ci["sharpe_low"] == pytest.approx(sharpe) and ci["sharpe_high"] == pytest.approx(sharpe)


def test_iid_bootstrap_matches_the_normal_standard_error_of_the_sharpe_ratio() -> None:
    rng = np.random.default_rng(5)
    r = rng.normal(0.001, 0.02, size=2000)
    ci = bootstrap_intervals({"s": r}, n_boot=4000, block=1, kind="circular", seed=0).row(0, named=True)
    sr = r.mean() / r.std(ddof=1)
    se = math.sqrt((1 + sr**2 / 2) / r.size) * math.sqrt(730)  # Lo (2002), iid
    assert ci["sharpe_high"] - ci["sharpe_low"] == pytest.approx(2 * 1.96 * se, rel=0.1)
    assert ci["sharpe_low"] < ci["sharpe"] < ci["sharpe_high"]


def test_two_curves_are_paired_and_get_a_difference_row() -> None:
    rng = np.random.default_rng(2)
    a, b = rng.normal(0, 0.02, 300), rng.normal(0, 0.02, 300)
    table = bootstrap_intervals({"a": a, "b": b}, n_boot=300, seed=4)
    rows = {row["series"]: row for row in table.iter_rows(named=True)}
    assert list(rows) == ["a", "b", "a minus b"]
    assert rows["a minus b"]["sharpe"] == pytest.approx(rows["a"]["sharpe"] - rows["b"]["sharpe"])
    same = bootstrap_intervals({"a": a, "b": a}, n_boot=300, seed=4).row(2, named=True)
    assert same["sharpe_low"] == same["sharpe_high"] == 0.0  # paired: identical curves never differ
    assert table["block"][0] == default_block(300) == 7


def test_bad_input_is_refused_with_the_parameter_named() -> None:
    with pytest.raises(ValueError, match="kind"):
        bootstrap_indices(10, 5, block=2, seed=0, kind="moving")
    with pytest.raises(ValueError, match="one length"):
        bootstrap_intervals({"a": np.zeros(5), "b": np.zeros(6)})
    with pytest.raises(ValueError, match="at least 2 returns"):
        bootstrap_intervals({"a": np.zeros(1)})
