"""The AR(p) model: the torch fit reaches least squares; the weights file round-trips, refuses bad files."""

from __future__ import annotations

import hashlib
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from adalib.forecast import (
    ARModel,
    Forecaster,
    WeightsError,
    fit_ar,
    load_weights,
    ols,
    save_weights,
    weights_payload,
)

FORECASTER = Forecaster(
    coef=(0.0125, -0.0834),
    intercept=0.000619,
    lags=2,
    resid_std=0.0374,
    symbol="ADAUSDT",
    interval="12h",
    train_start="2020-02-01T12:00:00Z",
    train_end="2024-08-22T00:00:00Z",
)


def lstsq_reference(features: np.ndarray, target: np.ndarray) -> np.ndarray:
    return np.linalg.lstsq(np.column_stack([features, np.ones(len(target))]), target, rcond=None)[0]


@pytest.mark.parametrize(
    ("coef", "seed"), [([0.1], 0), ([0.05, -0.1], 1), ([0.02, -0.08, 0.04], 2), ([0.0] * 5, 3)]
)
def test_fit_ar_equals_numpy_least_squares(coef: list[float], seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = 0.04 * rng.standard_t(4, size=(1500, len(coef)))
    y = 0.001 + x @ np.array(coef) + 0.04 * rng.standard_t(4, size=1500)
    reference = lstsq_reference(x, y)
    model = fit_ar(x, y, seed=seed)
    got = np.append(model.coef(), model.intercept())
    assert np.max(np.abs(got - reference)) / np.max(np.abs(reference)) < 1e-10  # contract: 1e-4
    assert np.allclose(got, reference, rtol=1e-9, atol=0)
    coef_ols, intercept_ols = ols(x, y)
    assert np.allclose(np.append(coef_ols, intercept_ols), reference, rtol=1e-12, atol=1e-15)


def test_fit_is_deterministic_and_seed_only_moves_the_start() -> None:
    rng = np.random.default_rng(7)
    x, y = rng.normal(0, 0.04, size=(400, 2)), rng.normal(0, 0.04, size=400)
    a, b = fit_ar(x, y, seed=0), fit_ar(x, y, seed=0)
    assert torch.equal(a.linear.weight, b.linear.weight) and torch.equal(a.linear.bias, b.linear.bias)
    c = fit_ar(x, y, seed=123)
    assert np.allclose(a.coef(), c.coef(), rtol=1e-10, atol=0)


def test_ols_hand_computed() -> None:
    # y = 1 + 2 x exactly: x = 0, 1, 2, 3 -> y = 1, 3, 5, 7
    coef, intercept = ols(np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([1.0, 3.0, 5.0, 7.0]))
    assert coef == pytest.approx([2.0]) and intercept == pytest.approx(1.0)
    # x = 0, 1, 2, y = 0, 0, 3: slope = Sxy/Sxx = 3/2, intercept = ybar - slope * xbar = 1 - 1.5 = -0.5
    coef, intercept = ols(np.array([[0.0], [1.0], [2.0]]), np.array([0.0, 0.0, 3.0]))
    assert coef == pytest.approx([1.5]) and intercept == pytest.approx(-0.5)


def test_model_forward_is_the_ar_formula() -> None:
    model = FORECASTER.model()
    x = torch.tensor([[0.01, -0.02], [0.0, 0.0]], dtype=torch.float64)
    expected = [0.000619 + 0.0125 * 0.01 - 0.0834 * -0.02, 0.000619]
    assert model(x).detach().numpy() == pytest.approx(expected, rel=1e-12)
    assert isinstance(model, ARModel) and model(x).shape == (2,)


@pytest.mark.parametrize(
    ("x", "y", "message"),
    [
        (np.zeros((3, 2)), np.zeros(3), r"more than p \+ 1"),
        (np.zeros((10, 2)), np.zeros(9), "features must be"),
        (np.full((10, 1), np.nan), np.zeros(10), "finite"),
        (np.ones((10, 1)), np.arange(10.0), "must vary"),
    ],
)
def test_fit_rejects_bad_input(x: np.ndarray, y: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fit_ar(x, y)


def test_weights_round_trip_and_contract_format(tmp_path: Path) -> None:
    path = tmp_path / "w.pth"
    save_weights(path, FORECASTER)
    assert load_weights(path) == FORECASTER
    assert load_weights(path, lags=2, symbol="ADAUSDT") == FORECASTER
    payload = torch.load(path, weights_only=True)
    assert set(payload) == {
        "state_dict",
        "lags",
        "symbol",
        "interval",
        "resid_std",
        "train_start",
        "train_end",
        "target",
    }
    assert payload["target"] == "log_return" and payload["interval"] == "12h" and payload["lags"] == 2
    assert payload["state_dict"]["linear.weight"].shape == (1, 2)
    assert payload["state_dict"]["linear.bias"].shape == (1,)
    assert payload["state_dict"]["linear.weight"].tolist() == [[0.0125, -0.0834]]
    model = ARModel(2)
    model.load_state_dict(payload["state_dict"])  # a plain torch user can load it into the module
    assert model.coef().tolist() == [0.0125, -0.0834]


def test_saved_bytes_depend_only_on_the_forecaster(tmp_path: Path) -> None:
    save_weights(tmp_path / "a.pth", FORECASTER)
    save_weights(tmp_path / "sub" / "b.pth", FORECASTER)
    digest = [hashlib.sha256((tmp_path / p).read_bytes()).hexdigest() for p in ("a.pth", "sub/b.pth")]
    assert digest[0] == digest[1]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file left


def write_payload(path: Path, **changes: object) -> Path:
    payload = weights_payload(FORECASTER)
    for key, value in changes.items():
        if value is None:
            del payload[key]
        else:
            payload[key] = value
    torch.save(payload, path)
    return path


def state(weight: list[list[float]], bias: list[float]) -> dict[str, torch.Tensor]:
    return {"linear.weight": torch.tensor(weight), "linear.bias": torch.tensor(bias)}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"lags": None}, r"missing field\(s\) \['lags'\]"),
        ({"state_dict": None, "target": None}, r"missing field\(s\) \['state_dict', 'target'\]"),
        ({"lags": 3}, r"'state_dict.linear.weight' has shape \(1, 2\), expected \(1, 3\)"),
        ({"lags": "2"}, "field 'lags' must be a positive integer"),
        ({"interval": "1h"}, "field 'interval' is '1h', expected '12h'"),
        ({"target": "price"}, "field 'target' is 'price', expected 'log_return'"),
        ({"symbol": ""}, "field 'symbol' must be a non-empty string"),
        ({"resid_std": -1.0}, "field 'resid_std' must be a positive finite number"),
        ({"resid_std": math.nan}, "field 'resid_std' must be a positive finite number"),
        ({"train_end": "yesterday"}, "field 'train_end' is not an ISO 8601 instant"),
        ({"state_dict": [1, 2]}, "field 'state_dict' must be a dict"),
        ({"state_dict": state([[0.1, 0.2]], [0.0, 0.0])}, r"'state_dict.linear.bias' has shape \(2,\)"),
        ({"state_dict": {"linear.bias": torch.zeros(1)}}, "'state_dict.linear.weight' is missing"),
        ({"state_dict": state([[0.1, math.nan]], [0.0])}, "'state_dict.linear.weight' holds NaN"),
    ],
)
def test_bad_weights_fields_are_named(tmp_path: Path, changes: dict[str, object], message: str) -> None:
    path = write_payload(tmp_path / "bad.pth", **changes)
    with pytest.raises(WeightsError, match=message) as error:
        load_weights(path)
    assert str(path) in str(error.value)


def test_weights_mismatch_with_what_the_caller_expects(tmp_path: Path) -> None:
    path = tmp_path / "w.pth"
    save_weights(path, FORECASTER)
    with pytest.raises(WeightsError, match="field 'lags' is 2, expected 3"):
        load_weights(path, lags=3)
    with pytest.raises(WeightsError, match="field 'symbol' is 'ADAUSDT', expected 'BTCUSDT'"):
        load_weights(path, symbol="BTCUSDT")
    save_weights(path, replace(FORECASTER, interval="4h"))
    with pytest.raises(WeightsError, match="field 'interval' is '4h'"):
        load_weights(path)


def test_missing_corrupt_and_foreign_files(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="weights file not found") as error:
        load_weights(tmp_path / "nope.pth")
    assert "nope.pth" in str(error.value)
    corrupt = tmp_path / "corrupt.pth"
    save_weights(corrupt, FORECASTER)
    corrupt.write_bytes(corrupt.read_bytes()[:200])  # truncated archive
    with pytest.raises(WeightsError, match="not a readable torch weights file"):
        load_weights(corrupt)
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"\x00not a torch file")
    with pytest.raises(WeightsError, match="not a readable torch weights file"):
        load_weights(garbage)
    foreign = tmp_path / "foreign.pth"
    torch.save([1, 2, 3], foreign)
    with pytest.raises(WeightsError, match="payload must be a dict, got list"):
        load_weights(foreign)
    pickled = tmp_path / "pickled.pth"
    torch.save({"x": Path("a")}, pickled)  # arbitrary objects are refused by weights_only
    with pytest.raises(WeightsError, match="not a readable torch weights file"):
        load_weights(pickled)
