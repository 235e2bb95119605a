"""The AR(p) forecaster: a ``Linear(p, 1)`` on lagged 12h log returns, its fit and its weights file.

>>> import numpy as np
>>> x = np.array([[0.01, 0.0], [-0.02, 0.01], [0.03, -0.02], [0.0, 0.03], [0.01, 0.0]])
>>> y = np.array([-0.02, 0.03, 0.0, 0.01, 0.02])
>>> model = fit_ar(x, y)
>>> coef, intercept = ols(x, y)
>>> bool(np.allclose(model.coef(), coef) and np.isclose(model.intercept(), intercept))
True
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from adalib.atomic import write_atomic
from adalib.timefmt import parse_utc

INTERVAL = "12h"
TARGET = "log_return"
WEIGHTS_KEYS = ("state_dict", "lags", "symbol", "interval", "resid_std", "train_start", "train_end", "target")


class ARModel(torch.nn.Module):
    """``y_hat = b + sum_k a_k * lag_k``: forecasts the next 12h log return from the last ``p``."""

    def __init__(self, lags: int) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(lags, 1, dtype=torch.float64)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: ``(n, p)`` lags ``r_t, ..., r_{t-p+1}``; returns ``(n,)`` forecasts of ``r_{t+1}``."""
        return self.linear(x).squeeze(-1)

    def coef(self) -> np.ndarray:
        """``a_1..a_p`` as a float64 array."""
        return self.linear.weight.detach().double().numpy().reshape(-1).copy()

    def intercept(self) -> float:
        """``b``."""
        return float(self.linear.bias.detach().double().item())


def _design(features: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(features, dtype=np.float64)
    y = np.asarray(target, dtype=np.float64)
    if x.ndim != 2 or y.shape != (x.shape[0],):
        raise ValueError(f"features must be (n, p) and target (n,); got {x.shape} and {y.shape}")
    if x.shape[0] <= x.shape[1] + 1:
        raise ValueError(f"need more than p + 1 = {x.shape[1] + 1} rows to fit AR(p), got {x.shape[0]}")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("features and target must be finite (no NaN or inf)")
    return x, y


def ols(features: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, float]:
    """Closed-form least squares with intercept: returns ``(a_1..a_p, b)``."""
    x, y = _design(features, target)
    design = np.column_stack([x, np.ones(len(y))])
    beta = np.linalg.lstsq(design, y, rcond=None)[0]
    return beta[:-1], float(beta[-1])


def fit_ar(features: np.ndarray, target: np.ndarray, *, seed: int = 0) -> ARModel:
    """Fit ``ARModel`` by minimising the training MSE with L-BFGS (strong Wolfe), in float64.

    Inputs are standardised inside the fit (and mapped back) to keep it well conditioned;
    a final Newton step makes the result equal least squares to rounding (~1e-15).
    ``seed`` sets the initial weights, so the result is deterministic.
    """
    x, y = _design(features, target)
    mu_x, sd_x = x.mean(axis=0), x.std(axis=0)
    mu_y, sd_y = y.mean(), y.std()
    if (sd_x == 0).any() or sd_y == 0:
        raise ValueError("features and target must vary (a constant column cannot be fitted)")
    xs = torch.from_numpy((x - mu_x) / sd_x)
    ys = torch.from_numpy((y - mu_y) / sd_y)
    generator = torch.Generator().manual_seed(seed)
    scaled = ARModel(x.shape[1])
    with torch.no_grad():
        bound = 1.0 / math.sqrt(x.shape[1])
        scaled.linear.weight.uniform_(-bound, bound, generator=generator)
        scaled.linear.bias.uniform_(-bound, bound, generator=generator)

    def closure() -> torch.Tensor:
        scaled.zero_grad()
        loss = torch.mean((scaled(xs) - ys) ** 2)
        loss.backward()
        return loss

    torch.optim.LBFGS(
        scaled.parameters(),
        max_iter=100,
        tolerance_grad=1e-12,
        tolerance_change=1e-15,
        line_search_fn="strong_wolfe",
    ).step(closure)
    # The line search compares loss values, so it stops ~sqrt(machine eps) from the optimum. The
    # MSE is quadratic: one Newton step with its autograd Hessian lands on the optimum to rounding.
    theta = torch.cat([scaled.linear.weight.detach().reshape(-1), scaled.linear.bias.detach()])

    def mse(theta: torch.Tensor) -> torch.Tensor:
        return torch.mean((xs @ theta[:-1] + theta[-1] - ys) ** 2)

    gradient = torch.autograd.functional.jacobian(mse, theta)
    theta = (theta - torch.linalg.solve(torch.autograd.functional.hessian(mse, theta), gradient)).numpy()
    coef = theta[:-1] * sd_y / sd_x
    intercept = mu_y + sd_y * theta[-1] - float(coef @ mu_x)
    return model_from(coef, intercept)


def model_from(coef: np.ndarray | tuple[float, ...], intercept: float) -> ARModel:
    """An ``ARModel`` holding the given coefficients."""
    coef = np.asarray(coef, dtype=np.float64).reshape(1, -1)
    model = ARModel(coef.shape[1])
    with torch.no_grad():
        model.linear.weight.copy_(torch.from_numpy(coef))
        model.linear.bias.fill_(float(intercept))
    return model


@dataclass(frozen=True)
class Forecaster:
    """What a weights file holds: the fitted AR(p) and what it was trained on.

    ``train_start`` / ``train_end`` are the ``open_time`` of the first and last training
    row, ISO 8601 with a ``Z``.
    """

    coef: tuple[float, ...]
    intercept: float
    lags: int
    resid_std: float
    symbol: str
    interval: str
    train_start: str
    train_end: str

    def model(self) -> ARModel:
        """The ``torch.nn.Module`` with these weights."""
        return model_from(self.coef, self.intercept)


class WeightsError(ValueError):
    """A weights file that cannot be used: the message names the file, the field and the problem."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")


def weights_payload(forecaster: Forecaster) -> dict[str, object]:
    """The dict ``save_weights`` writes (contract section 2)."""
    model = forecaster.model()
    return {
        "state_dict": {k: v.detach().clone() for k, v in model.state_dict().items()},
        "lags": int(forecaster.lags),
        "symbol": forecaster.symbol,
        "interval": forecaster.interval,
        "resid_std": float(forecaster.resid_std),
        "train_start": forecaster.train_start,
        "train_end": forecaster.train_end,
        "target": TARGET,
    }


def save_weights(path: str | Path, forecaster: Forecaster) -> None:
    """Write ``forecaster`` with ``torch.save`` (loads with ``weights_only=True``), atomically.

    The bytes depend only on the forecaster, so re-running a fit gives an identical file.
    """
    buffer = io.BytesIO()  # a buffer, not the path: the archive's inner folder name is then fixed
    torch.save(weights_payload(forecaster), buffer)
    write_atomic(path, lambda tmp: Path(tmp).write_bytes(buffer.getvalue()))


def _tensor(path: Path, state: dict, key: str, shape: tuple[int, ...]) -> np.ndarray:
    value = state.get(key)
    if not isinstance(value, torch.Tensor):
        raise WeightsError(path, f"field 'state_dict.{key}' is missing or not a tensor")
    if tuple(value.shape) != shape:
        raise WeightsError(path, f"field 'state_dict.{key}' has shape {tuple(value.shape)}, expected {shape}")
    array = value.detach().double().numpy().reshape(-1)
    if not np.isfinite(array).all():
        raise WeightsError(path, f"field 'state_dict.{key}' holds NaN or inf")
    return array


def _string(path: Path, payload: dict, key: str, *, instant: bool = False) -> str:
    value = payload[key]
    if not isinstance(value, str) or not value:
        raise WeightsError(path, f"field '{key}' must be a non-empty string, got {value!r}")
    if instant:
        try:
            parse_utc(value)
        except ValueError:
            raise WeightsError(path, f"field '{key}' is not an ISO 8601 instant: {value!r}") from None
    return value


def load_weights(path: str | Path, *, lags: int | None = None, symbol: str | None = None) -> Forecaster:
    """Read a weights file written by ``save_weights``; check it before anything uses it.

    ``lags`` / ``symbol``, when given, must match the file. Raises ``WeightsError``
    (a ``ValueError``) naming the file and the field for a missing file, a corrupt
    payload, missing keys, wrong shapes, or a lag, symbol, interval or target mismatch.
    """
    path = Path(path)
    if not path.is_file():
        raise WeightsError(path, "weights file not found (run notebooks/ADA_ML_model.ipynb to write it)")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a bad archive: report them as one
        raise WeightsError(path, f"not a readable torch weights file ({type(exc).__name__}: {exc})") from None
    if not isinstance(payload, dict):
        raise WeightsError(path, f"payload must be a dict, got {type(payload).__name__}")
    missing = [k for k in WEIGHTS_KEYS if k not in payload]
    if missing:
        raise WeightsError(path, f"missing field(s) {missing}")
    n_lags = payload["lags"]
    if not isinstance(n_lags, int) or isinstance(n_lags, bool) or n_lags < 1:
        raise WeightsError(path, f"field 'lags' must be a positive integer, got {n_lags!r}")
    if lags is not None and n_lags != lags:
        raise WeightsError(path, f"field 'lags' is {n_lags}, expected {lags}")
    for key, expected in (("interval", INTERVAL), ("target", TARGET)):
        if payload[key] != expected:
            raise WeightsError(path, f"field '{key}' is {payload[key]!r}, expected {expected!r}")
    file_symbol = _string(path, payload, "symbol")
    if symbol is not None and file_symbol != symbol:
        raise WeightsError(path, f"field 'symbol' is {file_symbol!r}, expected {symbol!r}")
    state = payload["state_dict"]
    if not isinstance(state, dict):
        raise WeightsError(path, f"field 'state_dict' must be a dict, got {type(state).__name__}")
    coef = _tensor(path, state, "linear.weight", (1, n_lags))
    bias = _tensor(path, state, "linear.bias", (1,))
    resid_std = payload["resid_std"]
    if isinstance(resid_std, bool) or not isinstance(resid_std, int | float) or not 0 < resid_std < math.inf:
        raise WeightsError(path, f"field 'resid_std' must be a positive finite number, got {resid_std!r}")
    return Forecaster(
        coef=tuple(float(a) for a in coef),
        intercept=float(bias[0]),
        lags=n_lags,
        resid_std=float(resid_std),
        symbol=file_symbol,
        interval=INTERVAL,
        train_start=_string(path, payload, "train_start", instant=True),
        train_end=_string(path, payload, "train_end", instant=True),
    )
