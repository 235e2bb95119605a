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

import math
from dataclasses import dataclass

import numpy as np
import torch

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

    >>> f = Forecaster((0.1, -0.05), 0.001, 2, 0.03, "ADAUSDT", "12h", "2020-01-01T00:00:00Z",
    ...                "2021-01-01T00:00:00Z")
    >>> f.model().linear.weight.tolist(), f.model().linear.bias.tolist()
    ([[0.1, -0.05]], [0.001])
    >>> lags = torch.tensor([[0.02, 0.01]], dtype=torch.float64)
    >>> f.model()(lags).item()  # 0.001 + 0.1 * 0.02 - 0.05 * 0.01
    0.0025
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
